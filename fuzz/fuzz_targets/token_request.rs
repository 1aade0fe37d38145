//! `build_token_request` on any reference, token and scopes.
//!
//! Input: reference, token, then one field per scope, NUL-separated.
//! A built request is `POST https://<login server>/oauth2/token` whose form
//! decodes to exactly `grant_type=refresh_token`, `service`, one `scope` per
//! scope in order, and the token. A refusal does not depend on the token and
//! does not show it (as for `exchange_request`).

#![no_main]

use acr_auth::{build_token_request, resolve_scope};
use acr_auth_fuzz::{check_request, check_request_error, token_request_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (reference, token, scopes) = token_request_input(data);
    let call = |token: &str| build_token_request(&reference, token, &scopes, None);
    match call(&token) {
        Ok(request) => {
            let login_server = resolve_scope(&reference, None)
                .expect("a reference that builds a request resolves")
                .login_server;
            let mut form = vec![("grant_type", "refresh_token"), ("service", login_server.as_str())];
            form.extend(scopes.iter().map(|scope| ("scope", scope.as_str())));
            form.push(("refresh_token", &token));
            check_request(&request, &login_server, "/oauth2/token", &form);
        }
        Err(e) => {
            let others: Vec<&str> = [reference.as_str()]
                .into_iter()
                .chain(scopes.iter().map(String::as_str))
                .collect();
            check_request_error(&e, &token, &others, call);
        }
    }
});
