//! Serves the acr-auth pull proxy component over HTTP/1.1, as `wasmtime
//! serve` serves any `wasi:http/proxy` component, with the two other
//! interfaces the component imports: `wasi:config/store` (its settings, by
//! wasmtime-wasi-config) and `wasi:keyvalue` (its token cache, shared by
//! every request: see [`kv`]).
//!
//! [`ProxyHost`] compiles the component once, in one [`Engine`], and keeps
//! the pre-instantiated [`ProxyPre`]. Every HTTP request gets a fresh,
//! memory-limited [`Store`]: what a request leaves behind reaches the next
//! one only through the key-value store. The component's outgoing requests
//! go through [`acr_auth_host::network::NetworkHooks`]: TLS with the roots
//! the host chooses, to the addresses it chooses.

pub mod kv;

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use acr_auth_host::network::{HttpState, Network};
use anyhow::{Context as _, Result};
use http_body_util::{BodyExt as _, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi_config::{WasiConfig, WasiConfigVariables};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

pub use kv::KeyValue;

/// The most linear memory each of the component's memories may use in one
/// request. The proxy streams bodies through the host without holding
/// them, and a login needs well under a megabyte.
pub const MEMORY_LIMIT: usize = 16 << 20;

/// The `wasi:config` key of a workload identity's federated token file,
/// which the host reads for the component (it has no file system) and
/// passes as [`FEDERATED_TOKEN_KEY`].
pub const FEDERATED_TOKEN_FILE_KEY: &str = "AZURE_FEDERATED_TOKEN_FILE";
/// The `wasi:config` key of the federated token's contents.
pub const FEDERATED_TOKEN_KEY: &str = "AZURE_FEDERATED_TOKEN";

/// The identity variables of the Azure SDKs that `acr_auth::identity_from_environment`
/// reads, passed from the host's environment to the component's `wasi:config` when
/// set, so that the component chooses (or refuses by name) what they describe.
pub const IDENTITY_VARIABLES: [&str; 16] = [
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
];

/// What the proxy serves and how it reaches the registry.
pub struct Settings {
    /// The component's `wasi:config` entries: `registry`, the identity's
    /// variables, `allowed-hosts`, `cache-margin-seconds` (see the
    /// component's README).
    pub config: Vec<(String, String)>,
    /// The key-value store of the token cache.
    pub cache: KeyValue,
    /// The TLS roots and address rules of the component's outgoing requests.
    pub network: Network,
}

/// A compiled proxy component, ready to serve.
pub struct ProxyHost {
    pre: ProxyPre<State>,
    settings: Settings,
}

impl ProxyHost {
    /// Compiles the proxy component from its bytes and links it: the
    /// `wasi:http/proxy` world's imports, `wasi:config/store` and
    /// `wasi:keyvalue`. Fails if the component needs anything else.
    pub fn new(component: &[u8], settings: Settings) -> Result<Self> {
        let engine = Engine::default();
        let component = Component::new(&engine, component)
            .map_err(anyhow::Error::from)
            .context("compiling the proxy component")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi_http::p2::add_to_linker_async(&mut linker)?;
        wasmtime_wasi_config::add_to_linker(&mut linker, |state: &mut State| WasiConfig::new(&state.data.config))?;
        kv::add_to_linker(&mut linker)?;
        let pre = ProxyPre::new(linker.instantiate_pre(&component)?)?;
        Ok(Self { pre, settings })
    }

    /// Serves HTTP/1.1 connections from `listener` until the task is
    /// dropped, each on its own task.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) {
        loop {
            let tcp = match listener.accept().await {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // E.g. out of file descriptors: back off rather than spin.
                    eprintln!("acr-auth-proxy: accepting a connection failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let host = Arc::clone(&self);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| {
                    let host = Arc::clone(&host);
                    async move { Ok::<_, Infallible>(host.handle(request).await) }
                });
                // Errors are the client's doing (reset, bad request) and end that connection.
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    }

    /// Answers one request through a fresh instance of the component. What
    /// fails before the component answers is a 500 with a JSON error.
    pub async fn handle(&self, request: hyper::Request<Incoming>) -> hyper::Response<HyperOutgoingBody> {
        match self.call(request).await {
            Ok(response) => response,
            Err(e) => {
                eprintln!("acr-auth-proxy: {e:#}");
                internal_error(&format!("{e:#}"))
            }
        }
    }

    /// The component's settings for one request: the configured ones, and
    /// the federated token read from its file now, so a rotated token is
    /// used at once.
    async fn config(&self) -> Result<WasiConfigVariables> {
        let mut config = self.settings.config.clone();
        let file = config
            .iter()
            .find(|(key, _)| key == FEDERATED_TOKEN_FILE_KEY)
            .map(|(_, path)| PathBuf::from(path));
        if let Some(file) = file {
            let token = tokio::fs::read_to_string(&file)
                .await
                .with_context(|| format!("reading the federated token file {}", file.display()))?;
            config.push((FEDERATED_TOKEN_KEY.to_owned(), token.trim_end().to_owned()));
        }
        Ok(config.into_iter().collect())
    }

    /// Instantiates the component in a new store and calls its
    /// `wasi:http/incoming-handler`; returns the response the component
    /// sets, whose body it goes on writing from a task of its own.
    async fn call(&self, request: hyper::Request<Incoming>) -> Result<hyper::Response<HyperOutgoingBody>> {
        let data = RequestData::new(self.config().await?, self.settings.cache.clone());
        let state = State::new(self.settings.network.clone(), MEMORY_LIMIT, data);
        let mut store = Store::new(self.pre.engine(), state);
        store.limiter(|state| state.limiter());
        let (sender, receiver) = tokio::sync::oneshot::channel();
        let incoming = store.data_mut().http().new_incoming_request(Scheme::Http, request)?;
        let outparam = store.data_mut().http().new_response_outparam(sender)?;
        let pre = self.pre.clone();
        tokio::spawn(async move {
            let result = async {
                let proxy = pre.instantiate_async(&mut store).await?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, incoming, outparam)
                    .await
            };
            if let Err(e) = result.await {
                eprintln!("acr-auth-proxy: the component failed: {e:?}");
            }
        });
        match receiver.await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(code)) => anyhow::bail!("the component answered with an error: {code:?}"),
            // The store, and with it the sender, is gone: the task above said why.
            Err(_) => anyhow::bail!("the component ended without answering"),
        }
    }
}

/// A 500 response with a JSON error body.
fn internal_error(message: &str) -> hyper::Response<HyperOutgoingBody> {
    let body = serde_json::json!({ "errors": [{ "code": "UNSUPPORTED", "message": message }] }).to_string();
    let body = Full::new(Bytes::from(body))
        .map_err(|never| match never {})
        .boxed_unsync();
    let mut response = hyper::Response::new(body);
    *response.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

/// The store state of one request: `wasi:http` as the CLI's client host
/// sets it up, and this request's settings and cache.
type State = HttpState<RequestData>;

/// One request's `wasi:config` entries and `wasi:keyvalue` buckets.
struct RequestData {
    config: WasiConfigVariables,
    kv: kv::Buckets,
}

impl RequestData {
    fn new(config: WasiConfigVariables, cache: KeyValue) -> Self {
        Self {
            config,
            kv: kv::Buckets::new(cache),
        }
    }
}
