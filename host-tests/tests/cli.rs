//! The `acr-auth` command as a user runs it: JSON on stdout on success; on
//! failure nothing on stdout, one `error: ...` line on stderr and a non-zero
//! exit status. `cargo xtask test` builds it and names it in `ACR_AUTH_CLI`.

use acr_auth_test_support::cli::{failure, run, success, temp_file};
use acr_auth_test_support::inputs::unsigned_jwt;
use serde_json::{Value, json};

#[test]
fn scope_prints_the_resolved_scope() {
    let out = success(&["scope", "oci://MyRegistry.azurecr.us/team/app:1.2"], b"");
    assert_eq!(
        out,
        json!({
            "login_server": "myregistry.azurecr.us",
            "cloud": "us-government",
            "scope": "https://containerregistry.azure.net/.default",
            "audience": "acr",
            "authority_host": "https://login.microsoftonline.us/",
        })
    );
}

#[test]
fn scope_reads_a_custom_cloud_file() {
    let env = json!({
        "name": "ContosoStack",
        "resourceManagerEndpoint": "https://management.local.azurestack.external/",
        "activeDirectoryEndpoint": "https://adfs.local.azurestack.external/adfs/",
        "containerRegistryDNSSuffix": "azsacr.local.azurestack.external",
    });
    let file = temp_file("stack.json", env.to_string().as_bytes());
    let file = file.to_str().expect("UTF-8 path");
    let out = success(
        &[
            "scope",
            "myregistry.azsacr.local.azurestack.external",
            "--cloud-config",
            file,
        ],
        b"",
    );
    assert_eq!(out["cloud"], "custom");
    assert_eq!(out["audience"], "arm");
    assert_eq!(out["scope"], "https://management.local.azurestack.external/.default");

    let mut bad = env.clone();
    bad["resourceManagerEndpoint"] = json!(1);
    let bad = temp_file("bad.json", bad.to_string().as_bytes());
    let error = failure(
        &["scope", "x.azurecr.io", "--cloud-config", bad.to_str().expect("UTF-8")],
        b"",
        1,
    );
    assert!(error.contains("resourceManagerEndpoint"), "{error}");
}

#[test]
fn scope_refusals_are_one_line_errors() {
    let error = failure(&["scope", "myregistry.azurecr.io.evil.com"], b"", 1);
    assert!(
        error.contains("not an Azure Container Registry login server"),
        "{error}"
    );
    let error = failure(&["scope", "https://admin:s3cretpw@myregistry.azurecr.io"], b"", 1);
    assert!(!error.contains("s3cretpw"), "{error}");
    let error = failure(&["scope", "myregistry.azurecr.de"], b"", 1);
    assert!(error.contains("retired"), "{error}");
}

#[test]
fn usage_errors_are_one_line_with_status_2() {
    failure(&["scope"], b"", 2);
    failure(&["no-such-command"], b"", 2);
    failure(&["parse-refresh-token", "--status", "abc"], b"", 2);
}

#[test]
fn exchange_request_ignores_the_token_files_trailing_newline() {
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln+/=";
    let file = temp_file("token.txt", format!("{token}\r\n").as_bytes());
    let out = success(
        &[
            "exchange-request",
            "myregistry.azurecr.io/team/app:1",
            "--entra-token-file",
            file.to_str().expect("UTF-8 path"),
            "--tenant",
            "contoso.onmicrosoft.com",
        ],
        b"",
    );
    assert_eq!(
        out,
        json!({
            "method": "POST",
            "url": "https://myregistry.azurecr.io/oauth2/exchange",
            "headers": [["content-type", "application/x-www-form-urlencoded"], ["accept", "application/json"]],
            "body": "grant_type=access_token&service=myregistry.azurecr.io&access_token=eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln%2B%2F%3D&tenant=contoso.onmicrosoft.com",
        })
    );
}

#[test]
fn exchange_request_refuses_a_bad_token_without_echoing_it() {
    let file = temp_file("two-lines.txt", b"first-line-secret\nsecond-line-secret\n");
    let error = failure(
        &[
            "exchange-request",
            "myregistry.azurecr.io",
            "--entra-token-file",
            file.to_str().expect("UTF-8"),
        ],
        b"",
        1,
    );
    assert!(!error.contains("secret"), "{error}");
    let empty = temp_file("empty.txt", b"\n");
    let error = failure(
        &[
            "exchange-request",
            "myregistry.azurecr.io",
            "--entra-token-file",
            empty.to_str().expect("UTF-8"),
        ],
        b"",
        1,
    );
    assert!(error.contains("empty"), "{error}");
    failure(
        &[
            "exchange-request",
            "myregistry.azurecr.io",
            "--entra-token-file",
            "/nonexistent/token",
        ],
        b"",
        1,
    );
}

/// An exchange response whose refresh token has the given claims.
fn exchange_response(claims: &Value) -> (String, Vec<u8>) {
    let token = unsigned_jwt(claims);
    let body = json!({ "refresh_token": token }).to_string().into_bytes();
    (token, body)
}

#[test]
fn parse_refresh_token_prints_everything_but_the_token() {
    let (token, body) = exchange_response(&json!({
        "exp": 1_767_232_800, "iat": 1_767_222_000, "aud": "myregistry.azurecr.io",
    }));
    let expected = json!({
        "username": "00000000-0000-0000-0000-000000000000",
        "expires_at": 1_767_232_800,
        "issued_at": 1_767_222_000,
        "audience": ["myregistry.azurecr.io"],
        "tenant": null,
        "abac": false,
    });
    let out = run(&["parse-refresh-token"], &body);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).expect("UTF-8");
    assert!(!stdout.contains(&token), "the token was printed");
    assert_eq!(serde_json::from_str::<Value>(&stdout).expect("JSON"), expected);

    let file = temp_file("response.json", &body);
    assert_eq!(
        success(&["parse-refresh-token", file.to_str().expect("UTF-8")], b""),
        expected
    );
}

#[test]
fn parse_refresh_token_reports_refusals_and_bad_bodies() {
    let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
    let error = failure(&["parse-refresh-token", "--status", "401", "-"], body, 1);
    assert!(error.contains("401") && error.contains("UNAUTHORIZED"), "{error}");
    let error = failure(&["parse-refresh-token"], b"<html>", 1);
    assert!(error.contains("not a JSON object"), "{error}");
    let huge = vec![b' '; 5 << 20];
    let error = failure(&["parse-refresh-token"], &huge, 1);
    assert!(error.contains("larger than"), "{error}");
}
