//! Building the request that trades an Entra access token for an ACR refresh
//! token.

use crate::http::FORM_CONTENT_TYPE;
use crate::{CloudEnvironment, InputError, Request, RequestError, Secret};

/// The longest token accepted, in bytes. Entra access tokens are a few
/// kilobytes, ACR refresh tokens about two; 32 KiB leaves room for large
/// group claims while bounding the work.
pub const MAX_TOKEN_LEN: usize = 32 * 1024;

/// The longest tenant accepted: a domain name's 253 bytes.
pub const MAX_TENANT_LEN: usize = 253;

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
    check_token(entra_token)?;
    if let Some(tenant) = tenant {
        check_tenant(tenant)?;
    }
    let mut form = form_urlencoded::Serializer::new(String::with_capacity(entra_token.len() + 128));
    form.append_pair("grant_type", "access_token")
        .append_pair("service", &login_server)
        .append_pair("access_token", entra_token);
    if let Some(tenant) = tenant {
        form.append_pair("tenant", tenant);
    }
    Ok(Request {
        method: "POST",
        url: format!("https://{login_server}/oauth2/exchange"),
        headers: vec![("content-type", FORM_CONTENT_TYPE), ("accept", "application/json")],
        body: Secret::new(form.finish().into_bytes()),
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
fn check_tenant(tenant: &str) -> Result<(), InputError> {
    let ok = !tenant.is_empty()
        && tenant.len() <= MAX_TENANT_LEN
        && tenant.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && !tenant.starts_with(['-', '.'])
        && !tenant.ends_with(['-', '.']);
    if ok { Ok(()) } else { Err(InputError::InvalidTenant) }
}
