//! The protocols through which container runtimes ask for registry
//! credentials, as plain data in and out: the kubelet's credential provider
//! exec plugin (`credentialprovider.kubelet.k8s.io/v1`) and the
//! docker-credential-helpers protocol. The login itself is the caller's
//! (through the client component); this module reads requests, picks the
//! identity, and writes answers.

use std::io::Read as _;

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::{Value, json};

use acr_auth_host::client::wit::entra::{CertificateFile, EnvironmentIdentity, FederatedToken, Identity};

/// The kubelet credential provider API version this plugin speaks.
pub const KUBELET_API_VERSION: &str = "credentialprovider.kubelet.k8s.io/v1";

/// How long before a token's expiry the kubelet must stop using it: its
/// cache duration is the token's remaining life minus this, so a cached
/// credential is never presented in its last five minutes.
pub const CACHE_SKEW_SECS: u64 = 5 * 60;

/// The service-account annotations naming the app's client ID, first
/// match wins: AKS's own for image pulls, then Azure Workload Identity's.
pub const CLIENT_ID_ANNOTATIONS: [&str; 2] = [
    "kubernetes.azure.com/acr-client-id",
    "azure.workload.identity/client-id",
];
/// The service-account annotations naming the app's tenant, in the same
/// order.
pub const TENANT_ID_ANNOTATIONS: [&str; 2] = [
    "kubernetes.azure.com/acr-tenant-id",
    "azure.workload.identity/tenant-id",
];

/// The name under which the binary acts as a docker credential helper.
pub const DOCKER_HELPER_NAME: &str = "docker-credential-acr-auth";
/// The docker-credential-helpers message for "no credentials for this
/// server", which clients recognise.
pub const NOT_FOUND: &str = "credentials not found in native keychain";
/// The docker-credential-helpers message for a request without a server.
pub const MISSING_SERVER_URL: &str = "no credentials server URL";

/// The prefixes of the variables an identity is chosen from: the Azure
/// SDKs' `AZURE_*`, and the platforms' managed-identity endpoints
/// (`IDENTITY_*`, `IMDS_*`, `MSI_*`).
const IDENTITY_VARIABLE_PREFIXES: [&str; 4] = ["AZURE_", "IDENTITY_", "IMDS_", "MSI_"];

/// The variables and files an identity is read from.
pub trait Environment {
    /// Every set, non-empty variable, as (name, value).
    fn vars(&self) -> Vec<(String, String)>;
    /// The variable's value, when set and not empty.
    fn var(&self, name: &str) -> Option<String> {
        self.vars()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
    /// The contents of the file at `path`.
    fn read_file(&self, path: &str) -> Result<String>;
}

/// The process environment and file system.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn vars(&self) -> Vec<(String, String)> {
        std::env::vars_os()
            .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
            .filter(|(_, value)| !value.is_empty())
            .collect()
    }

    fn read_file(&self, path: &str) -> Result<String> {
        std::fs::read_to_string(path).with_context(|| format!("reading {path}"))
    }
}

/// The variables the component chooses the identity from: the Azure SDKs'
/// and the platforms' (see [`IDENTITY_VARIABLE_PREFIXES`]), nothing else.
pub fn identity_variables(env: &dyn Environment) -> Vec<(String, String)> {
    let mut vars: Vec<_> = env
        .vars()
        .into_iter()
        .filter(|(name, _)| IDENTITY_VARIABLE_PREFIXES.iter().any(|prefix| name.starts_with(prefix)))
        .collect();
    vars.sort();
    vars
}

/// The identity to log in with, from the one the environment describes:
/// a workload identity's token is read from its file now (the platform
/// rotates it), without a trailing newline; a client certificate becomes
/// the assertion `sign` makes with it.
pub fn usable_identity(
    described: EnvironmentIdentity,
    env: &dyn Environment,
    sign: impl FnOnce(CertificateFile) -> Result<Identity>,
) -> Result<Identity> {
    match described {
        EnvironmentIdentity::Ready(identity) => Ok(identity),
        EnvironmentIdentity::WorkloadIdentity(file) => {
            let token = env.read_file(&file.path)?;
            Ok(Identity::FederatedToken(FederatedToken {
                tenant: file.tenant,
                client_id: file.client_id,
                assertion: token.trim_end_matches(['\n', '\r']).to_owned(),
                authority_host: file.authority_host,
            }))
        }
        EnvironmentIdentity::ClientCertificate(file) => sign(file),
    }
}

/// What the kubelet asks for: the image to pull, and, from kubelets that pass
/// it for the pod's service account, a token and annotations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeletRequest {
    /// The image being pulled, e.g. `myregistry.azurecr.io/team/app:1`.
    pub image: String,
    /// The pod's service-account token (service-account token mode).
    pub service_account_token: Option<String>,
    /// The service account's annotations (client ID and tenant).
    pub annotations: serde_json::Map<String, Value>,
}

/// Reads a `CredentialProviderRequest`.
pub fn read_kubelet_request(input: &[u8]) -> Result<KubeletRequest> {
    let request: Value = serde_json::from_slice(input).context("the request is not JSON")?;
    let field = |name: &str| request.get(name).and_then(Value::as_str);
    if field("apiVersion") != Some(KUBELET_API_VERSION) || field("kind") != Some("CredentialProviderRequest") {
        bail!("expected a {KUBELET_API_VERSION} CredentialProviderRequest");
    }
    let image = field("image")
        .filter(|i| !i.is_empty())
        .context("the request names no image")?;
    Ok(KubeletRequest {
        image: image.to_owned(),
        service_account_token: field("serviceAccountToken")
            .filter(|t| !t.is_empty())
            .map(str::to_owned),
        annotations: request
            .get("serviceAccountAnnotations")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
    })
}

/// The identity for a kubelet request with a service-account token:
/// workload identity federation with that token, as the app the service
/// account's annotations name (client ID and tenant, each from the first of
/// [`CLIENT_ID_ANNOTATIONS`] / [`TENANT_ID_ANNOTATIONS`] that is set). A
/// missing one is refused: the node's own settings never stand in for a
/// pod's. `authority_host` is the node's Entra cloud. `None` without a
/// token: the node's identity is the caller's to choose.
pub fn service_account_identity(request: &KubeletRequest, authority_host: Option<String>) -> Result<Option<Identity>> {
    let Some(token) = &request.service_account_token else {
        return Ok(None);
    };
    let annotation = |names: [&str; 2]| {
        names
            .iter()
            .find_map(|name| {
                request
                    .annotations
                    .get(*name)
                    .and_then(Value::as_str)
                    .filter(|value| !value.is_empty())
            })
            .map(str::to_owned)
            .ok_or_else(|| {
                anyhow!(
                    "the pod's service account has neither the {} nor the {} annotation, which name the app its token signs in as",
                    names[0],
                    names[1]
                )
            })
    };
    Ok(Some(Identity::FederatedToken(FederatedToken {
        client_id: annotation(CLIENT_ID_ANNOTATIONS)?,
        tenant: annotation(TENANT_ID_ANNOTATIONS)?,
        assertion: token.clone(),
        authority_host,
    })))
}

/// A `CredentialProviderResponse` for `login_server`: the refresh-token
/// credential, cached per registry until [`CACHE_SKEW_SECS`] before the
/// token expires (`expires_at`, unix seconds; `now` likewise).
pub fn kubelet_response(login_server: &str, username: &str, password: &str, expires_at: u64, now: u64) -> Value {
    let remaining = expires_at.saturating_sub(now).saturating_sub(CACHE_SKEW_SECS);
    json!({
        "apiVersion": KUBELET_API_VERSION,
        "kind": "CredentialProviderResponse",
        "cacheKeyType": "Registry",
        "cacheDuration": go_duration(remaining),
        "auth": { login_server: { "username": username, "password": password } },
    })
}

/// Seconds as a Go `time.Duration` string, the form the kubelet parses:
/// `2h55m0s`, `4m30s`, `0s`.
pub fn go_duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

/// A docker credential helper request: the action and its standard input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperRequest {
    /// `get`: credentials for a server URL.
    Get(String),
    /// `store`: credentials docker wants kept (this helper keeps none).
    Store,
    /// `erase`: forget a server's credentials (its cached refresh token).
    Erase(String),
    /// `list`: the servers with kept credentials (none).
    List,
    /// `version` (or `--version`, `-v`): the helper's name and version.
    Version,
    /// `--help` or `-h`: the usage line.
    Help,
}

/// The helper's usage line, printed on stdout as the reference helpers do.
pub fn helper_usage() -> String {
    format!("Usage: {DOCKER_HELPER_NAME} <store|get|erase|list|version>")
}

/// The helper's version line, in the reference helpers' form `name
/// (package) version`.
pub fn helper_version() -> String {
    format!("{DOCKER_HELPER_NAME} (acr-auth) {}", env!("CARGO_PKG_VERSION"))
}

/// The most bytes of a helper's standard input read: a server URL, or the
/// credentials `store` is given.
const MAX_HELPER_INPUT: u64 = 64 * 1024;

/// Reads a docker credential helper invocation: `args` are its arguments
/// (without the program name), `input` its standard input, read only by the
/// actions that take input (so `version` never waits for it). Errors carry
/// the reference helpers' messages: [`MISSING_SERVER_URL`] for an empty
/// server, `<name>: unknown action: <action>`, or the usage line.
pub fn read_helper_request(args: &[String], input: impl std::io::Read) -> Result<HelperRequest> {
    let [action] = args else { bail!(helper_usage()) };
    let server = || {
        let mut bytes = Vec::new();
        input
            .take(MAX_HELPER_INPUT)
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
        let text = std::str::from_utf8(&bytes).map_err(|_| anyhow!("the input is not UTF-8"))?;
        // The reference helpers join the input's lines, then trim.
        let server: String = text.lines().collect();
        match server.trim() {
            "" => bail!(MISSING_SERVER_URL),
            server => Ok(server.to_owned()),
        }
    };
    Ok(match action.as_str() {
        "get" => HelperRequest::Get(server()?),
        "erase" => HelperRequest::Erase(server()?),
        "store" => HelperRequest::Store,
        "list" => HelperRequest::List,
        "version" | "--version" | "-v" => HelperRequest::Version,
        "--help" | "-h" => HelperRequest::Help,
        other => bail!("{DOCKER_HELPER_NAME}: unknown action: {other}"),
    })
}

/// The answer to `get`: `ServerURL` as asked, the refresh-token user name
/// and the token.
pub fn helper_credentials(server_url: &str, username: &str, secret: &str) -> Value {
    json!({ "ServerURL": server_url, "Username": username, "Secret": secret })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Variables (names without a `/`) and files (paths) given by the test.
    struct Fake(HashMap<&'static str, &'static str>);

    impl Environment for Fake {
        fn vars(&self) -> Vec<(String, String)> {
            let vars = self.0.iter().filter(|(name, _)| !name.starts_with('/'));
            vars.map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect()
        }

        fn read_file(&self, path: &str) -> Result<String> {
            self.0.get(path).map(|v| (*v).to_owned()).context("no such file")
        }
    }

    /// The generated WIT types have no `PartialEq`; their `Debug` shows every field.
    fn assert_same(actual: Identity, expected: Identity) {
        assert_eq!(format!("{actual:?}"), format!("{expected:?}"));
    }

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

    #[test]
    fn only_identity_variables_reach_the_component() {
        let env = Fake(HashMap::from([
            ("AZURE_CLIENT_ID", CLIENT),
            ("IDENTITY_ENDPOINT", "http://127.0.0.1:41741/msi/token"),
            ("IMDS_ENDPOINT", "http://localhost:40342"),
            ("MSI_ENDPOINT", "http://localhost:50342/oauth2/token"),
            ("HOME", "/root"),
            ("AWS_SECRET_ACCESS_KEY", "unrelated"),
            ("/var/run/token", "a file"),
        ]));
        let names: Vec<_> = identity_variables(&env).into_iter().map(|(name, _)| name).collect();
        assert_eq!(
            names,
            ["AZURE_CLIENT_ID", "IDENTITY_ENDPOINT", "IMDS_ENDPOINT", "MSI_ENDPOINT"]
        );
    }

    #[test]
    fn a_workload_identity_token_is_read_from_its_file() {
        let env = Fake(HashMap::from([(
            "/var/run/secrets/azure/tokens/azure-identity-token",
            "sa.token.value\n",
        )]));
        let described = EnvironmentIdentity::WorkloadIdentity(acr_auth_host::client::wit::entra::FederatedTokenFile {
            tenant: TENANT.into(),
            client_id: CLIENT.into(),
            path: "/var/run/secrets/azure/tokens/azure-identity-token".into(),
            authority_host: Some("https://login.microsoftonline.us/".into()),
        });
        assert_same(
            usable_identity(described, &env, |_| unreachable!("no certificate")).expect("an identity"),
            Identity::FederatedToken(FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                assertion: "sa.token.value".into(),
                authority_host: Some("https://login.microsoftonline.us/".into()),
            }),
        );
    }

    /// A request as a kubelet 1.33 with service-account token image pulls
    /// sends it (field names from the credentialprovider v1 API).
    const KUBELET_REQUEST: &str = r#"{
        "kind": "CredentialProviderRequest",
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "image": "myregistry.azurecr.io/team/app:1.2",
        "serviceAccountToken": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6dGVhbTpwdWxsZXIifQ.c2ln",
        "serviceAccountAnnotations": {
            "azure.workload.identity/client-id": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            "azure.workload.identity/tenant-id": "72f988bf-86f1-41af-91ab-2d7cd011db47"
        }
    }"#;

    #[test]
    fn a_service_account_token_is_the_federated_assertion() {
        let request = read_kubelet_request(KUBELET_REQUEST.as_bytes()).expect("a valid request");
        assert_eq!(request.image, "myregistry.azurecr.io/team/app:1.2");
        let identity = service_account_identity(&request, None).expect("an identity");
        assert_same(
            identity.expect("token mode"),
            Identity::FederatedToken(FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                assertion: request.service_account_token.clone().expect("a token"),
                authority_host: None,
            }),
        );
    }

    #[test]
    fn aks_annotations_come_before_workload_identity_ones_field_by_field() {
        let aks_client = "6b1c2f4a-3d5e-4f60-8a7b-9c0d1e2f3a4b";
        let mut request = read_kubelet_request(KUBELET_REQUEST.as_bytes()).expect("a valid request");
        request
            .annotations
            .insert("kubernetes.azure.com/acr-client-id".into(), aks_client.into());
        let Some(Identity::FederatedToken(app)) = service_account_identity(&request, None).expect("an identity") else {
            panic!("a federated token");
        };
        assert_eq!((app.client_id.as_str(), app.tenant.as_str()), (aks_client, TENANT));
    }

    #[test]
    fn a_missing_annotation_is_refused_not_taken_from_the_node() {
        for missing in ["azure.workload.identity/client-id", "azure.workload.identity/tenant-id"] {
            let mut request = read_kubelet_request(KUBELET_REQUEST.as_bytes()).expect("a valid request");
            request.annotations.remove(missing);
            let error = service_account_identity(&request, None)
                .expect_err("refused")
                .to_string();
            assert!(error.contains(missing), "{error}");
            let aks = missing.replace("azure.workload.identity/", "kubernetes.azure.com/acr-");
            assert!(error.contains(&aks), "{error}");
        }
        let without_token = read_kubelet_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"myregistry.azurecr.io/app"}"#,
        )
        .expect("a valid request");
        assert!(
            service_account_identity(&without_token, None)
                .expect("no token")
                .is_none()
        );
    }

    #[test]
    fn other_requests_are_refused() {
        for bad in [
            &br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1alpha1","image":"x"}"#[..],
            br#"{"kind":"Other","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"x"}"#,
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1"}"#,
            b"not json",
        ] {
            assert!(read_kubelet_request(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn the_response_caches_per_registry_until_five_minutes_before_expiry() {
        let now = 1_767_222_000;
        let response = kubelet_response("myregistry.azurecr.io", "user", "token", now + 3 * 3600, now);
        assert_eq!(
            response,
            json!({
                "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
                "kind": "CredentialProviderResponse",
                "cacheKeyType": "Registry",
                "cacheDuration": "2h55m0s",
                "auth": { "myregistry.azurecr.io": { "username": "user", "password": "token" } },
            })
        );
        let nearly_expired = kubelet_response("r", "u", "p", now + 100, now);
        assert_eq!(nearly_expired["cacheDuration"], "0s");
    }

    #[test]
    fn durations_read_as_go_writes_them() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(59), "59s");
        assert_eq!(go_duration(270), "4m30s");
        assert_eq!(go_duration(10_500), "2h55m0s");
        assert_eq!(go_duration(90_061), "25h1m1s");
    }

    #[test]
    fn helper_actions_follow_the_protocol() {
        let args = |action: &str| vec![action.to_owned()];
        assert_eq!(
            read_helper_request(&args("get"), &b"https://myregistry.azurecr.io\n"[..]).expect("get"),
            HelperRequest::Get("https://myregistry.azurecr.io".into())
        );
        assert_eq!(
            read_helper_request(&args("list"), &b""[..]).expect("list"),
            HelperRequest::List
        );
        assert_eq!(
            read_helper_request(&args("erase"), &b"myregistry.azurecr.io"[..]).expect("erase"),
            HelperRequest::Erase("myregistry.azurecr.io".into())
        );
        assert_eq!(
            read_helper_request(&args("store"), &b"{}"[..]).expect("store"),
            HelperRequest::Store
        );
        for version in ["version", "--version", "-v"] {
            assert_eq!(
                read_helper_request(&args(version), &b""[..]).expect("version"),
                HelperRequest::Version
            );
        }
        assert_eq!(
            helper_version(),
            format!("docker-credential-acr-auth (acr-auth) {}", env!("CARGO_PKG_VERSION"))
        );
        for action in ["get", "erase"] {
            let error = read_helper_request(&args(action), &b"  \n"[..]).expect_err("no server");
            assert_eq!(error.to_string(), "no credentials server URL");
        }
        let error = read_helper_request(&args("delete"), &b""[..]).expect_err("unknown");
        assert_eq!(error.to_string(), "docker-credential-acr-auth: unknown action: delete");
        for wrong in [vec![], vec!["get".to_owned(), "extra".to_owned()]] {
            let error = read_helper_request(&wrong, &b""[..]).expect_err("usage");
            assert_eq!(error.to_string(), helper_usage());
        }
        assert_eq!(
            helper_credentials("myregistry.azurecr.io", "00000000-0000-0000-0000-000000000000", "t"),
            json!({"ServerURL": "myregistry.azurecr.io", "Username": "00000000-0000-0000-0000-000000000000", "Secret": "t"})
        );
    }
}
