//! `resolve_scope` on any reference, without and with a custom cloud.
//!
//! Input: the reference (the whole input; see the crate documentation).
//! On success the login server is a lower-case DNS name without scheme, port,
//! user-info or path, under the suffix of the cloud it resolved to on a label
//! boundary, and resolving it again gives the same answer. A reference that
//! resolves without the custom cloud resolves the same way with it. Errors
//! have a clean message.

#![no_main]

use acr_auth::{Cloud, CloudEnvironment, ResolvedScope, resolve_scope};
use acr_auth_fuzz::{assert_clean_message, custom_cloud, text};
use libfuzzer_sys::fuzz_target;

/// The registry suffix of `cloud`.
fn suffix(cloud: Cloud, env: Option<&CloudEnvironment>) -> &str {
    match cloud {
        Cloud::Public => "azurecr.io",
        Cloud::China => "azurecr.cn",
        Cloud::UsGovernment => "azurecr.us",
        Cloud::Custom => env
            .expect("only a custom cloud resolves as custom")
            .container_registry_dns_suffix(),
        other => panic!("unknown cloud {other:?}"),
    }
}

/// Resolves `reference` with `env` and checks the result.
fn check(reference: &str, env: Option<&CloudEnvironment>) -> Option<ResolvedScope> {
    match resolve_scope(reference, env) {
        Ok(resolved) => {
            let host = &resolved.login_server;
            assert!(
                host.bytes()
                    .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && !b.is_ascii_whitespace()),
                "{host:?} is not lower-case ASCII without whitespace"
            );
            assert!(!host.contains(['@', ':', '/', '?', '#']), "{host:?} is not a bare host");
            let suffix = suffix(resolved.cloud, env);
            assert!(
                host.strip_suffix(suffix)
                    .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.')),
                "{host:?} is not under {suffix} on a label boundary"
            );
            assert_eq!(
                resolve_scope(host, env).as_ref(),
                Ok(&resolved),
                "resolving the login server again changes the answer"
            );
            Some(resolved)
        }
        Err(e) => {
            assert_clean_message(&e.to_string());
            None
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let reference = text(data);
    let built_in = check(&reference, None);
    let custom = check(&reference, Some(custom_cloud()));
    if let Some(built_in) = built_in {
        assert_eq!(
            custom,
            Some(built_in),
            "a custom cloud changes how a built-in cloud resolves"
        );
    }
});
