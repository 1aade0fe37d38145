//! The protocols through which container runtimes ask for registry
//! credentials, as plain data in and out: the kubelet's credential provider
//! exec plugin (`credentialprovider.kubelet.k8s.io/v1`) and the
//! docker-credential-helpers protocol. The login itself is the caller's
//! (through the client component); this module reads requests, picks the
//! identity, and writes answers.

use anyhow::{Context as _, Result, anyhow, bail};
use serde_json::{Value, json};

use acr_auth_host::client::wit::entra::{
    ClientSecret, FederatedToken, Identity, ManagedIdentity, ManagedIdentityId, ManagedIdentitySource,
};

/// The kubelet credential provider API version this plugin speaks.
pub const KUBELET_API_VERSION: &str = "credentialprovider.kubelet.k8s.io/v1";

/// How long before a token's expiry the kubelet must stop using it: its
/// cache duration is the token's remaining life minus this, so a cached
/// credential is never presented in its last five minutes.
pub const CACHE_SKEW_SECS: u64 = 5 * 60;

/// The service-account annotation naming the app's client ID, as Azure
/// Workload Identity sets it.
pub const CLIENT_ID_ANNOTATION: &str = "azure.workload.identity/client-id";
/// The service-account annotation naming the app's tenant.
pub const TENANT_ID_ANNOTATION: &str = "azure.workload.identity/tenant-id";

/// The message docker-credential-helpers clients recognise as "no
/// credentials for this server".
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The variables an identity is read from, as the Azure SDKs name them.
pub trait Environment {
    /// The variable's value, when set and not empty.
    fn var(&self, name: &str) -> Option<String>;
    /// The contents of the file at `path`, without a trailing newline.
    fn read_file(&self, path: &str) -> Result<String>;
}

/// The process environment and file system.
pub struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn read_file(&self, path: &str) -> Result<String> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        Ok(text.trim_end_matches(['\n', '\r']).to_owned())
    }
}

/// The host's identity from the environment, as the Azure SDKs choose it:
/// workload identity when `AZURE_FEDERATED_TOKEN_FILE` is set (with
/// `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`), else a client secret when
/// `AZURE_CLIENT_SECRET` is set, else a managed identity (user-assigned when
/// `AZURE_CLIENT_ID` is set). `AZURE_AUTHORITY_HOST` picks the Entra cloud.
pub fn identity_from_environment(env: &dyn Environment) -> Result<Identity> {
    let required = |name: &str, with: &str| env.var(name).ok_or_else(|| anyhow!("{name} must be set with {with}"));
    if let Some(file) = env.var("AZURE_FEDERATED_TOKEN_FILE") {
        return Ok(Identity::FederatedToken(FederatedToken {
            tenant: required("AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")?,
            client_id: required("AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE")?,
            assertion: env.read_file(&file)?,
            authority_host: env.var("AZURE_AUTHORITY_HOST"),
        }));
    }
    if let Some(secret) = env.var("AZURE_CLIENT_SECRET") {
        return Ok(Identity::ClientSecret(ClientSecret {
            tenant: required("AZURE_TENANT_ID", "AZURE_CLIENT_SECRET")?,
            client_id: required("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")?,
            secret,
            authority_host: env.var("AZURE_AUTHORITY_HOST"),
        }));
    }
    Ok(Identity::ManagedIdentity(ManagedIdentity {
        id: env.var("AZURE_CLIENT_ID").map(ManagedIdentityId::ClientId),
        source: ManagedIdentitySource::Imds,
    }))
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

/// The identity for a kubelet request: with a service-account token,
/// workload identity federation with that token, the client ID and tenant
/// from the service account's annotations (or the environment); without one,
/// the node's identity from the environment.
pub fn kubelet_identity(request: &KubeletRequest, env: &dyn Environment) -> Result<Identity> {
    let Some(token) = &request.service_account_token else {
        return identity_from_environment(env);
    };
    let setting = |annotation: &str, var: &str| {
        request
            .annotations
            .get(annotation)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| env.var(var))
            .ok_or_else(|| anyhow!("the service account has no {annotation} annotation and {var} is not set"))
    };
    Ok(Identity::FederatedToken(FederatedToken {
        tenant: setting(TENANT_ID_ANNOTATION, "AZURE_TENANT_ID")?,
        client_id: setting(CLIENT_ID_ANNOTATION, "AZURE_CLIENT_ID")?,
        assertion: token.clone(),
        authority_host: env.var("AZURE_AUTHORITY_HOST"),
    }))
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
    /// `erase`: forget a server's credentials (none are kept).
    Erase,
    /// `list`: the servers with kept credentials (none).
    List,
}

/// Reads a docker credential helper invocation: `action` is its argument,
/// `input` its standard input.
pub fn read_helper_request(action: &str, input: &[u8]) -> Result<HelperRequest> {
    let text = || {
        std::str::from_utf8(input)
            .map(|s| s.trim().to_owned())
            .map_err(|_| anyhow!("the input is not UTF-8"))
    };
    match action {
        "get" => {
            let server = text()?;
            if server.is_empty() {
                bail!("no server URL on standard input");
            }
            Ok(HelperRequest::Get(server))
        }
        "store" => Ok(HelperRequest::Store),
        "erase" => Ok(HelperRequest::Erase),
        "list" => Ok(HelperRequest::List),
        other => bail!("unknown action {other:?}: expected get, store, erase or list"),
    }
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

    /// Variables and files given by the test.
    struct Fake(HashMap<&'static str, &'static str>);

    impl Environment for Fake {
        fn var(&self, name: &str) -> Option<String> {
            self.0.get(name).map(|v| (*v).to_owned())
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
    fn the_environment_picks_the_identity_as_the_azure_sdks_do() {
        let workload = Fake(HashMap::from([
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
            ("/var/run/secrets/azure/tokens/azure-identity-token", "sa.token.value"),
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_SECRET", "ignored when a federated token is set"),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        ]));
        assert_same(
            identity_from_environment(&workload).expect("an identity"),
            Identity::FederatedToken(FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                assertion: "sa.token.value".into(),
                authority_host: Some("https://login.microsoftonline.us/".into()),
            }),
        );
        let secret = Fake(HashMap::from([
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            ("AZURE_CLIENT_SECRET", "s3cret"),
        ]));
        assert!(matches!(
            identity_from_environment(&secret),
            Ok(Identity::ClientSecret(ClientSecret { ref secret, authority_host: None, .. })) if secret == "s3cret"
        ));
        let user_assigned = Fake(HashMap::from([("AZURE_CLIENT_ID", CLIENT)]));
        assert_same(
            identity_from_environment(&user_assigned).expect("an identity"),
            Identity::ManagedIdentity(ManagedIdentity {
                id: Some(ManagedIdentityId::ClientId(CLIENT.into())),
                source: ManagedIdentitySource::Imds,
            }),
        );
        assert_same(
            identity_from_environment(&Fake(HashMap::new())).expect("an identity"),
            Identity::ManagedIdentity(ManagedIdentity {
                id: None,
                source: ManagedIdentitySource::Imds,
            }),
        );
        let incomplete = Fake(HashMap::from([("AZURE_FEDERATED_TOKEN_FILE", "/token")]));
        let error = identity_from_environment(&incomplete)
            .expect_err("no tenant")
            .to_string();
        assert!(error.contains("AZURE_TENANT_ID"), "{error}");
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
        let identity = kubelet_identity(&request, &Fake(HashMap::new())).expect("an identity");
        assert_same(
            identity,
            Identity::FederatedToken(FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                assertion: request.service_account_token.clone().expect("a token"),
                authority_host: None,
            }),
        );
    }

    #[test]
    fn without_a_service_account_token_the_node_identity_is_used() {
        let request = read_kubelet_request(
            br#"{"kind":"CredentialProviderRequest","apiVersion":"credentialprovider.kubelet.k8s.io/v1","image":"myregistry.azurecr.io/app"}"#,
        )
        .expect("a valid request");
        let node = Fake(HashMap::from([("AZURE_CLIENT_ID", CLIENT)]));
        assert_same(
            kubelet_identity(&request, &node).expect("an identity"),
            Identity::ManagedIdentity(ManagedIdentity {
                id: Some(ManagedIdentityId::ClientId(CLIENT.into())),
                source: ManagedIdentitySource::Imds,
            }),
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
        assert_eq!(
            read_helper_request("get", b"https://myregistry.azurecr.io\n").expect("get"),
            HelperRequest::Get("https://myregistry.azurecr.io".into())
        );
        assert_eq!(read_helper_request("list", b"").expect("list"), HelperRequest::List);
        assert_eq!(
            read_helper_request("erase", b"myregistry.azurecr.io").expect("erase"),
            HelperRequest::Erase
        );
        assert_eq!(
            read_helper_request("store", b"{}").expect("store"),
            HelperRequest::Store
        );
        assert!(read_helper_request("get", b"  \n").is_err());
        assert!(read_helper_request("version", b"").is_err());
        assert_eq!(
            helper_credentials("myregistry.azurecr.io", "00000000-0000-0000-0000-000000000000", "t"),
            json!({"ServerURL": "myregistry.azurecr.io", "Username": "00000000-0000-0000-0000-000000000000", "Secret": "t"})
        );
    }
}
