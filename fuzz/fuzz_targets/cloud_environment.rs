//! `parse_cloud_environment` on any text, compared with serde_json.
//!
//! Input: the environment file text (the whole input).
//! The text is refused as not JSON exactly when serde_json refuses it
//! (unless serde_json refuses only a number out of `f64`'s range: the library
//! keeps numbers as text), and as repeating a field exactly when a field the
//! library reads appears twice. A parsed environment has `https://`
//! endpoints, a lower-case suffix without a leading dot, an authority ending
//! in `/`, and resolves `myregistry.<suffix>` to the scope it describes.
//! Errors have a clean message.

#![no_main]

use std::fmt;

use acr_auth::{Audience, Cloud, CloudEnvironmentError, MAX_CLOUD_ENVIRONMENT_LEN, parse_cloud_environment};
use acr_auth_fuzz::{assert_clean_message, text};
use libfuzzer_sys::fuzz_target;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

/// How deep the reference reads: serde_json recurses once per level, so
/// deeper text is not compared (the library itself reads any depth).
const MAX_REFERENCE_DEPTH: usize = 128;

/// The fields the library reads, at the top level and in `resourceIdentifiers`.
const READ: [&str; 5] = [
    "name",
    "containerRegistryDNSSuffix",
    "resourceManagerEndpoint",
    "activeDirectoryEndpoint",
    "resourceIdentifiers",
];

/// The deepest nesting of brackets outside strings in `text`.
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

/// An object's members in document order, repeats included.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MembersVisitor;
        impl<'de> Visitor<'de> for MembersVisitor {
            type Value = Members;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(Members(members))
            }
        }
        deserializer.deserialize_map(MembersVisitor)
    }
}

impl Members {
    /// Whether one of `names` appears twice.
    fn repeats(&self, names: &[&str]) -> bool {
        names
            .iter()
            .any(|name| self.0.iter().filter(|(key, _)| key == name).count() > 1)
    }
}

/// What serde_json makes of `text`: None when it is not compared (too deep,
/// or refused only for a number out of `f64`'s range); else whether it is
/// JSON, and whether it is an object repeating a field the library reads.
fn reference(text: &str) -> Option<(bool, bool)> {
    if nesting_depth(text) > MAX_REFERENCE_DEPTH {
        return None;
    }
    let mut reader = serde_json::Deserializer::from_str(text);
    reader.disable_recursion_limit();
    match serde::de::IgnoredAny::deserialize(&mut reader).and_then(|_| reader.end()) {
        Ok(()) => {}
        Err(e) if e.to_string().starts_with("number out of range") => return None,
        Err(_) => return Some((false, false)),
    }
    let Ok(members) = serde_json::from_str::<Members>(text) else {
        return Some((true, false));
    };
    let ids = members
        .0
        .iter()
        .rev()
        .find(|(key, _)| key == "resourceIdentifiers")
        .and_then(|(_, value)| serde_json::from_str::<Members>(value.get()).ok());
    let repeats = members.repeats(&READ) || ids.is_some_and(|ids| ids.repeats(&["containerRegistry"]));
    Some((true, repeats))
}

fuzz_target!(|data: &[u8]| {
    let json = text(data);
    let parsed = parse_cloud_environment(&json);
    if json.len() > MAX_CLOUD_ENVIRONMENT_LEN {
        assert_eq!(parsed, Err(CloudEnvironmentError::TooLarge));
        return;
    }
    if let Some((is_json, repeats)) = reference(&json) {
        let not_json = matches!(parsed, Err(CloudEnvironmentError::NotJson { position: Some(_) }));
        assert_eq!(not_json, !is_json, "serde_json disagrees: the library says {parsed:?}");
        let repeated = matches!(parsed, Err(CloudEnvironmentError::RepeatedField { .. }));
        assert_eq!(repeated, repeats, "repeated fields: the library says {parsed:?}");
    }
    let env = match parsed {
        Ok(env) => env,
        Err(e) => return assert_clean_message(&e.to_string()),
    };
    let endpoints = [env.resource_manager_endpoint(), env.active_directory_endpoint()]
        .into_iter()
        .chain(env.acr_audience());
    for endpoint in endpoints {
        assert!(endpoint.starts_with("https://"), "{endpoint:?} is not an https:// URL");
    }
    assert!(env.active_directory_endpoint().ends_with('/'));
    let suffix = env.container_registry_dns_suffix();
    assert!(
        !suffix.starts_with('.') && !suffix.bytes().any(|b| b.is_ascii_uppercase()),
        "{suffix:?} is not normalised"
    );
    let resolved = acr_auth::resolve_scope(&format!("myregistry.{suffix}"), Some(&env))
        .unwrap_or_else(|e| panic!("no registry resolves under the suffix {suffix:?}: {e}"));
    if resolved.cloud == Cloud::Custom {
        let (audience, scope_of) = match env.acr_audience() {
            Some(aud) => (Audience::Acr, aud),
            None => (Audience::Arm, env.resource_manager_endpoint()),
        };
        assert_eq!(resolved.audience, audience);
        assert_eq!(resolved.scope, format!("{}/.default", scope_of.trim_end_matches('/')));
        assert_eq!(resolved.authority_host, env.active_directory_endpoint());
    }
});
