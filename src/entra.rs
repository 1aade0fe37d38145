//! Getting the Microsoft Entra token that [`crate::resolve_scope`] chose,
//! with the host's own identity: workload identity federation, a service
//! principal's client secret, or a managed identity. Requests are plain data
//! for the caller to send; responses are parsed with the time passed in.
//!
//! The settings follow the Azure SDKs' environment variables
//! (`AZURE_CLIENT_ID`, `AZURE_TENANT_ID`, `AZURE_FEDERATED_TOKEN_FILE`,
//! `AZURE_AUTHORITY_HOST`, `AZURE_CLIENT_SECRET`): the host reads them and
//! the files they name, and passes the values in an [`Identity`].

use crate::prelude::*;

use crate::exchange::{check_tenant, check_token};
use crate::http::FORM_CONTENT_TYPE;
use crate::json::{Json, Object};
use crate::token::printable;
use crate::{CloudEnvironment, EntraRefusal, EntraRequestError, EntraResponseError, Malformed, Request, Secret};

/// The Entra authority of the public cloud, the default.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";

/// The Azure Instance Metadata Service's token endpoint. It is plain HTTP on
/// a link-local address, answered by the host the code runs on: the one
/// place a token request is not `https://`.
pub const MANAGED_IDENTITY_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// The metadata service API version requested.
pub const MANAGED_IDENTITY_API_VERSION: &str = "2018-02-01";

/// The Entra authority hosts of the built-in clouds (public, China, US
/// Government). A custom cloud adds its `activeDirectoryEndpoint`.
const AUTHORITY_HOSTS: [&str; 3] = [
    "login.microsoftonline.com",
    "login.chinacloudapi.cn",
    "login.microsoftonline.us",
];

/// The longest scope, managed identity resource ID or Entra text kept, in bytes.
const MAX_FIELD_LEN: usize = 1024;

/// Who the host is to Microsoft Entra.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Identity {
    /// Workload identity federation: a token from an issuer the app trusts
    /// (a Kubernetes service-account token, read from
    /// `AZURE_FEDERATED_TOKEN_FILE`) is the client assertion.
    FederatedToken {
        /// The app's tenant (`AZURE_TENANT_ID`): a GUID or domain.
        tenant: String,
        /// The app's client ID (`AZURE_CLIENT_ID`): a GUID.
        client_id: String,
        /// The federated token.
        assertion: Secret<String>,
        /// `AZURE_AUTHORITY_HOST`; [`DEFAULT_AUTHORITY_HOST`] when `None`.
        authority_host: Option<String>,
    },
    /// A service principal with a client secret (`AZURE_CLIENT_SECRET`).
    ClientSecret {
        /// The app's tenant: a GUID or domain.
        tenant: String,
        /// The app's client ID: a GUID.
        client_id: String,
        /// The client secret.
        secret: Secret<String>,
        /// `AZURE_AUTHORITY_HOST`; [`DEFAULT_AUTHORITY_HOST`] when `None`.
        authority_host: Option<String>,
    },
    /// A managed identity, through the instance metadata service.
    ManagedIdentity {
        /// Which user-assigned identity; the system-assigned one when `None`.
        id: Option<ManagedIdentityId>,
    },
}

/// Names one of several user-assigned managed identities.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagedIdentityId {
    /// Its client ID (a GUID).
    ClientId(String),
    /// Its object (principal) ID (a GUID).
    ObjectId(String),
    /// Its Azure resource ID, `/subscriptions/.../userAssignedIdentities/<name>`.
    ResourceId(String),
}

/// An Entra access token and when it expires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraToken {
    /// The access token, to pass to [`crate::build_exchange_request`].
    pub access_token: Secret<String>,
    /// Unix seconds.
    pub expires_at: u64,
}

/// Builds the request that gets an Entra token for `scope` (as
/// [`crate::resolve_scope`] returned it) with `identity`.
///
/// Federated tokens and client secrets are POSTed to
/// `<authority><tenant>/oauth2/v2.0/token` with `client_id`, `scope`,
/// `grant_type=client_credentials` and the credential; the authority must be
/// a built-in cloud's Entra host or `custom_cloud`'s `activeDirectoryEndpoint`.
/// A managed identity is a GET of [`MANAGED_IDENTITY_ENDPOINT`] with
/// `api-version`, `resource` (the scope without `/.default`) and the
/// identity's ID, and the header `Metadata: true`.
pub fn build_entra_token_request(
    identity: &Identity,
    scope: &str,
    custom_cloud: Option<&CloudEnvironment>,
) -> Result<Request, EntraRequestError> {
    let resource = scope
        .strip_suffix("/.default")
        .filter(|r| scope.len() <= MAX_FIELD_LEN && is_https_url(r))
        .ok_or(EntraRequestError::InvalidScope)?;
    let (tenant, client_id, authority_host, credential) = match identity {
        Identity::ManagedIdentity { id } => return managed_identity_request(resource, id.as_ref()),
        Identity::FederatedToken {
            tenant,
            client_id,
            assertion,
            authority_host,
        } => (tenant, client_id, authority_host, ("client_assertion", assertion)),
        Identity::ClientSecret {
            tenant,
            client_id,
            secret,
            authority_host,
        } => (tenant, client_id, authority_host, ("client_secret", secret)),
    };
    let authority = authority(authority_host.as_deref(), custom_cloud)?;
    check_tenant(tenant).map_err(|_| EntraRequestError::InvalidTenant)?;
    if !is_guid(client_id) {
        return Err(EntraRequestError::InvalidClientId);
    }
    let (field, value) = credential;
    check_token(value.expose()).map_err(EntraRequestError::InvalidCredential)?;
    let mut form = crate::http::Form::with_capacity(value.expose().len() + 256);
    form.append("client_id", client_id)
        .append("scope", scope)
        .append("grant_type", "client_credentials");
    if field == "client_assertion" {
        form.append(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        );
    }
    form.append(field, value.expose());
    Ok(Request {
        method: "POST",
        url: format!("{authority}{tenant}/oauth2/v2.0/token"),
        headers: vec![("content-type", FORM_CONTENT_TYPE), ("accept", "application/json")],
        body: Secret::new(form.finish().into_bytes()),
    })
}

/// The metadata service request for `resource`.
fn managed_identity_request(resource: &str, id: Option<&ManagedIdentityId>) -> Result<Request, EntraRequestError> {
    let mut query = crate::http::Form::with_capacity(128);
    query
        .append("api-version", MANAGED_IDENTITY_API_VERSION)
        .append("resource", resource);
    match id {
        None => {}
        Some(ManagedIdentityId::ClientId(id)) if is_guid(id) => {
            query.append("client_id", id);
        }
        Some(ManagedIdentityId::ObjectId(id)) if is_guid(id) => {
            query.append("object_id", id);
        }
        Some(ManagedIdentityId::ResourceId(id))
            if id.len() <= MAX_FIELD_LEN
                && id.starts_with("/subscriptions/")
                && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            query.append("msi_res_id", id);
        }
        Some(_) => return Err(EntraRequestError::InvalidManagedIdentityId),
    }
    Ok(Request {
        method: "GET",
        url: format!("{MANAGED_IDENTITY_ENDPOINT}?{}", query.finish()),
        headers: vec![("metadata", "true"), ("accept", "application/json")],
        body: Secret::new(Vec::new()),
    })
}

/// The authority to use, `https://<host>/...` ending in `/`, if it is one
/// tokens may be sent to.
fn authority(given: Option<&str>, custom_cloud: Option<&CloudEnvironment>) -> Result<String, EntraRequestError> {
    let mut authority = given.unwrap_or(DEFAULT_AUTHORITY_HOST).to_owned();
    if !authority.ends_with('/') {
        authority.push('/');
    }
    let host_of = |url: &str| {
        url.strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .map(str::to_ascii_lowercase)
    };
    let known = match host_of(&authority) {
        Some(host) => {
            AUTHORITY_HOSTS.contains(&host.as_str())
                || custom_cloud.is_some_and(|env| host_of(&env.active_directory_endpoint).as_ref() == Some(&host))
        }
        None => false,
    };
    if known && authority.len() <= MAX_FIELD_LEN && is_https_url(&authority) {
        Ok(authority)
    } else {
        Err(EntraRequestError::UnknownAuthority)
    }
}

/// An `https://` URL with a host and nothing a URL would need escaped.
fn is_https_url(url: &str) -> bool {
    url.strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/') && !rest.contains(['@', '?', '#']))
        && url.bytes().all(|b| b.is_ascii_graphic())
}

/// A GUID in its usual form: `8-4-4-4-12` hex digits.
fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// Reads Entra's (or the metadata service's) answer to a token request sent
/// at unix time `now`.
///
/// On 200 the body holds `access_token` and its expiry: `expires_on`
/// (absolute unix seconds) or else `expires_in` (seconds from `now`), each a
/// number or, as the metadata service sends them, a string of digits. Any
/// other status is a refusal carrying Entra's `error`, `error_description`,
/// the AADSTS code and the trace and correlation IDs.
pub fn parse_entra_token_response(status: u16, body: &[u8], now: u64) -> Result<EntraToken, EntraResponseError> {
    if body.len() > crate::MAX_RESPONSE_BODY_LEN {
        return Err(if status == 200 {
            Malformed::TooLarge.into()
        } else {
            EntraResponseError::Refused(EntraRefusal::from_status(status))
        });
    }
    let root = match crate::json::parse(body) {
        Ok(Json::Object(root)) => Some(root),
        _ => None,
    };
    if status != 200 {
        return Err(EntraResponseError::Refused(match root {
            Some(root) => EntraRefusal::read(status, &root),
            None => EntraRefusal::from_status(status),
        }));
    }
    let mut root = root.ok_or(Malformed::NotJson)?;
    let expires_at = match (seconds(&root, "expires_on")?, seconds(&root, "expires_in")?) {
        (Some(at), _) => at,
        (None, Some(after)) => now.checked_add(after).ok_or(Malformed::InvalidExpiry)?,
        (None, None) => return Err(Malformed::MissingExpiry.into()),
    };
    const FIELD: &str = "access_token";
    let token = match root.remove(FIELD) {
        None => return Err(Malformed::MissingToken { field: FIELD }.into()),
        Some(Json::String(token)) => token.into_owned(),
        Some(_) => return Err(Malformed::TokenNotString { field: FIELD }.into()),
    };
    check_token(&token).map_err(|_| Malformed::TokenNotString { field: FIELD })?;
    Ok(EntraToken {
        access_token: Secret::new(token),
        expires_at,
    })
}

/// A whole number of seconds given as a JSON number or a string of digits.
fn seconds(object: &Object<'_>, field: &str) -> Result<Option<u64>, Malformed> {
    match object.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Number(n)) => n.floor_u64().map(Some).ok_or(Malformed::InvalidExpiry),
        Some(Json::String(s)) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map(Some).map_err(|_| Malformed::InvalidExpiry)
        }
        Some(_) => Err(Malformed::InvalidExpiry),
    }
}

impl EntraRefusal {
    /// A refusal with no readable body.
    fn from_status(status: u16) -> Self {
        Self {
            status,
            error: String::new(),
            description: String::new(),
            code: None,
            trace_id: String::new(),
            correlation_id: String::new(),
        }
    }

    /// A refusal with the fields of Entra's error body.
    fn read(status: u16, root: &Object<'_>) -> Self {
        let text = |key| match root.get(key) {
            Some(Json::String(s)) => printable(s),
            _ => String::new(),
        };
        let description = text("error_description");
        // `error_codes` holds the AADSTS number; the description starts with it too.
        let code = match root.get("error_codes") {
            Some(Json::Array(codes)) => match codes.first() {
                Some(Json::Number(n)) => n.floor_u64().and_then(|n| u32::try_from(n).ok()),
                _ => None,
            },
            _ => None,
        }
        .or_else(|| {
            let digits = description.strip_prefix("AADSTS")?;
            let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
            digits[..end].parse().ok()
        });
        Self {
            status,
            error: text("error"),
            description,
            code,
            trace_id: text("trace_id"),
            correlation_id: text("correlation_id"),
        }
    }
}
