//! Every case of every case file in `tests/cases/` through the components
//! (`pure`, and `client` for the Entra functions), one test per file: each
//! answer must equal the native library's and match the case. Then tokens
//! signed here with `jsonwebtoken`, whose claims are known, through both.

use acr_auth_test_support::conformance::native::{
    CASE_FILES, Native, answer, cases, check_answer, check_resolving_again, refresh_native,
};
use acr_auth_test_support::conformance::{Component, refresh_wasm};
use acr_auth_test_support::test_each_case_file;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde_json::{Value, json};

/// Every case of `file` through the component, which must agree with the
/// native library.
fn run(file: &str) {
    for case in &cases(file) {
        let component = answer(&Component, file, case);
        assert_eq!(
            answer(&Native, file, case),
            component,
            "{}: native and component differ",
            case["name"]
        );
        check_answer(file, case, &component);
    }
}

test_each_case_file!(run);

#[test]
fn resolving_a_login_server_again_changes_nothing() {
    check_resolving_again(&Component);
}

/// Signs `claims` as ACR would (the algorithm does not matter to a client).
fn signed(claims: &Value, algorithm: Algorithm) -> (String, Vec<u8>) {
    let key = b"a test key that only this test knows, 32+ bytes long";
    let token =
        jsonwebtoken::encode(&Header::new(algorithm), claims, &EncodingKey::from_secret(key)).expect("signing works");
    // jsonwebtoken itself must read the same claims back: an independent decoder.
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let decoded = jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_secret(key), &validation)
        .expect("the signed token verifies");
    assert_eq!(&decoded.claims, claims);
    let body = json!({ "refresh_token": token }).to_string().into_bytes();
    (token, body)
}

#[test]
fn signed_tokens_yield_their_claims() {
    for (algorithm, exp, iat) in [
        (Algorithm::HS256, 1_767_232_800_u64, 1_767_222_000_u64),
        (Algorithm::HS384, 4_102_444_800, 4_102_434_000),
        (Algorithm::HS512, 10_800, 0),
    ] {
        let claims = json!({
            "jti": "c1f0d0a4-93a8-4e86-9a0a-1b9b8f1f2d3e",
            "sub": "00000000-0000-0000-0000-000000000000",
            "nbf": iat,
            "exp": exp,
            "iat": iat,
            "iss": "Azure Container Registry",
            "aud": "contoso.azurecr.io",
            "version": "1.0",
            "grant_type": "refresh_token",
            "tenant": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
            "permissions": { "actions": ["read", "write"], "notActions": null },
        });
        let (token, body) = signed(&claims, algorithm);
        for observed in [refresh_native(200, &body, &[]), refresh_wasm(200, &body, &[])] {
            assert_eq!(
                observed,
                json!({
                    "username": "00000000-0000-0000-0000-000000000000",
                    "password": token,
                    "expires_at": exp,
                    "issued_at": iat,
                    "audience": ["contoso.azurecr.io"],
                    "tenant": "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
                    "abac": false,
                })
            );
        }
    }
}

#[test]
fn signed_token_with_fractional_exp_rounds_down() {
    let (_, body) = signed(
        &json!({ "exp": 1_767_232_800.5, "iat": 1_767_222_000.25 }),
        Algorithm::HS256,
    );
    for observed in [refresh_native(200, &body, &[]), refresh_wasm(200, &body, &[])] {
        assert_eq!(observed["expires_at"], json!(1_767_232_800_u64));
        assert_eq!(observed["issued_at"], json!(1_767_222_000_u64));
    }
}

#[test]
fn signed_token_without_exp_is_refused_without_leaking_it() {
    let (token, body) = signed(
        &json!({ "iat": 1_767_222_000, "aud": "contoso.azurecr.io" }),
        Algorithm::HS256,
    );
    for observed in [refresh_native(200, &body, &[]), refresh_wasm(200, &body, &[])] {
        assert_eq!(observed["error"], "malformed:missing-expiry");
        let message = observed["message"].as_str().expect("a message");
        assert!(token.split('.').all(|segment| !message.contains(segment)));
        assert!(!message.contains("contoso"), "claim values stay out of messages");
    }
}
