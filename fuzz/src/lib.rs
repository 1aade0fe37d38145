//! Helpers shared by the fuzz targets in `fuzz_targets/`: how an input's
//! bytes become the arguments of a call, and the properties more than one
//! target checks.
//!
//! # Input format
//!
//! Every target takes raw bytes, so that seeds can be written from the case
//! files in `tests/cases/` (`cargo xtask fuzz` does). An input is one or
//! more *fields* separated by NUL bytes; each field is read as UTF-8, an
//! invalid sequence becoming U+FFFD (the library takes `&str`). A target with
//! `n` fields splits at the first `n - 1` NULs only, so its last field may hold
//! NULs of its own; a field that is missing is empty.
//!
//! | target | fields |
//! |---|---|
//! | `scope` | reference |
//! | `cloud_environment` | environment file text |
//! | `exchange_request` | reference, token, tenant (empty or missing: none) |
//! | `token_request` | reference, token, then one field per scope (none: no scopes) |
//! | `refresh_token`, `access_token` | not fields: two bytes of status (big-endian), then the body |
//! | `challenge` | `WWW-Authenticate` header |
//! | `entra_token_request` | not only fields: one byte choosing the identity, then tenant, client or managed identity ID, credential, authority host (empty: none) and scope |
//! | `entra_token_response` | not fields: two bytes of status and eight of `now` (big-endian), then the body |
//! | `differential` | one byte choosing the function ([`Function`]), then that function's input as above |
//!
//! A field can hold no NUL byte, so a case whose field holds one has no seed.

use std::fmt::Debug;
use std::sync::OnceLock;

use acr_auth::{CloudEnvironment, Request, RequestError};

/// The custom cloud the `scope` and `challenge` targets (and the
/// differential target's custom-cloud scope function) resolve with: a file
/// from `tests/cases/cloud-environment.json` whose suffix is written
/// with a leading dot and upper case, and which names an ACR audience.
pub const CUSTOM_CLOUD: &str = r#"{"name": "Contoso", "resourceManagerEndpoint": "https://management.private.contoso/", "activeDirectoryEndpoint": "https://login.private.contoso", "containerRegistryDNSSuffix": ".AzureCR.Private", "resourceIdentifiers": {"containerRegistry": "https://containerregistry.private.contoso", "graph": "https://graph.private.contoso/"}}"#;

/// [`CUSTOM_CLOUD`] parsed by the library, once per process.
pub fn custom_cloud() -> &'static CloudEnvironment {
    static CLOUD: OnceLock<CloudEnvironment> = OnceLock::new();
    CLOUD.get_or_init(|| acr_auth::parse_cloud_environment(CUSTOM_CLOUD).expect("the fixed cloud environment parses"))
}

/// A field's bytes as text; invalid UTF-8 becomes U+FFFD.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The first `N` fields of `data`: split at the first `N - 1` NULs, missing
/// fields empty.
pub fn fields<const N: usize>(data: &[u8]) -> [String; N] {
    let mut parts = data.splitn(N, |&b| b == 0);
    std::array::from_fn(|_| parts.next().map(text).unwrap_or_default())
}

/// Every NUL-separated field of `data`.
pub fn all_fields(data: &[u8]) -> Vec<String> {
    data.split(|&b| b == 0).map(text).collect()
}

/// An optional argument: an empty field means none.
pub fn optional(field: &str) -> Option<&str> {
    (!field.is_empty()).then_some(field)
}

/// The `exchange_request` input: reference, token and tenant.
pub fn exchange_input(data: &[u8]) -> (String, String, Option<String>) {
    let [reference, token, tenant] = fields(data);
    let tenant = optional(&tenant).map(str::to_owned);
    (reference, token, tenant)
}

/// The `token_request` input: reference, token and the scopes.
pub fn token_request_input(data: &[u8]) -> (String, String, Vec<String>) {
    let mut fields = all_fields(data).into_iter();
    let reference = fields.next().unwrap_or_default();
    let token = fields.next().unwrap_or_default();
    (reference, token, fields.collect())
}

/// The `refresh_token` and `access_token` input: a big-endian status in the
/// first two bytes, then the body; none when the input is shorter.
pub fn response_input(data: &[u8]) -> Option<(u16, &[u8])> {
    let (status, body) = data.split_first_chunk::<2>()?;
    Some((u16::from_be_bytes(*status), body))
}

/// What the `differential` target's first byte chooses, modulo 8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    /// 0: `resolve-scope` without a custom cloud; `scope` input.
    Scope,
    /// 1: `resolve-scope` with [`CUSTOM_CLOUD`]; `scope` input.
    ScopeCustomCloud,
    /// 2: `parse-cloud-environment`; `cloud_environment` input.
    CloudEnvironment,
    /// 3: `build-exchange-request` without a custom cloud; `exchange_request` input.
    ExchangeRequest,
    /// 4: `build-token-request`; `token_request` input.
    TokenRequest,
    /// 5: `parse-challenge` without a custom cloud; `challenge` input.
    Challenge,
    /// 6: `parse-refresh-token`; `refresh_token` input.
    RefreshToken,
    /// 7: `parse-access-token`; `access_token` input.
    AccessToken,
}

impl Function {
    /// Every function, in the order of its selector byte.
    pub const ALL: [Function; 8] = [
        Self::Scope,
        Self::ScopeCustomCloud,
        Self::CloudEnvironment,
        Self::ExchangeRequest,
        Self::TokenRequest,
        Self::Challenge,
        Self::RefreshToken,
        Self::AccessToken,
    ];

    /// The function a selector byte chooses.
    pub fn from_selector(byte: u8) -> Self {
        Self::ALL[usize::from(byte) % Self::ALL.len()]
    }
}

/// Requires an error message to be non-empty and free of control
/// characters: no input may add lines or terminal escapes to a message.
pub fn assert_clean_message(message: &str) {
    assert!(!message.is_empty(), "an error has an empty message");
    assert!(
        !message.chars().any(char::is_control),
        "an error message holds a control character: {message:?}"
    );
}

/// The token with its letters and digits rotated (`a` to `b`, `z` to `a`,
/// `9` to `0`) and every other byte kept: a different token that the
/// library must accept or refuse exactly as it does the original.
pub fn rotate(token: &str) -> String {
    let rotate_in = |c: char, first: char, count: u32| {
        char::from_u32(first as u32 + (c as u32 - first as u32 + 1) % count).unwrap_or(c)
    };
    token
        .chars()
        .map(|c| match c {
            'a'..='z' => rotate_in(c, 'a', 26),
            'A'..='Z' => rotate_in(c, 'A', 26),
            '0'..='9' => rotate_in(c, '0', 10),
            _ => c,
        })
        .collect()
}

/// The shortest token whose presence in a text is taken as a leak; a
/// shorter one occurs in ordinary text by chance.
pub const MIN_LEAK_LEN: usize = 8;

/// Requires that `texts` do not contain `token` (when it is at least
/// [`MIN_LEAK_LEN`] bytes). A token that another argument of the call holds
/// (`other_inputs`) may be echoed as part of it and is not checked.
fn assert_not_leaked(token: &str, texts: &[&str], other_inputs: &[&str]) {
    if token.len() < MIN_LEAK_LEN || other_inputs.iter().any(|input| input.contains(token)) {
        return;
    }
    for text in texts {
        assert!(!text.contains(token), "the token {token:?} leaks into {text:?}");
    }
}

/// Checks a refused request: the call again with the token rotated
/// ([`rotate`]) must be refused with the same `Display` and `Debug` text,
/// so the message does not depend on the token; and neither text may hold
/// the token. A token with letters or digits cannot leak without making the
/// texts differ, and may occur in the fixed text of a message ("registry"),
/// so the containment check covers the tokens that rotating leaves alone.
pub fn check_request_error(
    error: &RequestError,
    token: &str,
    other_inputs: &[&str],
    call: impl Fn(&str) -> Result<Request, RequestError>,
) {
    let rotated_token = rotate(token);
    let rotated = call(&rotated_token).expect_err("rotating the token's letters and digits keeps it invalid");
    let (display, debug) = (error.to_string(), format!("{error:?}"));
    assert_eq!(display, rotated.to_string(), "the message depends on the token");
    assert_eq!(debug, format!("{rotated:?}"), "the Debug text depends on the token");
    assert_clean_message(&display);
    if rotated_token == token {
        assert_not_leaked(token, &[&display, &debug], other_inputs);
    }
}

/// Checks a built request: `POST https://<login_server><path>` with the
/// form content type, and a body that decodes to exactly `form`, in order.
pub fn check_request(request: &Request, login_server: &str, path: &str, form: &[(&str, &str)]) {
    assert_eq!(request.method, "POST");
    assert_eq!(request.url, format!("https://{login_server}{path}"));
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    assert_eq!(
        headers,
        [
            ("content-type", "application/x-www-form-urlencoded"),
            ("accept", "application/json")
        ]
    );
    let decoded: Vec<(String, String)> = form_urlencoded::parse(request.body.expose())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    let expected: Vec<(String, String)> = form
        .iter()
        .map(|&(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
    assert_eq!(decoded, expected, "the form does not decode to the request's inputs");
}

/// The string `field` of a JSON-object body, read with serde_json (the last
/// one when the field is repeated; the library refuses such a body).
pub fn body_token(body: &[u8], field: &str) -> Option<String> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()?.get(field)? {
        serde_json::Value::String(token) => Some(token.clone()),
        _ => None,
    }
}

/// Whether `text` looks like a JWT: three dot-separated, non-empty segments
/// of base64url characters, [`MIN_LEAK_LEN`] bytes or more. The fixed text
/// of the library's messages holds no such string, so finding one taken
/// from a body in a message means the message carries it.
pub fn is_jwt_like(text: &str) -> bool {
    let segments: Vec<&str> = text.split('.').collect();
    text.len() >= MIN_LEAK_LEN
        && segments.len() == 3
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'='))
        })
}

/// Checks a `parse-refresh-token` or `parse-access-token` result for the
/// body's `field`. On success the token (`token` reads it) is the string
/// the body carries and the result's `Debug` text does not show it. On
/// error the message is clean, and neither it nor the `Debug` text holds a
/// JWT-like token of the body.
pub fn check_response<T: Debug, E: Debug + std::fmt::Display>(
    result: &Result<T, E>,
    body: &[u8],
    field: &str,
    token: impl Fn(&T) -> &str,
) {
    let body_token = body_token(body, field);
    match result {
        Ok(parsed) => {
            let token = token(parsed);
            // serde_json refuses numbers out of f64's range, which the
            // library keeps as text, so it may find no token.
            if let Some(body_token) = &body_token {
                assert_eq!(token, body_token, "the token is not the body's {field}");
            }
            assert_not_leaked(token, &[&format!("{parsed:?}")], &[]);
        }
        Err(e) => {
            let (display, debug) = (e.to_string(), format!("{e:?}"));
            assert_clean_message(&display);
            if let Some(token) = body_token.filter(|t| is_jwt_like(t)) {
                assert_not_leaked(&token, &[&display, &debug], &[]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_at_the_first_nuls_only() {
        assert_eq!(fields::<3>(b"a\0b\0c\0d"), ["a", "b", "c\0d"]);
        assert_eq!(fields::<3>(b"a"), ["a", "", ""]);
        assert_eq!(fields::<1>(b"\xffa\0b"), ["\u{fffd}a\0b"]);
        assert_eq!(all_fields(b"a\0\0b"), ["a", "", "b"]);
    }

    #[test]
    fn inputs_decode_as_documented() {
        assert_eq!(exchange_input(b"r\0t\0"), ("r".to_owned(), "t".to_owned(), None));
        assert_eq!(
            token_request_input(b"r\0t\0s1\0s2"),
            ("r".to_owned(), "t".to_owned(), vec!["s1".to_owned(), "s2".to_owned()])
        );
        assert_eq!(response_input(b"\x01\x91{}"), Some((401, &b"{}"[..])));
        assert_eq!(response_input(b"\x01"), None);
        assert_eq!(Function::from_selector(13), Function::Challenge);
    }

    #[test]
    fn rotation_changes_letters_and_digits_only() {
        assert_eq!(rotate("az AZ 09 .-_é"), "ba BA 10 .-_é");
    }

    #[test]
    fn jwt_like_texts_are_three_base64url_segments() {
        assert!(is_jwt_like("eyJh.eyJl.c2ln"));
        assert!(!is_jwt_like("a.b.c"));
        assert!(!is_jwt_like("registry"));
        assert!(!is_jwt_like("eyJh..c2lnc2ln"));
        assert!(!is_jwt_like("eyJh.eyJl.c2l!"));
    }
}
