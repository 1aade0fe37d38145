//! Which identity a host has, read from the variables the Azure SDKs read,
//! in the order `DefaultAzureCredential` tries them:
//!
//! 1. the environment credential: `AZURE_TENANT_ID` and `AZURE_CLIENT_ID`
//!    with `AZURE_CLIENT_SECRET`, else with `AZURE_CLIENT_CERTIFICATE_PATH`;
//! 2. workload identity: `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//!    `AZURE_FEDERATED_TOKEN_FILE`;
//! 3. a managed identity (user-assigned when `AZURE_CLIENT_ID` is set), from
//!    the endpoint the platform names: `IDENTITY_ENDPOINT` with
//!    `IDENTITY_HEADER` (App Service, Functions, Container Apps),
//!    `IDENTITY_ENDPOINT` with `IMDS_ENDPOINT` (Azure Arc), `MSI_ENDPOINT`
//!    (Cloud Shell), else the instance metadata service.
//!
//! `AZURE_AUTHORITY_HOST` names the Entra cloud of the first two. An empty
//! variable counts as unset.
//!
//! Where `DefaultAzureCredential` would quietly skip a half-configured
//! credential and try the next, this refuses it: a client secret without its
//! tenant is a mistake to report, not a reason to log in as the machine.
//! What cannot be done here (a certificate password, username and password,
//! Service Fabric, Azure Machine Learning) is refused by name, never ignored.
//!
//! Reading files is the host's: the federated token (read again for each
//! login, since the platform rotates it) and the certificate.

use crate::prelude::*;

use core::fmt;

use crate::error::kinds;
use crate::{Identity, ManagedIdentityId, ManagedIdentitySource, Secret};

/// The identity the environment describes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvironmentIdentity {
    /// Usable as it is: a service principal's client secret, or a managed
    /// identity.
    Ready(Identity),
    /// A service principal's certificate: the host reads the PEM file and
    /// signs a client assertion with its key, then logs in with it as
    /// [`Identity::FederatedToken`]'s assertion.
    ClientCertificate(CertificateFile),
    /// Workload identity federation: the host reads the token file and logs
    /// in with [`FederatedTokenFile::identity`].
    WorkloadIdentity(FederatedTokenFile),
}

/// A service principal whose certificate is in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFile {
    /// `AZURE_TENANT_ID`.
    pub tenant: String,
    /// `AZURE_CLIENT_ID`.
    pub client_id: String,
    /// `AZURE_CLIENT_CERTIFICATE_PATH`: a PEM file with the certificate and
    /// its unencrypted private key.
    pub path: String,
    /// `AZURE_CLIENT_SEND_CERTIFICATE_CHAIN` is `true` or `1`: the assertion
    /// carries the certificate chain (`x5c`), for subject name / issuer
    /// authentication.
    pub send_chain: bool,
    /// `AZURE_AUTHORITY_HOST`.
    pub authority_host: Option<String>,
}

/// An app whose federated token is in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FederatedTokenFile {
    /// `AZURE_TENANT_ID`.
    pub tenant: String,
    /// `AZURE_CLIENT_ID`.
    pub client_id: String,
    /// `AZURE_FEDERATED_TOKEN_FILE`.
    pub path: String,
    /// `AZURE_AUTHORITY_HOST`.
    pub authority_host: Option<String>,
}

impl FederatedTokenFile {
    /// The identity, with `token` read from [`Self::path`] (a trailing
    /// newline is dropped).
    pub fn identity(&self, token: &str) -> Identity {
        Identity::FederatedToken {
            tenant: self.tenant.clone(),
            client_id: self.client_id.clone(),
            assertion: Secret::new(token.trim_end_matches(['\n', '\r']).to_owned()),
            authority_host: self.authority_host.clone(),
        }
    }
}

/// Why the environment names no usable identity.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvironmentError {
    /// `set` is set, but `missing`, which it needs, is not.
    Incomplete {
        /// The variable that is set.
        set: &'static str,
        /// The variable it needs.
        missing: &'static str,
    },
    /// The variables ask for something this crate does not do.
    Unsupported {
        /// The variable that asks for it.
        variable: &'static str,
        /// What it asks for.
        what: &'static str,
    },
}

kinds! {
    /// What kind of [`EnvironmentError`].
    EnvironmentErrorKind {
        /// [`EnvironmentError::Incomplete`].
        Incomplete = "incomplete",
        /// [`EnvironmentError::Unsupported`].
        Unsupported = "unsupported",
    }
}

impl EnvironmentError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> EnvironmentErrorKind {
        match self {
            Self::Incomplete { .. } => EnvironmentErrorKind::Incomplete,
            Self::Unsupported { .. } => EnvironmentErrorKind::Unsupported,
        }
    }
}

impl fmt::Display for EnvironmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Incomplete { set, missing } => write!(f, "{set} is set, so {missing} must be set too"),
            Self::Unsupported { variable, what } => write!(f, "{variable} asks for {what}, which is not supported"),
        }
    }
}

impl core::error::Error for EnvironmentError {}

/// The identity the variables `var` returns describe, in
/// `DefaultAzureCredential`'s order (see the [module](self)). `var` returns a
/// variable's value, or `None` when it is unset.
pub fn identity_from_environment(
    var: impl Fn(&str) -> Option<String>,
) -> Result<EnvironmentIdentity, EnvironmentError> {
    let var = |name: &str| var(name).filter(|value| !value.is_empty());
    let needs =
        |set: &'static str, missing: &'static str| var(missing).ok_or(EnvironmentError::Incomplete { set, missing });
    let unsupported = |variable, what| Err(EnvironmentError::Unsupported { variable, what });
    let authority_host = var("AZURE_AUTHORITY_HOST");

    if let Some(secret) = var("AZURE_CLIENT_SECRET") {
        return Ok(EnvironmentIdentity::Ready(Identity::ClientSecret {
            tenant: needs("AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")?,
            client_id: needs("AZURE_CLIENT_SECRET", "AZURE_CLIENT_ID")?,
            secret: Secret::new(secret),
            authority_host,
        }));
    }
    if let Some(path) = var("AZURE_CLIENT_CERTIFICATE_PATH") {
        if var("AZURE_CLIENT_CERTIFICATE_PASSWORD").is_some() {
            return unsupported(
                "AZURE_CLIENT_CERTIFICATE_PASSWORD",
                "a password-protected certificate (give a PEM file with an unencrypted key)",
            );
        }
        let send_chain = var("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN")
            .is_some_and(|value| value == "1" || value.eq_ignore_ascii_case("true"));
        return Ok(EnvironmentIdentity::ClientCertificate(CertificateFile {
            tenant: needs("AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_TENANT_ID")?,
            client_id: needs("AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_CLIENT_ID")?,
            path,
            send_chain,
            authority_host,
        }));
    }
    if var("AZURE_USERNAME").is_some() && var("AZURE_PASSWORD").is_some() {
        return unsupported("AZURE_USERNAME", "signing in with a user's name and password");
    }
    if let Some(path) = var("AZURE_FEDERATED_TOKEN_FILE") {
        return Ok(EnvironmentIdentity::WorkloadIdentity(FederatedTokenFile {
            tenant: needs("AZURE_FEDERATED_TOKEN_FILE", "AZURE_TENANT_ID")?,
            client_id: needs("AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_ID")?,
            path,
            authority_host,
        }));
    }

    let source = match (var("IDENTITY_ENDPOINT"), var("MSI_ENDPOINT")) {
        (Some(endpoint), _) => {
            if let Some(header) = var("IDENTITY_HEADER") {
                if var("IDENTITY_SERVER_THUMBPRINT").is_some() {
                    return unsupported("IDENTITY_SERVER_THUMBPRINT", "Service Fabric's managed identity");
                }
                ManagedIdentitySource::AppService {
                    endpoint,
                    header: Secret::new(header),
                }
            } else if var("IMDS_ENDPOINT").is_some() {
                ManagedIdentitySource::AzureArc { endpoint }
            } else {
                // As the Azure SDKs do: an endpoint alone names no platform.
                ManagedIdentitySource::Imds
            }
        }
        (None, Some(endpoint)) => {
            if var("MSI_SECRET").is_some() {
                return unsupported("MSI_SECRET", "Azure Machine Learning's managed identity");
            }
            ManagedIdentitySource::CloudShell { endpoint }
        }
        (None, None) => ManagedIdentitySource::Imds,
    };
    Ok(EnvironmentIdentity::Ready(Identity::ManagedIdentity {
        id: var("AZURE_CLIENT_ID").map(ManagedIdentityId::ClientId),
        source,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

    fn from(vars: &[(&str, &str)]) -> Result<EnvironmentIdentity, EnvironmentError> {
        let vars: HashMap<String, String> = vars.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect();
        identity_from_environment(|name| vars.get(name).cloned())
    }

    fn managed(id: Option<&str>, source: ManagedIdentitySource) -> EnvironmentIdentity {
        EnvironmentIdentity::Ready(Identity::ManagedIdentity {
            id: id.map(|id| ManagedIdentityId::ClientId(id.to_owned())),
            source,
        })
    }

    #[test]
    fn the_environment_credential_comes_before_workload_identity() {
        let workload = [
            ("AZURE_TENANT_ID", TENANT),
            ("AZURE_CLIENT_ID", CLIENT),
            (
                "AZURE_FEDERATED_TOKEN_FILE",
                "/var/run/secrets/azure/tokens/azure-identity-token",
            ),
            ("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.us/"),
        ];
        assert_eq!(
            from(&workload),
            Ok(EnvironmentIdentity::WorkloadIdentity(FederatedTokenFile {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                path: "/var/run/secrets/azure/tokens/azure-identity-token".into(),
                authority_host: Some("https://login.microsoftonline.us/".into()),
            }))
        );
        let mut with_secret = workload.to_vec();
        with_secret.push(("AZURE_CLIENT_SECRET", "a-forty-character-client-secret-value-xx"));
        assert_eq!(
            from(&with_secret),
            Ok(EnvironmentIdentity::Ready(Identity::ClientSecret {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                secret: Secret::new("a-forty-character-client-secret-value-xx".into()),
                authority_host: Some("https://login.microsoftonline.us/".into()),
            }))
        );
        let mut with_certificate = workload.to_vec();
        with_certificate.extend([
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/app/cert.pem"),
            ("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN", "True"),
        ]);
        assert_eq!(
            from(&with_certificate),
            Ok(EnvironmentIdentity::ClientCertificate(CertificateFile {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                path: "/etc/app/cert.pem".into(),
                send_chain: true,
                authority_host: Some("https://login.microsoftonline.us/".into()),
            }))
        );
        // A secret comes before a certificate, as in the Azure SDKs.
        with_certificate.push(("AZURE_CLIENT_SECRET", "s"));
        assert!(matches!(from(&with_certificate), Ok(EnvironmentIdentity::Ready(_))));
    }

    #[test]
    fn a_half_configured_credential_is_refused_by_name() {
        for (vars, set, missing) in [
            (
                &[("AZURE_CLIENT_SECRET", "s"), ("AZURE_CLIENT_ID", CLIENT)][..],
                "AZURE_CLIENT_SECRET",
                "AZURE_TENANT_ID",
            ),
            (
                &[("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pem"), ("AZURE_TENANT_ID", TENANT)],
                "AZURE_CLIENT_CERTIFICATE_PATH",
                "AZURE_CLIENT_ID",
            ),
            (
                &[("AZURE_FEDERATED_TOKEN_FILE", "/t"), ("AZURE_CLIENT_ID", CLIENT)],
                "AZURE_FEDERATED_TOKEN_FILE",
                "AZURE_TENANT_ID",
            ),
        ] {
            let error = from(vars).expect_err("incomplete");
            assert_eq!(error, EnvironmentError::Incomplete { set, missing });
            assert_eq!(error.kind(), EnvironmentErrorKind::Incomplete);
            assert_eq!(error.to_string(), format!("{set} is set, so {missing} must be set too"));
        }
    }

    #[test]
    fn what_cannot_be_done_is_refused_not_skipped() {
        let base = [("AZURE_TENANT_ID", TENANT), ("AZURE_CLIENT_ID", CLIENT)];
        for (extra, variable) in [
            (
                &[
                    ("AZURE_CLIENT_CERTIFICATE_PATH", "/c.pfx"),
                    ("AZURE_CLIENT_CERTIFICATE_PASSWORD", "p"),
                ][..],
                "AZURE_CLIENT_CERTIFICATE_PASSWORD",
            ),
            (
                &[("AZURE_USERNAME", "u@contoso.com"), ("AZURE_PASSWORD", "p")],
                "AZURE_USERNAME",
            ),
            (
                &[
                    (
                        "IDENTITY_ENDPOINT",
                        "https://localhost:2377/metadata/identity/oauth2/token",
                    ),
                    ("IDENTITY_HEADER", "h"),
                    ("IDENTITY_SERVER_THUMBPRINT", "ab"),
                ],
                "IDENTITY_SERVER_THUMBPRINT",
            ),
            (
                &[
                    ("MSI_ENDPOINT", "http://127.0.0.1:46808/MSI/token/"),
                    ("MSI_SECRET", "s"),
                ],
                "MSI_SECRET",
            ),
        ] {
            let vars: Vec<_> = base.iter().chain(extra).copied().collect();
            let error = from(&vars).expect_err("unsupported");
            assert_eq!(error.kind(), EnvironmentErrorKind::Unsupported);
            assert!(matches!(error, EnvironmentError::Unsupported { variable: v, .. } if v == variable));
        }
    }

    #[test]
    fn the_platform_endpoint_picks_the_managed_identity_source() {
        let endpoint = "http://127.0.0.1:41741/msi/token";
        assert_eq!(
            from(&[("IDENTITY_ENDPOINT", endpoint), ("IDENTITY_HEADER", "5c8b3a2f")]),
            Ok(managed(
                None,
                ManagedIdentitySource::AppService {
                    endpoint: endpoint.into(),
                    header: Secret::new("5c8b3a2f".into()),
                }
            ))
        );
        assert_eq!(
            from(&[
                (
                    "IDENTITY_ENDPOINT",
                    "http://localhost:40342/metadata/identity/oauth2/token"
                ),
                ("IMDS_ENDPOINT", "http://localhost:40342"),
            ]),
            Ok(managed(
                None,
                ManagedIdentitySource::AzureArc {
                    endpoint: "http://localhost:40342/metadata/identity/oauth2/token".into()
                }
            ))
        );
        assert_eq!(
            from(&[("MSI_ENDPOINT", "http://localhost:50342/oauth2/token")]),
            Ok(managed(
                None,
                ManagedIdentitySource::CloudShell {
                    endpoint: "http://localhost:50342/oauth2/token".into()
                }
            ))
        );
        assert_eq!(
            from(&[("IDENTITY_ENDPOINT", endpoint)]),
            Ok(managed(None, ManagedIdentitySource::Imds))
        );
        assert_eq!(
            from(&[
                ("AZURE_CLIENT_ID", CLIENT),
                ("AZURE_TENANT_ID", TENANT),
                ("IDENTITY_HEADER", "")
            ]),
            Ok(managed(Some(CLIENT), ManagedIdentitySource::Imds))
        );
        assert_eq!(from(&[]), Ok(managed(None, ManagedIdentitySource::Imds)));
    }

    #[test]
    fn a_federated_token_file_loses_its_trailing_newline() {
        let file = FederatedTokenFile {
            tenant: TENANT.into(),
            client_id: CLIENT.into(),
            path: "/t".into(),
            authority_host: None,
        };
        assert_eq!(
            file.identity("eyJ.e30.sig\n"),
            Identity::FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT.into(),
                assertion: Secret::new("eyJ.e30.sig".into()),
                authority_host: None,
            }
        );
    }
}
