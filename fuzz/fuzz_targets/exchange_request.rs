//! `build_exchange_request` on any reference, token and tenant.
//!
//! Input: reference, token and tenant, NUL-separated; an empty or missing
//! tenant is none.
//! A built request is `POST https://<login server>/oauth2/exchange` whose
//! form decodes to exactly `grant_type=access_token`, `service`, the token
//! and the tenant when given. A refusal does not depend on the token (the
//! same call with the token's letters and digits rotated is refused with the
//! same text) and does not show it.

#![no_main]

use acr_auth::{build_exchange_request, resolve_scope};
use acr_auth_fuzz::{check_request, check_request_error, exchange_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (reference, token, tenant) = exchange_input(data);
    let tenant = tenant.as_deref();
    let call = |token: &str| build_exchange_request(&reference, token, tenant, None);
    match call(&token) {
        Ok(request) => {
            let login_server = resolve_scope(&reference, None)
                .expect("a reference that builds a request resolves")
                .login_server;
            let mut form = vec![
                ("grant_type", "access_token"),
                ("service", &login_server),
                ("access_token", &token),
            ];
            form.extend(tenant.map(|tenant| ("tenant", tenant)));
            check_request(&request, &login_server, "/oauth2/exchange", &form);
        }
        Err(e) => {
            let others: Vec<&str> = [reference.as_str()].into_iter().chain(tenant).collect();
            check_request_error(&e, &token, &others, call);
        }
    }
});
