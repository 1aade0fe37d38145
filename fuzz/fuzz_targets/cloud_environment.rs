//! `parse_cloud_environment` on any text, compared with serde_json.
//!
//! Input: the environment file text (the whole input).
//! The text is refused as not JSON (with a position) exactly when serde_json
//! refuses it, unless serde_json refuses a number out of `f64`'s range (the
//! library keeps numbers as text). A parsed environment has `https://`
//! endpoints, a lower-case suffix without a leading dot, an authority ending
//! in `/`, and resolves `myregistry.<suffix>` to the scope it describes.
//! Errors have a clean message.

#![no_main]

use acr_auth::{Audience, Cloud, CloudEnvironmentError, MAX_CLOUD_ENVIRONMENT_LEN, parse_cloud_environment};
use acr_auth_fuzz::{assert_clean_message, text};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize as _;

/// The library's nesting limit (`MAX_DEPTH` in `src/json.rs`): arrays and
/// objects 128 deep are read, 129 deep refused. serde_json's own limit is
/// one level lower (its counter of 128 runs out on the 128th level).
const MAX_DEPTH: usize = 128;

/// The deepest nesting of brackets outside strings in `text`: the nesting
/// depth when `text` is JSON, and never less than the depth serde_json
/// reaches before it stops at an error.
fn nesting_depth(text: &str) -> usize {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0, false, false);
    for b in text.bytes() {
        match (in_string, b) {
            (true, _) if escaped => escaped = false,
            (true, b'\\') => escaped = true,
            (true, b'"') | (false, b'"') => in_string = !in_string,
            (false, b'[' | b'{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (false, b']' | b'}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Whether `text` is JSON as serde_json reads it, with its nesting limit
/// set to the library's: deeper text is refused outright, and shallower
/// text is read with serde_json's own limit off (safe at this depth). None
/// when serde_json refuses only a number out of `f64`'s range.
fn serde_json_accepts(text: &str) -> Option<bool> {
    if nesting_depth(text) > MAX_DEPTH {
        return Some(false);
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    reader.disable_recursion_limit();
    match serde_json::Value::deserialize(&mut reader).and_then(|_| reader.end()) {
        Ok(()) => Some(true),
        Err(e) if e.to_string().starts_with("number out of range") => None,
        Err(_) => Some(false),
    }
}

fuzz_target!(|data: &[u8]| {
    let json = text(data);
    let parsed = parse_cloud_environment(&json);
    if json.len() > MAX_CLOUD_ENVIRONMENT_LEN {
        assert_eq!(parsed, Err(CloudEnvironmentError::TooLarge));
        return;
    }
    if let Some(accepts) = serde_json_accepts(&json) {
        let refused = matches!(parsed, Err(CloudEnvironmentError::NotJson { position: Some(_) }));
        assert_eq!(
            refused, !accepts,
            "the JSON reader and serde_json disagree: the library says {parsed:?}"
        );
    }
    let env = match parsed {
        Ok(env) => env,
        Err(e) => return assert_clean_message(&e.to_string()),
    };
    let endpoints = [&env.resource_manager_endpoint, &env.active_directory_endpoint]
        .into_iter()
        .chain(&env.acr_audience);
    for endpoint in endpoints {
        assert!(endpoint.starts_with("https://"), "{endpoint:?} is not an https:// URL");
    }
    assert!(env.active_directory_endpoint.ends_with('/'));
    let suffix = &env.container_registry_dns_suffix;
    assert!(
        !suffix.starts_with('.') && !suffix.bytes().any(|b| b.is_ascii_uppercase()),
        "{suffix:?} is not normalised"
    );
    let resolved = acr_auth::resolve_scope(&format!("myregistry.{suffix}"), Some(&env))
        .unwrap_or_else(|e| panic!("no registry resolves under the suffix {suffix:?}: {e}"));
    if resolved.cloud == Cloud::Custom {
        let (audience, scope_of) = match &env.acr_audience {
            Some(aud) => (Audience::Acr, aud),
            None => (Audience::Arm, &env.resource_manager_endpoint),
        };
        assert_eq!(resolved.audience, audience);
        assert_eq!(resolved.scope, format!("{}/.default", scope_of.trim_end_matches('/')));
        assert_eq!(resolved.authority_host, env.active_directory_endpoint);
    }
});
