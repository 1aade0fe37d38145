//! Servers that quote the secrets they were sent, whole and in pieces, in
//! every field they control (ACR's error code, message and detail and its
//! correlation id; Entra's error, description, trace and correlation ids):
//! no host's error may carry 16 consecutive characters of any of them. The
//! secrets have real sizes: a 2.5 KB Entra token, a 1.5 KB service-account
//! token, a 40-character client secret, and the registry's refresh token.
//! The library's own property test varies secrets and echo positions at
//! random (`tests/properties.rs`); this runs the same through the component,
//! the CLI, the kubelet provider and the docker helper.

use std::process::Output;

use acr_auth_host::client::wit::entra::{ClientSecret, FederatedToken, Identity};
use acr_auth_host::client::wit::flow::{Credentials, LoginOptions};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_test_support::acr_server::{Behaviour, ENTRA_HOST, TestAcr, TestApp};
use acr_auth_test_support::cli::{command, docker_helper, empty_home, login_args, run_command, run_helper, temp_file};
use acr_auth_test_support::client::{assert_no_secret, assert_text_has_no_secret, client, options, runtime};
use acr_auth_test_support::inputs::unsigned_jwt;
use serde_json::json;

const HOST: &str = "echoregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// A client secret as Entra issues them: 40 characters.
const CLIENT_SECRET: &str = "Qx8~Kp2.Zr7_Lm4-Vn9~Tb3.Hc6_Wd1-Fg5~Js0a";

/// A JWT of about `len` bytes whose claims look like Entra's or Kubernetes':
/// `groups` pads it, as group claims do in real tokens.
fn realistic_jwt(len: usize, issuer: &str) -> String {
    let mut groups = Vec::new();
    loop {
        let token = unsigned_jwt(&json!({
            "aud": "https://containerregistry.azure.net",
            "iss": issuer,
            "iat": 1_767_222_000,
            "nbf": 1_767_222_000,
            "exp": 1_767_225_600,
            "oid": "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f70",
            "tid": TENANT,
            "groups": groups,
        }));
        if token.len() >= len {
            return token;
        }
        groups.push(format!(
            "{:08x}-1a2b-4c3d-8e4f-{:012x}",
            groups.len(),
            groups.len() * 7919
        ));
    }
}

/// The Entra access token the test ACR's Entra issues and its exchange expects.
fn entra_token() -> String {
    let token = realistic_jwt(2500, "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/");
    assert!((2500..2600).contains(&token.len()));
    token
}

/// A Kubernetes service-account token, the federated assertion.
fn service_account_token() -> String {
    realistic_jwt(
        1500,
        "https://oidc.prod-aks.azure.com/0e9b2c4d-6f81-4a3b-9c5d-7e0f1a2b3c4d/",
    )
}

fn app(credential: &str) -> TestApp {
    TestApp {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        credential: credential.into(),
    }
}

/// Everything a process printed.
fn printed(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `--connect-to` rules for the registry and Entra, and the CA.
fn network_args(acr: &TestAcr, name: &str) -> Vec<String> {
    let ca = temp_file(&format!("{name}-ca.pem"), acr.ca_pem().as_bytes());
    let mut args = vec!["--cacert".to_owned(), ca.display().to_string()];
    for host in [HOST, ENTRA_HOST] {
        args.extend([
            "--connect-to".to_owned(),
            format!("{host}:443:127.0.0.1:{}", acr.port()),
        ]);
    }
    args
}

/// Checks that the server really echoed: the request it quoted carried `secret`.
fn assert_echoed(acr: &TestAcr, secret: &str) {
    let requests = acr.requests();
    let quoted = requests.last().expect("a request reached the server");
    let carried = quoted.form.iter().any(|(_, value)| value == secret)
        || quoted
            .header("authorization")
            .is_some_and(|value| value.contains(secret));
    assert!(carried, "the echoing server was sent the secret");
}

#[test]
fn the_component_keeps_an_echoed_entra_token_out_of_its_error() {
    let token = entra_token();
    let acr = TestAcr::builder(HOST)
        .entra_token(&token)
        .exchange(Behaviour::Echo { status: 401 })
        .start();
    let error = client(&[&acr])
        .login(HOST, &Credentials::EntraToken(token.clone()), &options())
        .expect("the login finishes")
        .expect_err("refused");
    assert_eq!(error.status, Some(401));
    assert_echoed(&acr, &token);
    assert_no_secret(&error, &[&token]);
    assert!(error.message.contains("[redacted]"), "{}", error.message);
}

#[test]
fn the_component_keeps_an_echoed_refresh_token_out_of_its_error() {
    let token = entra_token();
    let acr = TestAcr::builder(HOST)
        .entra_token(&token)
        .token(Behaviour::Echo { status: 401 })
        .start();
    let options = LoginOptions {
        repository_scopes: vec!["repository:team/app:pull".into()],
        ..options()
    };
    let error = client(&[&acr])
        .login(HOST, &Credentials::EntraToken(token.clone()), &options)
        .expect("the login finishes")
        .expect_err("refused");
    let refresh = acr.issued_refresh_tokens()[0].token.clone();
    assert_echoed(&acr, &refresh);
    assert_no_secret(&error, &[&token, &refresh]);
}

#[test]
fn the_component_keeps_echoed_identity_secrets_out_of_its_error() {
    let assertion = service_account_token();
    for (identity, secret) in [
        (
            Identity::ClientSecret(ClientSecret {
                tenant: TENANT.into(),
                client_id: CLIENT_ID.into(),
                secret: CLIENT_SECRET.into(),
                authority_host: None,
            }),
            CLIENT_SECRET,
        ),
        (
            Identity::FederatedToken(FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT_ID.into(),
                assertion: assertion.clone(),
                authority_host: None,
            }),
            assertion.as_str(),
        ),
    ] {
        let acr = TestAcr::builder(HOST)
            .entra_app(app(secret))
            .entra(Behaviour::Echo { status: 401 })
            .start();
        let rules = vec![
            connect_to_rule(HOST, acr.addr()),
            connect_to_rule(ENTRA_HOST, acr.addr()),
        ];
        let network = Network::new(Some(acr.ca_pem().as_bytes()), rules).expect("network");
        let error = runtime(network)
            .login(HOST, &Credentials::Identity(identity), &options())
            .expect("the login finishes")
            .expect_err("refused");
        assert_eq!(error.status, Some(401));
        assert_echoed(&acr, secret);
        assert_no_secret(&error, &[secret]);
    }
}

#[test]
fn the_cli_prints_no_echoed_token() {
    let token = entra_token();
    for (exchange, token_step) in [
        (Behaviour::Echo { status: 401 }, Behaviour::Normal),
        (Behaviour::Normal, Behaviour::Echo { status: 403 }),
    ] {
        let acr = TestAcr::builder(HOST)
            .entra_token(&token)
            .exchange(exchange)
            .token(token_step)
            .start();
        let mut cmd = command();
        cmd.args(login_args(&acr, HOST, &token, "echo-cli"))
            .args(["--scope", "repository:team/app:pull"]);
        let out = run_command(cmd, "");
        assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
        let mut secrets = vec![token.clone()];
        secrets.extend(acr.issued_refresh_tokens().into_iter().map(|issued| issued.token));
        assert_echoed(&acr, secrets.last().expect("a secret"));
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        assert_text_has_no_secret(&printed(&out), &secrets);
    }
}

#[test]
fn the_kubelet_provider_prints_no_echoed_service_account_token() {
    let assertion = service_account_token();
    let acr = TestAcr::builder(HOST)
        .entra_app(app(&assertion))
        .entra(Behaviour::Echo { status: 400 })
        .start();
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
        "serviceAccountToken": assertion,
        "serviceAccountAnnotations": {
            "azure.workload.identity/client-id": CLIENT_ID,
            "azure.workload.identity/tenant-id": TENANT,
        },
    });
    let mut cmd = command();
    cmd.arg("kubelet-credential-provider")
        .args(network_args(&acr, "echo-kubelet"));
    let out = run_command(cmd, &request.to_string());
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert_echoed(&acr, &assertion);
    assert_text_has_no_secret(&printed(&out), &[&assertion]);
}

#[test]
fn the_kubelet_provider_prints_no_echoed_entra_token() {
    let token = entra_token();
    let acr = TestAcr::builder(HOST)
        .entra_app(app(CLIENT_SECRET))
        .entra_token(&token)
        .exchange(Behaviour::Echo { status: 401 })
        .start();
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
    });
    let mut cmd = command();
    cmd.arg("kubelet-credential-provider")
        .args(network_args(&acr, "echo-kubelet-exchange"))
        .envs([
            ("AZURE_CLIENT_ID", CLIENT_ID),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
        ]);
    let out = run_command(cmd, &request.to_string());
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert_echoed(&acr, &token);
    assert_text_has_no_secret(&printed(&out), &[&token, CLIENT_SECRET]);
}

#[test]
fn the_docker_helper_prints_no_echoed_client_secret() {
    let acr = TestAcr::builder(HOST)
        .entra_app(app(CLIENT_SECRET))
        .entra(Behaviour::Echo { status: 401 })
        .start();
    let helper = docker_helper("echo");
    let out = run_helper(&helper, &acr, &app(CLIENT_SECRET), &empty_home("echo"), "get", HOST);
    assert_eq!(out.status.code(), Some(1), "{}", printed(&out));
    assert_echoed(&acr, CLIENT_SECRET);
    assert_text_has_no_secret(&printed(&out), &[CLIENT_SECRET]);
}
