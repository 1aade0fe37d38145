//! A wasmtime host for the `client` world: it links `wasi:http` through
//! [`NetworkHooks`](crate::network::NetworkHooks), so the host sends every
//! request the component makes, with the roots and address rules of its
//! [`Network`].
//!
//! [`ClientRuntime`] bounds every login: its store's memory, and the time the
//! component spends computing (an epoch deadline that does not count time in
//! the host, such as waiting on the network, which the login's own timeouts
//! bound). Reaching either ends the login with a [`CallError`] naming the
//! limit; the runtime keeps serving.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use wasmtime::component::{Component, Linker};
use wasmtime::{CallHook, Config, Engine, EngineWeak, Store, UpdateDeadline};

use crate::limits::{CallError, MEMORY_LIMIT};
use crate::network::{HttpState, Network};

/// The generated bindings of the `client` world. Its types carry the WIT's
/// documentation; the accessors the generator adds have none.
#[allow(missing_docs)]
pub mod wit {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "client",
        with: {
            "wasi:http": wasmtime_wasi_http::p2::bindings::sync::http,
            "wasi:io": wasmtime_wasi::p2::bindings::sync::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:filesystem": wasmtime_wasi::p2::bindings::sync::filesystem,
        },
    });
    pub use exports::acr::auth::{entra, flow, login, scope};
}

use wit::{entra, flow};

/// The `pure` world's custom cloud, as the `client` world's bindings type it.
impl From<crate::wit::scope::CloudEnvironment> for wit::scope::CloudEnvironment {
    fn from(env: crate::wit::scope::CloudEnvironment) -> Self {
        Self {
            name: env.name,
            container_registry_dns_suffix: env.container_registry_dns_suffix,
            resource_manager_endpoint: env.resource_manager_endpoint,
            active_directory_endpoint: env.active_directory_endpoint,
            acr_audience: env.acr_audience,
        }
    }
}

/// How often the epoch of a [`ClientRuntime`]'s engine advances: how often a
/// computing component checks its time, and so how far past its budget it can
/// run.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What one login may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimits {
    /// Bytes of linear memory per store.
    pub memory: usize,
    /// Time the component may spend computing during one login: running its
    /// own code, not waiting in the host for the network.
    pub compute: Duration,
}

impl Default for ClientLimits {
    /// 16 MiB, as the `pure` component gets, and 1 second of computation. A
    /// login computes for well under a millisecond, even with the largest
    /// inputs it accepts (`host-tests/tests/client_limits.rs` runs them). The
    /// clock also runs while the component's thread waits for a CPU, so the
    /// budget leaves a thousandfold margin for a loaded machine, and still
    /// stops a runaway loop within a second and a tick.
    fn default() -> Self {
        Self {
            memory: MEMORY_LIMIT,
            compute: Duration::from_secs(1),
        }
    }
}

/// The store data of a login: the guest's computation time so far, for the
/// epoch deadline.
#[derive(Default)]
struct GuestClock {
    /// Time spent in the component's code before its latest entry.
    spent: Duration,
    /// When the component's code last began to run, if it runs now.
    since: Option<Instant>,
}

impl GuestClock {
    /// Starts or stops the clock as control passes between host and guest.
    fn on(&mut self, hook: CallHook) {
        if hook.entering_host() {
            self.spent += self.since.take().map_or(Duration::ZERO, |since| since.elapsed());
        } else {
            self.since.get_or_insert_with(Instant::now);
        }
    }

    /// The component's computation time so far.
    fn spent(&self) -> Duration {
        self.spent + self.since.map_or(Duration::ZERO, |since| since.elapsed())
    }
}

/// A compiled client component, the network it may use and its limits.
pub struct ClientRuntime {
    engine: Engine,
    pre: wit::ClientPre<HttpState<GuestClock>>,
    network: Network,
    limits: ClientLimits,
    arc_keys: PathBuf,
}

/// Where the Azure Arc agent keeps the key files its identity endpoint's
/// challenge names, on Linux; the component sees it at this same path.
pub const ARC_KEY_DIRECTORY: &str = "/var/opt/azcmagent/tokens";

impl ClientRuntime {
    /// Compiles the embedded client component, [`CLIENT_COMPONENT`](crate::CLIENT_COMPONENT),
    /// or loads it from wasmtime's on-disk cache when an earlier run compiled
    /// it, as [`Embedder::new_cached`](crate::Embedder::new_cached) does for
    /// `pure`: a CLI or credential provider started for each pull then
    /// compiles it once per machine. Without a usable cache directory it
    /// compiles every time.
    #[cfg(feature = "embed")]
    pub fn new(network: Network) -> Result<Self> {
        let cached = || -> Result<Self> {
            let mut config = Config::new();
            config.cache(Some(wasmtime::Cache::new(wasmtime::CacheConfig::new())?));
            Self::with_config(crate::CLIENT_COMPONENT, network.clone(), config)
        };
        cached().or_else(|_| Self::from_component(crate::CLIENT_COMPONENT, network))
    }

    /// Compiles a client component from its bytes, with [`ClientLimits::default`].
    /// A thread advances the engine's epoch every 10 ms for as long as the
    /// engine lives.
    pub fn from_component(bytes: &[u8], network: Network) -> Result<Self> {
        Self::with_config(bytes, network, Config::new())
    }

    /// [`ClientRuntime::from_component`] with `config`, plus the epoch
    /// interruption the limits need.
    fn with_config(bytes: &[u8], network: Network, mut config: Config) -> Result<Self> {
        config.epoch_interruption(true);
        let engine = Engine::new(&config)?;
        let component = Component::new(&engine, bytes)
            .map_err(anyhow::Error::from)
            .context("compiling the acr-auth client component")?;
        let mut linker: Linker<HttpState<GuestClock>> = Linker::new(&engine);
        wasmtime_wasi_http::p2::add_to_linker_sync(&mut linker)?;
        // The Arc agent's key file: `wasi:filesystem`, with a preopen only
        // when the directory exists (see `ClientRuntime::call`).
        {
            use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
            use wasmtime_wasi::p2::bindings::{filesystem::preopens, sync::filesystem::types};
            types::add_to_linker::<_, WasiFilesystem>(&mut linker, |state| state.filesystem())?;
            preopens::add_to_linker::<_, WasiFilesystem>(&mut linker, |state| state.filesystem())?;
        }
        let pre = wit::ClientPre::new(linker.instantiate_pre(&component)?)?;
        let ticker = engine.weak();
        std::thread::Builder::new()
            .name("acr-auth-epoch".into())
            .spawn(move || tick(&ticker))
            .context("starting the epoch thread")?;
        Ok(Self {
            engine,
            pre,
            network,
            limits: ClientLimits::default(),
            arc_keys: PathBuf::from(ARC_KEY_DIRECTORY),
        })
    }

    /// The same compiled component with another network: compiling is the
    /// expensive part, so long-running hosts compile once.
    pub fn with_network(&self, network: Network) -> Self {
        Self {
            engine: self.engine.clone(),
            pre: self.pre.clone(),
            network,
            limits: self.limits,
            arc_keys: self.arc_keys.clone(),
        }
    }

    /// The same runtime, also allowed plain HTTP to `endpoint`'s loopback
    /// origin (see [`Network::allow_plain_http`]).
    pub fn allowing_plain_http(&self, endpoint: &str) -> Result<Self> {
        Ok(Self {
            network: self.network.clone().allow_plain_http(endpoint)?,
            ..self.with_network(self.network.clone())
        })
    }

    /// The same runtime, reading the Azure Arc agent's key files from
    /// `dir` instead of [`ARC_KEY_DIRECTORY`] (the component still sees them
    /// at that path, which is what the agent's challenge names).
    pub fn with_arc_key_directory(&self, dir: impl Into<PathBuf>) -> Self {
        Self {
            arc_keys: dir.into(),
            ..self.with_network(self.network.clone())
        }
    }

    /// The same compiled component and network with other limits.
    pub fn with_limits(&self, limits: ClientLimits) -> Self {
        Self {
            limits,
            ..self.with_network(self.network.clone())
        }
    }

    /// Runs `login` in a fresh store with this runtime's limits. A login that
    /// reaches one fails with the [`CallError`] naming it.
    pub fn login(
        &self,
        reference: &str,
        credentials: &flow::Credentials,
        options: &flow::LoginOptions,
    ) -> Result<Result<flow::LoginResult, flow::LoginError>, CallError> {
        self.call(|store, client| {
            client
                .acr_auth_login()
                .call_login(store, reference, credentials, options)
        })
    }

    /// The identity the environment `variables` describe, chosen by the
    /// component in `DefaultAzureCredential`'s order (see the WIT's
    /// `identity-from-environment`).
    pub fn identity_from_environment(
        &self,
        variables: &[(String, String)],
    ) -> Result<Result<entra::EnvironmentIdentity, entra::EnvironmentError>, CallError> {
        self.call(|store, client| client.acr_auth_entra().call_identity_from_environment(store, variables))
    }

    /// The claims of a client assertion for the service principal
    /// `client_id` of `tenant`, as the component writes them (see the WIT's
    /// `client-assertion-claims`), for [`crate::certificate`] to sign.
    pub fn client_assertion_claims(
        &self,
        file: &entra::CertificateFile,
        custom_cloud: Option<&wit::scope::CloudEnvironment>,
        now: u64,
        id: &str,
    ) -> Result<Result<String, entra::EntraRequestError>, CallError> {
        self.call(|store, client| {
            client.acr_auth_entra().call_client_assertion_claims(
                store,
                &file.tenant,
                &file.client_id,
                file.authority_host.as_deref(),
                custom_cloud,
                now,
                id,
            )
        })
    }

    /// Runs `f` on a fresh instance in a fresh store with this runtime's
    /// limits: its memory, and its computation time, counted only while the
    /// component's own code runs.
    fn call<R>(
        &self,
        f: impl FnOnce(&mut Store<HttpState<GuestClock>>, &wit::Client) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let mut state = HttpState::new(self.network.clone(), self.limits.memory, GuestClock::default());
        // Only the Arc agent's key directory, read only, and only on a
        // machine that has one: the one file a login may read is in it.
        if self.arc_keys.is_dir() {
            state = state
                .with_readable_dir(&self.arc_keys, ARC_KEY_DIRECTORY)
                .map_err(CallError::Host)?;
        }
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| state.limiter());
        store.call_hook(|mut store, hook| {
            store.data_mut().data.on(hook);
            Ok(())
        });
        let budget = self.limits.compute;
        // Called at the first check in the component's code after each tick;
        // time spent in the host meanwhile is not on the clock.
        store.epoch_deadline_callback(move |store| {
            Ok(if store.data().data.spent() > budget {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(1)
            })
        });
        store.set_epoch_deadline(1);
        let client = self.pre.instantiate(&mut store).map_err(CallError::Host)?;
        f(&mut store, &client).map_err(|e| CallError::from_call(e, store.data_mut().limiter()))
    }
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] until the engine is dropped.
fn tick(engine: &EngineWeak) {
    loop {
        std::thread::sleep(EPOCH_TICK);
        match engine.upgrade() {
            Some(engine) => engine.increment_epoch(),
            None => return,
        }
    }
}
