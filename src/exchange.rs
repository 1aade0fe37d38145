//! Building the requests that trade tokens with a registry: an Entra access
//! token for an ACR refresh token (`/oauth2/exchange`), and a refresh token for
//! a repository-scoped access token (`/oauth2/token`).

use crate::prelude::*;

use crate::http::FORM_CONTENT_TYPE;
use crate::{CloudEnvironment, InputError, Request, RequestError, Secret};

/// The longest token accepted, in bytes. Entra access tokens are a few
/// kilobytes, ACR refresh tokens about two; 32 KiB leaves room for large
/// group claims while bounding the work.
pub const MAX_TOKEN_LEN: usize = 32 * 1024;

/// The longest tenant accepted: a domain name's 253 bytes.
pub const MAX_TENANT_LEN: usize = 253;

/// The most scopes one token request may ask for.
pub const MAX_SCOPES: usize = 32;

/// The longest scope accepted, in bytes: a repository name's 255 bytes plus
/// the resource type and actions.
const MAX_SCOPE_LEN: usize = 512;

/// Builds `POST https://<login-server>/oauth2/exchange`.
///
/// The body is `application/x-www-form-urlencoded` with, in this order,
/// `grant_type=access_token`, `service=<login-server>`,
/// `access_token=<entra_token>` and, only when given, `tenant=<tenant>`.
/// The token is only ever in the body. `custom_cloud` is needed only for
/// registries of a custom cloud.
pub fn build_exchange_request(
    reference: &str,
    entra_token: &str,
    tenant: Option<&str>,
    custom_cloud: Option<&CloudEnvironment>,
) -> Result<Request, RequestError> {
    let (login_server, _) = crate::scope::login_server(reference, custom_cloud)?;
    exchange_request(&login_server, entra_token, tenant)
}

/// [`build_exchange_request`] for a login server already resolved.
pub(crate) fn exchange_request(
    login_server: &str,
    entra_token: &str,
    tenant: Option<&str>,
) -> Result<Request, RequestError> {
    check_token(entra_token)?;
    if let Some(tenant) = tenant {
        check_tenant(tenant)?;
    }
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(entra_token.len() + 128));
    form.append_pair("grant_type", "access_token")
        .append_pair("service", login_server)
        .append_pair("access_token", entra_token);
    if let Some(tenant) = tenant {
        form.append_pair("tenant", tenant);
    }
    form_post(login_server, "/oauth2/exchange", form.finish())
}

/// Builds `POST https://<login-server>/oauth2/token`, which trades an ACR
/// refresh token for an access token limited to `scopes`.
///
/// The form holds, in this order, `grant_type=refresh_token`,
/// `service=<login-server>`, one `scope` field per scope and
/// `refresh_token=<refresh_token>`. Each scope is
/// `repository:<name>:<action>[,<action>...]` (actions `pull`, `push`,
/// `delete`, `metadata_read`, `metadata_write`, `*`) or `registry:catalog:*`;
/// 1 to [`MAX_SCOPES`] of them.
pub fn build_token_request<S: AsRef<str>>(
    reference: &str,
    refresh_token: &str,
    scopes: &[S],
    custom_cloud: Option<&CloudEnvironment>,
) -> Result<Request, RequestError> {
    let (login_server, _) = crate::scope::login_server(reference, custom_cloud)?;
    token_request(&login_server, refresh_token, scopes)
}

/// [`build_token_request`] for a login server already resolved.
pub(crate) fn token_request<S: AsRef<str>>(
    login_server: &str,
    refresh_token: &str,
    scopes: &[S],
) -> Result<Request, RequestError> {
    check_token(refresh_token)?;
    check_scopes(scopes)?;
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(refresh_token.len() + 256));
    form.append_pair("grant_type", "refresh_token")
        .append_pair("service", login_server);
    for scope in scopes {
        form.append_pair("scope", scope.as_ref());
    }
    form.append_pair("refresh_token", refresh_token);
    form_post(login_server, "/oauth2/token", form.finish())
}

/// A form POST to a login server.
fn form_post(login_server: &str, path: &str, form: String) -> Result<Request, RequestError> {
    Ok(Request {
        method: "POST",
        url: crate::endpoint::login_server_url(login_server, path)?,
        headers: vec![
            ("content-type", FORM_CONTENT_TYPE.to_owned()),
            ("accept", "application/json".to_owned()),
        ],
        body: Secret::new(form.into_bytes()),
    })
}

/// Checks a token request's scopes: 1 to [`MAX_SCOPES`], each valid.
pub(crate) fn check_scopes<S: AsRef<str>>(scopes: &[S]) -> Result<(), InputError> {
    if scopes.is_empty() || scopes.len() > MAX_SCOPES {
        return Err(InputError::ScopeCount);
    }
    scopes.iter().try_for_each(|scope| check_scope(scope.as_ref()))
}

/// Checks one token-request scope.
fn check_scope(scope: &str) -> Result<(), InputError> {
    let valid = scope.len() <= MAX_SCOPE_LEN
        && match scope.split(':').collect::<Vec<_>>().as_slice() {
            ["registry", "catalog", "*"] => true,
            ["repository", name, actions] => {
                (*name == "*" || is_repository_name(name))
                    && actions
                        .split(',')
                        .all(|a| matches!(a, "pull" | "push" | "delete" | "metadata_read" | "metadata_write" | "*"))
            }
            _ => false,
        };
    if valid {
        Ok(())
    } else {
        let shown = &scope[..scope.floor_char_boundary(64)];
        Err(InputError::InvalidScope {
            scope: shown.escape_default().to_string(),
        })
    }
}

/// An OCI repository name: `/`-separated components of lower-case letters and
/// digits, joined inside a component by `.`, `_`, `__` or runs of `-`.
fn is_repository_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('/').all(|component| {
            let bytes = component.as_bytes();
            let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
            let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
                return false;
            };
            if !alnum(first) || !alnum(last) {
                return false;
            }
            // Between alphanumerics: `.`, `_`, `__` or any run of `-`.
            bytes
                .split(|b| alnum(b))
                .all(|separator| matches!(separator, b"" | b"." | b"_" | b"__") || separator.iter().all(|&b| b == b'-'))
                && bytes.iter().all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
        })
}

/// Checks a token argument: non-empty, bounded, printable ASCII.
pub(crate) fn check_token(token: &str) -> Result<(), InputError> {
    if token.len() > MAX_TOKEN_LEN {
        Err(InputError::TokenTooLong)
    } else if token.bytes().all(|b| b.is_ascii_whitespace()) {
        Err(InputError::EmptyToken)
    } else if !token.bytes().all(|b| b.is_ascii_graphic()) {
        Err(InputError::TokenInvalidCharacter)
    } else {
        Ok(())
    }
}

/// Checks a tenant: a directory GUID or a domain name.
pub(crate) fn check_tenant(tenant: &str) -> Result<(), InputError> {
    let ok = !tenant.is_empty()
        && tenant.len() <= MAX_TENANT_LEN
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !tenant.starts_with(['-', '.'])
        && !tenant.ends_with(['-', '.']);
    if ok { Ok(()) } else { Err(InputError::InvalidTenant) }
}
