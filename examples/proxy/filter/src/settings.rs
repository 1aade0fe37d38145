//! The proxy's settings, read through `wasi:config/store` for every request
//! (so a host may change them between requests): the registry, the identity,
//! the cache margin and the `Host` names the proxy answers to.
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `registry` | the login server, e.g. `myregistry.azurecr.io` | required |
//! | `allowed-hosts` | comma-separated `Host` names (no port) the proxy answers | `localhost,127.0.0.1,[::1]` |
//! | `cache-margin-seconds` | a token is used until this long before its `exp` | 300 |
//! | `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, `AZURE_AUTHORITY_HOST` | a client secret | |
//! | `AZURE_FEDERATED_TOKEN_FILE` and `AZURE_FEDERATED_TOKEN` | a workload identity: the file's name and its contents, which the host reads (the component has no file system) | |
//! | `IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, `MSI_ENDPOINT`, or none of them | a managed identity (App Service, Cloud Shell, IMDS), user-assigned when `AZURE_CLIENT_ID` is set | |
//!
//! The identity is chosen by `acr_auth::identity_from_environment`, as every
//! host of the library chooses it.

use acr_auth::{EnvironmentIdentity, Identity, ManagedIdentityId, ManagedIdentitySource, identity_from_environment};

use crate::bindings::wasi::config::store;

/// The cache margin when none is configured: five minutes, as the kubelet
/// credential provider leaves before a token's expiry.
pub const DEFAULT_MARGIN_SECONDS: u64 = 300;

/// The longest margin accepted: a day. Longer would make every ACR token
/// (at most 3 hours) unusable at once.
const MAX_MARGIN_SECONDS: u64 = 24 * 60 * 60;

/// The key under which the host passes the federated token file's contents.
const FEDERATED_TOKEN: &str = "AZURE_FEDERATED_TOKEN";

/// The `Host` names served when `allowed-hosts` is not set: loopback only.
const DEFAULT_ALLOWED_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// What the proxy was configured with.
pub struct Settings {
    /// The registry reference, checked by the login flow.
    pub registry: String,
    /// Lower-case `Host` names without port.
    pub allowed_hosts: Vec<String>,
    /// Seconds before `exp` from which a token is no longer used.
    pub margin: u64,
    /// Who logs in.
    pub identity: Identity,
    /// The identity's name in cache keys: its kind, tenant and client ID,
    /// never its secret.
    pub identity_key: String,
}

/// A setting that is missing or wrong; its message names the key, never a
/// secret's value.
#[derive(Debug)]
pub struct SettingsError(pub String);

impl Settings {
    /// Reads every setting from `wasi:config/store`.
    pub fn read() -> Result<Self, SettingsError> {
        Self::from_source(|key| store::get(key).ok().flatten())
    }

    /// Reads every setting from `get`.
    pub fn from_source(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let registry = get("registry").ok_or_else(|| SettingsError("`registry` is not set".into()))?;
        let allowed_hosts = match get("allowed-hosts") {
            Some(list) => list
                .split(',')
                .map(|name| name.trim().to_ascii_lowercase())
                .filter(|name| !name.is_empty())
                .collect(),
            None => DEFAULT_ALLOWED_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        };
        let margin = match get("cache-margin-seconds") {
            Some(text) => text
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|m| *m <= MAX_MARGIN_SECONDS)
                .ok_or_else(|| SettingsError(format!("`cache-margin-seconds` must be 0 to {MAX_MARGIN_SECONDS}")))?,
            None => DEFAULT_MARGIN_SECONDS,
        };
        let (identity, identity_key) = identity(&get)?;
        Ok(Self {
            registry,
            allowed_hosts,
            margin,
            identity,
            identity_key,
        })
    }
}

/// The identity the Azure SDKs' variables name, chosen by the library in
/// `DefaultAzureCredential`'s order, and its cache-key name. A workload
/// identity's token file is the host's to read: it passes the contents as
/// `AZURE_FEDERATED_TOKEN`. A certificate is refused (signing its assertion
/// needs RSA, which the proxy does not carry), and so is Azure Arc's managed
/// identity (its proof is a key file the component cannot read).
fn identity(get: &impl Fn(&str) -> Option<String>) -> Result<(Identity, String), SettingsError> {
    let identity = match identity_from_environment(get) {
        Ok(EnvironmentIdentity::Ready(identity)) => identity,
        Ok(EnvironmentIdentity::WorkloadIdentity(file)) => {
            let token = get(FEDERATED_TOKEN).filter(|token| !token.is_empty()).ok_or_else(|| {
                SettingsError(format!(
                    "`AZURE_FEDERATED_TOKEN_FILE` is set but `{FEDERATED_TOKEN}` is not: the proxy has no file \
                     system, so its host must read the file and pass its contents"
                ))
            })?;
            file.identity(&token)
        }
        Ok(EnvironmentIdentity::ClientCertificate(_)) => {
            return Err(SettingsError(
                "a client certificate (`AZURE_CLIENT_CERTIFICATE_PATH`) is not supported by the proxy: use a client \
                 secret, a workload identity or a managed identity"
                    .into(),
            ));
        }
        Ok(_) => {
            return Err(SettingsError(
                "the identity the settings name is not supported by the proxy".into(),
            ));
        }
        Err(e) => return Err(SettingsError(format!("the identity settings: {e}"))),
    };
    let key = match &identity {
        Identity::ClientSecret { tenant, client_id, .. } => format!("secret/{tenant}/{client_id}"),
        Identity::FederatedToken { tenant, client_id, .. } => format!("federated/{tenant}/{client_id}"),
        Identity::ManagedIdentity {
            source: ManagedIdentitySource::AzureArc { .. },
            ..
        } => {
            return Err(SettingsError(
                "Azure Arc's managed identity needs its agent's key file, which the proxy cannot read".into(),
            ));
        }
        Identity::ManagedIdentity { id, .. } => match id {
            None => "managed/system".to_owned(),
            Some(ManagedIdentityId::ClientId(id)) => format!("managed/client-id/{id}"),
            Some(ManagedIdentityId::ObjectId(id)) => format!("managed/object-id/{id}"),
            Some(ManagedIdentityId::ResourceId(id)) => format!("managed/resource-id/{id}"),
            Some(_) => {
                return Err(SettingsError(
                    "this kind of managed identity ID is not supported".into(),
                ));
            }
        },
        _ => {
            return Err(SettingsError(
                "the identity the settings name is not supported by the proxy".into(),
            ));
        }
    };
    Ok((identity, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::from_source(|key| pairs.iter().find(|(k, _)| *k == key).map(|(_, v)| (*v).to_owned()))
    }

    #[test]
    fn defaults_are_loopback_and_five_minutes_with_the_managed_identity() {
        let s = settings(&[("registry", "myregistry.azurecr.io")]).expect("settings");
        assert_eq!(s.allowed_hosts, ["localhost", "127.0.0.1", "[::1]"]);
        assert_eq!(s.margin, 300);
        assert_eq!(s.identity_key, "managed/system");
        assert!(matches!(
            s.identity,
            Identity::ManagedIdentity {
                id: None,
                source: ManagedIdentitySource::Imds
            }
        ));
    }

    #[test]
    fn a_client_secret_is_named_by_tenant_and_client_never_by_secret() {
        let s = settings(&[
            ("registry", "r.azurecr.io"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_SECRET", "s3cret-value"),
            ("allowed-hosts", " Mirror.Example , localhost"),
            ("cache-margin-seconds", "60"),
        ])
        .expect("settings");
        assert_eq!(s.identity_key, "secret/t/c");
        assert_eq!(s.allowed_hosts, ["mirror.example", "localhost"]);
        assert_eq!(s.margin, 60);
    }

    #[test]
    fn a_workload_identity_takes_the_token_its_host_read() {
        let s = settings(&[
            ("registry", "r.azurecr.io"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
            ("AZURE_FEDERATED_TOKEN", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln\n"),
        ])
        .expect("settings");
        assert_eq!(s.identity_key, "federated/t/c");
        let Identity::FederatedToken { assertion, .. } = &s.identity else {
            panic!("a federated token identity");
        };
        assert_eq!(assertion.expose(), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    }

    #[test]
    fn what_the_proxy_cannot_use_is_refused_by_name() {
        let refused = |pairs: &[(&str, &str)]| settings(pairs).err().expect("refused").0;
        assert!(refused(&[]).contains("`registry`"));
        let with = |extra: (&str, &str)| refused(&[("registry", "r.azurecr.io"), extra]);
        let certificate = refused(&[
            ("registry", "r.azurecr.io"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"),
        ]);
        assert!(certificate.contains("certificate"), "{certificate}");
        let no_token = refused(&[
            ("registry", "r.azurecr.io"),
            ("AZURE_TENANT_ID", "t"),
            ("AZURE_CLIENT_ID", "c"),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
        ]);
        assert!(no_token.contains("`AZURE_FEDERATED_TOKEN`"), "{no_token}");
        assert!(with(("cache-margin-seconds", "-1")).contains("cache-margin-seconds"));
        assert!(with(("AZURE_FEDERATED_TOKEN_FILE", "/t")).contains("AZURE_TENANT_ID"));
        let arc = refused(&[
            ("registry", "r.azurecr.io"),
            (
                "IDENTITY_ENDPOINT",
                "http://localhost:40342/metadata/identity/oauth2/token",
            ),
            ("IMDS_ENDPOINT", "http://localhost:40342"),
        ]);
        assert!(arc.contains("Arc"), "{arc}");
    }
}
