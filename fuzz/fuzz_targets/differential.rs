//! Every function through the native library and through the component
//! (run by wasmtime), which must give the same result.
//!
//! Input: one byte choosing the function ([`acr_auth_fuzz::Function`],
//! modulo 8), then the input of that function's own target. The results are
//! compared as the conformance tests compare them (`host-tests`), token and
//! messages included; the component must not trap.

#![no_main]

use std::sync::OnceLock;

use acr_auth_fuzz::{CUSTOM_CLOUD, Function, custom_cloud, exchange_input, response_input, text, token_request_input};
use acr_auth_test_support::conformance::native as n;
use acr_auth_test_support::conformance::{self as c, runtime};
use libfuzzer_sys::fuzz_target;

/// [`CUSTOM_CLOUD`] parsed by the component, once per process.
fn wasm_custom_cloud() -> &'static acr_auth_host::wit::scope::CloudEnvironment {
    static CLOUD: OnceLock<acr_auth_host::wit::scope::CloudEnvironment> = OnceLock::new();
    CLOUD.get_or_init(|| {
        runtime()
            .parse_cloud_environment(CUSTOM_CLOUD)
            .expect("no trap")
            .expect("the fixed cloud environment parses in the component")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let function = Function::from_selector(selector);
    let (native, wasm) = match function {
        Function::Scope => {
            let reference = text(input);
            (n::scope_native(&reference, None), c::scope_wasm(&reference, None))
        }
        Function::ScopeCustomCloud => {
            let reference = text(input);
            (
                n::scope_native(&reference, Some(custom_cloud())),
                c::scope_wasm(&reference, Some(wasm_custom_cloud())),
            )
        }
        Function::CloudEnvironment => {
            let json = text(input);
            (n::cloud_environment_native(&json), c::cloud_environment_wasm(&json))
        }
        Function::ExchangeRequest => {
            let (reference, token, tenant) = exchange_input(input);
            (
                n::exchange_native(&reference, &token, tenant.as_deref(), None),
                c::exchange_wasm(&reference, &token, tenant.as_deref(), None),
            )
        }
        Function::TokenRequest => {
            let (reference, token, scopes) = token_request_input(input);
            (
                n::token_request_native(&reference, &token, &scopes),
                c::token_request_wasm(&reference, &token, &scopes),
            )
        }
        Function::Challenge => {
            let header = text(input);
            (n::challenge_native(&header), c::challenge_wasm(&header))
        }
        Function::RefreshToken | Function::AccessToken => {
            let Some((status, body)) = response_input(input) else {
                return;
            };
            if function == Function::RefreshToken {
                (n::refresh_native(status, body), c::refresh_wasm(status, body))
            } else {
                (n::access_native(status, body), c::access_wasm(status, body))
            }
        }
    };
    assert_eq!(
        native, wasm,
        "{function:?}: the native library and the component differ"
    );
});
