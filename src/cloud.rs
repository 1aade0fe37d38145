//! Custom (air-gapped, sovereign or Azure Stack) clouds, described by an
//! environment file such as the one `AZURE_ENVIRONMENT_FILEPATH` names.

use crate::prelude::*;

use crate::CloudEnvironmentError;
use crate::json::{Json, Object};

/// The largest environment file accepted, in bytes.
pub const MAX_CLOUD_ENVIRONMENT_LEN: usize = 64 * 1024;

/// The longest endpoint URL accepted from an environment file, in bytes.
const MAX_ENDPOINT_LEN: usize = 2048;

/// A custom cloud: where its registries live and whom to ask for tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEnvironment {
    /// The environment's `name`, if it has one.
    pub name: Option<String>,
    /// `containerRegistryDNSSuffix`, lower-case, without a leading dot.
    pub container_registry_dns_suffix: String,
    /// `resourceManagerEndpoint`: an `https://` URL.
    pub resource_manager_endpoint: String,
    /// `activeDirectoryEndpoint`: an `https://` URL ending in `/`.
    pub active_directory_endpoint: String,
    /// `resourceIdentifiers.containerRegistry`: the cloud's ACR audience.
    /// Without it the ARM audience is the only choice.
    pub acr_audience: Option<String>,
}

/// Reads a custom cloud's environment file.
///
/// Requires `resourceManagerEndpoint`, `activeDirectoryEndpoint` and
/// `containerRegistryDNSSuffix`; reads `name` and
/// `resourceIdentifiers.containerRegistry` when present; ignores every other
/// field of the file.
pub fn parse_cloud_environment(json: &str) -> Result<CloudEnvironment, CloudEnvironmentError> {
    if json.len() > MAX_CLOUD_ENVIRONMENT_LEN {
        return Err(CloudEnvironmentError::TooLarge);
    }
    let root = crate::json::parse(json.as_bytes()).map_err(|e| CloudEnvironmentError::NotJson {
        position: Some(e.line_column(json.as_bytes())),
    })?;
    let Json::Object(root) = &root else {
        return Err(CloudEnvironmentError::NotJson { position: None });
    };
    let acr_audience = match root.get("resourceIdentifiers") {
        None | Some(Json::Null) => None,
        Some(Json::Object(ids)) => {
            optional_endpoint(ids, "containerRegistry", "resourceIdentifiers.containerRegistry")?
        }
        Some(_) => {
            return Err(CloudEnvironmentError::InvalidField {
                field: "resourceIdentifiers",
                expected: "an object",
            });
        }
    };
    let mut active_directory_endpoint = endpoint(root, "activeDirectoryEndpoint")?;
    if !active_directory_endpoint.ends_with('/') {
        active_directory_endpoint.push('/');
    }
    Ok(CloudEnvironment {
        name: match root.get("name") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) if s.len() <= MAX_ENDPOINT_LEN => Some(String::from(&**s)),
            Some(_) => {
                return Err(CloudEnvironmentError::InvalidField {
                    field: "name",
                    expected: "a string",
                });
            }
        },
        container_registry_dns_suffix: dns_suffix(root)?,
        resource_manager_endpoint: endpoint(root, "resourceManagerEndpoint")?,
        active_directory_endpoint,
        acr_audience,
    })
}

/// A required `https://` endpoint field.
fn endpoint(root: &Object, field: &'static str) -> Result<String, CloudEnvironmentError> {
    optional_endpoint(root, field, field)?.ok_or(CloudEnvironmentError::MissingField { field })
}

/// An optional `https://` endpoint field `key`; errors call it `field`.
fn optional_endpoint(object: &Object, key: &str, field: &'static str) -> Result<Option<String>, CloudEnvironmentError> {
    let invalid = CloudEnvironmentError::InvalidField {
        field,
        expected: "an https:// URL with a host",
    };
    match object.get(key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(url)) => {
            let rest = url
                .get(..8)
                .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
                .map(|_| &url[8..])
                .ok_or_else(|| invalid.clone())?;
            let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
            let ok = url.len() <= MAX_ENDPOINT_LEN
                && !host.is_empty()
                && !host.contains('@')
                && url.bytes().all(|b| b.is_ascii_graphic());
            if ok {
                Ok(Some(String::from(&**url)))
            } else {
                Err(invalid)
            }
        }
        Some(_) => Err(invalid),
    }
}

/// `containerRegistryDNSSuffix`: a DNS name of at least two labels.
fn dns_suffix(root: &Object) -> Result<String, CloudEnvironmentError> {
    const FIELD: &str = "containerRegistryDNSSuffix";
    let invalid = CloudEnvironmentError::InvalidField {
        field: FIELD,
        expected: "a DNS suffix of at least two labels, such as azurecr.private",
    };
    let suffix = match root.get(FIELD) {
        None | Some(Json::Null) => return Err(CloudEnvironmentError::MissingField { field: FIELD }),
        Some(Json::String(s)) => s.strip_prefix('.').unwrap_or(s).to_ascii_lowercase(),
        Some(_) => return Err(invalid),
    };
    if !suffix.contains('.') || crate::scope::check_dns_name(&suffix).is_err() {
        return Err(invalid);
    }
    Ok(suffix)
}
