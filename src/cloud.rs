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

/// An optional `https://` endpoint field `key`, its scheme written in lower
/// case (`HTTPS://` names the same URL, and callers compare with
/// `https://`); errors call it `field`.
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
                let mut url = String::from("https://");
                url.push_str(rest);
                Ok(Some(url))
            } else {
                Err(invalid)
            }
        }
        Some(_) => Err(invalid),
    }
}

/// `containerRegistryDNSSuffix`: a DNS name of at least two labels under
/// which registries can live (see [`crate::scope::is_custom_suffix`]).
fn dns_suffix(root: &Object) -> Result<String, CloudEnvironmentError> {
    const FIELD: &str = "containerRegistryDNSSuffix";
    let invalid = CloudEnvironmentError::InvalidField {
        field: FIELD,
        expected: "a DNS suffix of at least two labels and at most 202 characters, such as azurecr.private, \
                   not under azurecr.io, .cn, .us, .de or localhost",
    };
    let suffix = match root.get(FIELD) {
        None | Some(Json::Null) => return Err(CloudEnvironmentError::MissingField { field: FIELD }),
        Some(Json::String(s)) => s.strip_prefix('.').unwrap_or(s).to_ascii_lowercase(),
        Some(_) => return Err(invalid),
    };
    if !suffix.contains('.')
        || crate::scope::check_dns_name(&suffix).is_err()
        || !crate::scope::is_custom_suffix(&suffix)
    {
        return Err(invalid);
    }
    Ok(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An environment file with the given endpoint scheme and suffix.
    fn environment(scheme: &str, suffix: &str) -> String {
        format!(
            r#"{{"resourceManagerEndpoint": "{scheme}://management.private.contoso/",
                "activeDirectoryEndpoint": "{scheme}://login.private.contoso",
                "resourceIdentifiers": {{"containerRegistry": "{scheme}://containerregistry.private.contoso"}},
                "containerRegistryDNSSuffix": "{suffix}"}}"#
        )
    }

    #[test]
    fn endpoint_schemes_are_lower_cased() {
        // Failed the cloud_environment fuzz target's properties: `HTTPS://`
        // endpoints were returned as given, and so were the scope and
        // authority host made from them.
        let env = parse_cloud_environment(&environment("HTTPS", "azurecr.private")).expect("parses");
        assert_eq!(env.resource_manager_endpoint, "https://management.private.contoso/");
        assert_eq!(env.active_directory_endpoint, "https://login.private.contoso/");
        assert_eq!(
            env.acr_audience.as_deref(),
            Some("https://containerregistry.private.contoso")
        );
        let scope = crate::resolve_scope("myregistry.azurecr.private", Some(&env)).expect("resolves");
        assert_eq!(scope.scope, "https://containerregistry.private.contoso/.default");
        assert_eq!(scope.authority_host, "https://login.private.contoso/");
    }

    #[test]
    fn suffixes_no_registry_can_use_are_refused() {
        // Failed the cloud_environment fuzz target's properties: each was
        // accepted, but `myregistry.<suffix>` never resolved with it.
        let longest = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(10)].join(".");
        assert_eq!(longest.len(), 202);
        let too_long = ["a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(11)].join(".");
        for suffix in [
            "azurecr.io",
            "x.azurecr.io",
            "data.azurecr.cn",
            "AzureCR.US",
            "azurecr.de",
            "x.azurecr.de",
            "x.localhost",
            &too_long,
        ] {
            let refused = parse_cloud_environment(&environment("https", suffix));
            assert_eq!(
                refused.map_err(|e| e.field()),
                Err(Some("containerRegistryDNSSuffix")),
                "{suffix}"
            );
        }
        for suffix in ["azurecr.private", "azurecr.io.private", "myazurecr.io", &longest] {
            let env = parse_cloud_environment(&environment("https", suffix)).expect(suffix);
            let name = "a".repeat(50);
            let scope = crate::resolve_scope(&format!("{name}.{suffix}"), Some(&env)).expect(suffix);
            assert_eq!(scope.cloud, crate::Cloud::Custom, "{suffix}");
        }
    }
}
