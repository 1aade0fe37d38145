//! Serves the composed acr-auth proxy component over HTTP/1.1 on loopback,
//! as `wasmtime serve` serves any `wasi:http/proxy` component, plus the one
//! thing this component also imports: `acr:proxy/config`.
//!
//! [`ProxyHost`] compiles the component once, in one [`Engine`], and keeps
//! the pre-instantiated [`ProxyPre`]. Every HTTP request gets a fresh,
//! memory-limited [`Store`], so nothing a request leaves behind (tokens
//! included) reaches the next one. The component's outgoing requests go
//! through [`acr_auth_host::network::NetworkHooks`]: TLS with the roots the host chooses, to the
//! addresses it chooses, `https://` only.

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
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::Scheme;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// The host side of `acr:proxy/config`, generated from the filter's WIT.
mod wit {
    wasmtime::component::bindgen!({
        path: "../filter/wit",
        interfaces: "import acr:proxy/config@0.1.0;",
    });
}

use wit::acr::proxy::config;

/// The most linear memory each of the component's memories may use in one
/// request. The filter streams bodies through the host without holding
/// them, and `login` needs well under a megabyte.
pub const MEMORY_LIMIT: usize = 16 << 20;

/// What the proxy serves and how it reaches the registry.
pub struct Settings {
    /// The registry the proxy fronts: its login server, e.g.
    /// `myregistry.azurecr.io` (the component's `registry()`).
    pub registry: String,
    /// A file holding a Microsoft Entra access token for the registry's
    /// scope. It is read for every request, so a token refreshed on disk
    /// is used at once; a trailing newline is ignored.
    pub entra_token_file: PathBuf,
    /// The TLS roots and address rules of the component's outgoing requests.
    pub network: Network,
}

/// A compiled proxy component, ready to serve.
pub struct ProxyHost {
    pre: ProxyPre<State>,
    settings: Settings,
}

impl ProxyHost {
    /// Compiles the composed proxy component from its bytes and links it:
    /// the `wasi:http/proxy` world's imports and `acr:proxy/config`.
    /// Fails if the component needs anything else.
    pub fn new(component: &[u8], settings: Settings) -> Result<Self> {
        let engine = Engine::default();
        let component = Component::new(&engine, component)
            .map_err(anyhow::Error::from)
            .context("compiling the proxy component")?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi_http::p2::add_to_linker_async(&mut linker)?;
        // The `client` component inside imports `wasi:filesystem` for the
        // Arc agent's key file; this host preopens nothing, so it reads none.
        {
            use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
            use wasmtime_wasi::p2::bindings::filesystem::{preopens, types};
            types::add_to_linker::<State, WasiFilesystem>(&mut linker, |state| state.filesystem())?;
            preopens::add_to_linker::<State, WasiFilesystem>(&mut linker, |state| state.filesystem())?;
        }
        config::add_to_linker::<State, HasSelf<RequestConfig>>(&mut linker, |state| &mut state.data)?;
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

    /// Reads the token, instantiates the component in a new store and calls
    /// its `wasi:http/incoming-handler`; returns the response the component
    /// sets, whose body it goes on writing from a task of its own.
    async fn call(&self, request: hyper::Request<Incoming>) -> Result<hyper::Response<HyperOutgoingBody>> {
        let token = tokio::fs::read_to_string(&self.settings.entra_token_file)
            .await
            .with_context(|| {
                format!(
                    "reading the Entra token file {}",
                    self.settings.entra_token_file.display()
                )
            })?;
        let config = RequestConfig {
            registry: self.settings.registry.clone(),
            entra_token: token.trim_end_matches(['\r', '\n']).to_owned(),
        };
        let state = State::new(self.settings.network.clone(), MEMORY_LIMIT, config);
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
    let body = serde_json::json!({ "errors": [{ "code": "PROXY_ERROR", "message": message }] }).to_string();
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
/// sets it up, and this request's configuration.
type State = HttpState<RequestConfig>;

/// `acr:proxy/config` for one request: the registry and the token read for it.
struct RequestConfig {
    registry: String,
    entra_token: String,
}

impl config::Host for RequestConfig {
    fn registry(&mut self) -> String {
        self.registry.clone()
    }

    fn entra_token(&mut self) -> String {
        self.entra_token.clone()
    }
}
