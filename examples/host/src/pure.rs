//! Embedding the `acr:auth` `pure` component in a long-running wasmtime host.
//!
//! The pattern, for a proxy or policy engine that calls the component on
//! every request:
//!
//! - **one [`Engine`]**, compiled code shared by every call;
//! - **one `InstancePre`**: imports resolved once (the pure world has none),
//!   so instantiating is only allocating;
//! - **a fresh [`Store`] per call**: no state leaks from one request to the
//!   next, and a call that goes wrong takes nothing else down;
//! - **a memory limit** per store ([`Limits::memory`]): a call cannot grow
//!   the host's memory beyond it;
//! - **a fuel budget** per call ([`Limits::fuel`]): a call cannot loop
//!   forever. Fuel counts executed instructions, so the budget is the same on
//!   a loaded machine as on an idle one, and a result never depends on timing.
//!
//! A call that exhausts either ends in a [`CallError`] naming the limit; the
//! embedder stays usable. The component itself caps its inputs (4 KiB
//! references, 32 KiB tokens, 64 KiB bodies), so the defaults leave a wide
//! margin for any input it accepts.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bytes = std::fs::read("target/components/acr_auth.wasm")?;
//! let embedder = acr_auth_host::Embedder::new(&bytes, acr_auth_host::Limits::default())?;
//! // Per request:
//! match embedder.resolve_scope("myregistry.azurecr.io/team/app:1", None)? {
//!     Ok(scope) => println!("request a token for {}", scope.scope),
//!     Err(refused) => println!("not an ACR registry: {}", refused.message),
//! }
//! # Ok(())
//! # }
//! ```

use wasmtime::component::{Component, Linker};
use wasmtime::{Cache, CacheConfig, Config, Engine, Store};

use crate::limits::{CallError, MEMORY_LIMIT, MemoryLimiter};

/// The generated bindings of the `pure` world. Its types carry the WIT's
/// documentation; the accessors the generator adds have none.
#[allow(missing_docs)]
pub mod wit {
    wasmtime::component::bindgen!({ path: "../../wit", world: "pure" });
    pub use exports::acr::auth::{challenge, entra, exchange, flow, http, scope, token};
}

use wasmtime::component::ResourceAny;
use wit::{challenge, entra, exchange, flow, http, scope, token};

/// What one call may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of linear memory per store. The component starts with 64 KiB
    /// and runs its largest accepted inputs in 256 KiB
    /// (`host-tests/tests/stack.rs`).
    pub memory: usize,
    /// Instructions (wasmtime fuel units) per call.
    pub fuel: u64,
}

impl Default for Limits {
    /// 16 MiB and 200 million fuel: far above what the largest accepted
    /// input needs (see `host-tests/tests/embedder.rs`), far below what would
    /// hurt a host.
    fn default() -> Self {
        Self {
            memory: MEMORY_LIMIT,
            fuel: 200_000_000,
        }
    }
}

/// A compiled `pure` component, instantiated afresh for every call.
pub struct Embedder {
    engine: Engine,
    pre: wit::PurePre<MemoryLimiter>,
    limits: Limits,
}

impl Embedder {
    /// Compiles a component from its bytes. It must import nothing.
    pub fn new(component: &[u8], limits: Limits) -> wasmtime::Result<Self> {
        Self::with_config(component, limits, Config::new())
    }

    /// Like [`Embedder::new`], but keeps the compiled code in wasmtime's
    /// on-disk cache (by default under the user's cache directory, e.g.
    /// `~/.cache/wasmtime`), keyed by the component's bytes and the engine's
    /// settings: a short-lived process such as a CLI then compiles the
    /// component once per machine instead of at every start. Only the user
    /// who owns that directory can place code in it.
    pub fn new_cached(component: &[u8], limits: Limits) -> wasmtime::Result<Self> {
        let mut config = Config::new();
        config.cache(Some(Cache::new(CacheConfig::new())?));
        Self::with_config(component, limits, config)
    }

    /// Compiles with `config`, plus the fuel metering the limits need.
    fn with_config(component: &[u8], limits: Limits, mut config: Config) -> wasmtime::Result<Self> {
        config.consume_fuel(true);
        let engine = Engine::new(&config)?;
        let component = Component::new(&engine, component)?;
        let pre = wit::PurePre::new(Linker::new(&engine).instantiate_pre(&component)?)?;
        Ok(Self { engine, pre, limits })
    }

    /// Runs `f` against a fresh instance in a fresh, limited store.
    fn call<R>(
        &self,
        f: impl FnOnce(&mut Store<MemoryLimiter>, &wit::Pure) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let mut store = Store::new(&self.engine, MemoryLimiter::new(self.limits.memory));
        store.limiter(|limiter| limiter);
        store.set_fuel(self.limits.fuel).map_err(CallError::Host)?;
        let pure = self.pre.instantiate(&mut store).map_err(CallError::Host)?;
        f(&mut store, &pure).map_err(|e| CallError::from_call(e, store.data()))
    }

    /// Calls `resolve-scope`.
    pub fn resolve_scope(
        &self,
        reference: &str,
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<scope::ResolvedScope, scope::ReferenceError>, CallError> {
        self.call(|store, pure| pure.acr_auth_scope().call_resolve_scope(store, reference, custom_cloud))
    }

    /// Calls `parse-cloud-environment`.
    pub fn parse_cloud_environment(
        &self,
        json: &str,
    ) -> Result<Result<scope::CloudEnvironment, scope::CloudEnvironmentError>, CallError> {
        self.call(|store, pure| pure.acr_auth_scope().call_parse_cloud_environment(store, json))
    }

    /// Calls `build-exchange-request`.
    pub fn build_exchange_request(
        &self,
        reference: &str,
        entra_token: &str,
        tenant: Option<&str>,
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<http::Request, exchange::RequestError>, CallError> {
        self.call(|store, pure| {
            pure.acr_auth_exchange()
                .call_build_exchange_request(store, reference, entra_token, tenant, custom_cloud)
        })
    }

    /// Calls `build-token-request`.
    pub fn build_token_request(
        &self,
        reference: &str,
        refresh_token: &str,
        scopes: &[String],
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<http::Request, exchange::RequestError>, CallError> {
        self.call(|store, pure| {
            pure.acr_auth_exchange()
                .call_build_token_request(store, reference, refresh_token, scopes, custom_cloud)
        })
    }

    /// Calls `parse-access-token`.
    pub fn parse_access_token(
        &self,
        status: u16,
        body: &[u8],
        sent: &[String],
    ) -> Result<Result<token::AccessToken, token::ResponseError>, CallError> {
        self.call(|store, pure| pure.acr_auth_token().call_parse_access_token(store, status, body, sent))
    }

    /// Calls `parse-challenge`.
    pub fn parse_challenge(
        &self,
        header: &str,
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<challenge::Challenge, challenge::ChallengeError>, CallError> {
        self.call(|store, pure| {
            pure.acr_auth_challenge()
                .call_parse_challenge(store, header, custom_cloud)
        })
    }

    /// Calls `parse-refresh-token`.
    pub fn parse_refresh_token(
        &self,
        status: u16,
        body: &[u8],
        sent: &[String],
    ) -> Result<Result<token::Credential, token::ResponseError>, CallError> {
        self.call(|store, pure| {
            pure.acr_auth_token()
                .call_parse_refresh_token(store, status, body, sent)
        })
    }

    /// Calls `build-entra-token-request`.
    pub fn build_entra_token_request(
        &self,
        identity: &entra::Identity,
        scope: &str,
        custom_cloud: Option<&scope::CloudEnvironment>,
    ) -> Result<Result<http::Request, entra::EntraRequestError>, CallError> {
        self.call(|store, pure| {
            pure.acr_auth_entra()
                .call_build_entra_token_request(store, identity, scope, custom_cloud)
        })
    }

    /// Calls `parse-entra-token-response`.
    pub fn parse_entra_token_response(
        &self,
        status: u16,
        body: &[u8],
        now: u64,
        sent: &[String],
    ) -> Result<Result<entra::EntraToken, entra::EntraResponseError>, CallError> {
        self.call(|store, pure| {
            pure.acr_auth_entra()
                .call_parse_entra_token_response(store, status, body, now, sent)
        })
    }

    /// Calls `identity-from-environment`: which identity the environment
    /// `variables` describe, without reading a file or sending a request.
    pub fn identity_from_environment(
        &self,
        variables: &[(String, String)],
    ) -> Result<Result<entra::EnvironmentIdentity, entra::EnvironmentError>, CallError> {
        self.call(|store, pure| pure.acr_auth_entra().call_identity_from_environment(store, variables))
    }

    /// Starts a login flow (the `login-flow` resource) in a store of its
    /// own, which lives as long as the flow: each step gets this embedder's
    /// fuel afresh, and the memory limit holds for the whole flow.
    pub fn login_flow(
        &self,
        reference: &str,
        credentials: &flow::Credentials,
        options: &flow::LoginOptions,
    ) -> Result<LoginFlow, CallError> {
        let mut store = Store::new(&self.engine, MemoryLimiter::new(self.limits.memory));
        store.limiter(|limiter| limiter);
        store.set_fuel(self.limits.fuel).map_err(CallError::Host)?;
        let pure = self.pre.instantiate(&mut store).map_err(CallError::Host)?;
        let resource = pure
            .acr_auth_flow()
            .login_flow()
            .call_constructor(&mut store, reference, credentials, options)
            .map_err(|e| CallError::from_call(e, store.data()))?;
        Ok(LoginFlow {
            store,
            pure,
            resource,
            fuel: self.limits.fuel,
        })
    }
}

/// A login in progress in the component: the `login-flow` resource and the
/// store it lives in. The host drives it: each [`LoginFlow::step`] says what
/// to send, when to wake it, which file to read, or how the login ended.
pub struct LoginFlow {
    store: Store<MemoryLimiter>,
    pure: wit::Pure,
    resource: ResourceAny,
    fuel: u64,
}

impl LoginFlow {
    /// Takes what happened since the last step, at `now_ms` (unix
    /// milliseconds), and returns what to do next.
    pub fn step(&mut self, now_ms: u64, event: &flow::Event) -> Result<flow::Step, CallError> {
        self.store.set_fuel(self.fuel).map_err(CallError::Host)?;
        self.pure
            .acr_auth_flow()
            .login_flow()
            .call_step(&mut self.store, self.resource, now_ms, event)
            .map_err(|e| CallError::from_call(e, self.store.data()))
    }
}

impl Drop for LoginFlow {
    fn drop(&mut self) {
        // The store goes with the flow; dropping the resource first lets the
        // component free what it holds, and a failure here changes nothing.
        let _ = self.resource.resource_drop(&mut self.store);
    }
}
