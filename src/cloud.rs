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
///
/// Made only by [`CloudEnvironment::new`] or [`parse_cloud_environment`],
/// which check it the same way, so every function that takes one trusts a
/// checked one: a suffix such as `com` would make every `*.com` host a login
/// server, and an endpoint is where tokens are requested.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudEnvironment {
    name: Option<String>,
    container_registry_dns_suffix: String,
    resource_manager_endpoint: String,
    active_directory_endpoint: String,
    acr_audience: Option<String>,
}

impl CloudEnvironment {
    /// Checks and normalises a custom cloud given field by field (errors name
    /// the fields as the environment file does):
    ///
    /// - `container_registry_dns_suffix`: a DNS name of at least two labels
    ///   and at most 202 characters (room for a 50-character registry name),
    ///   neither `azurecr.io`, `azurecr.cn`, `azurecr.us`, `azurecr.de` nor
    ///   `localhost`, nor under one of them; a leading dot and upper case are
    ///   normalised away;
    /// - `resource_manager_endpoint`, `active_directory_endpoint` and
    ///   `acr_audience`: `https://` URLs whose host is a DNS name (no IP
    ///   address, `localhost`, user-info or port other than 443); the scheme
    ///   is written in lower case, and the Entra endpoint gets a trailing `/`.
    pub fn new(
        name: Option<String>,
        container_registry_dns_suffix: &str,
        resource_manager_endpoint: &str,
        active_directory_endpoint: &str,
        acr_audience: Option<&str>,
    ) -> Result<Self, CloudEnvironmentError> {
        if name.as_ref().is_some_and(|name| name.len() > MAX_ENDPOINT_LEN) {
            return Err(CloudEnvironmentError::InvalidField {
                field: "name",
                expected: "a string of at most 2048 bytes",
            });
        }
        let (_, active_directory) = endpoint(active_directory_endpoint, "activeDirectoryEndpoint")?;
        let mut active_directory_endpoint = String::from(active_directory);
        if !active_directory_endpoint.ends_with('/') {
            active_directory_endpoint.push('/');
        }
        Ok(Self {
            name,
            container_registry_dns_suffix: dns_suffix(container_registry_dns_suffix)?,
            resource_manager_endpoint: endpoint(resource_manager_endpoint, "resourceManagerEndpoint")?.0,
            active_directory_endpoint,
            acr_audience: acr_audience
                .map(|audience| endpoint(audience, "resourceIdentifiers.containerRegistry"))
                .transpose()?
                .map(|(text, _)| text),
        })
    }

    /// The environment's `name`, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `containerRegistryDNSSuffix`, lower-case, without a leading dot.
    pub fn container_registry_dns_suffix(&self) -> &str {
        &self.container_registry_dns_suffix
    }

    /// `resourceManagerEndpoint`: an `https://` URL.
    pub fn resource_manager_endpoint(&self) -> &str {
        &self.resource_manager_endpoint
    }

    /// `activeDirectoryEndpoint`: an `https://` URL ending in `/`.
    pub fn active_directory_endpoint(&self) -> &str {
        &self.active_directory_endpoint
    }

    /// `resourceIdentifiers.containerRegistry`: the cloud's ACR audience.
    /// Without it the ARM audience is the only choice.
    pub fn acr_audience(&self) -> Option<&str> {
        self.acr_audience.as_deref()
    }
}

/// Reads a custom cloud's environment file.
///
/// Requires `resourceManagerEndpoint`, `activeDirectoryEndpoint` and
/// `containerRegistryDNSSuffix`; reads `name` and
/// `resourceIdentifiers.containerRegistry` when present; ignores every other
/// field of the file. A field that is read may appear once. The values are
/// checked as [`CloudEnvironment::new`] checks them.
pub fn parse_cloud_environment(json: &str) -> Result<CloudEnvironment, CloudEnvironmentError> {
    if json.len() > MAX_CLOUD_ENVIRONMENT_LEN {
        return Err(CloudEnvironmentError::TooLarge);
    }
    let file: EnvironmentFile<'_> = crate::document::object(json.as_bytes()).map_err(|e| {
        // The typed read stops at its first error, which may come before a
        // syntax error further on: a file that is not JSON is that, first.
        if let Err(syntax) = serde_json::from_str::<serde::de::IgnoredAny>(json) {
            return CloudEnvironmentError::NotJson {
                position: Some((syntax.line(), syntax.column())),
            };
        }
        if e.is_data() && json.trim_start().starts_with('{') {
            // Every member is read as text, so the only data error inside an
            // object is a member that is read appearing twice.
            CloudEnvironmentError::RepeatedField {
                position: (e.line(), e.column()),
            }
        } else {
            // JSON, but not an object.
            CloudEnvironmentError::NotJson { position: None }
        }
    })?;
    let acr_audience = match file.resource_identifiers.object::<ResourceIdentifiers<'_>>() {
        Ok(None) => None,
        Ok(Some(ids)) => string(ids.container_registry, "resourceIdentifiers.containerRegistry", URL)?,
        Err(Misread::WrongType) => {
            return Err(CloudEnvironmentError::InvalidField {
                field: "resourceIdentifiers",
                expected: "an object",
            });
        }
        Err(Misread::Repeated) => {
            let position = file.resource_identifiers.position_in(json).unwrap_or((1, 1));
            return Err(CloudEnvironmentError::RepeatedField { position });
        }
    };
    let required = |member, field| string(member, field, URL)?.ok_or(CloudEnvironmentError::MissingField { field });
    let active_directory_endpoint = required(file.active_directory_endpoint, "activeDirectoryEndpoint")?;
    let resource_manager_endpoint = required(file.resource_manager_endpoint, "resourceManagerEndpoint")?;
    let suffix = string(file.container_registry_dns_suffix, SUFFIX_FIELD, SUFFIX)?
        .ok_or(CloudEnvironmentError::MissingField { field: SUFFIX_FIELD })?;
    CloudEnvironment::new(
        string(file.name, "name", "a string")?,
        &suffix,
        &resource_manager_endpoint,
        &active_directory_endpoint,
        acr_audience.as_deref(),
    )
}

/// What an endpoint field must be.
const URL: &str = "an https:// URL with a DNS host name";

/// The suffix field's name in the file.
const SUFFIX_FIELD: &str = "containerRegistryDNSSuffix";

/// What the suffix must be.
const SUFFIX: &str = "a DNS suffix of at least two labels and at most 202 characters, such as azurecr.private, \
                      not under azurecr.io, .cn, .us, .de or localhost";

/// A string field of the file; `None` when absent or null.
fn string(
    member: Member<'_>,
    field: &'static str,
    expected: &'static str,
) -> Result<Option<String>, CloudEnvironmentError> {
    member
        .text()
        .map_err(|_| CloudEnvironmentError::InvalidField { field, expected })
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

/// An `https://` endpoint whose host is a DNS name (see
/// [`crate::endpoint::https_url`]). Returns the text as given but for its
/// scheme, written in lower case (`HTTPS://` names the same URL, and an
/// audience is compared as text), and the URL `url` reads from it.
fn endpoint(text: &str, field: &'static str) -> Result<(String, Url), CloudEnvironmentError> {
    let invalid = || CloudEnvironmentError::InvalidField { field, expected: URL };
    if text.len() > MAX_ENDPOINT_LEN {
        return Err(invalid());
    }
    let (url, _) = crate::endpoint::https_url(text).map_err(|_| invalid())?;
    let rest = text.get("https://".len()..).ok_or_else(invalid)?;
    Ok((format!("https://{rest}"), url))
}

/// `containerRegistryDNSSuffix`: a DNS name of at least two labels under
/// which registries can live (see [`crate::scope::is_custom_suffix`]).
fn dns_suffix(text: &str) -> Result<String, CloudEnvironmentError> {
    let suffix = text.strip_prefix('.').unwrap_or(text).to_ascii_lowercase();
    if !suffix.contains('.')
        || crate::scope::check_dns_name(&suffix).is_err()
        || !crate::scope::is_custom_suffix(&suffix)
    {
        return Err(CloudEnvironmentError::InvalidField {
            field: SUFFIX_FIELD,
            expected: SUFFIX,
        });
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
    fn text_that_is_not_json_gives_where_it_stops_being_json() {
        // Found by the cloud_environment fuzz target: an array cut short was
        // refused as JSON of another type, without a position.
        assert_eq!(
            parse_cloud_environment("[1, 2"),
            Err(CloudEnvironmentError::NotJson { position: Some((1, 5)) })
        );
        assert_eq!(
            parse_cloud_environment("[1, 2]"),
            Err(CloudEnvironmentError::NotJson { position: None })
        );
    }

    #[test]
    fn a_repeated_field_in_a_file_that_is_not_json_is_not_json() {
        // Found by the cloud_environment fuzz target: the repeat was reported,
        // though the file stops being JSON after it (at the `}` where `:` is
        // due, column 87, as Python's json module also says).
        let json = r#"{"activeDirectoryEndpoint": "https://a/", "activeDirectoryEndpoint": "https://b/", "x"}"#;
        assert_eq!(
            parse_cloud_environment(json),
            Err(CloudEnvironmentError::NotJson {
                position: Some((1, 87))
            })
        );
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
        let column = nested
            .lines()
            .nth(2)
            .and_then(|line| line.find('{'))
            .expect("the object")
            + 1;
        assert_eq!(error, CloudEnvironmentError::RepeatedField { position: (3, column) });
        assert!(error.to_string().contains("line 3"), "{error}");
    }
}
