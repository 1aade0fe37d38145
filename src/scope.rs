//! Which registry a reference names, and which Entra token it needs.
//!
//! Registries that disable `authentication-as-arm` (Microsoft's recommended,
//! least-privilege setting) refuse Resource Manager (ARM) tokens, so every
//! built-in cloud uses the ACR audience. ARM is only the fallback for a custom
//! cloud whose environment names no ACR audience.

use crate::prelude::*;

use crate::{CloudEnvironment, ReferenceError};

/// The Entra scope of the ACR audience, the same in the public, China and US
/// Government clouds.
pub const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";

/// The longest reference accepted, in bytes: bounds the work done on input.
pub const MAX_REFERENCE_LEN: usize = 4096;

/// The longest DNS name (RFC 1035), in bytes.
const MAX_HOST_LEN: usize = 253;
/// The longest DNS label (RFC 1035), in bytes.
const MAX_LABEL_LEN: usize = 63;
/// The longest registry name, in bytes (ACR allows 5 to 50 letters and digits).
const MAX_REGISTRY_NAME_LEN: usize = 50;

/// The Azure cloud a login server belongs to, known from its DNS suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Cloud {
    /// `*.azurecr.io`.
    Public,
    /// `*.azurecr.cn`.
    China,
    /// `*.azurecr.us`.
    UsGovernment,
    /// The suffix of a caller-supplied [`CloudEnvironment`].
    Custom,
}

/// The audience the Entra token is requested for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Audience {
    /// The ACR audience: accepted by every registry.
    Acr,
    /// The Resource Manager audience: refused by registries that disable
    /// `authentication-as-arm`.
    Arm,
}

/// What a reference resolves to: where to log in and with which token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedScope {
    /// The login server, lower-case, without scheme or port.
    pub login_server: String,
    /// The cloud of the login server.
    pub cloud: Cloud,
    /// The Entra scope to request.
    pub scope: String,
    /// Whether `scope` is the ACR or the ARM audience.
    pub audience: Audience,
    /// The Entra authority host, `https://...` ending in `/`.
    pub authority_host: String,
}

/// A built-in cloud: its registry suffix and Entra authority.
struct BuiltIn {
    suffix: &'static str,
    cloud: Cloud,
    authority_host: &'static str,
}

const BUILT_IN: [BuiltIn; 3] = [
    BuiltIn {
        suffix: "azurecr.io",
        cloud: Cloud::Public,
        authority_host: "https://login.microsoftonline.com/",
    },
    BuiltIn {
        suffix: "azurecr.cn",
        cloud: Cloud::China,
        authority_host: "https://login.chinacloudapi.cn/",
    },
    BuiltIn {
        suffix: "azurecr.us",
        cloud: Cloud::UsGovernment,
        authority_host: "https://login.microsoftonline.us/",
    },
];

/// Azure Germany's registry suffix; the cloud was retired in 2021.
const RETIRED_SUFFIX: &str = "azurecr.de";

/// Resolves what a user typed to the login server and the Entra scope it needs.
///
/// Accepts a bare host, an image reference with repository path, tag or
/// digest, an `oci://` or `https://` URL, any letter case, and an explicit
/// `:443`. Surrounding whitespace is ignored. The built-in clouds are always
/// recognised; `custom_cloud` adds its registry suffix.
pub fn resolve_scope(
    reference: &str,
    custom_cloud: Option<&CloudEnvironment>,
) -> Result<ResolvedScope, ReferenceError> {
    let (login_server, cloud) = login_server(reference, custom_cloud)?;
    Ok(match (cloud, custom_cloud) {
        (Cloud::Custom, Some(env)) => {
            let (scope, audience) = match env.acr_audience() {
                Some(aud) => (default_scope(aud), Audience::Acr),
                None => (default_scope(env.resource_manager_endpoint()), Audience::Arm),
            };
            ResolvedScope {
                login_server,
                cloud,
                scope,
                audience,
                authority_host: env.active_directory_endpoint().to_owned(),
            }
        }
        _ => ResolvedScope {
            authority_host: BUILT_IN
                .iter()
                .find(|b| b.cloud == cloud)
                .map_or("", |b| b.authority_host)
                .to_owned(),
            login_server,
            cloud,
            scope: ACR_SCOPE.to_owned(),
            audience: Audience::Acr,
        },
    })
}

/// The `/.default` scope of an audience URL.
fn default_scope(audience: &str) -> String {
    format!("{}/.default", audience.trim_end_matches('/'))
}

/// Checks that a lower-case host is a DNS name that can be a server's: not an
/// IPv4 address written as one, not `localhost` or a name under it.
pub(crate) fn check_host(host: &str) -> Result<(), ReferenceError> {
    check_dns_name(host)?;
    if host == "localhost" || host.ends_with(".localhost") {
        return Err(ReferenceError::Localhost);
    }
    if host.split('.').all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(ReferenceError::IpAddress);
    }
    Ok(())
}

/// Extracts and checks the login server of a reference.
pub(crate) fn login_server(
    reference: &str,
    custom_cloud: Option<&CloudEnvironment>,
) -> Result<(String, Cloud), ReferenceError> {
    let host = authority_host(reference)?;
    check_host(&host)?;
    if labels_under(&host, RETIRED_SUFFIX).is_some() {
        return Err(ReferenceError::RetiredCloud);
    }
    let custom = custom_cloud.map(|env| (env.container_registry_dns_suffix(), Cloud::Custom));
    let suffixes = BUILT_IN.iter().map(|b| (b.suffix, b.cloud)).chain(custom);
    for (suffix, cloud) in suffixes {
        if let Some(prefix) = labels_under(&host, suffix) {
            check_registry_labels(&host, prefix, suffix)?;
            return Ok((host, cloud));
        }
    }
    Err(ReferenceError::UnrecognisedHost {
        expected: expected_hosts(custom_cloud),
        host,
    })
}

/// The lower-cased host of a reference, with scheme, user-info check, port
/// check and path removed.
fn authority_host(reference: &str) -> Result<String, ReferenceError> {
    if reference.len() > MAX_REFERENCE_LEN {
        return Err(ReferenceError::TooLong);
    }
    let reference = reference.trim_matches(|c: char| c.is_ascii_whitespace());
    if reference.is_empty() {
        return Err(ReferenceError::Empty);
    }
    if !reference.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ReferenceError::NotAscii);
    }
    let rest = match reference.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => {
            let scheme = scheme.to_ascii_lowercase();
            if scheme != "https" && scheme != "oci" {
                return Err(ReferenceError::UnsupportedScheme {
                    scheme: truncated(&scheme, 16),
                });
            }
            rest
        }
        _ => reference,
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(ReferenceError::UserInfo);
    }
    if authority.starts_with('[') || authority.matches(':').count() > 1 {
        return Err(ReferenceError::IpAddress);
    }
    let host = match authority.split_once(':') {
        Some((host, "443")) => host,
        Some((_, port)) => {
            return Err(ReferenceError::Port {
                port: truncated(port, 8),
            });
        }
        None => authority,
    };
    if host.is_empty() {
        return Err(ReferenceError::InvalidHost {
            reason: "the reference names no host",
        });
    }
    Ok(host.to_ascii_lowercase())
}

/// Whether `s` is an RFC 3986 scheme: a letter, then letters, digits, `+`, `-`, `.`.
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// At most `max` bytes of an ASCII string, for echoing input in messages.
fn truncated(s: &str, max: usize) -> String {
    s.get(..max).map_or_else(|| s.to_owned(), |t| format!("{t}..."))
}

/// Checks that a lower-case host is a DNS name of letters, digits and hyphens.
pub(crate) fn check_dns_name(host: &str) -> Result<(), ReferenceError> {
    if host.len() > MAX_HOST_LEN {
        return Err(ReferenceError::InvalidHost {
            reason: "the host name is longer than 253 characters",
        });
    }
    for label in host.split('.') {
        let reason = if label.is_empty() {
            "the host name has an empty label (two dots in a row, or a leading or trailing dot)"
        } else if label.len() > MAX_LABEL_LEN {
            "a host name label is longer than 63 characters"
        } else if !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            "a host name may hold only letters, digits, hyphens and dots"
        } else if label.starts_with('-') || label.ends_with('-') {
            "a host name label may not start or end with a hyphen"
        } else {
            continue;
        };
        return Err(ReferenceError::InvalidHost { reason });
    }
    Ok(())
}

/// The labels of `host` before `suffix`, if `host` lies strictly under
/// `suffix` on a label boundary (`fooazurecr.io` is not under `azurecr.io`).
fn labels_under<'h>(host: &'h str, suffix: &str) -> Option<&'h str> {
    host.strip_suffix(suffix)?
        .strip_suffix('.')
        .filter(|prefix| !prefix.is_empty())
}

/// Whether a custom cloud's registries can live under `suffix`: it leaves
/// room for the longest registry name, and it is neither a built-in cloud's
/// suffix, Azure Germany's nor `localhost`, nor under one of them. Hosts
/// under those are judged by their rules first (see [`login_server`]), so
/// no registry of the custom cloud would ever resolve.
pub(crate) fn is_custom_suffix(suffix: &str) -> bool {
    let mut claimed = BUILT_IN.iter().map(|b| b.suffix).chain([RETIRED_SUFFIX, "localhost"]);
    suffix.len() < MAX_HOST_LEN - MAX_REGISTRY_NAME_LEN
        && claimed.all(|other| suffix != other && labels_under(suffix, other).is_none())
}

/// Checks the labels before a registry suffix: `<name>`, `<name>-<hash>` or
/// `<name>.<region>.geo`; recognises data and private-link endpoints.
fn check_registry_labels(host: &str, prefix: &str, suffix: &str) -> Result<(), ReferenceError> {
    let labels: Vec<&str> = prefix.split('.').collect();
    let name = labels[0];
    let not_login_server = |endpoint| ReferenceError::NotLoginServer {
        host: host.to_owned(),
        login_server: format!("{name}.{suffix}"),
        endpoint,
    };
    let shape_ok = match labels[1..] {
        [] | [_, "geo"] => true,
        [_, "data"] => return Err(not_login_server("data endpoint (a blob redirect target)")),
        ["privatelink"] => {
            return Err(not_login_server(
                "private-link name (private link keeps the login server name)",
            ));
        }
        _ => false,
    };
    if shape_ok && is_registry_name(name) {
        return Ok(());
    }
    Err(ReferenceError::UnrecognisedHost {
        host: host.to_owned(),
        expected: format!(
            "<name>.{suffix}, <name>-<hash>.{suffix} or <name>.<region>.geo.{suffix}, \
             where <name> is 5 to 50 letters and digits"
        ),
    })
}

/// A registry name (5 to 50 letters and digits), optionally followed by a
/// domain-name-label hash (`-` and letters and digits).
fn is_registry_name(label: &str) -> bool {
    let (name, hash) = match label.split_once('-') {
        Some((name, hash)) => (name, Some(hash)),
        None => (label, None),
    };
    (5..=MAX_REGISTRY_NAME_LEN).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric())
        && hash.is_none_or(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The hosts a reference may name, for error messages.
fn expected_hosts(custom_cloud: Option<&CloudEnvironment>) -> String {
    let mut expected = String::from("a host under azurecr.io, azurecr.cn or azurecr.us");
    if let Some(env) = custom_cloud {
        expected.push_str(" or ");
        expected.push_str(env.container_registry_dns_suffix());
    }
    expected.push_str(", matched on whole labels");
    expected
}
