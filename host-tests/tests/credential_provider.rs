//! The `acr-auth` binary as a kubelet credential provider and as a docker
//! credential helper, against the local test ACR (which also answers Entra's
//! token endpoint): the protocols' requests in, working registry credentials
//! out.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use acr_auth_test_support::acr_server::{ENTRA_HOST, TestAcr, TestApp};
use acr_auth_test_support::cli::{
    command, docker_helper, empty_home, run_command, run_helper, temp_file, without_identity,
};
use serde_json::{Value, json};

const HOST: &str = "providerregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const SA_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dGVhbTpwdWxsZXIifQ.c2ln";
const REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// The app the test Entra knows, signing in with `credential`.
fn app(credential: &str) -> TestApp {
    TestApp {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        credential: credential.into(),
    }
}

fn server(credential: &str) -> TestAcr {
    TestAcr::builder(HOST).entra_app(app(credential)).start()
}

/// `--connect-to` rules that send the registry and Entra to the server.
fn connect_to(acr: &TestAcr) -> [String; 2] {
    [HOST, ENTRA_HOST].map(|host| format!("{host}:443:127.0.0.1:{}", acr.port()))
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

/// Seconds in a Go duration string such as `2h54m59s`.
fn go_seconds(duration: &str) -> u64 {
    let mut total = 0;
    let mut number = 0;
    for c in duration.chars() {
        match c {
            '0'..='9' => number = number * 10 + u64::from(c.to_digit(10).expect("a digit")),
            'h' | 'm' | 's' => {
                total += number * [3600, 60, 1]["hms".find(c).expect("a unit")];
                number = 0;
            }
            _ => panic!("not a Go duration: {duration}"),
        }
    }
    total
}

/// Runs the kubelet plugin with `request` and `env`.
fn run_kubelet(acr: &TestAcr, request: &Value, env: &[(&str, &str)]) -> Output {
    // Tests run at once, each with its own CA: one file per server.
    let ca = temp_file(&format!("provider-ca-{}.pem", acr.port()), acr.ca_pem().as_bytes());
    let mut cmd = without_identity(command());
    cmd.arg("kubelet-credential-provider").arg("--cacert").arg(&ca);
    for rule in connect_to(acr) {
        cmd.args(["--connect-to", &rule]);
    }
    cmd.envs(env.iter().copied());
    run_command(cmd, &request.to_string())
}

/// Runs the kubelet plugin with `request` and `env`, expecting success.
fn kubelet(acr: &TestAcr, request: &Value, env: &[(&str, &str)]) -> Value {
    let out = run_kubelet(acr, request, env);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("the response is JSON")
}

/// A kubelet request for an image on the test registry with the pod's
/// service-account token and `annotations`.
fn token_request(annotations: Value) -> Value {
    json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
        "serviceAccountToken": SA_TOKEN,
        "serviceAccountAnnotations": annotations,
    })
}

/// Checks a `CredentialProviderResponse` against what `acr` issued.
fn assert_kubelet_response(acr: &TestAcr, response: &Value, before: u64) {
    assert_eq!(response["apiVersion"], "credentialprovider.kubelet.k8s.io/v1");
    assert_eq!(response["kind"], "CredentialProviderResponse");
    assert_eq!(response["cacheKeyType"], "Registry");
    let issued = acr.issued_refresh_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(
        response["auth"],
        json!({ HOST: { "username": REFRESH_TOKEN_USERNAME, "password": issued[0].token } })
    );
    // ACR refresh tokens live three hours; the cache ends five minutes early.
    let cached = go_seconds(response["cacheDuration"].as_str().expect("a duration"));
    let latest = 3 * 3600 - 5 * 60;
    let elapsed = unix_now() - before;
    assert!(
        (latest - elapsed - 1..=latest).contains(&cached),
        "cacheDuration {cached} s"
    );
}

#[test]
fn the_kubelet_gets_credentials_for_the_pods_service_account() {
    let acr = server(SA_TOKEN);
    let before = unix_now();
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
        "serviceAccountToken": SA_TOKEN,
        "serviceAccountAnnotations": {
            "azure.workload.identity/client-id": CLIENT_ID,
            "azure.workload.identity/tenant-id": TENANT,
        },
    });
    let response = kubelet(&acr, &request, &[]);
    assert_kubelet_response(&acr, &response, before);
    let requests = acr.requests();
    assert_eq!(requests[0].field("client_assertion"), Some(SA_TOKEN));
    // The tenant the identity knows goes with the exchange, as `az acr login` sends it.
    assert_eq!(requests[1].path, "/oauth2/exchange");
    assert_eq!(requests[1].field("tenant"), Some(TENANT));
}

#[test]
fn aks_annotations_name_the_app_before_workload_identity_ones() {
    let acr = server(SA_TOKEN);
    let request = token_request(json!({
        "kubernetes.azure.com/acr-client-id": CLIENT_ID,
        "azure.workload.identity/client-id": "6b1c2f4a-3d5e-4f60-8a7b-9c0d1e2f3a4b",
        "azure.workload.identity/tenant-id": TENANT,
    }));
    let before = unix_now();
    let response = kubelet(&acr, &request, &[]);
    assert_kubelet_response(&acr, &response, before);
    assert_eq!(acr.requests()[0].field("client_id"), Some(CLIENT_ID));
}

#[test]
fn a_pod_without_its_apps_annotations_is_refused_before_any_request() {
    let acr = server(SA_TOKEN);
    // The node has an app of its own; the pod's token must never be paired with it.
    let node = [("AZURE_CLIENT_ID", CLIENT_ID), ("AZURE_TENANT_ID", TENANT)];
    for (annotations, missing) in [
        (json!({ "azure.workload.identity/tenant-id": TENANT }), "client-id"),
        (json!({ "kubernetes.azure.com/acr-client-id": CLIENT_ID }), "tenant-id"),
        (json!({}), "client-id"),
    ] {
        let out = run_kubelet(&acr, &token_request(annotations), &node);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!("azure.workload.identity/{missing}")),
            "{stderr}"
        );
        assert!(
            stderr.contains(&format!("kubernetes.azure.com/acr-{missing}")),
            "{stderr}"
        );
        assert!(!stderr.contains(SA_TOKEN), "{stderr}");
    }
    assert!(acr.requests().is_empty());
}

#[test]
fn without_a_service_account_token_the_node_identity_is_used() {
    let secret = "node-client-secret-value";
    let acr = server(secret);
    let before = unix_now();
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app@sha256:{}", "0".repeat(64)),
    });
    let env = [
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_SECRET", secret),
    ];
    let response = kubelet(&acr, &request, &env);
    assert_kubelet_response(&acr, &response, before);
}

#[test]
fn the_environment_credential_comes_before_workload_identity_and_managed_identity() {
    let secret = "Qx8~node.client-secret-value-0123456789ab";
    let acr = server(secret);
    let federated = temp_file("precedence-token", format!("{SA_TOKEN}\n").as_bytes());
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
    });
    let federated = federated.to_str().expect("a UTF-8 path");
    let env = [
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_FEDERATED_TOKEN_FILE", federated),
        ("AZURE_CLIENT_SECRET", secret),
        ("IDENTITY_ENDPOINT", "http://127.0.0.1:9/msi/token"),
        ("IDENTITY_HEADER", "unused-identity-header"),
    ];
    let before = unix_now();
    assert_kubelet_response(&acr, &kubelet(&acr, &request, &env), before);
    let entra = &acr.requests()[0];
    assert_eq!(entra.field("client_secret"), Some(secret));
    assert_eq!(entra.field("client_assertion"), None);

    // Without the secret, the federated token file (its newline dropped).
    let acr = server(SA_TOKEN);
    let before = unix_now();
    assert_kubelet_response(
        &acr,
        &kubelet(&acr, &request, &[env[0], env[1], env[2], env[4], env[5]]),
        before,
    );
    assert_eq!(acr.requests()[0].field("client_assertion"), Some(SA_TOKEN));
}

#[test]
fn a_half_set_credential_is_refused_by_name_not_skipped() {
    let acr = server("unused");
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
    });
    let secret = "Qx8~half.set-client-secret-value-0123456";
    let out = run_kubelet(
        &acr,
        &request,
        &[("AZURE_CLIENT_SECRET", secret), ("AZURE_CLIENT_ID", CLIENT_ID)],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("AZURE_CLIENT_SECRET is set, so AZURE_TENANT_ID must be set too"),
        "{stderr}"
    );
    assert!(!stderr.contains(secret), "{stderr}");
    assert!(acr.requests().is_empty());
}

#[test]
fn login_without_a_token_file_uses_the_environments_identity() {
    let secret = "Qx8~login.client-secret-value-0123456789";
    let acr = server(secret);
    let ca = temp_file(&format!("login-env-ca-{}.pem", acr.port()), acr.ca_pem().as_bytes());
    let mut cmd = without_identity(command());
    cmd.args(["login", HOST, "--scope", "repository:team/app:pull", "--cacert"])
        .arg(&ca)
        .envs([
            ("AZURE_CLIENT_ID", CLIENT_ID),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_SECRET", secret),
        ]);
    for rule in connect_to(&acr) {
        cmd.args(["--connect-to", &rule]);
    }
    let out = run_command(cmd, "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed["password"], acr.issued_refresh_tokens()[0].token.as_str());
    assert_eq!(printed["access_token"], acr.issued_access_tokens()[0].token.as_str());
    assert_eq!(acr.requests()[0].field("client_secret"), Some(secret));
}

/// Runs the helper's `action` with `stdin` against `acr`'s registry and
/// Entra, as the app `acr` knows, with an empty home of its own.
fn helper(path: &Path, acr: &TestAcr, action: &str, stdin: &str) -> Output {
    let home = empty_home(&format!("helper-{}", acr.port()));
    run_helper(path, acr, &app("helper-secret-value"), &home, action, stdin)
}

#[test]
fn the_docker_credential_helper_answers_each_action() {
    let acr = server("helper-secret-value");
    let path = docker_helper("actions");

    let get = helper(&path, &acr, "get", &format!("https://{HOST}\n"));
    assert!(get.status.success(), "{}", String::from_utf8_lossy(&get.stdout));
    let answer: Value = serde_json::from_slice(&get.stdout).expect("JSON");
    let issued = acr.issued_refresh_tokens();
    assert_eq!(
        answer,
        json!({ "ServerURL": format!("https://{HOST}"), "Username": REFRESH_TOKEN_USERNAME, "Secret": issued[0].token })
    );

    let list = helper(&path, &acr, "list", "");
    assert_eq!((list.status.success(), list.stdout.as_slice()), (true, &b"{}"[..]));
    let erase = helper(&path, &acr, "erase", HOST);
    assert_eq!((erase.status.success(), erase.stdout.as_slice()), (true, &b""[..]));
    let store = helper(&path, &acr, "store", r#"{"ServerURL":"x","Username":"u","Secret":"s"}"#);
    assert!(!store.status.success());
    assert!(String::from_utf8_lossy(&store.stdout).contains("stores no credentials"));

    let other = helper(&path, &acr, "get", "registry-1.docker.io");
    assert_eq!(
        (other.status.success(), String::from_utf8_lossy(&other.stdout).as_ref()),
        (false, "credentials not found in native keychain")
    );
    assert_eq!(acr.issued_refresh_tokens().len(), 1, "only the first get logged in");
}

#[test]
fn the_docker_credential_helper_speaks_the_reference_helpers_messages() {
    let acr = server("helper-secret-value");
    let path = docker_helper("messages");
    let version = format!("docker-credential-acr-auth (acr-auth) {}", env!("CARGO_PKG_VERSION"));
    for action in ["version", "--version", "-v"] {
        let out = helper(&path, &acr, action, "");
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()),
            (Some(0), version.as_str())
        );
    }
    for action in ["get", "erase"] {
        let out = helper(&path, &acr, action, "\n");
        assert_eq!(
            (out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()),
            (Some(1), "no credentials server URL")
        );
    }
    let unknown = helper(&path, &acr, "delete", "");
    assert_eq!(
        (unknown.status.code(), String::from_utf8_lossy(&unknown.stdout).as_ref()),
        (Some(1), "docker-credential-acr-auth: unknown action: delete")
    );
    let mut bare = without_identity(Command::new(&path));
    bare.stdin(Stdio::null());
    let usage = bare.output().expect("the helper runs");
    assert_eq!(usage.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&usage.stdout).trim_end(),
        "Usage: docker-credential-acr-auth <store|get|erase|list|version>"
    );
    assert!(acr.requests().is_empty());
}
