//! A wasmtime host for the `acr:auth` component's `pure` world.
//!
//! [`Runtime`] compiles the component once and gives every call a fresh,
//! memory-limited store, so one bad input cannot affect the next call. The
//! `acr-auth` command is built on it; so are the conformance tests.

use anyhow::{Context as _, Result};
use serde_json::{Value, json};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};

/// The generated bindings of the `pure` world.
pub mod wit {
    wasmtime::component::bindgen!({ path: "../../wit", world: "pure" });
    pub use exports::acr::auth::{exchange, http, scope, token};
}

use wit::{exchange, http, scope, token};

/// The component this host was built with (`cargo xtask build` writes it).
pub const COMPONENT: &[u8] = include_bytes!(env!("ACR_AUTH_COMPONENT"));

/// The most linear memory one call may use. The component needs well under
/// a megabyte for the largest input it accepts.
const MEMORY_LIMIT: usize = 16 << 20;

/// A compiled component, ready to instantiate once per call.
pub struct Runtime {
    engine: Engine,
    pre: wit::PurePre<StoreLimits>,
}

impl Runtime {
    /// Compiles the embedded component.
    pub fn new() -> Result<Self> {
        Self::from_component(COMPONENT)
    }

    /// Compiles a component from its bytes. It must import nothing.
    pub fn from_component(bytes: &[u8]) -> Result<Self> {
        let engine = Engine::default();
        let component = Component::new(&engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the acr-auth component")?;
        let linker = Linker::new(&engine);
        let pre = wit::PurePre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self { engine, pre })
    }

    /// A fresh instance in a fresh store with a memory limit.
    fn instance(&self) -> Result<(Store<StoreLimits>, wit::Pure)> {
        let limits = StoreLimitsBuilder::new().memory_size(MEMORY_LIMIT).instances(1).build();
        let mut store = Store::new(&self.engine, limits);
        store.limiter(|limits| limits);
        let pure = self.pre.instantiate(&mut store)?;
        Ok((store, pure))
    }

    /// Calls `resolve-scope`.
    pub fn resolve_scope(
        &self,
        reference: &str,
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<scope::ResolvedScope, scope::ScopeError>> {
        let (mut store, pure) = self.instance()?;
        pure.acr_auth_scope().call_resolve_scope(&mut store, reference, custom_cloud)
            .map_err(Into::into)
    }

    /// Calls `parse-cloud-environment`.
    pub fn parse_cloud_environment(
        &self,
        json: &str,
    ) -> Result<Result<scope::CloudEnvironment, scope::CloudEnvironmentError>> {
        let (mut store, pure) = self.instance()?;
        pure.acr_auth_scope().call_parse_cloud_environment(&mut store, json)
            .map_err(Into::into)
    }

    /// Calls `build-exchange-request`.
    pub fn build_exchange_request(
        &self,
        reference: &str,
        entra_token: &str,
        tenant: Option<&str>,
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<http::Request, exchange::RequestError>> {
        let (mut store, pure) = self.instance()?;
        pure.acr_auth_exchange()
            .call_build_exchange_request(&mut store, reference, entra_token, tenant, custom_cloud)
            .map_err(Into::into)
    }

    /// Calls `parse-refresh-token`.
    pub fn parse_refresh_token(
        &self,
        status: u16,
        body: &[u8],
    ) -> Result<Result<token::Credential, token::ResponseError>> {
        let (mut store, pure) = self.instance()?;
        pure.acr_auth_token().call_parse_refresh_token(&mut store, status, body)
            .map_err(Into::into)
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
