//! `acr-auth login` and `acr-auth parse-challenge` as a user runs them,
//! against the local test ACR through `--connect-to` and `--cacert`.

use acr_auth_test_support::acr_server::{Behaviour, CORRELATION_ID, DEFAULT_ENTRA_TOKEN, TestAcr};
use acr_auth_test_support::cli::{failure, login_args, success, temp_file};
use serde_json::json;

const HOST: &str = "clitestregistry.azurecr.io";

/// The arguments that aim `acr-auth login` at `acr`, for a repository on it.
fn args(acr: &TestAcr, name: &str) -> Vec<String> {
    login_args(acr, &format!("oci://{HOST}/team/app"), DEFAULT_ENTRA_TOKEN, name)
}

#[test]
fn login_prints_the_credential_and_access_token() {
    let acr = TestAcr::builder(HOST).start();
    let mut args = args(&acr, "ok");
    args.extend(["--discover", "--scope", "repository:team/app:pull", "--timeout", "5"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = success(&args, b"");
    let refresh = &acr.issued_refresh_tokens()[0];
    let access = &acr.issued_access_tokens()[0];
    assert_eq!(
        out,
        json!({
            "login_server": HOST,
            "username": "00000000-0000-0000-0000-000000000000",
            "password": refresh.token,
            "expires_at": refresh.expires_at,
            "abac": false,
            "access_token": access.token,
            "access_token_expires_at": access.expires_at,
        })
    );
    let requests = acr.requests();
    assert_eq!(requests.len(), 3);
    // Each body is known in full, so each goes out with its length, never
    // chunked (the test ACR answers 411 to a POST without one).
    for post in requests.iter().filter(|r| r.method == "POST") {
        assert_eq!(
            post.header("content-length"),
            Some(post.body.len().to_string().as_str())
        );
        assert_eq!(post.header("transfer-encoding"), None);
    }
}

#[test]
fn an_abac_registry_is_reported_and_a_wildcard_scope_refused_before_it_is_sent() {
    let acr = TestAcr::builder(HOST).abac("puller@contoso.com").start();
    let mut wildcard = args(&acr, "abac-wildcard");
    wildcard.extend(["--scope", "repository:*:pull"].map(String::from));
    let wildcard: Vec<&str> = wildcard.iter().map(String::as_str).collect();
    let error = failure(&wildcard, b"", 1);
    assert!(error.contains("name each repository"), "{error}");
    assert!(error.contains("ABAC"), "{error}");
    assert!(
        acr.requests().iter().all(|r| r.path != "/oauth2/token"),
        "the wildcard was not sent"
    );

    let mut named = args(&acr, "abac-named");
    named.extend(["--scope", "repository:team/app:pull"].map(String::from));
    let named: Vec<&str> = named.iter().map(String::as_str).collect();
    let out = success(&named, b"");
    assert_eq!(out["abac"], true);
    assert_eq!(out["access_token"], acr.issued_access_tokens()[0].token.as_str());
}

#[test]
fn login_refusal_is_one_line_with_status_code_and_correlation_id() {
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::acr_error(401, "UNAUTHORIZED", "authentication required"))
        .start();
    let args = args(&acr, "refused");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = failure(&args, b"", 1);
    for part in [
        "/oauth2/exchange",
        "401",
        "UNAUTHORIZED",
        "authentication required",
        CORRELATION_ID,
    ] {
        assert!(error.contains(part), "{error} lacks {part}");
    }
    assert!(!error.contains(DEFAULT_ENTRA_TOKEN), "{error}");
}

#[test]
fn login_times_out_on_a_silent_server() {
    let acr = TestAcr::builder(HOST).exchange(Behaviour::NeverAnswer).start();
    let mut args = args(&acr, "silent");
    args.extend(["--timeout", "0.5"].map(String::from));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = failure(&args, b"", 1);
    assert!(error.contains("Timeout"), "{error}");
}

#[test]
fn login_without_the_test_ca_fails_closed() {
    let acr = TestAcr::builder(HOST).start();
    let stranger = TestAcr::builder(HOST).start();
    let mut args = args(&acr, "untrusted");
    let ca = temp_file("stranger-ca.pem", stranger.ca_pem().as_bytes());
    args[5] = ca.display().to_string();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let error = failure(&args, b"", 1);
    assert!(error.contains("Tls"), "{error}");
    assert!(acr.requests().is_empty());
}

#[test]
fn parse_challenge_prints_the_exchange_url() {
    let header = r#"Basic realm="x", Bearer realm="https://MyRegistry.azurecr.io/oauth2/token", service="myregistry.azurecr.io", scope="repository:a:pull,push""#;
    let out = success(&["parse-challenge", header], b"");
    assert_eq!(
        out,
        json!({
            "realm": "https://MyRegistry.azurecr.io/oauth2/token",
            "service": "myregistry.azurecr.io",
            "scopes": ["repository:a:pull,push"],
            "login_server": "myregistry.azurecr.io",
            "exchange_url": "https://myregistry.azurecr.io/oauth2/exchange",
        })
    );
    let error = failure(
        &[
            "parse-challenge",
            r#"Bearer realm="http://myregistry.azurecr.io/oauth2/token",service="x""#,
        ],
        b"",
        1,
    );
    assert!(error.contains("https://"), "{error}");
}
