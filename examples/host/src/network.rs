//! How a host sends a component's `wasi:http` requests: itself, over TLS
//! with the roots it chooses and to the addresses it chooses (curl's
//! `--cacert` and `--connect-to`), instead of wasi-http's default sender.
//!
//! Connections stay open after a response and carry the next request to the
//! same origin ([`Network`] keeps them, shared by its clones): a login's
//! discovery, exchange and token requests go over one TLS connection per
//! host, and a long-running host (the proxy, an embedder) reuses them across
//! logins and pulls.
//!
//! The host refuses anything but `https://`, except plain HTTP to the instance
//! metadata service (`169.254.169.254:80`, link-local: the machine's own
//! identity endpoint) and to the loopback endpoints a host allows with
//! [`Network::allow_plain_http`] (the managed-identity endpoint that App
//! Service, Azure Arc or Cloud Shell names in the environment); the component
//! already sends tokens only to ACR login servers and Entra authorities.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::limits::MemoryLimiter;

/// Used when the guest sets no timeout; the component always sets all three.
const FALLBACK_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an idle connection is kept for reuse: long enough for every
/// request of a login (milliseconds apart) and for a proxy's stream of pulls,
/// well under the idle timeouts of Azure's load balancers (4 minutes), so
/// that a kept connection is rarely one the server has just closed.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// Idle connections kept per origin; more are closed when they end.
const MAX_IDLE_PER_ORIGIN: usize = 32;

/// `--connect-to HOST:PORT:ADDR:PORT`, as in curl: requests for HOST:PORT
/// connect to ADDR:PORT instead. An empty HOST or PORT matches any; an empty
/// ADDR or PORT keeps the original. TLS still verifies the original HOST.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectTo {
    host: Option<String>,
    port: Option<u16>,
    to_host: Option<String>,
    to_port: Option<u16>,
}

impl std::str::FromStr for ConnectTo {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> Result<Self> {
        let parts: Vec<&str> = s.split(':').collect();
        let [host, port, to_host, to_port] = parts.as_slice() else {
            bail!("--connect-to takes HOST:PORT:ADDR:PORT, not {s:?}");
        };
        let port_of = |p: &str| -> Result<Option<u16>> {
            if p.is_empty() {
                Ok(None)
            } else {
                Ok(Some(p.parse().with_context(|| format!("bad port {p:?}"))?))
            }
        };
        let host_of = |h: &str| (!h.is_empty()).then(|| h.to_ascii_lowercase());
        Ok(Self {
            host: host_of(host),
            port: port_of(port)?,
            to_host: host_of(to_host),
            to_port: port_of(to_port)?,
        })
    }
}

/// How the host reaches servers, and the connections it keeps open (shared
/// by every clone).
#[derive(Clone)]
pub struct Network {
    tls: Arc<rustls::ClientConfig>,
    connect_to: Vec<ConnectTo>,
    plain_http: Vec<(String, u16)>,
    /// `None` when every request opens its own connection.
    pool: Option<Pool>,
}

impl Network {
    /// Trusts `ca_pem`'s certificates only (as curl's `--cacert`), or the
    /// system's roots when `None`.
    pub fn new(ca_pem: Option<&[u8]>, connect_to: Vec<ConnectTo>) -> Result<Self> {
        let mut roots = rustls::RootCertStore::empty();
        match ca_pem {
            Some(pem) => {
                let certs: Vec<CertificateDer<'static>> = rustls::pki_types::pem::PemObject::pem_slice_iter(pem)
                    .collect::<Result<_, _>>()
                    .context("reading the CA certificates")?;
                if certs.is_empty() {
                    bail!("the CA file holds no PEM certificate");
                }
                for cert in certs {
                    roots.add(cert).context("adding a CA certificate")?;
                }
            }
            None => {
                let native = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(native.certs);
                if added == 0 {
                    bail!("no system root certificates found; pass --cacert");
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS configuration")?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: Arc::new(tls),
            connect_to,
            plain_http: Vec::new(),
            pool: Some(Pool::default()),
        })
    }

    /// The same network, but each request opens a connection of its own and
    /// closes it after the response (as wasi-http's default sender does): for
    /// a server that mishandles kept connections, and to measure what reuse
    /// saves (`cargo xtask bench`).
    pub fn without_connection_reuse(mut self) -> Self {
        self.pool = None;
        self
    }

    /// Also allows plain HTTP to the origin of `endpoint`, which must be an
    /// `http://` URL of a loopback address (`localhost`, `127.0.0.0/8`,
    /// `[::1]`): a platform's managed-identity endpoint as its environment
    /// names it. Nothing else is ever sent without TLS.
    pub fn allow_plain_http(mut self, endpoint: &str) -> Result<Self> {
        let uri: http::Uri = endpoint.parse().with_context(|| format!("{endpoint} is not a URL"))?;
        let host = uri.host().unwrap_or_default().to_ascii_lowercase();
        let loopback = host == "localhost"
            || host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if uri.scheme() != Some(&http::uri::Scheme::HTTP) || !loopback {
            bail!("plain HTTP is allowed only to a loopback address, not to {endpoint}");
        }
        let port = uri.port_u16().unwrap_or(80);
        self.plain_http.push((host, port));
        Ok(self)
    }

    /// Where to connect for `host:port`.
    fn address(&self, host: &str, port: u16) -> (String, u16) {
        let rule = self
            .connect_to
            .iter()
            .find(|r| r.host.as_deref().is_none_or(|h| h == host) && r.port.is_none_or(|p| p == port));
        match rule {
            Some(r) => (
                r.to_host.clone().unwrap_or_else(|| host.to_owned()),
                r.to_port.unwrap_or(port),
            ),
            None => (host.to_owned(), port),
        }
    }
}

/// The store state of one call into a component that imports `wasi:http`:
/// an empty WASI context (no files, environment or sockets), the
/// [`NetworkHooks`] that send its requests, its limits, and `data` for
/// whatever else the host links (the proxy's configuration, say).
pub struct HttpState<T = ()> {
    table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    hooks: NetworkHooks,
    limits: MemoryLimiter,
    /// The host's own state for this call.
    pub data: T,
}

impl<T> HttpState<T> {
    /// State for one call: requests go through `network`; each linear memory
    /// may grow to `memory` bytes.
    pub fn new(network: Network, memory: usize, data: T) -> Self {
        Self {
            table: ResourceTable::new(),
            wasi: WasiCtx::builder().build(),
            http: WasiHttpCtx::new(),
            hooks: NetworkHooks::new(network),
            limits: MemoryLimiter::new(memory),
            data,
        }
    }

    /// The same state, with the host directory `host` readable (read only)
    /// by the component at `guest`, through `wasi:filesystem`.
    pub fn with_readable_dir(mut self, host: &std::path::Path, guest: &str) -> wasmtime::Result<Self> {
        let mut builder = WasiCtx::builder();
        builder.preopened_dir(host, guest, wasmtime_wasi::FsPerms::ReadOnly)?;
        self.wasi = builder.build();
        Ok(self)
    }

    /// The limits, for [`Store::limiter`]; they also tell whether a memory
    /// grow was refused ([`CallError::from_call`]).
    pub fn limiter(&mut self) -> &mut MemoryLimiter {
        &mut self.limits
    }
}

impl<T: Send> WasiView for HttpState<T> {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl<T: Send> WasiHttpView for HttpState<T> {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

/// A `wasi:http` send hook that sends a component's requests over TLS
/// itself, with [`Network`]'s roots and address rules, instead of
/// wasi-http's default sender: so a host decides what its components may
/// reach and whom to trust. Anything but `https://` is refused, except the
/// instance metadata service ([`METADATA_HOST`] on port 80).
pub struct NetworkHooks {
    network: Network,
}

impl NetworkHooks {
    /// Sends every request through `network`.
    pub fn new(network: Network) -> Self {
        Self { network }
    }
}

impl WasiHttpHooks for NetworkHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<
        dyn Future<
                Output = Result<
                    (
                        http::Response<WasiBody>,
                        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                    ),
                    HttpError,
                >,
            > + Send,
    > {
        drop(fut);
        let network = self.network.clone();
        Box::new(async move { send(network, request, options.unwrap_or_default()).await })
    }

    /// Tells a refused certificate from other TLS failures, so that a component
    /// (and its user) learns which it was.
    fn p2_error_from_tls(&mut self, err: &std::io::Error) -> ErrorCode {
        match err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
            Some(rustls::Error::InvalidCertificate(_)) => ErrorCode::TlsCertificateError,
            _ => ErrorCode::TlsProtocolError,
        }
    }
}

/// The HTTP/1.1 sender of one open connection.
type Sender = hyper::client::conn::http1::SendRequest<WasiBody>;

/// Where a connection goes: requests to the same origin may share one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Origin {
    plain: bool,
    host: String,
    port: u16,
}

/// A kept connection and the time it became idle.
type Idle = (Sender, Instant);

/// Idle connections by origin.
#[derive(Clone, Default)]
struct Pool {
    idle: Arc<Mutex<HashMap<Origin, Vec<Idle>>>>,
}

impl Pool {
    /// The most recently idle connection to `origin` that is still open and
    /// younger than [`IDLE_TIMEOUT`]; older and closed ones are dropped (which
    /// closes them).
    fn take(&self, origin: &Origin) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let senders = idle.get_mut(origin)?;
        while let Some((sender, since)) = senders.pop() {
            if !sender.is_closed() && since.elapsed() < IDLE_TIMEOUT {
                return Some(sender);
            }
        }
        None
    }

    /// Keeps `sender`, whose response has been read to its end, for the next
    /// request to `origin`.
    fn put(&self, origin: Origin, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        let senders = idle.entry(origin).or_default();
        senders.retain(|(sender, since)| !sender.is_closed() && since.elapsed() < IDLE_TIMEOUT);
        if senders.len() < MAX_IDLE_PER_ORIGIN {
            senders.push((sender, Instant::now()));
        }
    }
}

/// Sends one request over an idle connection to its origin, or a new one.
async fn send(
    network: Network,
    mut request: http::Request<WasiBody>,
    options: RequestOptions,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
> {
    let host = request
        .uri()
        .host()
        .ok_or(HttpError::HttpRequestUriInvalid)?
        .to_ascii_lowercase();
    let scheme = request.uri().scheme().ok_or(HttpError::HttpRequestUriInvalid)?;
    let allowed_plain = |port: u16| network.plain_http.iter().any(|(h, p)| *h == host && *p == port);
    let plain = if *scheme == http::uri::Scheme::HTTPS {
        false
    } else if *scheme == http::uri::Scheme::HTTP
        && ((host == METADATA_HOST && request.uri().port_u16().is_none())
            || allowed_plain(request.uri().port_u16().unwrap_or(80)))
    {
        true
    } else {
        return Err(HttpError::HttpRequestDenied);
    };
    let port = request.uri().port_u16().unwrap_or(if plain { 80 } else { 443 });
    let origin = Origin { plain, host, port };
    let connect_timeout = options.connect_timeout.unwrap_or(FALLBACK_TIMEOUT);
    let first_byte_timeout = options.first_byte_timeout.unwrap_or(FALLBACK_TIMEOUT);
    let between_bytes_timeout = options.between_bytes_timeout.unwrap_or(FALLBACK_TIMEOUT);

    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    *request.uri_mut() = path.parse().map_err(|_| HttpError::HttpRequestUriInvalid)?;

    // A kept connection first. One the server closed before the request went
    // out hands the request back, and the next (or a new one) gets it.
    while let Some(mut sender) = network.pool.as_ref().and_then(|pool| pool.take(&origin)) {
        if !matches!(tokio::time::timeout(connect_timeout, sender.ready()).await, Ok(Ok(()))) {
            continue;
        }
        match tokio::time::timeout(first_byte_timeout, sender.try_send_request(request)).await {
            Err(_) => return Err(HttpError::ConnectionReadTimeout),
            Ok(Ok(response)) => return Ok(answer(response, &network, origin, sender, between_bytes_timeout)),
            Ok(Err(mut refused)) => match refused.take_message() {
                Some(unsent) => request = unsent,
                None => return Err(HttpError::from(refused.into_error())),
            },
        }
    }

    let mut sender = tokio::time::timeout(connect_timeout, connect(&network, &origin))
        .await
        .map_err(|_| HttpError::ConnectionTimeout)??;
    let response = tokio::time::timeout(first_byte_timeout, sender.send_request(request))
        .await
        .map_err(|_| HttpError::ConnectionReadTimeout)?
        .map_err(HttpError::from)?;
    Ok(answer(response, &network, origin, sender, between_bytes_timeout))
}

/// Opens a connection to `origin` (TLS unless it is plain), at the address
/// [`Network`]'s rules give, and drives it on a task of its own, which ends
/// when its sender is dropped or the server closes it.
async fn connect(network: &Network, origin: &Origin) -> Result<Sender, HttpError> {
    use hyper::client::conn::http1::handshake;
    let (address, address_port) = network.address(&origin.host, origin.port);
    let tcp = TcpStream::connect((address.as_str(), address_port))
        .await
        .map_err(HttpError::Connect)?;
    if origin.plain {
        let (sender, connection) = handshake(hyper_util::rt::TokioIo::new(tcp)).await?;
        tokio::spawn(connection);
        return Ok(sender);
    }
    let name = ServerName::try_from(origin.host.clone()).map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let tls = tokio_rustls::TlsConnector::from(network.tls.clone())
        .connect(name, tcp)
        .await
        .map_err(HttpError::Tls)?;
    let (sender, connection) = handshake(hyper_util::rt::TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The response for wasi-http: its body fails when no chunk arrives within
/// `between_bytes_timeout`, and gives `sender` back to the network's pool
/// once read to its end (a body dropped early closes the connection).
fn answer(
    response: http::Response<hyper::body::Incoming>,
    network: &Network,
    origin: Origin,
    sender: Sender,
    between_bytes_timeout: Duration,
) -> (
    http::Response<WasiBody>,
    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
) {
    let keep = network.pool.clone().map(|pool| (pool, origin, sender));
    let response = response.map(|incoming| {
        TimedBody {
            inner: incoming,
            timeout: between_bytes_timeout,
            deadline: Box::pin(tokio::time::sleep(between_bytes_timeout)),
            keep,
        }
        .boxed_unsync()
    });
    // The connection's own task reports nothing more: a failure while the
    // body streams ends the body with an error.
    (response, Box::new(async { Ok(()) }))
}

/// A response body that fails when no chunk arrives within `timeout`, and
/// returns its connection to the pool when it ends.
struct TimedBody {
    inner: hyper::body::Incoming,
    timeout: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
    /// Where the connection goes back once the body has ended.
    keep: Option<(Pool, Origin, Sender)>,
}

impl TimedBody {
    /// Returns the connection to the pool: the body has been read to its end.
    fn release(&mut self) {
        if let Some((pool, origin, sender)) = self.keep.take() {
            pool.put(origin, sender);
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let next = tokio::time::Instant::now() + self.timeout;
                self.deadline.as_mut().reset(next);
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.keep = None;
                Poll::Ready(Some(Err(HttpError::from(e))))
            }
            Poll::Ready(None) => {
                self.release();
                Poll::Ready(None)
            }
            Poll::Pending => match self.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => {
                    self.keep = None;
                    Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
                }
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }
}

impl Drop for TimedBody {
    /// A body its reader stopped at its end without polling once more (an
    /// empty body, say) still gives its connection back.
    fn drop(&mut self) {
        if self.inner.is_end_stream() {
            self.release();
        }
    }
}

/// The instance metadata service's link-local address, the one host this
/// host reaches over plain HTTP.
pub const METADATA_HOST: &str = "169.254.169.254";

/// Resolves `host:port` pairs of `--connect-to` for tests: the socket
/// address a rule sends `host:443` to.
pub fn connect_to_rule(host: &str, to: SocketAddr) -> ConnectTo {
    ConnectTo {
        host: Some(host.to_ascii_lowercase()),
        port: Some(443),
        to_host: Some(to.ip().to_string()),
        to_port: Some(to.port()),
    }
}
