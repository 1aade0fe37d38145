//! `parse_challenge` on any header, without and with a custom cloud.
//!
//! Input: the `WWW-Authenticate` header value (the whole input).
//! A challenge's realm is an `https://` URL whose host resolves to the
//! challenge's login server; the exchange URL is that login server's
//! `/oauth2/exchange`; the scopes are non-empty and hold no space. A header
//! accepted without the custom cloud is read the same way with it. Errors
//! have a clean message.

#![no_main]

use acr_auth::{Challenge, CloudEnvironment, parse_challenge, resolve_scope};
use acr_auth_fuzz::{assert_clean_message, custom_cloud, text};
use libfuzzer_sys::fuzz_target;

/// Parses `header` with `env` and checks the result.
fn check(header: &str, env: Option<&CloudEnvironment>) -> Option<Challenge> {
    match parse_challenge(header, env) {
        Ok(challenge) => {
            let login_server = &challenge.login_server;
            assert!(
                challenge
                    .realm
                    .get(..8)
                    .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://")),
                "the realm {:?} is not https://",
                challenge.realm
            );
            let realm_scope = resolve_scope(&challenge.realm, env).expect("the realm's host resolves");
            assert_eq!(&realm_scope.login_server, login_server);
            let again = resolve_scope(login_server, env).expect("the login server resolves");
            assert_eq!(&again.login_server, login_server);
            assert_eq!(
                challenge.exchange_url,
                format!("https://{login_server}/oauth2/exchange")
            );
            assert!(
                challenge.scopes.iter().all(|s| !s.is_empty() && !s.contains(' ')),
                "scopes not split on spaces: {:?}",
                challenge.scopes
            );
            Some(challenge)
        }
        Err(e) => {
            assert_clean_message(&e.to_string());
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let header = text(data);
    let built_in = check(&header, None);
    let custom = check(&header, Some(custom_cloud()));
    if let Some(built_in) = built_in {
        assert_eq!(
            custom,
            Some(built_in),
            "a custom cloud changes how a built-in realm is read"
        );
    }
});
