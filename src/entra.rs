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

use serde::Deserialize;
use url::Url;

use crate::document::{Json, Member};
use crate::exchange::{check_tenant, check_token};
use crate::http::FORM_CONTENT_TYPE;
use crate::redact::Secrets;
use crate::token::printable;
use crate::{CloudEnvironment, EntraRefusal, EntraRequestError, EntraResponseError, Malformed, Request, Secret};

/// The Entra authority of the public cloud, the default.
pub const DEFAULT_AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";

/// The Azure Instance Metadata Service's token endpoint. It is plain HTTP on
/// a link-local address, answered by the host the code runs on: the one
/// place a token request is not `https://`.
pub const MANAGED_IDENTITY_ENDPOINT: &str = "http://169.254.169.254/metadata/identity/oauth2/token";

/// The instance metadata service's link-local address.
#[cfg(feature = "wasi-http")]
pub(crate) const METADATA_HOST: &str = "169.254.169.254";

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
    /// A managed identity, through the endpoint its platform provides.
    ManagedIdentity {
        /// Which user-assigned identity; the system-assigned one when `None`.
        id: Option<ManagedIdentityId>,
        /// Where the platform serves its tokens.
        source: ManagedIdentitySource,
    },
}

/// Where a managed identity's tokens come from, as the Azure SDKs choose it
/// from the environment: `IDENTITY_ENDPOINT` with `IDENTITY_HEADER` (App
/// Service, Functions, Container Apps), `IDENTITY_ENDPOINT` with
/// `IMDS_ENDPOINT` (Azure Arc), `MSI_ENDPOINT` (Cloud Shell), else the
/// instance metadata service.
///
/// Each endpoint is used exactly as given and nowhere else. Plain HTTP is
/// allowed to a loopback address only (`localhost`, `127.0.0.0/8`, `[::1]`,
/// where these platforms serve it); any other host must be `https://` and a
/// DNS name.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ManagedIdentitySource {
    /// The instance metadata service (VMs, scale sets, AKS nodes):
    /// [`MANAGED_IDENTITY_ENDPOINT`].
    Imds,
    /// App Service, Functions and Container Apps: a GET of `endpoint` with
    /// `api-version=2019-08-01` and the header `X-IDENTITY-HEADER`.
    AppService {
        /// `IDENTITY_ENDPOINT`.
        endpoint: String,
        /// `IDENTITY_HEADER`: a secret, sent to `endpoint` only.
        header: Secret<String>,
    },
    /// Azure Arc: a GET of `endpoint` with `api-version=2020-06-01`, whose
    /// 401 names a key file (under the Arc agent's token directory) that
    /// the host reads; the key goes back as `Authorization: Basic`.
    /// System-assigned only.
    AzureArc {
        /// `IDENTITY_ENDPOINT`.
        endpoint: String,
    },
    /// Cloud Shell: a form POST of `resource` to `endpoint`.
    /// System-assigned only.
    CloudShell {
        /// `MSI_ENDPOINT`.
        endpoint: String,
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
/// A managed identity asks its [`ManagedIdentitySource`]: the instance
/// metadata service is a GET of [`MANAGED_IDENTITY_ENDPOINT`] with
/// `api-version`, `resource` (the scope without `/.default`) and the
/// identity's ID, and the header `Metadata: true`; the other sources as
/// their variants say.
pub fn build_entra_token_request(
    identity: &Identity,
    scope: &str,
    custom_cloud: Option<&CloudEnvironment>,
) -> Result<Request, EntraRequestError> {
    let resource = scope
        .strip_suffix("/.default")
        .filter(|r| scope.len() <= MAX_FIELD_LEN && crate::endpoint::https_url(r).is_ok())
        .ok_or(EntraRequestError::InvalidScope)?;
    let (tenant, client_id, authority_host, credential) = match identity {
        Identity::ManagedIdentity { id, source } => return managed_identity_request(resource, id.as_ref(), source),
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
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(value.expose().len() + 256));
    form.append_pair("client_id", client_id)
        .append_pair("scope", scope)
        .append_pair("grant_type", "client_credentials");
    if field == "client_assertion" {
        form.append_pair(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        );
    }
    form.append_pair(field, value.expose());
    // The tenant is letters, digits, dots and hyphens, not starting with a
    // dot: one path segment below the authority's path.
    let url = authority
        .join(&format!("{tenant}/oauth2/v2.0/token"))
        .map_err(|_| EntraRequestError::InvalidTenant)?;
    Ok(Request {
        method: "POST",
        url: url.into(),
        headers: vec![
            ("content-type", FORM_CONTENT_TYPE.to_owned()),
            ("accept", "application/json".to_owned()),
        ],
        body: Secret::new(form.finish().into_bytes()),
    })
}

/// How long a client assertion is valid, in seconds: ten minutes, as the
/// Azure SDKs make them.
pub const CLIENT_ASSERTION_LIFETIME: u64 = 600;

/// The claims of the client assertion a service principal signs with its
/// certificate (RFC 7523, as Microsoft's identity platform documents
/// certificate credentials), as a JSON object for the host to sign: `aud`
/// the token endpoint `<authority><tenant>/oauth2/v2.0/token`, `iss` and
/// `sub` the client ID, `jti` the GUID `id` (which the host draws at
/// random: no two assertions may share one), `iat` and `nbf` `now` and
/// `exp` [`CLIENT_ASSERTION_LIFETIME`] later (unix seconds). The signed
/// assertion is then sent as [`Identity::FederatedToken`]'s. The authority
/// is checked as [`build_entra_token_request`] checks it, so the assertion
/// names only a token endpoint it may be sent to.
pub fn client_assertion_claims(
    tenant: &str,
    client_id: &str,
    authority_host: Option<&str>,
    custom_cloud: Option<&CloudEnvironment>,
    now: u64,
    id: &str,
) -> Result<String, EntraRequestError> {
    let authority = authority(authority_host, custom_cloud)?;
    check_tenant(tenant).map_err(|_| EntraRequestError::InvalidTenant)?;
    if !is_guid(client_id) {
        return Err(EntraRequestError::InvalidClientId);
    }
    if !is_guid(id) {
        return Err(EntraRequestError::InvalidAssertionId);
    }
    let audience = authority
        .join(&format!("{tenant}/oauth2/v2.0/token"))
        .map_err(|_| EntraRequestError::InvalidTenant)?;
    let claims = AssertionClaims {
        aud: audience.as_str(),
        iss: client_id,
        sub: client_id,
        jti: id,
        iat: now,
        nbf: now,
        exp: now.saturating_add(CLIENT_ASSERTION_LIFETIME),
    };
    serde_json::to_string(&claims).map_err(|_| EntraRequestError::InvalidAssertionId)
}

/// The claims [`client_assertion_claims`] writes, in this order.
#[derive(serde::Serialize)]
struct AssertionClaims<'a> {
    aud: &'a str,
    iss: &'a str,
    sub: &'a str,
    jti: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
}

/// The request of a managed identity's `source` for `resource`.
fn managed_identity_request(
    resource: &str,
    id: Option<&ManagedIdentityId>,
    source: &ManagedIdentitySource,
) -> Result<Request, EntraRequestError> {
    let id = match id {
        None => None,
        Some(ManagedIdentityId::ClientId(id)) if is_guid(id) => Some(("client_id", id)),
        Some(ManagedIdentityId::ObjectId(id)) if is_guid(id) => Some(("object_id", id)),
        Some(ManagedIdentityId::ResourceId(id))
            if id.len() <= MAX_FIELD_LEN
                && id.starts_with("/subscriptions/")
                && id.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Some(("msi_res_id", id))
        }
        Some(_) => return Err(EntraRequestError::InvalidManagedIdentityId),
    };
    let get = |url: Url, headers| Request {
        method: "GET",
        url: url.into(),
        headers,
        body: Secret::new(Vec::new()),
    };
    let accept = ("accept", "application/json".to_owned());
    match source {
        ManagedIdentitySource::Imds => {
            let url = Url::parse(MANAGED_IDENTITY_ENDPOINT).map_err(|_| EntraRequestError::UnknownAuthority)?;
            let url = with_query(url, MANAGED_IDENTITY_API_VERSION, resource, id);
            Ok(get(url, vec![("metadata", "true".to_owned()), accept]))
        }
        ManagedIdentitySource::AppService { endpoint, header } => {
            // This API names an object ID `principal_id` and a resource ID `mi_res_id`.
            let id = id.map(|(name, value)| match name {
                "object_id" => ("principal_id", value),
                "msi_res_id" => ("mi_res_id", value),
                _ => (name, value),
            });
            check_token(header.expose()).map_err(EntraRequestError::InvalidCredential)?;
            let url = with_query(platform_endpoint(endpoint)?, "2019-08-01", resource, id);
            Ok(get(url, vec![("x-identity-header", header.expose().clone()), accept]))
        }
        ManagedIdentitySource::AzureArc { endpoint } => {
            if id.is_some() {
                return Err(EntraRequestError::UserAssignedUnsupported);
            }
            let url = with_query(platform_endpoint(endpoint)?, "2020-06-01", resource, None);
            Ok(get(url, vec![("metadata", "true".to_owned()), accept]))
        }
        ManagedIdentitySource::CloudShell { endpoint } => {
            if id.is_some() {
                return Err(EntraRequestError::UserAssignedUnsupported);
            }
            let mut form = form_urlencoded::Serializer::new(String::new());
            form.append_pair("resource", resource);
            Ok(Request {
                method: "POST",
                url: platform_endpoint(endpoint)?.into(),
                headers: vec![
                    ("content-type", FORM_CONTENT_TYPE.to_owned()),
                    ("metadata", "true".to_owned()),
                    accept,
                ],
                body: Secret::new(form.finish().into_bytes()),
            })
        }
    }
}

/// `url` with the query a managed identity endpoint takes.
fn with_query(mut url: Url, api_version: &str, resource: &str, id: Option<(&str, &String)>) -> Url {
    {
        let mut query = url.query_pairs_mut();
        query
            .append_pair("api-version", api_version)
            .append_pair("resource", resource);
        if let Some((name, value)) = id {
            query.append_pair(name, value);
        }
    }
    url
}

/// A platform's managed identity endpoint, as its environment names it:
/// `http://` to a loopback address, or `https://` to a DNS name; no
/// user-info, query or fragment.
fn platform_endpoint(text: &str) -> Result<Url, EntraRequestError> {
    let unknown = EntraRequestError::UnknownAuthority;
    if text.len() > MAX_FIELD_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) || text.contains('\\') {
        return Err(unknown);
    }
    if text
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
    {
        let (url, _) = crate::endpoint::https_url(text).map_err(|_| EntraRequestError::UnknownAuthority)?;
        return Some(url)
            .filter(|url| url.query().is_none() && url.fragment().is_none())
            .ok_or(unknown);
    }
    let rest = text
        .get(..7)
        .filter(|scheme| scheme.eq_ignore_ascii_case("http://"))
        .map(|_| &text[7..]);
    if rest.is_none_or(|rest| rest.is_empty() || rest.starts_with('/')) {
        return Err(unknown);
    }
    let url = Url::parse(text).map_err(|_| EntraRequestError::UnknownAuthority)?;
    let loopback = crate::endpoint::is_loopback(&url);
    let plain =
        url.username().is_empty() && url.password().is_none() && url.query().is_none() && url.fragment().is_none();
    if loopback && plain { Ok(url) } else { Err(unknown) }
}

/// The Arc agent's key file a 401 from its endpoint names
/// (`WWW-Authenticate: Basic realm=<path>`), if it is one: a `.key` file
/// directly in the agent's token directory, `/var/opt/azcmagent/tokens/` or
/// `C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\`.
pub(crate) fn arc_key_file(www_authenticate: &str) -> Option<String> {
    let (scheme, rest) = www_authenticate.trim().split_once(' ')?;
    let path = rest.trim().strip_prefix("realm=")?.trim_matches('"');
    let name = if let Some(name) = path.strip_prefix("/var/opt/azcmagent/tokens/") {
        name
    } else {
        const WINDOWS: &str = "C:\\ProgramData\\AzureConnectedMachineAgent\\Tokens\\";
        path.get(..WINDOWS.len())
            .filter(|dir| dir.eq_ignore_ascii_case(WINDOWS))
            .map(|_| &path[WINDOWS.len()..])?
    };
    let stem = name.strip_suffix(".key")?;
    let valid = scheme.eq_ignore_ascii_case("Basic")
        && !stem.is_empty()
        && stem.len() <= 128
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !stem.contains("..");
    valid.then(|| path.to_owned())
}

/// The largest Arc key file read, in bytes (as the Azure SDKs cap it).
pub(crate) const MAX_ARC_KEY_LEN: usize = 4096;

/// The authority to use, an `https://` URL whose path ends in `/`, if it is
/// one tokens may be sent to: a built-in cloud's Entra host, or the custom
/// cloud's `activeDirectoryEndpoint`'s, and no query or fragment.
fn authority(given: Option<&str>, custom_cloud: Option<&CloudEnvironment>) -> Result<Url, EntraRequestError> {
    let given = given.unwrap_or(DEFAULT_AUTHORITY_HOST);
    let (mut url, host) = crate::endpoint::https_url(given)
        .ok()
        .filter(|(url, _)| given.len() <= MAX_FIELD_LEN && url.query().is_none() && url.fragment().is_none())
        .ok_or(EntraRequestError::UnknownAuthority)?;
    let custom_host = custom_cloud
        .and_then(|env| crate::endpoint::https_url(env.active_directory_endpoint()).ok())
        .map(|(_, host)| host);
    if !AUTHORITY_HOSTS.contains(&host.as_str()) && custom_host.as_deref() != Some(host.as_str()) {
        return Err(EntraRequestError::UnknownAuthority);
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
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
/// the AADSTS code and the trace and correlation IDs, each with the secrets
/// in `sent` (what the request carried: a federated token or client secret)
/// blanked, whole or in part, before it is cut to its length cap.
pub fn parse_entra_token_response(
    status: u16,
    body: &[u8],
    now: u64,
    sent: &[&str],
) -> Result<EntraToken, EntraResponseError> {
    read_entra_token_response(status, body, now, &Secrets::new(sent))
}

/// [`parse_entra_token_response`] with the secrets gathered already.
pub(crate) fn read_entra_token_response(
    status: u16,
    body: &[u8],
    now: u64,
    sent: &Secrets,
) -> Result<EntraToken, EntraResponseError> {
    if body.len() > crate::MAX_RESPONSE_BODY_LEN {
        return Err(if status == 200 {
            Malformed::TooLarge.into()
        } else {
            EntraResponseError::Refused(EntraRefusal::from_status(status))
        });
    }
    let answer = crate::document::object::<EntraAnswer<'_>>(body).ok();
    if status != 200 {
        return Err(EntraResponseError::Refused(match answer {
            Some(answer) => EntraRefusal::read(status, &answer, sent),
            None => EntraRefusal::from_status(status),
        }));
    }
    let answer = answer.ok_or(Malformed::NotJson)?;
    let expires_at = match (seconds(answer.expires_on)?, seconds(answer.expires_in)?) {
        (Some(at), _) => at,
        (None, Some(after)) => now.checked_add(after).ok_or(Malformed::InvalidExpiry)?,
        (None, None) => return Err(Malformed::MissingExpiry.into()),
    };
    const FIELD: &str = "access_token";
    let token = match answer.access_token.value() {
        Json::Absent => return Err(Malformed::MissingToken { field: FIELD }.into()),
        Json::String(token) => token,
        _ => return Err(Malformed::TokenNotString { field: FIELD }.into()),
    };
    check_token(&token).map_err(|_| Malformed::TokenNotString { field: FIELD })?;
    Ok(EntraToken {
        access_token: Secret::new(token),
        expires_at,
    })
}

/// The members of Entra's (or the metadata service's) answer that are read:
/// the token and its expiry, or the error body's.
#[derive(Deserialize)]
struct EntraAnswer<'a> {
    #[serde(borrow, default)]
    access_token: Member<'a>,
    #[serde(borrow, default)]
    expires_on: Member<'a>,
    #[serde(borrow, default)]
    expires_in: Member<'a>,
    #[serde(borrow, default)]
    error: Member<'a>,
    #[serde(borrow, default)]
    error_description: Member<'a>,
    #[serde(borrow, default)]
    error_codes: Member<'a>,
    #[serde(borrow, default)]
    trace_id: Member<'a>,
    #[serde(borrow, default)]
    correlation_id: Member<'a>,
}

/// A whole number of seconds given as a JSON number or a string of digits.
fn seconds(member: Member<'_>) -> Result<Option<u64>, Malformed> {
    match member.value() {
        Json::Absent | Json::Null => Ok(None),
        Json::Number(n) => n.floor_u64().map(Some).ok_or(Malformed::InvalidExpiry),
        Json::String(s) if !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().map(Some).map_err(|_| Malformed::InvalidExpiry)
        }
        _ => Err(Malformed::InvalidExpiry),
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

    /// A refusal with the fields of Entra's error body, `secrets` blanked.
    fn read(status: u16, answer: &EntraAnswer<'_>, secrets: &Secrets) -> Self {
        let text = |member: Member<'_>| match member.value() {
            Json::String(s) => printable(&secrets.redact(&s)),
            _ => String::new(),
        };
        let description = text(answer.error_description);
        // `error_codes` holds the AADSTS number; the description starts with it too.
        let first_code =
            answer
                .error_codes
                .array()
                .ok()
                .flatten()
                .and_then(|codes| match codes.first().map(|code| code.value()) {
                    Some(Json::Number(n)) => n.floor_u64().and_then(|n| u32::try_from(n).ok()),
                    _ => None,
                });
        let code = first_code.or_else(|| {
            let digits = description.strip_prefix("AADSTS")?;
            let end = digits.find(|c: char| !c.is_ascii_digit()).unwrap_or(digits.len());
            digits[..end].parse().ok()
        });
        Self {
            status,
            error: text(answer.error),
            description,
            code,
            trace_id: text(answer.trace_id),
            correlation_id: text(answer.correlation_id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
    const ID: &str = "3f2a1b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b";

    #[test]
    fn assertion_claims_name_the_token_endpoint_and_last_ten_minutes() {
        let claims = client_assertion_claims(TENANT, CLIENT, None, None, 1_767_222_000, ID).expect("claims");
        // RFC 7523 section 3 and Microsoft's certificate credential claims, by hand.
        assert_eq!(
            claims,
            format!(
                r#"{{"aud":"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token","iss":"{CLIENT}","sub":"{CLIENT}","jti":"{ID}","iat":1767222000,"nbf":1767222000,"exp":1767222600}}"#
            )
        );
        let us = client_assertion_claims(
            "contoso.onmicrosoft.us",
            CLIENT,
            Some("https://login.microsoftonline.us/"),
            None,
            0,
            ID,
        )
        .expect("claims");
        assert!(
            us.starts_with(r#"{"aud":"https://login.microsoftonline.us/contoso.onmicrosoft.us/oauth2/v2.0/token""#),
            "{us}"
        );
    }

    #[test]
    fn assertion_claims_refuse_what_build_entra_token_request_refuses() {
        let refused = |tenant, client, authority, id| {
            client_assertion_claims(tenant, client, authority, None, 0, id)
                .expect_err("refused")
                .kind()
        };
        use crate::EntraRequestErrorKind as K;
        assert_eq!(
            refused(TENANT, CLIENT, Some("https://login.example.com/"), ID),
            K::UnknownAuthority
        );
        assert_eq!(
            refused(TENANT, CLIENT, Some("http://login.microsoftonline.com/"), ID),
            K::UnknownAuthority
        );
        assert_eq!(refused("../other", CLIENT, None, ID), K::InvalidTenant);
        assert_eq!(refused(TENANT, "not-a-guid", None, ID), K::InvalidClientId);
        assert_eq!(refused(TENANT, CLIENT, None, "1"), K::InvalidAssertionId);
        assert_eq!(refused(TENANT, CLIENT, None, r#"","exp":9"#), K::InvalidAssertionId);
    }
}
