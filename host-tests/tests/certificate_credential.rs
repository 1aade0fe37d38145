//! The client certificate credential from the CLI: `AZURE_CLIENT_CERTIFICATE_PATH`
//! names a PEM file (made by `openssl`); the component writes the client
//! assertion's claims, the host signs them (RS256, `x5t#S256`), and the
//! test Entra verifies the signature with the certificate's public key, as
//! Entra does, before it issues the token the registry accepts.

use std::process::{Output, Stdio};

use acr_auth_test_support::acr_server::{ENTRA_HOST, TestAcr, TestApp};
use acr_auth_test_support::certificate::{TestCertificate, make};
use acr_auth_test_support::cli::{command, temp_file, without_identity};
use acr_auth_test_support::client::assert_text_has_no_secret;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

const HOST: &str = "certregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/// A test ACR whose Entra knows the app by `certificate`.
fn server(certificate: &TestCertificate) -> TestAcr {
    TestAcr::builder(HOST)
        .entra_app(TestApp {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            credential: "no secret: a certificate".into(),
        })
        .entra_certificate(&certificate.public_key_pem, &certificate.thumbprint)
        .start()
}

/// `acr-auth login` with the certificate at `path`, `extra` variables set.
fn login(acr: &TestAcr, path: &std::path::Path, extra: &[(&str, &str)], name: &str) -> Output {
    let ca = temp_file(&format!("{name}-ca.pem"), acr.ca_pem().as_bytes());
    let mut cmd = without_identity(command());
    cmd.args(["login", HOST, "--cacert"]).arg(&ca);
    for host in [HOST, ENTRA_HOST] {
        cmd.args(["--connect-to", &format!("{host}:443:127.0.0.1:{}", acr.port())]);
    }
    cmd.env("AZURE_TENANT_ID", TENANT)
        .env("AZURE_CLIENT_ID", CLIENT_ID)
        .env("AZURE_CLIENT_CERTIFICATE_PATH", path)
        .envs(extra.iter().copied())
        .stdin(Stdio::null());
    cmd.output().expect("the CLI runs")
}

/// The JOSE header of the assertion Entra received.
fn assertion_header(acr: &TestAcr) -> Value {
    let requests = acr.requests();
    let assertion = requests[0].field("client_assertion").expect("an assertion");
    let header = assertion.split('.').next().expect("a header");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).expect("base64url")).expect("JSON")
}

#[test]
fn a_certificate_signs_the_assertion_entra_verifies() {
    let certificate = make("login");
    let acr = server(&certificate);
    let out = login(&acr, &certificate.path, &[], "certificate");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed["password"], acr.issued_refresh_tokens()[0].token.as_str());
    let entra = &acr.requests()[0];
    assert_eq!(
        entra.field("client_assertion_type"),
        Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    );
    let header = assertion_header(&acr);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["x5t#S256"], certificate.thumbprint.as_str());
    assert!(header.get("x5c").is_none());

    // Each login draws a new jti: a second login is accepted too.
    let again = login(&acr, &certificate.path, &[], "certificate-again");
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn with_send_chain_the_header_carries_the_certificate() {
    let certificate = make("chain");
    let acr = server(&certificate);
    let out = login(
        &acr,
        &certificate.path,
        &[("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "true")],
        "chain",
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let pem = std::fs::read_to_string(&certificate.path).expect("the PEM file");
    let body: String = pem
        .lines()
        .skip_while(|line| *line != "-----BEGIN CERTIFICATE-----")
        .skip(1)
        .take_while(|line| *line != "-----END CERTIFICATE-----")
        .collect();
    assert_eq!(assertion_header(&acr)["x5c"], serde_json::json!([body]));
}

#[test]
fn another_certificate_is_refused_by_entra_and_nothing_leaks() {
    let registered = make("registered");
    let other = make("other");
    let acr = server(&registered);
    let out = login(&acr, &other.path, &[], "other");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("401") && stderr.contains("invalid_client"), "{stderr}");
    let requests = acr.requests();
    let assertion = requests[0].field("client_assertion").expect("an assertion");
    assert_text_has_no_secret(&stderr, &[assertion]);
    let key = std::fs::read_to_string(&other.path).expect("the PEM file");
    let key_body: String = key.lines().filter(|line| !line.starts_with("-----")).collect();
    assert_text_has_no_secret(&stderr, &[&key_body]);
    assert!(acr.issued_refresh_tokens().is_empty());
}

#[test]
fn a_missing_or_password_protected_certificate_is_refused_before_any_request() {
    let certificate = make("refused");
    let acr = server(&certificate);
    let out = login(
        &acr,
        &certificate.path,
        &[("AZURE_CLIENT_CERTIFICATE_PASSWORD", "hunter2hunter2")],
        "password",
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("AZURE_CLIENT_CERTIFICATE_PASSWORD"), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let missing = certificate.path.with_file_name("absent.pem");
    let out = login(&acr, &missing, &[], "missing");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.pem"));
    assert!(acr.requests().is_empty());
}
