//! Tokens never reach `Debug` output or error messages of the native library.

use acr_auth::{Secret, build_exchange_request, parse_refresh_token};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2VjcmV0LXNpZ25hdHVyZQ";

#[test]
fn secret_debug_is_redacted() {
    let secret = Secret::new(TOKEN.to_owned());
    assert_eq!(format!("{secret:?}"), "Secret([redacted])");
    assert_eq!(secret.expose(), TOKEN);
}

#[test]
fn request_debug_redacts_the_body() {
    let request = build_exchange_request("myregistry.azurecr.io", TOKEN, None, None).expect("valid inputs");
    let debug = format!("{request:?}");
    assert!(!debug.contains(TOKEN) && !debug.contains("c2VjcmV0"), "{debug}");
    assert!(
        debug.contains("https://myregistry.azurecr.io/oauth2/exchange"),
        "{debug}"
    );
    assert!(debug.contains("bytes redacted"), "{debug}");
}

#[test]
fn credential_debug_redacts_the_password() {
    let payload = URL_SAFE_NO_PAD.encode(r#"{"exp":1767232800}"#);
    let token = format!("eyJhbGciOiJSUzI1NiJ9.{payload}.c2VjcmV0LXNpZ25hdHVyZQ");
    let body = serde_json::json!({ "refresh_token": token }).to_string();
    let credential = parse_refresh_token(200, body.as_bytes(), &[]).expect("a valid response");
    let debug = format!("{credential:?}");
    assert!(!debug.contains(&token) && !debug.contains("c2VjcmV0"), "{debug}");
    assert_eq!(credential.password.expose(), &token);
}

#[test]
fn input_errors_never_contain_the_token() {
    for token in [format!("{TOKEN}\n"), format!("{TOKEN} {TOKEN}"), "x".repeat(40_000)] {
        let error = build_exchange_request("myregistry.azurecr.io", &token, None, None).expect_err("refused");
        for text in [error.to_string(), format!("{error:?}")] {
            assert!(!text.contains(TOKEN) && !text.contains("xxxxxxxx"), "{text}");
        }
    }
}
