//! Wasmtime hosts for the `acr:auth` components.
//!
//! [`Runtime`] runs the `pure` world, which imports nothing, through
//! [`acr_auth_embedder`];
//! [`client::ClientRuntime`] runs the `client` world, linking `wasi:http` with
//! the host's own TLS and address rules. Each compiles its component once and
//! gives every call a fresh, memory-limited store, so one bad input cannot
//! affect the next call. The `acr-auth` command is built on them; so are the
//! tests.

pub mod client;
pub mod credentials;

use anyhow::Result;
use serde_json::{Value, json};

pub use acr_auth_embedder::{CallError, Embedder, Limits, wit};

use wit::{challenge, exchange, http, scope, token};

/// The component this host was built with (`cargo xtask build` writes it).
pub const COMPONENT: &[u8] = include_bytes!(env!("ACR_AUTH_COMPONENT"));

/// The most linear memory one call of the client component may use.
pub(crate) const MEMORY_LIMIT: usize = 16 << 20;

/// The `pure` component with default limits: what the CLI and the tests call.
pub struct Runtime(Embedder);

impl Runtime {
    /// Compiles the embedded component, or loads it from wasmtime's on-disk
    /// cache when an earlier run compiled it (see [`Embedder::new_cached`]).
    /// Without a usable cache directory it compiles every time.
    pub fn new() -> Result<Self> {
        let embedder = Embedder::new_cached(COMPONENT, Limits::default())
            .or_else(|_| Embedder::new(COMPONENT, Limits::default()))
            .map_err(anyhow::Error::from)?;
        Ok(Self(embedder))
    }
}

impl std::ops::Deref for Runtime {
    type Target = Embedder;

    fn deref(&self) -> &Embedder {
        &self.0
    }
}

/// The name of a cloud as the CLI prints it.
pub fn cloud_name(cloud: scope::Cloud) -> &'static str {
    match cloud {
        scope::Cloud::Public => "public",
        scope::Cloud::China => "china",
        scope::Cloud::UsGovernment => "us-government",
        scope::Cloud::Custom => "custom",
    }
}

/// The name of an audience as the CLI prints it.
pub fn audience_name(audience: scope::Audience) -> &'static str {
    match audience {
        scope::Audience::Acr => "acr",
        scope::Audience::Arm => "arm",
    }
}

/// `acr-auth scope` output.
pub fn scope_json(resolved: &scope::ResolvedScope) -> Value {
    json!({
        "login_server": resolved.login_server,
        "cloud": cloud_name(resolved.cloud),
        "scope": resolved.scope,
        "audience": audience_name(resolved.audience),
        "authority_host": resolved.authority_host,
    })
}

/// `acr-auth exchange-request` output. Includes the body, token and all:
/// showing the request is that command's purpose.
pub fn request_json(request: &http::Request) -> Value {
    let headers: Vec<[&str; 2]> = request
        .headers
        .iter()
        .map(|h| [h.name.as_str(), h.value.as_str()])
        .collect();
    json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    })
}

/// `acr-auth parse-refresh-token` output: everything but the token.
pub fn credential_json(credential: &token::Credential) -> Value {
    json!({
        "username": credential.username,
        "expires_at": credential.expires_at,
        "issued_at": credential.issued_at,
        "login_server": credential.login_server,
        "tenant": credential.tenant,
    })
}

/// `acr-auth parse-challenge` output.
pub fn challenge_json(c: &challenge::Challenge) -> Value {
    json!({
        "realm": c.realm,
        "service": c.service,
        "scopes": c.scopes,
        "login_server": c.login_server,
        "exchange_url": c.exchange_url,
    })
}

/// `acr-auth login` output: the credential, token included, for a
/// credential helper or `docker login --password-stdin` to consume.
pub fn login_json(result: &client::wit::login::LoginResult) -> Value {
    let mut out = json!({
        "login_server": result.login_server,
        "username": result.credential.username,
        "password": result.credential.password,
        "expires_at": result.credential.expires_at,
    });
    if let Some(access) = &result.access_token {
        out["access_token"] = json!(access.token);
        out["access_token_expires_at"] = json!(access.expires_at);
    }
    out
}

/// A login error as one line: stage, message, status and correlation id.
pub fn login_error_message(e: &client::wit::login::LoginError) -> String {
    use client::wit::login::Stage;
    let stage = match e.stage {
        Stage::Input => "checking the arguments",
        Stage::Entra => "Entra token request",
        Stage::Discovery => "challenge discovery (GET /v2/)",
        Stage::Exchange => "token exchange (POST /oauth2/exchange)",
        Stage::Token => "access token (POST /oauth2/token)",
    };
    let mut message = format!("{stage} failed: {}", e.message);
    if let Some(id) = &e.correlation_id {
        message.push_str(&format!(" (correlation id {id})"));
    }
    message
}

/// The message of a request error.
pub fn request_error_message(e: &exchange::RequestError) -> &str {
    match e {
        exchange::RequestError::Reference(e) => &e.message,
        exchange::RequestError::Input(e) => &e.message,
    }
}

/// The message of a response error.
pub fn response_error_message(e: &token::ResponseError) -> &str {
    match e {
        token::ResponseError::Refused(r) => &r.message,
        token::ResponseError::Malformed(m) => &m.message,
    }
}
