//! Inputs at and beyond the component's caps, and JWTs made up or read by
//! tests, shared by the tests that feed them to the different hosts.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The longest scope the component accepts, in bytes.
pub const MAX_SCOPE_LEN: usize = 512;

/// A reference to `myregistry.azurecr.io` padded with a repository path to
/// exactly `len` bytes (at least 22).
pub fn reference_of_len(len: usize) -> String {
    let reference = format!("myregistry.azurecr.io/{}", "a".repeat(len - 22));
    assert_eq!(reference.len(), len);
    reference
}

/// A printable token of exactly [`acr_auth::MAX_TOKEN_LEN`] bytes, the longest
/// accepted; distinct for each `seed`.
pub fn maximal_token(seed: char) -> String {
    let token = format!("{seed}{}", "t".repeat(acr_auth::MAX_TOKEN_LEN - 1));
    assert_eq!(token.len(), acr_auth::MAX_TOKEN_LEN);
    token
}

/// [`acr_auth::MAX_SCOPES`] distinct `pull` scopes of [`MAX_SCOPE_LEN`] bytes
/// each: as many, and as long, as one token request may carry.
pub fn maximal_scopes() -> Vec<String> {
    (0..acr_auth::MAX_SCOPES)
        .map(|i| {
            let prefix = format!("repository:team{i:02}/");
            let suffix = ":pull";
            let scope = format!(
                "{prefix}{}{suffix}",
                "a".repeat(MAX_SCOPE_LEN - prefix.len() - suffix.len())
            );
            assert_eq!(scope.len(), MAX_SCOPE_LEN);
            scope
        })
        .collect()
}

/// A refresh-token response of exactly [`acr_auth::MAX_RESPONSE_BODY_LEN`]
/// bytes, the largest accepted: a refresh token near
/// [`acr_auth::MAX_TOKEN_LEN`], the rest an unknown member.
pub fn largest_refresh_token_response() -> Vec<u8> {
    let claims = json!({"aud": "myregistry.azurecr.io", "exp": 1_767_232_800u64, "pad": "x".repeat(22_000)});
    let jwt = unsigned_jwt(&claims);
    assert!(jwt.len() <= acr_auth::MAX_TOKEN_LEN);
    let skeleton = json!({ "refresh_token": jwt, "padding": "" }).to_string();
    let padding = "p".repeat(acr_auth::MAX_RESPONSE_BODY_LEN - skeleton.len());
    let body = json!({ "refresh_token": jwt, "padding": padding }).to_string();
    assert_eq!(body.len(), acr_auth::MAX_RESPONSE_BODY_LEN);
    body.into_bytes()
}

/// An unsigned JWT with `claims`: acr-auth reads claims without verifying
/// signatures, so tests can make up the tokens a registry would send.
pub fn unsigned_jwt(claims: &Value) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"signature"),
    )
}

/// An exchange response body of exactly [`acr_auth::MAX_RESPONSE_BODY_LEN`]
/// bytes, the largest a login reads: `refresh_token` padded with spaces.
pub fn exchange_body_at_cap(refresh_token: &str) -> String {
    let body = json!({ "refresh_token": refresh_token }).to_string();
    let padded = format!("{body}{}", " ".repeat(acr_auth::MAX_RESPONSE_BODY_LEN - body.len()));
    assert_eq!(padded.len(), acr_auth::MAX_RESPONSE_BODY_LEN);
    padded
}

/// The claims of a JWT, read from its base64url payload without checking the
/// signature.
pub fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload")).expect("JSON claims")
}
