//! Custom (air-gapped, sovereign or Azure Stack) clouds, described by an
//! environment file such as the one `AZURE_ENVIRONMENT_FILEPATH` names.

use crate::prelude::*;

use serde::Deserialize;
use url::Url;

use crate::CloudEnvironmentError;
use crate::document::{Member, Misread};

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
/// field of the file. A field that is read may appear once.
pub fn parse_cloud_environment(json: &str) -> Result<CloudEnvironment, CloudEnvironmentError> {
    if json.len() > MAX_CLOUD_ENVIRONMENT_LEN {
        return Err(CloudEnvironmentError::TooLarge);
    }
    let file: EnvironmentFile<'_> = crate::document::object(json.as_bytes()).map_err(|e| {
        let position = (e.line(), e.column());
        if !e.is_data() {
            CloudEnvironmentError::NotJson { position: Some(position) }
        } else if json.trim_start().starts_with('{') {
            // Every member is read as text, so the only data error inside an
            // object is a member that is read appearing twice.
            CloudEnvironmentError::RepeatedField { position }
        } else {
            CloudEnvironmentError::NotJson { position: None }
        }
    })?;
    let ids_invalid = CloudEnvironmentError::InvalidField {
        field: "resourceIdentifiers",
        expected: "an object",
    };
    let acr_audience = match file.resource_identifiers.object::<ResourceIdentifiers<'_>>() {
        Ok(None) => None,
        Ok(Some(ids)) => optional_endpoint(ids.container_registry, "resourceIdentifiers.containerRegistry")?
            .map(|(text, _)| text),
        Err(Misread::WrongType) => return Err(ids_invalid),
        Err(Misread::Repeated) => {
            let position = file.resource_identifiers.position_in(json).unwrap_or((1, 1));
            return Err(CloudEnvironmentError::RepeatedField { position });
        }
    };
    let (_, active_directory_endpoint) = endpoint(file.active_directory_endpoint, "activeDirectoryEndpoint")?;
    let mut active_directory_endpoint = String::from(active_directory_endpoint);
    if !active_directory_endpoint.ends_with('/') {
        active_directory_endpoint.push('/');
    }
    let name_invalid = CloudEnvironmentError::InvalidField {
        field: "name",
        expected: "a string",
    };
    let name = match file.name.text() {
        Ok(name) if name.as_ref().is_none_or(|name| name.len() <= MAX_ENDPOINT_LEN) => name,
        _ => return Err(name_invalid),
    };
    Ok(CloudEnvironment {
        name,
        container_registry_dns_suffix: dns_suffix(file.container_registry_dns_suffix)?,
        resource_manager_endpoint: endpoint(file.resource_manager_endpoint, "resourceManagerEndpoint")?.0,
        active_directory_endpoint,
        acr_audience,
    })
}

/// The members of an environment file that are read.
#[derive(Deserialize)]
struct EnvironmentFile<'a> {
    #[serde(borrow, default)]
    name: Member<'a>,
    #[serde(borrow, default, rename = "containerRegistryDNSSuffix")]
    container_registry_dns_suffix: Member<'a>,
    #[serde(borrow, default, rename = "resourceManagerEndpoint")]
    resource_manager_endpoint: Member<'a>,
    #[serde(borrow, default, rename = "activeDirectoryEndpoint")]
    active_directory_endpoint: Member<'a>,
    #[serde(borrow, default, rename = "resourceIdentifiers")]
    resource_identifiers: Member<'a>,
}

/// The members of `resourceIdentifiers` that are read.
#[derive(Deserialize)]
struct ResourceIdentifiers<'a> {
    #[serde(borrow, default, rename = "containerRegistry")]
    container_registry: Member<'a>,
}

/// A required `https://` endpoint field: see [`optional_endpoint`].
fn endpoint(member: Member<'_>, field: &'static str) -> Result<(String, Url), CloudEnvironmentError> {
    optional_endpoint(member, field)?.ok_or(CloudEnvironmentError::MissingField { field })
}

/// An optional `https://` endpoint field, whose host must be a DNS name
/// (see [`crate::endpoint::https_url`]). Returns the text as given but for
/// its scheme, written in lower case (`HTTPS://` names the same URL, and an
/// audience is compared as text), and the URL `url` reads from it.
fn optional_endpoint(member: Member<'_>, field: &'static str) -> Result<Option<(String, Url)>, CloudEnvironmentError> {
    let invalid = CloudEnvironmentError::InvalidField {
        field,
        expected: "an https:// URL with a DNS host name",
    };
    let Some(text) = member.text().map_err(|_| invalid.clone())? else {
        return Ok(None);
    };
    if text.len() > MAX_ENDPOINT_LEN {
        return Err(invalid);
    }
    let (url, _) = crate::endpoint::https_url(&text).map_err(|_| invalid.clone())?;
    let rest = text.get("https://".len()..).ok_or(invalid)?;
    Ok(Some((format!("https://{rest}"), url)))
}

/// `containerRegistryDNSSuffix`: a DNS name of at least two labels under
/// which registries can live (see [`crate::scope::is_custom_suffix`]).
fn dns_suffix(member: Member<'_>) -> Result<String, CloudEnvironmentError> {
    const FIELD: &str = "containerRegistryDNSSuffix";
    let invalid = CloudEnvironmentError::InvalidField {
        field: FIELD,
        expected: "a DNS suffix of at least two labels and at most 202 characters, such as azurecr.private, \
                   not under azurecr.io, .cn, .us, .de or localhost",
    };
    let suffix = match member.text() {
        Ok(None) => return Err(CloudEnvironmentError::MissingField { field: FIELD }),
        Ok(Some(s)) => s.strip_prefix('.').unwrap_or(&s).to_ascii_lowercase(),
        Err(_) => return Err(invalid),
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

    #[test]
    fn a_field_read_twice_is_refused_where_it_is() {
        let top = "{\n  \"containerRegistryDNSSuffix\": \"azurecr.private\",\n  \"containerRegistryDNSSuffix\": \"evil.example\"}";
        assert!(matches!(
            parse_cloud_environment(top),
            Err(CloudEnvironmentError::RepeatedField { position: (3, _) })
        ));
        let nested = environment("https", "azurecr.private").replace(
            r#"{"containerRegistry""#,
            r#"{"containerRegistry": "https://evil.example", "containerRegistry""#,
        );
        let error = parse_cloud_environment(&nested).expect_err("a repeated audience");
        let column = nested.lines().nth(2).and_then(|line| line.find('{')).expect("the object") + 1;
        assert_eq!(error, CloudEnvironmentError::RepeatedField { position: (3, column) });
        assert!(error.to_string().contains("line 3"), "{error}");
    }
}
