//! A whole login against the local test ACR ([`TestAcr`], HTTPS on
//! 127.0.0.1): the `client` component in [`ClientRuntime`], and the native
//! library's [`acr_auth::login`] over [`NativeTransport`], which sends the same
//! requests the same way (hyper, rustls, a fresh TLS connection per request).

use std::net::SocketAddr;
use std::sync::Arc;

use acr_auth::{Credentials, Outgoing, Response, Secret, Transport, TransportError, TransportErrorKind};
use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::flow::{Credentials as ComponentCredentials, LoginOptions as ComponentLoginOptions};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_test_support::acr_server::{DEFAULT_ENTRA_TOKEN, TestAcr};
use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;

use crate::stats::{Plan, Stat, measure};

/// The registry name the test ACR's certificate carries.
const HOST: &str = "benchregistry.azurecr.io";

/// The repository scope the full flow asks an access token for.
const SCOPE: &str = "repository:team/app:pull";

/// A TLS client that trusts only the CA certificates in `ca_pem`.
pub fn tls_connector(ca_pem: &[u8]) -> Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(ca_pem) {
        let cert: CertificateDer<'static> = cert.context("reading the CA certificate")?;
        roots.add(cert)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(tls)))
}

/// A [`Transport`] that connects every request to one address over TLS,
/// trusting one CA, on a fresh connection: what the component's host does.
pub struct NativeTransport {
    runtime: tokio::runtime::Runtime,
    tls: tokio_rustls::TlsConnector,
    address: SocketAddr,
}

impl NativeTransport {
    /// Trusts only `ca_pem` and connects every request to `address`.
    pub fn new(ca_pem: &[u8], address: SocketAddr) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(Self {
            runtime,
            tls: tls_connector(ca_pem)?,
            address,
        })
    }

    /// Sends `request` on a new connection.
    async fn send_async(&self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        let (request, timeouts, max_body) = (&outgoing.request, &outgoing.timeouts, outgoing.max_response_len);
        let fail = |kind, message: String| TransportError { kind, message };
        let uri: http::Uri = request
            .url
            .parse()
            .map_err(|e| fail(TransportErrorKind::Protocol, format!("bad URL: {e}")))?;
        let host = uri.host().unwrap_or_default().to_owned();
        let connect = async {
            let tcp = TcpStream::connect(self.address)
                .await
                .map_err(|e| fail(TransportErrorKind::Connect, e.to_string()))?;
            let name = ServerName::try_from(host.clone()).map_err(|e| fail(TransportErrorKind::Tls, e.to_string()))?;
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|e| fail(TransportErrorKind::Tls, e.to_string()))?;
            hyper::client::conn::http1::handshake(TokioIo::new(tls))
                .await
                .map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))
        };
        let timeout = |what: &str| fail(TransportErrorKind::Timeout, format!("{what} timed out"));
        let (mut sender, connection) = tokio::time::timeout(timeouts.connect, connect)
            .await
            .map_err(|_| timeout("connecting"))??;
        let driver = tokio::spawn(connection);

        let mut builder = http::Request::builder()
            .method(request.method)
            .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
            .header(
                http::header::HOST,
                uri.authority().map_or(host.as_str(), |a| a.as_str()),
            );
        for (name, value) in &request.headers {
            builder = builder.header(*name, value.as_str());
        }
        let outgoing = builder
            .body(Full::new(Bytes::from(request.body.expose().clone())))
            .map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))?;
        let response = tokio::time::timeout(timeouts.first_byte, sender.send_request(outgoing))
            .await
            .map_err(|_| timeout("waiting for the response"))?
            .map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))?;

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
        while let Some(frame) = tokio::time::timeout(timeouts.between_bytes, body.frame())
            .await
            .map_err(|_| timeout("reading the body"))?
        {
            let frame = frame.map_err(|e| fail(TransportErrorKind::Protocol, e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if bytes.len() + data.len() > max_body {
                    return Err(fail(
                        TransportErrorKind::TooLarge,
                        format!("body over {max_body} bytes"),
                    ));
                }
                bytes.extend_from_slice(&data);
            }
        }
        driver.abort();
        Ok(Response {
            status,
            headers,
            body: bytes,
        })
    }
}

impl Transport for NativeTransport {
    fn send(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        self.runtime.block_on(self.send_async(outgoing))
    }

    fn now(&self) -> u64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    fn sleep_until(&mut self, until: u64) {
        std::thread::sleep(std::time::Duration::from_millis(until.saturating_sub(self.now())));
    }

    fn read_file(&mut self, path: &str, _max_len: usize) -> Result<String, String> {
        Err(format!("the benchmark reads no files, so not {path}"))
    }
}

/// Measures both logins, exchange only and with discovery and an access
/// token, against one test ACR.
pub fn round_trips(plan: &Plan) -> Result<Vec<Stat>> {
    let acr = TestAcr::builder(HOST).start();
    let ca = acr.ca_pem();
    let network = Network::new(Some(ca.as_bytes()), vec![connect_to_rule(HOST, acr.addr())])?;
    let client = ClientRuntime::new(network)?;
    let mut native = NativeTransport::new(ca.as_bytes(), acr.addr())?;
    let mut rows = Vec::new();
    for (flow, discover, scopes) in [
        ("exchange only", false, vec![]),
        ("discovery + exchange + token", true, vec![SCOPE.to_owned()]),
    ] {
        let component_options = ComponentLoginOptions {
            tenant: None,
            repository_scopes: scopes.clone(),
            discover,
            custom_cloud: None,
            connect_timeout_ms: None,
            first_byte_timeout_ms: None,
            between_bytes_timeout_ms: None,
            retry: None,
        };
        let native_options = acr_auth::LoginOptions {
            repository_scopes: scopes,
            discover,
            ..Default::default()
        };
        let native_credentials = Credentials::EntraToken(Secret::new(DEFAULT_ENTRA_TOKEN.to_owned()));
        let component_credentials = ComponentCredentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned());
        let mut native_login =
            || acr_auth::login(&mut native, HOST, native_credentials.clone(), native_options.clone());
        let component_login = || client.login(HOST, &component_credentials, &component_options);
        let native_result = native_login().context("native login")?;
        let component_result = component_login()?.map_err(|e| anyhow::anyhow!("component login: {}", e.message))?;
        ensure!(
            native_result.access_token.is_some() == discover,
            "native login: unexpected access token"
        );
        ensure!(
            component_result.access_token.is_some() == discover,
            "component login: unexpected access token"
        );

        let native_stat = measure(format!("login {flow}: native (acr_auth::login)"), plan, || {
            native_login().expect("native login succeeds")
        });
        let component_stat = measure(format!("login {flow}: client component (ClientRuntime)"), plan, || {
            component_login().expect("no trap").expect("component login succeeds")
        });
        let component_stat = component_stat.versus(&native_stat);
        rows.extend([native_stat, component_stat]);
    }
    Ok(rows)
}
