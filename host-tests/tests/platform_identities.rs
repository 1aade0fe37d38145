//! Managed identities on every platform the Azure SDKs know, against the
//! test ACR's identity side (plain HTTP on a loopback port, as the
//! platforms serve it): App Service / Functions / Container Apps
//! (`IDENTITY_ENDPOINT` with `IDENTITY_HEADER`), Azure Arc
//! (`IDENTITY_ENDPOINT` with `IMDS_ENDPOINT`: a 401 naming the agent's key
//! file, read and sent back as `Authorization: Basic`) and Cloud Shell
//! (`MSI_ENDPOINT`). Each login runs through the `client` component in the
//! Rust host and from the CLI (`login` without a token file, the kubelet
//! provider, the docker helper).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::entra::{AppService, Identity, ManagedIdentity, ManagedIdentitySource};
use acr_auth_host::client::wit::flow::{Credentials, LoginErrorKind};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_test_support::acr_server::{Platform, RecordedRequest, TestAcr};
use acr_auth_test_support::cli::{command, docker_helper, empty_home, run_command, temp_file};
use acr_auth_test_support::client::{assert_no_secret, options, runtime};
use serde_json::{Value, json};

const HOST: &str = "platformregistry.azurecr.io";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// `IDENTITY_HEADER`: a secret App Service rotates.
const IDENTITY_HEADER: &str = "7c1f3a9e-5b2d-4e8f-a6c0-1d9b3e5f7a2c";
/// The Arc agent's key, as its key files hold one.
const ARC_KEY: &str = "f3b9a1c7e5d2846a0b9c7e1f3a5d8b2c";
const ARC_KEY_NAME: &str = "3c5d7e9f-1a2b-4c6d-8e0f-2a4b6c8d0e1f.key";

fn server(platform: Platform) -> TestAcr {
    TestAcr::builder(HOST).platform(platform).start()
}

fn app_service(client_id: Option<&str>) -> Platform {
    Platform::AppService {
        header: IDENTITY_HEADER.into(),
        client_id: client_id.map(str::to_owned),
    }
}

fn arc() -> Platform {
    Platform::AzureArc {
        key_name: ARC_KEY_NAME.into(),
        key: ARC_KEY.into(),
    }
}

/// The platform's endpoint on `acr`'s identity side.
fn endpoint(acr: &TestAcr, platform: &Platform) -> String {
    platform.endpoint(acr.metadata_addr().expect("an identity side"))
}

/// The requests that reached the identity side (plain HTTP), in order.
fn identity_requests(acr: &TestAcr) -> Vec<RecordedRequest> {
    let requests = acr.requests();
    requests.into_iter().filter(|r| r.path != "/oauth2/exchange").collect()
}

/// A directory holding the Arc agent's key file, as the agent keeps it.
fn arc_key_directory(name: &str) -> PathBuf {
    let dir = temp_file(name, b"").with_extension("dir");
    std::fs::create_dir_all(&dir).expect("a directory");
    std::fs::write(dir.join(ARC_KEY_NAME), ARC_KEY).expect("the key file");
    dir
}

/// A client that reaches the registry over TLS and `endpoint` over plain HTTP.
fn client(acr: &TestAcr, endpoint: &str) -> ClientRuntime {
    let network = Network::new(Some(acr.ca_pem().as_bytes()), vec![connect_to_rule(HOST, acr.addr())])
        .expect("network")
        .allow_plain_http(endpoint)
        .expect("a loopback endpoint");
    runtime(network)
}

fn managed(source: ManagedIdentitySource, client_id: Option<&str>) -> Credentials {
    Credentials::Identity(Identity::ManagedIdentity(ManagedIdentity {
        id: client_id.map(|id| acr_auth_host::client::wit::entra::ManagedIdentityId::ClientId(id.into())),
        source,
    }))
}

/// Checks that the registry issued the credential for the platform's token.
fn assert_exchanged(acr: &TestAcr) {
    let exchange: Vec<_> = acr
        .requests()
        .into_iter()
        .filter(|r| r.path == "/oauth2/exchange")
        .collect();
    assert_eq!(exchange.len(), 1);
    assert_eq!(exchange[0].field("access_token"), Some("test-entra-access-token"));
    assert_eq!(acr.issued_refresh_tokens().len(), 1);
}

#[test]
fn app_service_sends_its_header_to_its_endpoint_only() {
    for client_id in [None, Some(CLIENT_ID)] {
        let platform = app_service(client_id);
        let acr = server(platform.clone());
        let endpoint = endpoint(&acr, &platform);
        let source = ManagedIdentitySource::AppService(AppService {
            endpoint: endpoint.clone(),
            header: IDENTITY_HEADER.into(),
        });
        let result = client(&acr, &endpoint)
            .login(HOST, &managed(source, client_id), &options())
            .expect("the login finishes")
            .expect("a credential");
        assert_eq!(result.credential.password, acr.issued_refresh_tokens()[0].token);
        let identity = identity_requests(&acr);
        assert_eq!(identity.len(), 1);
        let mut query = "api-version=2019-08-01&resource=https%3A%2F%2Fcontainerregistry.azure.net".to_owned();
        if let Some(id) = client_id {
            query.push_str(&format!("&client_id={id}"));
        }
        assert_eq!(
            (identity[0].method.as_str(), identity[0].path.as_str()),
            ("GET", "/msi/token")
        );
        assert_eq!(identity[0].query.as_deref(), Some(query.as_str()));
        assert_eq!(identity[0].header("x-identity-header"), Some(IDENTITY_HEADER));
        // The header goes nowhere else.
        for other in acr.requests().iter().filter(|r| r.path != "/msi/token") {
            assert_eq!(other.header("x-identity-header"), None);
            assert!(
                !other
                    .body
                    .windows(16)
                    .any(|w| IDENTITY_HEADER.as_bytes().windows(16).any(|h| h == w))
            );
        }
        assert_exchanged(&acr);
    }
}

#[test]
fn azure_arc_answers_its_challenge_with_the_agents_key() {
    let platform = arc();
    let acr = server(platform.clone());
    let endpoint = endpoint(&acr, &platform);
    let keys = arc_key_directory("arc-component-keys");
    let result = client(&acr, &endpoint)
        .with_arc_key_directory(&keys)
        .login(
            HOST,
            &managed(ManagedIdentitySource::AzureArc(endpoint.clone()), None),
            &options(),
        )
        .expect("the login finishes")
        .expect("a credential");
    assert_eq!(result.credential.password, acr.issued_refresh_tokens()[0].token);
    let identity = identity_requests(&acr);
    assert_eq!(identity.len(), 2, "the challenge, then the keyed request");
    for request in &identity {
        assert_eq!(request.path, "/metadata/identity/oauth2/token");
        assert_eq!(
            request.query.as_deref(),
            Some("api-version=2020-06-01&resource=https%3A%2F%2Fcontainerregistry.azure.net")
        );
        assert_eq!(request.header("metadata"), Some("true"));
    }
    assert_eq!(identity[0].header("authorization"), None);
    assert_eq!(
        identity[1].header("authorization"),
        Some(format!("Basic {ARC_KEY}").as_str())
    );
    assert_exchanged(&acr);
}

#[test]
fn without_the_agents_key_directory_an_arc_login_is_a_key_file_error() {
    let platform = arc();
    let acr = server(platform.clone());
    let endpoint = endpoint(&acr, &platform);
    let empty = temp_file("arc-no-keys", b"").with_extension("dir");
    std::fs::create_dir_all(&empty).expect("a directory");
    for client in [
        client(&acr, &endpoint).with_arc_key_directory(&empty),
        client(&acr, &endpoint).with_arc_key_directory(empty.join("absent")),
    ] {
        let error = client
            .login(
                HOST,
                &managed(ManagedIdentitySource::AzureArc(endpoint.clone()), None),
                &options(),
            )
            .expect("the login finishes")
            .expect_err("no key");
        assert_eq!(error.kind, LoginErrorKind::KeyFile);
        assert!(error.message.contains(ARC_KEY_NAME), "{}", error.message);
        assert_no_secret(&error, &[ARC_KEY]);
    }
    assert!(acr.issued_refresh_tokens().is_empty());
}

#[test]
fn cloud_shell_posts_the_resource() {
    let platform = Platform::CloudShell;
    let acr = server(platform.clone());
    let endpoint = endpoint(&acr, &platform);
    let result = client(&acr, &endpoint)
        .login(
            HOST,
            &managed(ManagedIdentitySource::CloudShell(endpoint.clone()), None),
            &options(),
        )
        .expect("the login finishes")
        .expect("a credential");
    assert_eq!(result.credential.password, acr.issued_refresh_tokens()[0].token);
    let identity = identity_requests(&acr);
    assert_eq!(identity.len(), 1);
    assert_eq!(
        (identity[0].method.as_str(), identity[0].path.as_str()),
        ("POST", "/oauth2/token")
    );
    assert_eq!(identity[0].header("metadata"), Some("true"));
    assert_eq!(identity[0].body, b"resource=https%3A%2F%2Fcontainerregistry.azure.net");
    assert_eq!(
        identity[0].header("content-length"),
        Some(identity[0].body.len().to_string().as_str())
    );
    assert_exchanged(&acr);
}

#[test]
fn the_host_refuses_plain_http_it_was_not_told_about() {
    let platform = Platform::CloudShell;
    let acr = server(platform.clone());
    let endpoint = endpoint(&acr, &platform);
    let network =
        Network::new(Some(acr.ca_pem().as_bytes()), vec![connect_to_rule(HOST, acr.addr())]).expect("network");
    let error = runtime(network)
        .login(
            HOST,
            &managed(ManagedIdentitySource::CloudShell(endpoint), None),
            &options(),
        )
        .expect("the login finishes")
        .expect_err("refused by the host");
    assert!(identity_requests(&acr).is_empty(), "{}", error.message);
    for refused in [
        "https://127.0.0.1:8080/token",
        "http://10.0.0.1:8080/token",
        "http://example.com/token",
    ] {
        let network = Network::new(None, Vec::new());
        let network = network.expect("system roots");
        assert!(network.allow_plain_http(refused).is_err(), "{refused}");
    }
}

/// `cmd` with `env` set.
fn with_env(mut cmd: Command, env: &[(&str, &str)]) -> Command {
    cmd.envs(env.iter().copied());
    cmd
}

/// `acr-auth login <HOST>` aimed at `acr`, with no token file.
fn login_command(program: &Path, acr: &TestAcr, name: &str) -> Command {
    let ca = temp_file(&format!("{name}-ca.pem"), acr.ca_pem().as_bytes());
    let mut cmd = Command::new(program);
    cmd.args(["login", HOST, "--cacert"])
        .arg(ca)
        .args(["--connect-to", &format!("{HOST}:443:127.0.0.1:{}", acr.port())]);
    cmd
}

/// Checks a CLI login's output against what `acr` issued.
fn assert_logged_in(acr: &TestAcr, out: &Output) {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed["password"], acr.issued_refresh_tokens()[0].token.as_str());
}

#[test]
fn the_cli_logs_in_with_app_service_and_cloud_shell_identities() {
    let cli = command().get_program().to_owned();
    let platform = app_service(Some(CLIENT_ID));
    let acr = server(platform.clone());
    let env = [
        ("IDENTITY_ENDPOINT", endpoint(&acr, &platform)),
        ("IDENTITY_HEADER", IDENTITY_HEADER.to_owned()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run_command(
        with_env(login_command(Path::new(&cli), &acr, "cli-app-service"), &env),
        "",
    );
    assert_logged_in(&acr, &out);
    assert_eq!(
        identity_requests(&acr)[0].header("x-identity-header"),
        Some(IDENTITY_HEADER)
    );

    let platform = Platform::CloudShell;
    let acr = server(platform.clone());
    let msi = endpoint(&acr, &platform);
    let out = run_command(
        with_env(
            login_command(Path::new(&cli), &acr, "cli-cloud-shell"),
            &[("MSI_ENDPOINT", &msi)],
        ),
        "",
    );
    assert_logged_in(&acr, &out);
    assert_eq!(identity_requests(&acr)[0].method, "POST");
}

#[test]
fn the_cli_logs_in_with_an_arc_identity_reading_the_agents_key() {
    let platform = arc();
    let acr = server(platform.clone());
    let endpoint = endpoint(&acr, &platform);
    let imds = format!("http://{}", acr.metadata_addr().expect("an identity side"));
    // The agent's token directory exists only in a mount namespace of the
    // test's own (a tmpfs over /var/opt), holding the key file.
    let script = format!(
        "mount -t tmpfs tmpfs /var/opt && mkdir -p /var/opt/azcmagent/tokens && \
         printf %s '{ARC_KEY}' > /var/opt/azcmagent/tokens/{ARC_KEY_NAME} && exec \"$@\""
    );
    let cli = PathBuf::from(command().get_program());
    let login = login_command(&cli, &acr, "cli-arc");
    let mut cmd = Command::new("unshare");
    cmd.args(["--mount", "--propagation", "private", "--", "sh", "-c", &script, "sh"])
        .arg(login.get_program())
        .args(login.get_args());
    let out = run_command(
        with_env(cmd, &[("IDENTITY_ENDPOINT", &endpoint), ("IMDS_ENDPOINT", &imds)]),
        "",
    );
    assert_logged_in(&acr, &out);
    let identity = identity_requests(&acr);
    assert_eq!(
        identity[1].header("authorization"),
        Some(format!("Basic {ARC_KEY}").as_str())
    );
    assert!(
        !Path::new("/var/opt/azcmagent/tokens").join(ARC_KEY_NAME).exists(),
        "nothing changed outside"
    );
}

#[test]
fn the_kubelet_provider_and_docker_helper_use_the_platforms_identity() {
    let platform = app_service(None);
    let acr = server(platform.clone());
    let app_endpoint = endpoint(&acr, &platform);
    let env = [
        ("IDENTITY_ENDPOINT", app_endpoint.as_str()),
        ("IDENTITY_HEADER", IDENTITY_HEADER),
    ];
    let ca = temp_file("platform-kubelet-ca.pem", acr.ca_pem().as_bytes());
    let mut cmd = command();
    cmd.args(["kubelet-credential-provider", "--cacert"])
        .arg(&ca)
        .args(["--connect-to", &format!("{HOST}:443:127.0.0.1:{}", acr.port())]);
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": format!("{HOST}/team/app:1.2"),
    });
    let out = run_command(with_env(cmd, &env), &request.to_string());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let response: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        response["auth"][HOST]["password"],
        acr.issued_refresh_tokens()[0].token.as_str()
    );

    let platform = Platform::CloudShell;
    let acr = server(platform.clone());
    let msi = endpoint(&acr, &platform);
    let helper = docker_helper("platform");
    let ca = temp_file("platform-helper-ca.pem", acr.ca_pem().as_bytes());
    let rule = format!("{HOST}:443:127.0.0.1:{}", acr.port());
    let ca = ca.display().to_string();
    let home = empty_home("platform-helper");
    let cache = home.join(".cache").display().to_string();
    let env = [
        ("MSI_ENDPOINT", msi.as_str()),
        ("ACR_AUTH_CACERT", &ca),
        ("ACR_AUTH_CONNECT_TO", &rule),
        ("XDG_CACHE_HOME", &cache),
    ];
    let mut get = Command::new(&helper);
    get.arg("get");
    let out = run_command(with_env(get, &env), HOST);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(answer["Secret"], acr.issued_refresh_tokens()[0].token.as_str());
}
