//! The `acr-auth` command fed the largest inputs, through the client runtime
//! (`login`) and the embedder (`scope`): inputs at the caps succeed, larger
//! ones end in one `error:` line naming the cap, before any connection.

use acr_auth_test_support::acr_server::{Behaviour, DEFAULT_ENTRA_TOKEN, TestAcr};
use acr_auth_test_support::cli::{failure, login_args, success};
use acr_auth_test_support::inputs::{
    exchange_body_at_cap, maximal_scopes, maximal_token, reference_of_len, unsigned_jwt,
};
use serde_json::json;

const HOST: &str = "clilimitsregistry.azurecr.io";

/// `acr-auth login` aimed at `acr` with `extra` arguments and a 5 s timeout.
fn login(acr: &TestAcr, reference: &str, entra_token: &str, name: &str, extra: &[String]) -> Vec<String> {
    let mut args = login_args(acr, reference, entra_token, name);
    args.extend(extra.iter().cloned());
    args.extend(["--timeout".into(), "5".into()]);
    args
}

/// The arguments as `&str`s, as the runners take them.
fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_64_kib_reference_is_refused_in_one_line() {
    let reference = reference_of_len((64 << 10) - 1);
    let error = failure(&["scope", &reference], b"", 1);
    assert!(error.contains("longer than 4096 bytes"), "{error}");

    let acr = TestAcr::builder(HOST).start();
    let args = login(&acr, &reference, DEFAULT_ENTRA_TOKEN, "long-reference", &[]);
    let error = failure(&strs(&args), b"", 1);
    assert!(error.contains("checking the arguments failed"), "{error}");
    assert!(error.contains("longer than 4096 bytes"), "{error}");
    assert!(acr.handshakes().is_empty(), "it connected");
}

#[test]
fn a_1_mib_token_file_is_refused_before_any_connection() {
    let token = "t".repeat(1 << 20);
    let acr = TestAcr::builder(HOST).start();
    let args = login(&acr, HOST, &token, "huge-token", &[]);
    let error = failure(&strs(&args), b"", 1);
    assert!(error.contains("longer than 32768 bytes"), "{error}");
    assert!(!error.contains(&token[..64]), "the token was echoed");
    assert!(acr.handshakes().is_empty(), "it connected");
}

#[test]
fn a_maximal_token_and_32_maximal_scopes_log_in() {
    let token = maximal_token('c');
    let acr = TestAcr::builder(HOST).entra_token(&token).start();
    let mut extra = vec!["--discover".to_owned()];
    for scope in maximal_scopes() {
        extra.extend(["--scope".to_owned(), scope]);
    }
    let out = success(&strs(&login(&acr, HOST, &token, "maximal", &extra)), b"");
    let refresh = &acr.issued_refresh_tokens()[0];
    let access = &acr.issued_access_tokens()[0];
    assert_eq!(out["password"], refresh.token);
    assert_eq!(out["access_token"], access.token);
    assert_eq!(access.scopes, maximal_scopes());
}

#[test]
fn a_64_kib_answer_is_read_whole() {
    let refresh_token = unsigned_jwt(&json!({ "exp": 4_102_444_800_u64, "aud": HOST }));
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::Body(exchange_body_at_cap(&refresh_token)))
        .start();
    let out = success(
        &strs(&login(&acr, HOST, DEFAULT_ENTRA_TOKEN, "capped-answer", &[])),
        b"",
    );
    assert_eq!(out["password"], refresh_token);
    assert_eq!(out["expires_at"], 4_102_444_800_u64);
}
