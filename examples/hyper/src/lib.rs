//! The acr-auth login flow over hyper and rustls on tokio: an
//! [`AsyncTransport`] for [`acr_auth::login_async`], the way an async Rust
//! host (a controller, a proxy, a CLI on tokio) drives the library without
//! the components.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use acr_auth::{Credentials, LoginOptions, Secret};
//! use acr_auth_hyper::HyperTransport;
//!
//! let mut transport = HyperTransport::with_native_roots()?;
//! let token = Secret::new(std::fs::read_to_string("entra-token")?.trim_end().to_owned());
//! let result = acr_auth::login_async(
//!     &mut transport,
//!     "myregistry.azurecr.io/team/app:1.2",
//!     Credentials::EntraToken(token),
//!     LoginOptions::default(),
//! )
//! .await?;
//! println!("refresh token valid until {}", result.credential.expires_at);
//! # Ok(())
//! # }
//! ```
//!
//! Requests go over TLS to the host their URL names (or to the address
//! [`HyperTransport::connect_to`] sets, as curl's `--connect-to`); the
//! transport keeps one connection per origin open for its next request, so
//! a login opens one connection per host, and a transport kept across
//! logins reuses them. With the flow's timeouts, following no redirect and
//! reading at most the body length the flow allows. Plain HTTP is refused
//! except to the instance metadata service and loopback addresses, which
//! the flow only asks for as a managed identity's platform endpoint. Files
//! are read only from the Azure Arc agent's key directory.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use acr_auth::{AsyncTransport, Outgoing, Response, TransportError, TransportErrorKind};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Where the Azure Arc agent keeps the key files its endpoint names.
pub const ARC_KEY_DIRECTORY: &str = "/var/opt/azcmagent/tokens";

/// The instance metadata service's link-local address.
const METADATA_HOST: &str = "169.254.169.254";

/// The sender of one open HTTP/1.1 connection.
type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Where a connection goes: whether over TLS, the host and the port.
type Origin = (bool, String, u16);

/// Sends the login flow's requests with hyper over rustls, on tokio.
pub struct HyperTransport {
    tls: tokio_rustls::TlsConnector,
    connect_to: Option<SocketAddr>,
    /// The connection each origin's last response came on, read to its end.
    idle: HashMap<Origin, Sender>,
}

impl HyperTransport {
    /// Trusts the system's root certificates.
    pub fn with_native_roots() -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        Self::with_roots(roots)
    }

    /// Trusts only the PEM certificates in `ca_pem`.
    pub fn with_ca_pem(ca_pem: &[u8]) -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem) {
            let cert: CertificateDer<'static> =
                cert.map_err(|_| rustls::Error::General("the CA file is not PEM".into()))?;
            roots.add(cert)?;
        }
        Self::with_roots(roots)
    }

    fn with_roots(roots: rustls::RootCertStore) -> Result<Self, rustls::Error> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
            connect_to: None,
            idle: HashMap::new(),
        })
    }

    /// Connects every request to `address` instead of its host, still
    /// verifying the certificate for the host (curl's `--connect-to`).
    pub fn connect_to(mut self, address: SocketAddr) -> Self {
        self.connect_to = Some(address);
        self
    }

    /// Sends one request over the origin's kept connection, or a new one
    /// when there is none or it closed before the request went out, and
    /// reads its response; keeps the connection when the body was read whole.
    async fn exchange(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        let uri: http::Uri = outgoing
            .request
            .url
            .parse()
            .map_err(|e| fail(TransportErrorKind::Protocol, format!("bad URL: {e}")))?;
        let host = uri.host().unwrap_or_default().to_owned();
        let tls = match uri.scheme_str() {
            Some("https") => true,
            Some("http") if host == METADATA_HOST || is_loopback(&host) => false,
            _ => {
                return Err(fail(
                    TransportErrorKind::Protocol,
                    format!("refused to send to {host} without TLS"),
                ));
            }
        };
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let origin = (tls, host, port);
        let mut request = http_request(&uri, outgoing)?;
        let first_byte = outgoing.timeouts.first_byte;
        let waiting = || {
            fail(
                TransportErrorKind::Timeout,
                "waiting for the response timed out".to_owned(),
            )
        };
        if let Some(mut sender) = self.idle.remove(&origin).filter(|sender| !sender.is_closed()) {
            match tokio::time::timeout(first_byte, sender.try_send_request(request)).await {
                Err(_) => return Err(waiting()),
                Ok(Ok(response)) => return self.read(origin, sender, response, outgoing).await,
                Ok(Err(mut refused)) => match refused.take_message() {
                    Some(unsent) => request = unsent,
                    None => return Err(fail(TransportErrorKind::Protocol, refused.into_error().to_string())),
                },
            }
        }
        let mut sender = self.connect(&origin, outgoing).await?;
        let response = tokio::time::timeout(first_byte, sender.send_request(request))
            .await
            .map_err(|_| waiting())?
            .map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))?;
        self.read(origin, sender, response, outgoing).await
    }

    /// Opens a connection to `origin`, over TLS unless it is plain, and
    /// drives it on a task of its own until its sender is dropped.
    async fn connect(&self, origin: &Origin, outgoing: &Outgoing) -> Result<Sender, TransportError> {
        let (tls, host, port) = origin;
        let connect = outgoing.timeouts.connect;
        let timeout = |what: &str| fail(TransportErrorKind::Timeout, format!("{what} timed out"));
        let tcp = async {
            match self.connect_to {
                Some(address) => TcpStream::connect(address).await,
                None => TcpStream::connect((host.trim_start_matches('[').trim_end_matches(']'), *port)).await,
            }
            .map_err(|e| fail(TransportErrorKind::Connect, e.to_string()))
        };
        let tcp = tokio::time::timeout(connect, tcp)
            .await
            .map_err(|_| timeout("connecting"))??;
        if !tls {
            return handshake(tcp).await;
        }
        let name = ServerName::try_from(host.clone()).map_err(|e| fail(TransportErrorKind::Tls, e.to_string()))?;
        let stream = tokio::time::timeout(connect, self.tls.connect(name, tcp))
            .await
            .map_err(|_| timeout("the TLS handshake"))?
            .map_err(|e| fail(TransportErrorKind::Tls, e.to_string()))?;
        handshake(stream).await
    }

    /// Reads `response`, at most the flow's body length, each chunk within its
    /// timeout; keeps `sender` for `origin` once the body has been read whole.
    async fn read(
        &mut self,
        origin: Origin,
        sender: Sender,
        response: http::Response<hyper::body::Incoming>,
        outgoing: &Outgoing,
    ) -> Result<Response, TransportError> {
        let max_body = outgoing.max_response_len;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        // Each frame adds at least one byte until the cap, so this ends.
        while let Some(frame) = tokio::time::timeout(outgoing.timeouts.between_bytes, body.frame())
            .await
            .map_err(|_| fail(TransportErrorKind::Timeout, "reading the body timed out".to_owned()))?
        {
            let frame = frame.map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > max_body {
                    return Err(fail(
                        TransportErrorKind::TooLarge,
                        format!("the body is over {max_body} bytes"),
                    ));
                }
                bytes.extend_from_slice(&data);
            }
        }
        self.idle.insert(origin, sender);
        Ok(Response {
            status,
            headers,
            body: bytes,
        })
    }
}

impl AsyncTransport for HyperTransport {
    async fn send(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        self.exchange(outgoing).await
    }

    fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    async fn sleep_until(&mut self, until: u64) {
        tokio::time::sleep(Duration::from_millis(until.saturating_sub(self.now()))).await;
    }

    async fn read_file(&mut self, path: &str, max_len: usize) -> Result<String, String> {
        let name = path
            .strip_prefix(ARC_KEY_DIRECTORY)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|name| !name.is_empty() && !name.contains('/'))
            .ok_or_else(|| format!("{path} is not in {ARC_KEY_DIRECTORY}"))?;
        let bytes = tokio::fs::read(std::path::Path::new(ARC_KEY_DIRECTORY).join(name))
            .await
            .map_err(|e| format!("cannot read {path}: {e}"))?;
        if bytes.len() > max_len {
            return Err(format!("{path} is larger than {max_len} bytes"));
        }
        String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))
    }
}

/// Starts HTTP/1.1 on `stream`; its connection runs on a task of its own.
async fn handshake(stream: impl AsyncRead + AsyncWrite + Send + Unpin + 'static) -> Result<Sender, TransportError> {
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))?;
    tokio::spawn(connection);
    Ok(sender)
}

/// The flow's request for hyper: origin-form URI, `Host`, the headers, and
/// the body in full (hyper sends its length, never chunks).
fn http_request(uri: &http::Uri, outgoing: &Outgoing) -> Result<http::Request<Full<Bytes>>, TransportError> {
    let request = &outgoing.request;
    let mut builder = http::Request::builder()
        .method(request.method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(http::header::HOST, uri.authority().map_or("", |a| a.as_str()));
    for (name, value) in &request.headers {
        builder = builder.header(*name, value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(request.body.expose().clone())))
        .map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))
}

/// Whether `host` is a loopback address or `localhost`.
fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn fail(kind: TransportErrorKind, message: String) -> TransportError {
    TransportError { kind, message }
}
