//! A fake Azure Container Registry on 127.0.0.1, for tests.
//!
//! [`TestAcr`] is a real HTTPS server (rustls, HTTP/1.1) that answers the parts of the ACR
//! protocol this project talks to: the `/v2/` challenge, `/oauth2/exchange` (Entra token to
//! refresh token), `/oauth2/token` (refresh token to repository-scoped access token) and
//! the pull API with its storage redirect (see [`registry`]). It checks every request
//! strictly, as a test oracle should, records every request it sees, and can be told to
//! misbehave per endpoint (see [`Behaviour`]) or to present a faulty certificate (see
//! [`CertFault`]). It also records how each connection began
//! ([`TestAcr::handshakes`]), so tests can tell that a client never fell back to plain HTTP.
//!
//! It runs on its own tokio runtime in a background thread, so plain synchronous tests can
//! use it, and it stops when the [`TestAcr`] value is dropped. It generates a throwaway CA
//! at start; clients trust [`TestAcr::ca_pem`], connect to [`TestAcr::addr`] and send the
//! registry host name ([`TestAcr::host`]) as SNI.

use std::convert::Infallible;
use std::io;
use std::net::{Ipv4Addr, SocketAddr, TcpListener as StdTcpListener};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use hyper::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LOCATION, TRANSFER_ENCODING, WWW_AUTHENTICATE};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rcgen::{BasicConstraints, Certificate, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::crypto::{CryptoProvider, SecureRandom};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

mod registry;

pub use registry::{Blob, OCI_INDEX, OCI_MANIFEST, STORAGE_HOST, TAGS, TestImage, sha256_digest};

/// The Entra access token the server expects at `/oauth2/exchange` unless
/// [`TestAcrBuilder::entra_token`] sets another.
pub const DEFAULT_ENTRA_TOKEN: &str = "test-entra-access-token";

/// The Entra host name under which the server also answers Entra's token
/// endpoint (see [`TestAcrBuilder::entra_app`]).
pub const ENTRA_HOST: &str = "login.microsoftonline.com";

/// The Entra scope every token request must ask for: the ACR audience.
pub const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";

/// An app registration the server's Entra token endpoint knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestApp {
    /// Its tenant: the first path segment of the token endpoint.
    pub tenant: String,
    /// Its client ID.
    pub client_id: String,
    /// The client assertion (federated token) or client secret it accepts.
    pub credential: String,
}

/// The `tenant` claim of refresh tokens when no tenant is configured, as ACR always names one.
pub const DEFAULT_TENANT: &str = "5b1e0f8c-2d4a-4c6e-9f10-3a7b8c9d0e1f";

/// The `x-ms-correlation-request-id` the server puts on every response it builds itself, and
/// that [`Behaviour::acr_error`] sets, so tests can check a client reports it.
pub const CORRELATION_ID: &str = "c0441e1a-7e57-4ac2-8000-00000000c0de";

/// The most request body bytes the server reads; a larger body is answered 413.
pub const MAX_REQUEST_BODY: usize = 1024 * 1024;

/// Lifetime ACR documents for refresh tokens: 3 hours.
const REFRESH_TOKEN_LIFETIME: u64 = 3 * 60 * 60;

/// Lifetime of access tokens from `/oauth2/token`: 75 minutes, as ACR issues them.
pub const ACCESS_TOKEN_LIFETIME: u64 = 75 * 60;

/// The error body ACR sends with an unauthenticated request.
const UNAUTHORIZED_MESSAGE: &str =
    "authentication required, visit https://aka.ms/acr/authorization for more information.";

/// The only name on the certificate of a server started with [`CertFault::WrongHost`].
pub const WRONG_HOST: &str = "someoneelse.azurecr.io";

/// How long [`TestAcr::handshakes`] waits for handshakes under way to end.
pub const HANDSHAKE_WAIT: Duration = Duration::from_secs(5);

/// The first byte of every TLS handshake record: how the server tells TLS from plain HTTP.
const TLS_HANDSHAKE_RECORD: u8 = 0x16;

/// How an OAuth endpoint (`/oauth2/exchange` or `/oauth2/token`) answers, so tests can drive a
/// client through the failures a real registry or a hostile network produce.
///
/// Every request is recorded whatever the behaviour, after its body has been read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Behaviour {
    /// Check the request strictly and answer as ACR does.
    #[default]
    Normal,
    /// Answer with this status, body and headers, whatever the request.
    Status {
        /// HTTP status code.
        status: u16,
        /// Response body, sent as is.
        body: String,
        /// Response headers, sent as given (plus `content-length`).
        headers: Vec<(String, String)>,
    },
    /// Answer 200 with this body (not JSON, a missing field, a wrong type...).
    Body(String),
    /// Answer 200 with a body of this many bytes, streamed and never held in memory, with
    /// `content-length` set; for testing that a client bounds what it reads.
    HugeBody {
        /// Body length in bytes.
        bytes: u64,
        /// Send it chunked, without `content-length`, so that a client only
        /// learns the size by reading.
        chunked: bool,
    },
    /// Read the request, then never send a response; the connection stays open until the
    /// server is dropped. For testing client time-outs.
    NeverAnswer,
    /// Answer with a redirect to `location`; a client must not follow it with a token.
    Redirect {
        /// The `Location` header.
        location: String,
        /// The status, e.g. 302 or 307.
        status: u16,
    },
    /// Answer as [`Behaviour::Normal`] would (tokens are issued), but send only the head, with
    /// the `content-length` of the whole body, and the first half of the body; then reset the
    /// TCP connection (`SO_LINGER` 0, then close: an RST, neither a TLS `close_notify` nor a
    /// FIN). For testing that a client reports a connection lost mid-body.
    ResetMidBody,
    /// Like [`Behaviour::ResetMidBody`], but close cleanly after the first half of the body:
    /// TLS `close_notify`, then a FIN. Only the `content-length` shows the body is cut short,
    /// so a client that trusts a clean close would read half a response.
    Truncated,
    /// Answer as [`Behaviour::Normal`] would (tokens are issued), with `content-length`, but
    /// send the body one byte at a time, `every` apart. For testing between-bytes timeouts.
    /// The body is a few hundred bytes, so the task ends after that many pauses at most,
    /// as soon as the client goes away, or when the server is dropped.
    SlowDrip {
        /// The pause before each byte.
        every: Duration,
    },
    /// Answer the first `times` requests with `status` (429 or 503, say) and
    /// ACR's error body, with `Retry-After: retry_after` seconds when given;
    /// answer the rest as [`Behaviour::Normal`]. For testing retries.
    Busy {
        /// How many requests are refused.
        times: usize,
        /// The status they get.
        status: u16,
        /// The `Retry-After` header, in seconds.
        retry_after: Option<u64>,
    },
    /// Answer `status` with an error whose every field quotes what the
    /// request carried (each form field's value and the `Authorization`
    /// header, whole, then their first 500 characters, a 40-character piece
    /// from the middle and the last 16), as a server that echoes its input
    /// would: at the registry ACR's `{"errors":[{"code","message","detail"}]}`
    /// with the echo in `x-ms-correlation-request-id` too; at Entra its
    /// `error`, `error_description`, `trace_id` and `correlation_id`. For
    /// testing that no secret leaves a client's errors, whole or in part.
    Echo {
        /// The status, e.g. 400 or 401.
        status: u16,
    },
}

/// A fault in the certificate the server presents, chosen when it starts
/// ([`TestAcrBuilder::certificate`]). [`TestAcr::ca_pem`] stays the CA a client is meant to
/// trust, so each fault is the only thing wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertFault {
    /// Signed by the trusted CA and naming the host, but valid only during 2020.
    Expired,
    /// Signed by the trusted CA and current, but naming only [`WRONG_HOST`].
    WrongHost,
    /// Current and naming the host, but signed by another CA, which no client is given.
    UntrustedCa,
}

/// A platform's managed-identity endpoint, as the Azure SDKs speak to it,
/// served on the metadata listener ([`TestAcrBuilder::platform`]). Each
/// answers with the Entra token only to a request exactly as its platform
/// documents it, and `400` with what was wrong otherwise.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Platform {
    /// App Service, Functions, Container Apps: `GET /msi/token` with
    /// `api-version=2019-08-01`, `resource`, and the `X-IDENTITY-HEADER`
    /// header equal to `header` (`IDENTITY_HEADER`); `client_id` exactly
    /// when `client_id` is given.
    AppService {
        /// `IDENTITY_HEADER`.
        header: String,
        /// The user-assigned identity's client ID, if one is expected.
        client_id: Option<String>,
    },
    /// Azure Arc: `GET /metadata/identity/oauth2/token` with
    /// `api-version=2020-06-01`, `resource` and `Metadata: true`. Without
    /// an `Authorization` header: `401` with `WWW-Authenticate: Basic
    /// realm=/var/opt/azcmagent/tokens/<key_name>`; with `Authorization:
    /// Basic <key>`: the token.
    AzureArc {
        /// The key file's name in the agent's token directory.
        key_name: String,
        /// The key file's content.
        key: String,
    },
    /// Cloud Shell: `POST /oauth2/token` with the form `resource=...` and
    /// `Metadata: true`.
    CloudShell,
}

impl Platform {
    /// The endpoint the platform's environment names, on the metadata
    /// listener at `addr`: `IDENTITY_ENDPOINT` or `MSI_ENDPOINT`.
    pub fn endpoint(&self, addr: SocketAddr) -> String {
        match self {
            Self::AppService { .. } => format!("http://{addr}/msi/token"),
            Self::AzureArc { .. } => format!("http://{addr}/metadata/identity/oauth2/token"),
            Self::CloudShell => format!("http://{addr}/oauth2/token"),
        }
    }
}

/// How a TCP connection to the server began, in the order [`TestAcr::handshakes`] lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handshake {
    /// The TLS handshake completed: HTTP requests may follow.
    Completed,
    /// The client began TLS, but the handshake failed, e.g. because it refused the certificate.
    Failed,
    /// The client sent no TLS handshake: plain HTTP, other bytes, or nothing before closing.
    NotTls,
}

impl Behaviour {
    /// A [`Behaviour::Status`] with ACR's error body `{"errors":[{"code":..,"message":..}]}`,
    /// a JSON content type and `x-ms-correlation-request-id: `[`CORRELATION_ID`].
    pub fn acr_error(status: u16, code: &str, message: &str) -> Self {
        Self::Status {
            status,
            body: acr_error_body(code, message),
            headers: vec![
                ("content-type".into(), "application/json; charset=utf-8".into()),
                ("x-ms-correlation-request-id".into(), CORRELATION_ID.into()),
            ],
        }
    }
}

/// One request as the server received it, for tests to inspect what a client sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// HTTP method, e.g. `POST`.
    pub method: String,
    /// Path without the query, e.g. `/oauth2/exchange`.
    pub path: String,
    /// The raw query string without `?`, if the request had one.
    pub query: Option<String>,
    /// Headers in the order received, names in lower case; values decoded lossily as UTF-8.
    pub headers: Vec<(String, String)>,
    /// The body (empty if it was over [`MAX_REQUEST_BODY`] and so not read).
    pub body: Vec<u8>,
    /// The body decoded as `application/x-www-form-urlencoded`, in order and with duplicates,
    /// when the content type says so; empty otherwise.
    pub form: Vec<(String, String)>,
}

impl RecordedRequest {
    /// The first value of header `name` (lower case), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        find_value(&self.headers, name)
    }

    /// The first value of form field `name`, if present.
    pub fn field(&self, name: &str) -> Option<&str> {
        find_value(&self.form, name)
    }
}

/// A token the server issued, so tests can compare it with what a client holds or sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedToken {
    /// The JWT as sent to the client.
    pub token: String,
    /// Its `exp` claim: seconds since the Unix epoch.
    pub expires_at: u64,
    /// The scopes it grants, e.g. `repository:team/app:pull` (empty for refresh tokens).
    pub scopes: Vec<String>,
}

/// Configures a [`TestAcr`] before it starts; made by [`TestAcr::builder`].
#[derive(Clone, Debug)]
#[must_use]
pub struct TestAcrBuilder {
    host: String,
    extra_names: Vec<String>,
    entra_token: String,
    tenant: Option<String>,
    exchange: Behaviour,
    token: Behaviour,
    entra: Behaviour,
    port: u16,
    certificate: Option<CertFault>,
    app: Option<TestApp>,
    metadata_service: Option<Option<String>>,
    platform: Option<Platform>,
    client_certificate: Option<(String, String)>,
    abac: Option<String>,
    metadata_gone: usize,
    connection_delay: Duration,
}

impl TestAcrBuilder {
    /// Also answers Entra's token endpoint, `POST /<tenant>/oauth2/v2.0/token`, as
    /// [`ENTRA_HOST`] (added to the certificate): the client-credentials form of `app` with
    /// its federated token or secret and the ACR scope buys the Entra token `/oauth2/exchange`
    /// accepts; a wrong credential gets Entra's 401 `invalid_client` (AADSTS7000215).
    pub fn entra_app(mut self, app: TestApp) -> Self {
        self.extra_names.push(ENTRA_HOST.to_owned());
        self.app = Some(app);
        self
    }

    /// Also serves the instance metadata service over plain HTTP on another 127.0.0.1 port
    /// ([`TestAcr::metadata_addr`]): `GET /metadata/identity/oauth2/token` with
    /// `api-version=2018-02-01`, the ACR resource, header `Metadata: true`, and `client_id`
    /// exactly when `client_id` is given, buys the Entra token.
    pub fn metadata_service(mut self, client_id: Option<&str>) -> Self {
        self.metadata_service = Some(client_id.map(str::to_owned));
        self
    }

    /// Entra accepts the app's client assertions signed by the certificate
    /// whose public key is `public_key_pem` and SHA-256 thumbprint
    /// (base64url) `thumbprint`, checking them as Entra does: an RS256
    /// signature by that key, `x5t#S256` naming the certificate, `aud` the
    /// token endpoint, `iss` and `sub` the client ID, a current `nbf`/`exp`
    /// window of at most ten minutes, and a `jti` never seen before.
    pub fn entra_certificate(mut self, public_key_pem: &str, thumbprint: &str) -> Self {
        self.client_certificate = Some((public_key_pem.to_owned(), thumbprint.to_owned()));
        self
    }

    /// The registry grants access per repository (repository permissions,
    /// ABAC), as ACR signals it: its refresh tokens carry the
    /// `aad_identity` claim (`identity`, the signed-in principal), and it
    /// refuses a wildcard `repository:*:...` scope.
    pub fn abac(mut self, identity: &str) -> Self {
        self.abac = Some(identity.to_owned());
        self
    }

    /// The instance metadata service answers its first `times` requests
    /// `410 Gone`, as it does while it restarts (which the Azure SDKs retry
    /// for 70 seconds).
    pub fn metadata_gone(mut self, times: usize) -> Self {
        self.metadata_gone = times;
        self
    }

    /// Waits `delay` before answering each new connection, as the round trips of
    /// a TCP and a TLS handshake over a real network would (default none): what
    /// a client that opens a connection per request pays per request.
    pub fn connection_delay(mut self, delay: Duration) -> Self {
        self.connection_delay = delay;
        self
    }

    /// Also serves `platform`'s managed-identity endpoint on the metadata
    /// listener (which it starts if [`Self::metadata_service`] did not), at
    /// [`Platform::endpoint`], with its exact protocol.
    pub fn platform(mut self, platform: Platform) -> Self {
        self.metadata_service.get_or_insert(None);
        self.platform = Some(platform);
        self
    }

    /// Binds this port on 127.0.0.1 instead of an ephemeral one: 443 lets
    /// hosts that cannot redirect connections reach the server, inside a
    /// network namespace of their own (see `host-tests/with-test-acr.sh`).
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The Entra access token `/oauth2/exchange` accepts (default [`DEFAULT_ENTRA_TOKEN`]).
    pub fn entra_token(mut self, token: &str) -> Self {
        self.entra_token = token.to_owned();
        self
    }

    /// The `tenant` form field `/oauth2/exchange` requires; with `None` (the default) the
    /// field is optional and, when sent, must be the Entra app's tenant (with no app, it
    /// must be absent).
    pub fn tenant(mut self, tenant: Option<&str>) -> Self {
        self.tenant = tenant.map(str::to_owned);
        self
    }

    /// Adds a DNS name to the server certificate beside the registry host, e.g. a
    /// geo-replica name a test connects with.
    pub fn extra_name(mut self, name: &str) -> Self {
        self.extra_names.push(name.to_owned());
        self
    }

    /// How `/oauth2/exchange` answers (default [`Behaviour::Normal`]).
    pub fn exchange(mut self, behaviour: Behaviour) -> Self {
        self.exchange = behaviour;
        self
    }

    /// How `/oauth2/token` answers (default [`Behaviour::Normal`]).
    pub fn token(mut self, behaviour: Behaviour) -> Self {
        self.token = behaviour;
        self
    }

    /// How Entra's token endpoint (of the [`entra_app`](Self::entra_app))
    /// answers.
    pub fn entra(mut self, behaviour: Behaviour) -> Self {
        self.entra = behaviour;
        self
    }

    /// Presents a certificate with `fault` instead of a valid one.
    pub fn certificate(mut self, fault: CertFault) -> Self {
        self.certificate = Some(fault);
        self
    }

    /// Generates the CA and certificate, binds 127.0.0.1 (an ephemeral port unless
    /// [`TestAcrBuilder::port`] chose one) and starts
    /// serving in a background thread.
    ///
    /// # Panics
    /// If a certificate cannot be made (e.g. an invalid host name), the port cannot be bound
    /// or the runtime cannot start: this is test scaffolding, and failing loudly is the point.
    pub fn start(self) -> TestAcr {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (ca_pem, tls_config) = make_tls_config(&self.host, &self.extra_names, self.certificate, &provider);

        let mut secret = [0u8; 32];
        provider.secure_random.fill(&mut secret).expect("random JWT key");
        let state = Arc::new(State {
            host: self.host.clone(),
            entra_token: self.entra_token,
            tenant: self.tenant,
            exchange: self.exchange,
            token: self.token,
            entra: self.entra,
            app: self.app,
            metadata_client_id: self.metadata_service.clone().flatten(),
            platform: self.platform.clone(),
            abac: self.abac.clone(),
            metadata_gone: self.metadata_gone,
            connection_delay: self.connection_delay,
            close_connections: Notify::new(),
            client_certificate: self.client_certificate.clone().map(|(pem, thumbprint)| {
                let key = DecodingKey::from_rsa_pem(pem.as_bytes()).expect("an RSA public key");
                (key, thumbprint)
            }),
            jwt_key: EncodingKey::from_secret(&secret),
            image: TestImage::new(),
            random: provider.secure_random,
            log: Mutex::default(),
        });

        let listener = StdTcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("listener address");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-acr")
            .enable_all()
            .build()
            .expect("tokio runtime");
        let metadata = self.metadata_service.is_some().then(|| {
            let listener = StdTcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1");
            listener.set_nonblocking(true).expect("non-blocking listener");
            listener
        });
        let metadata_addr = metadata.as_ref().map(|l| l.local_addr().expect("listener address"));
        let (stop, stopped) = oneshot::channel();
        let acceptor = TlsAcceptor::from(Arc::new(tls_config));
        let server_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name(format!("test-acr-{}", addr.port()))
            .spawn(move || {
                runtime.block_on(async {
                    if let Some(listener) = metadata {
                        tokio::spawn(serve_metadata(listener, Arc::clone(&server_state)));
                    }
                    serve(listener, acceptor, server_state, stopped).await
                });
                // Ends every connection still open, NeverAnswer ones included.
                runtime.shutdown_timeout(Duration::from_secs(1));
            })
            .expect("server thread");

        TestAcr {
            host: self.host,
            addr,
            metadata_addr,
            ca_pem,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// A running fake ACR; see the [module documentation](self). Dropping it stops the server
/// and closes every connection.
#[derive(Debug)]
pub struct TestAcr {
    host: String,
    addr: SocketAddr,
    metadata_addr: Option<SocketAddr>,
    ca_pem: String,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestAcr {
    /// Starts configuring a server for registry host `host`, e.g. `testregistry.azurecr.io`.
    pub fn builder(host: &str) -> TestAcrBuilder {
        TestAcrBuilder {
            host: host.to_owned(),
            extra_names: vec![STORAGE_HOST.to_owned()],
            entra_token: DEFAULT_ENTRA_TOKEN.to_owned(),
            tenant: None,
            exchange: Behaviour::Normal,
            token: Behaviour::Normal,
            entra: Behaviour::Normal,
            port: 0,
            certificate: None,
            app: None,
            metadata_service: None,
            platform: None,
            client_certificate: None,
            abac: None,
            metadata_gone: 0,
            connection_delay: Duration::ZERO,
        }
    }

    /// The PEM of the CA that signed the server certificate: the one root a client must trust.
    pub fn ca_pem(&self) -> String {
        self.ca_pem.clone()
    }

    /// Where the server listens: 127.0.0.1 and an ephemeral port.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where the plain-HTTP instance metadata service listens, when
    /// [`TestAcrBuilder::metadata_service`] asked for one.
    pub fn metadata_addr(&self) -> Option<SocketAddr> {
        self.metadata_addr
    }

    /// The port of [`TestAcr::addr`].
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The registry host name: the certificate's name, the `service` and the `aud`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.log().requests.clone()
    }

    /// Every refresh token `/oauth2/exchange` issued, oldest first.
    pub fn issued_refresh_tokens(&self) -> Vec<IssuedToken> {
        self.state.log().refresh_tokens.clone()
    }

    /// Every access token `/oauth2/token` issued, oldest first.
    pub fn issued_access_tokens(&self) -> Vec<IssuedToken> {
        self.state.log().access_tokens.clone()
    }

    /// Closes every open connection at once, as a
    /// server closes idle kept-alive connections: a client must notice and
    /// open a new one.
    pub fn close_connections(&self) {
        self.state.close_connections.notify_waiters();
    }

    /// How every connection accepted so far began, in the order their handshakes ended.
    ///
    /// A client can give up on a handshake (say, refuse the certificate) before the server
    /// has noticed, so this first waits, up to [`HANDSHAKE_WAIT`], for the handshakes of
    /// connections already accepted to end. Every connection a client made before it returned
    /// and that the server answered at all was accepted by then: TLS needs the server's
    /// answer, and plain HTTP needs one before the client can fail.
    pub fn handshakes(&self) -> Vec<Handshake> {
        let deadline = Instant::now() + HANDSHAKE_WAIT;
        loop {
            let log = self.state.log();
            if log.handshakes.len() >= log.accepted || Instant::now() >= deadline {
                return log.handshakes.clone();
            }
            drop(log);
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for TestAcr {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // An error means the server already stopped.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread must not become a double panic here.
            let _ = thread.join();
        }
    }
}

/// What the server knows and has seen, shared between its tasks and [`TestAcr`].
#[derive(Debug)]
struct State {
    host: String,
    entra_token: String,
    tenant: Option<String>,
    exchange: Behaviour,
    token: Behaviour,
    entra: Behaviour,
    app: Option<TestApp>,
    metadata_client_id: Option<String>,
    platform: Option<Platform>,
    abac: Option<String>,
    metadata_gone: usize,
    connection_delay: Duration,
    /// Notified to close every open connection.
    close_connections: Notify,
    client_certificate: Option<(DecodingKey, String)>,
    jwt_key: EncodingKey,
    random: &'static dyn SecureRandom,
    log: Mutex<Log>,
    /// The image every repository holds (see [`registry`]).
    image: TestImage,
}

/// The record of connections, requests and issued tokens.
#[derive(Debug, Default)]
struct Log {
    /// Connections accepted, whether or not their handshake has ended.
    accepted: usize,
    handshakes: Vec<Handshake>,
    requests: Vec<RecordedRequest>,
    assertion_ids: Vec<String>,
    refresh_tokens: Vec<IssuedToken>,
    access_tokens: Vec<IssuedToken>,
}

/// The response body type: small bodies in full, huge ones streamed.
type ResBody = BoxBody<Bytes, Infallible>;

/// Makes the CA, the server certificate for `host` and `extra_names` (or with `fault`), and
/// the rustls server configuration; returns the PEM of the CA a client should trust with it.
fn make_tls_config(
    host: &str,
    extra_names: &[String],
    fault: Option<CertFault>,
    provider: &Arc<CryptoProvider>,
) -> (String, rustls::ServerConfig) {
    let trusted = make_ca("acr-auth test CA");
    let stranger = (fault == Some(CertFault::UntrustedCa)).then(|| make_ca("acr-auth untrusted test CA"));
    let (issuer_cert, issuer) = stranger.as_ref().unwrap_or(&trusted);

    let names: Vec<String> = match fault {
        Some(CertFault::WrongHost) => vec![WRONG_HOST.to_owned()],
        _ => std::iter::once(host.to_owned())
            .chain(extra_names.iter().cloned())
            .collect(),
    };
    let mut leaf_params = CertificateParams::new(names.clone()).expect("server certificate names");
    leaf_params.distinguished_name.push(DnType::CommonName, &names[0]);
    leaf_params.use_authority_key_identifier_extension = true;
    if fault == Some(CertFault::Expired) {
        leaf_params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf_params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf_key = KeyPair::generate().expect("server key");
    let leaf_cert = leaf_params.signed_by(&leaf_key, issuer).expect("server certificate");

    let chain = vec![leaf_cert.der().clone(), issuer_cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .expect("server TLS configuration");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    (trusted.0.pem(), config)
}

/// A fresh self-signed CA named `name`: its certificate, and the issuer that signs with it.
fn make_ca(name: &str) -> (Certificate, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::new()).expect("CA parameters");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("CA key");
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, Issuer::new(params, key))
}

/// Accepts connections until `stopped` fires, serving each on its own task.
async fn serve(listener: StdTcpListener, acceptor: TlsAcceptor, state: Arc<State>, mut stopped: oneshot::Receiver<()>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        let tcp = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _)) => tcp,
                Err(_) => {
                    // E.g. out of file descriptors: back off rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
        };
        state.log().accepted += 1;
        tokio::spawn(serve_connection(tcp, acceptor.clone(), Arc::clone(&state)));
    }
}

/// Records how a connection begins; serves HTTP/1.1 on it once its TLS handshake completes,
/// until the client leaves or a handler breaks the connection off on purpose.
async fn serve_connection(tcp: TcpStream, acceptor: TlsAcceptor, state: Arc<State>) {
    tokio::time::sleep(state.connection_delay).await;
    let mut first = [0u8; 1];
    let handshake = match tcp.peek(&mut first).await {
        Ok(1) if first[0] == TLS_HANDSHAKE_RECORD => acceptor.accept(tcp).await.ok(),
        _ => None,
    };
    let outcome = match (&handshake, first[0]) {
        (Some(_), _) => Handshake::Completed,
        (None, TLS_HANDSHAKE_RECORD) => Handshake::Failed,
        (None, _) => Handshake::NotTls,
    };
    state.log().handshakes.push(outcome);
    let Some(tls) = handshake else { return };
    let connection = Connection {
        stream: SharedStream(Arc::new(Mutex::new(tls))),
        ended: Arc::new(Notify::new()),
    };
    let handler = connection.clone();
    let closing = Arc::clone(&state);
    let service = service_fn(move |request| handle(Arc::clone(&state), handler.clone(), request));
    let http =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(connection.stream.clone()), service);
    tokio::select! {
        // Errors are the client's doing (reset, bad request line) and end that connection.
        _ = http => {}
        // A handler wrote its broken answer itself; dropping the stream closes the socket.
        () = connection.ended.notified() => {}
        // The test closes every open connection, as a server does with idle ones.
        () = closing.close_connections.notified() => {}
    }
}

/// One TLS connection, shared between hyper, which reads requests and writes answers through
/// it, and a handler that takes it over to answer in a way hyper would refuse to.
#[derive(Clone)]
struct Connection {
    stream: SharedStream,
    /// Notified when a handler has broken the connection off and hyper must let go of it.
    ended: Arc<Notify>,
}

impl Connection {
    /// Sends `response`'s head with the length of its whole body, then only the first half of
    /// the body; then resets the TCP connection (`reset`) or closes TLS and TCP cleanly. Never
    /// returns: the connection task drops the stream, which closes the socket.
    async fn break_off(&self, response: Response<ResBody>, reset: bool) -> Infallible {
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap_or_else(|never| match never {}).to_bytes();
        let mut raw = format!("HTTP/1.1 {}\r\n", parts.status).into_bytes();
        for (name, value) in &parts.headers {
            raw.extend_from_slice(format!("{name}: ").as_bytes());
            raw.extend_from_slice(value.as_bytes());
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        raw.extend_from_slice(&body[..body.len() / 2]);

        let mut stream = self.stream.clone();
        // Without Nagle's delay the bytes leave in `write`, before the reset can discard them.
        let _ = stream.lock().get_ref().0.set_nodelay(true);
        // A client that is already gone makes these fail; the connection ends either way.
        if stream.write_all(&raw).await.is_ok() && stream.flush().await.is_ok() {
            if reset {
                let _ = stream.lock().get_ref().0.set_zero_linger();
            } else {
                let _ = stream.shutdown().await;
            }
        }
        self.ended.notify_one();
        std::future::pending().await
    }
}

/// A TLS stream that several owners read and write in turn; every use is within one task.
#[derive(Clone)]
struct SharedStream(Arc<Mutex<TlsStream<TcpStream>>>);

impl SharedStream {
    /// The stream, even if a panicking task poisoned its lock.
    fn lock(&self) -> MutexGuard<'_, TlsStream<TcpStream>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AsyncRead for SharedStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.lock()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.lock()).poll_shutdown(cx)
    }
}

/// Reads and records one request, then answers it. A body declared or found to be over
/// [`MAX_REQUEST_BODY`] is not read (or not further) and is answered 413.
async fn handle(
    state: Arc<State>,
    connection: Connection,
    request: Request<Incoming>,
) -> Result<Response<ResBody>, Infallible> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let body = if declared.is_some_and(|length| length > MAX_REQUEST_BODY as u64) {
        None
    } else {
        // An error is a body over the limit, or a client gone mid-body.
        let collected = Limited::new(body, MAX_REQUEST_BODY).collect().await;
        collected.ok().map(|collected| collected.to_bytes().to_vec())
    };
    let too_large = body.is_none();
    let recorded = record(&parts, body.unwrap_or_default());
    state.log().requests.push(recorded.clone());
    // Every body a client sends is known in full before it is sent, so a
    // client that streams one chunked has lost track of it: refused, so
    // that such a regression fails the tests that log in.
    if parts.method == hyper::Method::POST && parts.headers.contains_key(TRANSFER_ENCODING) {
        return Ok(acr_error(
            StatusCode::LENGTH_REQUIRED,
            "LENGTH_REQUIRED",
            "a POST must declare its Content-Length, not be sent chunked",
        ));
    }
    if too_large {
        return Ok(acr_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "SIZE_INVALID",
            "request body too large",
        ));
    }
    Ok(state.route(&recorded, &connection).await)
}

/// Turns request parts and body into a [`RecordedRequest`].
fn record(parts: &Parts, body: Vec<u8>) -> RecordedRequest {
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect::<Vec<_>>();
    let form = if find_value(&headers, CONTENT_TYPE.as_str()).is_some_and(is_form_content_type) {
        form_urlencoded::parse(&body).into_owned().collect()
    } else {
        Vec::new()
    };
    RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        body,
        form,
    }
}

impl State {
    /// The log, even if a panicking test thread poisoned its lock.
    fn log(&self) -> std::sync::MutexGuard<'_, Log> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many requests to `request`'s path came before it.
    fn earlier(&self, request: &RecordedRequest) -> usize {
        let log = self.log();
        log.requests
            .iter()
            .filter(|r| r.path == request.path)
            .count()
            .saturating_sub(1)
    }

    /// Dispatches a recorded request, which arrived on `connection`, to its endpoint.
    async fn route(&self, request: &RecordedRequest, connection: &Connection) -> Response<ResBody> {
        match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/oauth2/exchange") => {
                let earlier = self.earlier(request);
                apply(&self.exchange, connection, request, earlier, || self.exchange(request)).await
            }
            ("POST", "/oauth2/token") => {
                let earlier = self.earlier(request);
                apply(&self.token, connection, request, earlier, || self.token(request)).await
            }
            ("POST", path) if self.app.as_ref().is_some_and(|app| path == entra_path(&app.tenant)) => {
                match self.entra {
                    Behaviour::Echo { status } => entra_echo(status, request),
                    _ => {
                        let earlier = self.earlier(request);
                        apply(&self.entra, connection, request, earlier, || self.entra(request)).await
                    }
                }
            }
            ("GET", "/v2/") => self.base(request),
            ("GET", "/oauth2/token") => self.token_by_basic_auth(request),
            (method @ ("GET" | "HEAD"), _) => self.registry(request, method == "HEAD").unwrap_or_else(not_found),
            _ => not_found(),
        }
    }

    /// `GET /v2/`: the challenge, or `{}` for a valid access token.
    fn base(&self, request: &RecordedRequest) -> Response<ResBody> {
        if self.access_scopes(request).is_some() {
            json_response(StatusCode::OK, "{}".to_owned())
        } else {
            self.challenge(None)
        }
    }

    /// The scopes of the unexpired access token this server issued that the request bears,
    /// if it bears one.
    fn access_scopes(&self, request: &RecordedRequest) -> Option<Vec<String>> {
        let header = request.header(AUTHORIZATION.as_str())?;
        let (scheme, token) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let now = unix_now();
        self.log()
            .access_tokens
            .iter()
            .find(|issued| issued.token == token && issued.expires_at > now)
            .map(|issued| issued.scopes.clone())
    }

    /// A 401 with ACR's `WWW-Authenticate` challenge, naming `scope` if given.
    fn challenge(&self, scope: Option<&str>) -> Response<ResBody> {
        let host = &self.host;
        let scope = scope.map(|scope| format!(r#",scope="{scope}""#)).unwrap_or_default();
        let value = format!(r#"Bearer realm="https://{host}/oauth2/token",service="{host}"{scope}"#);
        let mut response = acr_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", UNAUTHORIZED_MESSAGE);
        response
            .headers_mut()
            .insert(WWW_AUTHENTICATE, value.parse().expect("challenge header"));
        response
    }

    /// `POST /oauth2/exchange` done right: checks the form, issues a refresh token.
    fn exchange(&self, request: &RecordedRequest) -> Response<ResBody> {
        let mut expected = vec![
            ("grant_type", Some("access_token")),
            ("service", Some(self.host.as_str())),
            ("access_token", Some(self.entra_token.as_str())),
        ];
        // A configured tenant must be sent; otherwise the tenant is optional
        // (as ACR treats it), and when sent must be the Entra app's.
        let known_tenant = self
            .tenant
            .as_deref()
            .or(self.app.as_ref().map(|app| app.tenant.as_str()));
        if self.tenant.is_some() || request.field("tenant").is_some() {
            expected.push(("tenant", known_tenant));
            if known_tenant.is_none() {
                return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "unexpected form field `tenant`");
            }
        }
        if let Err(message) = check_oauth_request(request, &expected, None) {
            return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
        }
        let tenant = known_tenant.unwrap_or(DEFAULT_TENANT);
        let mut claims = json!({
            "grant_type": "refresh_token",
            "tenant": tenant,
        });
        if let Some(identity) = &self.abac {
            claims["aad_identity"] = identity.as_str().into();
        }
        let token = self.issue(REFRESH_TOKEN_LIFETIME, Vec::new(), claims);
        json_response(StatusCode::OK, json!({ "refresh_token": token }).to_string())
    }

    /// Entra's token endpoint: the client-credentials grant of the configured app.
    fn entra(&self, request: &RecordedRequest) -> Response<ResBody> {
        let app = self.app.as_ref().expect("routed here only with an app");
        let credential = if request.field("client_secret").is_some() {
            vec![("client_secret", None)]
        } else {
            vec![
                (
                    "client_assertion_type",
                    Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ),
                ("client_assertion", None),
            ]
        };
        let mut expected = vec![
            ("client_id", Some(app.client_id.as_str())),
            ("scope", Some(ACR_SCOPE)),
            ("grant_type", Some("client_credentials")),
        ];
        expected.extend(credential);
        if let Err(message) = check_oauth_request(request, &expected, None) {
            return entra_error(StatusCode::BAD_REQUEST, "invalid_request", 900144, &message);
        }
        let given = request.field("client_secret").or(request.field("client_assertion"));
        let signed = match (&self.client_certificate, request.field("client_assertion")) {
            (Some(certificate), Some(assertion)) => Some(self.check_assertion(certificate, assertion, app, request)),
            _ => None,
        };
        if let Some(Err(message)) = signed {
            return entra_error(StatusCode::UNAUTHORIZED, "invalid_client", 700027, &message);
        }
        if signed.is_none() && given != Some(app.credential.as_str()) {
            let message = "Invalid client secret provided.";
            return entra_error(StatusCode::UNAUTHORIZED, "invalid_client", 7000215, message);
        }
        let body = json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": self.entra_token });
        json_response(StatusCode::OK, body.to_string())
    }

    /// Checks a certificate-signed client assertion as Entra does (see
    /// [`TestAcrBuilder::entra_certificate`]).
    fn check_assertion(
        &self,
        (key, thumbprint): &(DecodingKey, String),
        assertion: &str,
        app: &TestApp,
        request: &RecordedRequest,
    ) -> Result<(), String> {
        let header = jsonwebtoken::decode_header(assertion).map_err(|e| format!("not a JWT: {e}"))?;
        if header.alg != Algorithm::RS256 || header.x5t_s256.as_deref() != Some(thumbprint.as_str()) {
            return Err("the assertion is not RS256 with the certificate's x5t#S256".into());
        }
        let audience = format!("https://{ENTRA_HOST}{}", request.path);
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_audience(&[audience]);
        validation.set_issuer(&[app.client_id.as_str()]);
        validation.sub = Some(app.client_id.clone());
        validation.set_required_spec_claims(&["exp", "nbf", "aud", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Value>(assertion, key, &validation)
            .map_err(|e| format!("Client assertion failed signature validation: {e}"))?
            .claims;
        let (nbf, exp) = (claims["nbf"].as_u64().unwrap_or(0), claims["exp"].as_u64().unwrap_or(0));
        if exp.saturating_sub(nbf) > 600 {
            return Err("the assertion is valid for more than ten minutes".into());
        }
        let id = claims["jti"].as_str().ok_or("the assertion has no jti")?.to_owned();
        let mut log = self.log();
        if log.assertion_ids.contains(&id) {
            return Err("the assertion's jti was used before".into());
        }
        log.assertion_ids.push(id);
        Ok(())
    }

    /// The instance metadata service's token endpoint.
    fn metadata(&self, request: &RecordedRequest) -> Response<ResBody> {
        let query: Vec<(String, String)> =
            form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        let api_version = find_value(&query, "api-version");
        let route = (request.method.as_str(), request.path.as_str());
        let problem = match (&self.platform, route, api_version) {
            (_, ("GET", "/metadata/identity/oauth2/token"), Some("2018-02-01")) => {
                if self.earlier(request) < self.metadata_gone {
                    let body = json!({ "error": "unavailable", "error_description": "the service is restarting" });
                    return json_response(StatusCode::GONE, body.to_string());
                }
                self.imds_problem(request, &query)
            }
            (Some(Platform::AzureArc { key_name, key }), ("GET", "/metadata/identity/oauth2/token"), Some(_)) => {
                match request.header("authorization") {
                    None => return arc_challenge(key_name),
                    Some(given) if given != format!("Basic {key}") => Some("the key does not match"),
                    Some(_) => platform_problem(request, &query, "2020-06-01", None, ("metadata", "true")),
                }
            }
            (Some(Platform::AppService { header, client_id }), ("GET", "/msi/token"), _) => platform_problem(
                request,
                &query,
                "2019-08-01",
                client_id.as_deref(),
                ("x-identity-header", header),
            ),
            (Some(Platform::CloudShell), ("POST", "/oauth2/token"), _) => {
                let form = [("resource".to_owned(), "https://containerregistry.azure.net".to_owned())];
                if request.header("metadata") != Some("true") {
                    Some("Required metadata header not specified")
                } else if request.form != form || request.query.is_some() {
                    Some("the form must be resource=<the ACR resource> and nothing else")
                } else {
                    None
                }
            }
            _ => Some("no such endpoint"),
        };
        if let Some(description) = problem {
            let body = json!({ "error": "invalid_request", "error_description": description });
            return json_response(StatusCode::BAD_REQUEST, body.to_string());
        }
        let now = unix_now();
        let mut body = json!({
            "access_token": self.entra_token,
            "expires_on": (now + 86_399).to_string(),
            "resource": "https://containerregistry.azure.net",
            "token_type": "Bearer",
        });
        // IMDS, Arc and Cloud Shell also say `expires_in`; App Service does not.
        if !matches!(route, ("GET", "/msi/token")) {
            body["expires_in"] = "86399".into();
        }
        json_response(StatusCode::OK, body.to_string())
    }

    /// What is wrong with a request to the instance metadata service, if anything.
    fn imds_problem(&self, request: &RecordedRequest, query: &[(String, String)]) -> Option<&'static str> {
        let mut expected = vec![
            ("api-version".to_owned(), "2018-02-01".to_owned()),
            ("resource".to_owned(), "https://containerregistry.azure.net".to_owned()),
        ];
        expected.extend(self.metadata_client_id.clone().map(|id| ("client_id".to_owned(), id)));
        if request.header("metadata") != Some("true") {
            Some("Required metadata header not specified")
        } else if query != expected {
            Some("Identity not found")
        } else {
            None
        }
    }

    /// `POST /oauth2/token` done right: checks the form and the refresh token, issues an
    /// access token for the requested scopes.
    fn token(&self, request: &RecordedRequest) -> Response<ResBody> {
        let expected = [
            ("grant_type", Some("refresh_token")),
            ("service", Some(self.host.as_str())),
            ("refresh_token", None),
        ];
        if let Err(message) = check_oauth_request(request, &expected, Some("scope")) {
            return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
        }
        let refresh_token = request.field("refresh_token").unwrap_or_default();
        let scopes: Vec<String> = request
            .form
            .iter()
            .filter(|(n, _)| n == "scope")
            .map(|(_, v)| v.clone())
            .collect();
        if self.abac.is_some() && scopes.iter().any(|scope| scope.starts_with("repository:*:")) {
            let message = "wildcard repository scopes are not allowed on a registry with repository permissions";
            return acr_error(StatusCode::BAD_REQUEST, "DENIED", message);
        }
        self.grant_access(refresh_token, &scopes, "form field `refresh_token`")
    }

    /// `GET /oauth2/token` as docker clients call it: `service` and `scope` in the query,
    /// the refresh token as the password of Basic authentication (ACR's user name for it is
    /// the zero GUID).
    fn token_by_basic_auth(&self, request: &RecordedRequest) -> Response<ResBody> {
        use base64::Engine as _;
        let query: Vec<(String, String)> =
            form_urlencoded::parse(request.query.as_deref().unwrap_or_default().as_bytes())
                .into_owned()
                .collect();
        if find_value(&query, "service") != Some(self.host.as_str()) {
            return acr_error(
                StatusCode::BAD_REQUEST,
                "BAD_REQUEST",
                "query `service` must name this registry",
            );
        }
        let credentials = request
            .header(AUTHORIZATION.as_str())
            .and_then(|h| h.strip_prefix("Basic "))
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .and_then(|raw| String::from_utf8(raw).ok());
        let Some(password) = credentials
            .as_deref()
            .and_then(|c| c.strip_prefix("00000000-0000-0000-0000-000000000000:"))
        else {
            return acr_error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", UNAUTHORIZED_MESSAGE);
        };
        let scopes: Vec<String> = query
            .iter()
            .filter(|(n, _)| n == "scope")
            .map(|(_, v)| v.clone())
            .collect();
        self.grant_access(password, &scopes, "the Basic authentication password")
    }

    /// An access token for `scopes`, if `refresh_token` (named `what` in errors) is an
    /// unexpired refresh token this server issued.
    fn grant_access(&self, refresh_token: &str, scopes: &[String], what: &str) -> Response<ResBody> {
        let now = unix_now();
        let known = self
            .log()
            .refresh_tokens
            .iter()
            .any(|issued| issued.token == refresh_token && issued.expires_at > now);
        if !known {
            let message = format!("{what} is not an unexpired refresh token this registry issued");
            return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
        }
        if scopes.is_empty() {
            return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "missing form field `scope`");
        }
        let mut access = Vec::new();
        for scope in scopes {
            let Some((kind, name, actions)) = parse_scope(scope) else {
                let message = format!("form field `scope` is malformed: {scope:?}");
                return acr_error(StatusCode::BAD_REQUEST, "BAD_REQUEST", &message);
            };
            access.push(json!({ "type": kind, "name": name, "actions": actions }));
        }
        let token = self.issue(ACCESS_TOKEN_LIFETIME, scopes.to_vec(), json!({ "access": access }));
        json_response(StatusCode::OK, json!({ "access_token": token }).to_string())
    }

    /// Signs a JWT with ACR's common claims plus `extra`, valid for `lifetime` seconds, and
    /// remembers it: as an access token if it has scopes, else as a refresh token.
    fn issue(&self, lifetime: u64, scopes: Vec<String>, extra: Value) -> String {
        let now = unix_now();
        let mut claims = json!({
            "jti": self.guid(),
            "sub": "00000000-0000-0000-0000-00000000a11c",
            "nbf": now,
            "exp": now + lifetime,
            "iat": now,
            "iss": "Azure Container Registry",
            "aud": self.host,
            "version": "1.0",
        });
        if let (Value::Object(claims), Value::Object(extra)) = (&mut claims, extra) {
            claims.extend(extra);
        }
        let token = jsonwebtoken::encode(&Header::default(), &claims, &self.jwt_key).expect("sign JWT");
        let issued = IssuedToken {
            token: token.clone(),
            expires_at: now + lifetime,
            scopes,
        };
        let mut log = self.log();
        if issued.scopes.is_empty() {
            &mut log.refresh_tokens
        } else {
            &mut log.access_tokens
        }
        .push(issued);
        token
    }

    /// A random version-4 GUID, for `jti`.
    fn guid(&self) -> String {
        let mut b = [0u8; 16];
        self.random.fill(&mut b).expect("random bytes");
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let n = u128::from_be_bytes(b);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            n >> 96,
            (n >> 80) & 0xffff,
            (n >> 64) & 0xffff,
            (n >> 48) & 0xffff,
            n & 0xffff_ffff_ffff
        )
    }
}

/// Answers per `behaviour` on `connection`, calling `normal` for the answer
/// [`Behaviour::Normal`] gives (and the faulty ones break).
async fn apply(
    behaviour: &Behaviour,
    connection: &Connection,
    request: &RecordedRequest,
    earlier: usize,
    normal: impl FnOnce() -> Response<ResBody>,
) -> Response<ResBody> {
    let (status, body, headers): (u16, ResBody, &[(String, String)]) = match behaviour {
        Behaviour::Normal => return normal(),
        Behaviour::ResetMidBody => match connection.break_off(normal(), true).await {},
        Behaviour::Truncated => match connection.break_off(normal(), false).await {},
        Behaviour::SlowDrip { every } => {
            let (parts, body) = normal().into_parts();
            let bytes = body.collect().await.unwrap_or_else(|never| match never {}).to_bytes();
            let drip = Drip {
                bytes,
                every: *every,
                pause: Box::pin(tokio::time::sleep(*every)),
            };
            return Response::from_parts(parts, drip.boxed());
        }
        Behaviour::NeverAnswer => std::future::pending().await,
        Behaviour::Busy { times, .. } if earlier >= *times => return normal(),
        Behaviour::Busy {
            status, retry_after, ..
        } => {
            let mut response = acr_error(status_code(*status), "TOOMANYREQUESTS", "the registry is busy");
            if let Some(seconds) = retry_after {
                response.headers_mut().insert("retry-after", (*seconds).into());
            }
            return response;
        }
        Behaviour::Echo { status } => {
            let echo = echo(request);
            let body = json!({ "errors": [{ "code": echo, "message": echo, "detail": echo }] }).to_string();
            let mut response = json_response(status_code(*status), body);
            let header = echo.parse().expect("an echo of header-safe values");
            response.headers_mut().insert("x-ms-correlation-request-id", header);
            return response;
        }
        Behaviour::Status { status, body, headers } => (*status, full(body.clone()), headers),
        Behaviour::Body(body) => return json_response(StatusCode::OK, body.clone()),
        Behaviour::HugeBody { bytes, chunked } => {
            let mut response = json_response(StatusCode::OK, String::new());
            *response.body_mut() = Repeat {
                remaining: *bytes,
                chunked: *chunked,
            }
            .boxed();
            response.headers_mut().remove(CONTENT_LENGTH);
            if !chunked {
                response.headers_mut().insert(CONTENT_LENGTH, (*bytes).into());
            }
            return response;
        }
        Behaviour::Redirect { location, status } => {
            let mut response = Response::new(full(String::new()));
            *response.status_mut() = status_code(*status);
            response
                .headers_mut()
                .insert(LOCATION, location.parse().expect("redirect location"));
            return response;
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status_code(status);
    for (name, value) in headers {
        let name = hyper::header::HeaderName::from_bytes(name.as_bytes()).expect("header name");
        response
            .headers_mut()
            .append(name, value.parse().expect("header value"));
    }
    response
}

/// A status code from a test's number.
fn status_code(status: u16) -> StatusCode {
    StatusCode::from_u16(status).expect("a status code between 100 and 999")
}

/// Checks an OAuth form request: form content type, no token in the query string, each of
/// `expected` present once (with the given value if `Some`), `repeatable` allowed any number
/// of times, and nothing else. The error says which field is wrong.
fn check_oauth_request(
    request: &RecordedRequest,
    expected: &[(&str, Option<&str>)],
    repeatable: Option<&str>,
) -> Result<(), String> {
    let content_type = request.header(CONTENT_TYPE.as_str()).unwrap_or_default();
    if !is_form_content_type(content_type) {
        return Err(format!(
            "content-type must be application/x-www-form-urlencoded, got {content_type:?}"
        ));
    }
    let query = request.query.as_deref().unwrap_or_default();
    if let Some((name, _)) = form_urlencoded::parse(query.as_bytes()).find(|(name, _)| name.ends_with("token")) {
        return Err(format!("`{name}` must not be sent in the query string"));
    }
    for (index, (name, _)) in request.form.iter().enumerate() {
        if repeatable == Some(name.as_str()) {
            continue;
        }
        if !expected.iter().any(|(expected, _)| expected == name) {
            return Err(format!("unexpected form field `{name}`"));
        }
        if request.form[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(format!("form field `{name}` appears more than once"));
        }
    }
    for (name, want) in expected {
        match (request.field(name), want) {
            (None, _) => return Err(format!("missing form field `{name}`")),
            (Some(got), Some(want)) if got != *want => {
                // Never echo a token back, not even a wrong one.
                return Err(if name.ends_with("token") {
                    format!("form field `{name}` is not the expected token")
                } else {
                    format!("form field `{name}` must be {want:?}, got {got:?}")
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// Splits a scope `repository:<name>:<actions>` or `registry:catalog:*` into its type, name
/// and actions; `None` if it has another shape.
fn parse_scope(scope: &str) -> Option<(&str, &str, Vec<&str>)> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    let actions: Vec<&str> = actions.split(',').collect();
    let well_formed = !name.is_empty()
        && !name.contains(char::is_whitespace)
        && actions
            .iter()
            .all(|a| !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '*'));
    let known = match kind {
        "repository" => !name.contains(':'),
        "registry" => name == "catalog" && actions == ["*"],
        _ => false,
    };
    (well_formed && known).then_some((kind, name, actions))
}

/// Whether a content type is `application/x-www-form-urlencoded`, parameters allowed.
fn is_form_content_type(value: &str) -> bool {
    value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
}

/// The first value named `name` in a list of pairs.
fn find_value<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// ACR's JSON error body.
fn acr_error_body(code: &str, message: &str) -> String {
    json!({ "errors": [{ "code": code, "message": message }] }).to_string()
}

/// A response with ACR's error body.
fn acr_error(status: StatusCode, code: &str, message: &str) -> Response<ResBody> {
    json_response(status, acr_error_body(code, message))
}

/// A 404 for any path the fake does not serve.
/// The path of the Entra token endpoint for `tenant`.
fn entra_path(tenant: &str) -> String {
    format!("/{tenant}/oauth2/v2.0/token")
}

/// What [`Behaviour::Echo`] quotes of `request`: each form field's value
/// and the `Authorization` header, whole, then pieces of each.
fn echo(request: &RecordedRequest) -> String {
    let values = request.form.iter().map(|(_, value)| value.as_str());
    let values: Vec<&str> = values.chain(request.header("authorization")).collect();
    let mut echo = format!("refused: {}", values.join(" "));
    for value in values {
        let chars: Vec<char> = value.chars().collect();
        let middle = chars.len() / 2;
        let pieces = [
            &chars[..chars.len().min(500)],
            &chars[middle.saturating_sub(20)..(middle + 20).min(chars.len())],
            &chars[chars.len().saturating_sub(16)..],
        ];
        for piece in pieces {
            echo.push_str(" ...");
            echo.extend(piece);
        }
    }
    echo
}

/// Entra's error quoting `request` (see [`Behaviour::Echo`]).
fn entra_echo(status: u16, request: &RecordedRequest) -> Response<ResBody> {
    let echo = echo(request);
    let body = json!({
        "error": echo,
        "error_description": format!("AADSTS7000215: {echo}"),
        "error_codes": [7000215],
        "trace_id": echo,
        "correlation_id": echo,
    });
    json_response(status_code(status), body.to_string())
}

/// An Entra error response, shaped as Entra sends them.
fn entra_error(status: StatusCode, error: &str, code: u32, message: &str) -> Response<ResBody> {
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{code}: {message} Trace ID: {CORRELATION_ID} Correlation ID: {CORRELATION_ID}"),
        "error_codes": [code],
        "trace_id": CORRELATION_ID,
        "correlation_id": CORRELATION_ID,
    });
    json_response(status, body.to_string())
}

/// What is wrong with a GET to a platform's endpoint, if anything: the query
/// must be exactly `api-version`, the ACR resource and `client_id` (when
/// expected), and `header` must be sent.
fn platform_problem(
    request: &RecordedRequest,
    query: &[(String, String)],
    api_version: &str,
    client_id: Option<&str>,
    (name, value): (&str, &str),
) -> Option<&'static str> {
    let mut expected = vec![
        ("api-version".to_owned(), api_version.to_owned()),
        ("resource".to_owned(), "https://containerregistry.azure.net".to_owned()),
    ];
    expected.extend(client_id.map(|id| ("client_id".to_owned(), id.to_owned())));
    if request.header(name) != Some(value) {
        Some("the platform's header is missing or wrong")
    } else if query != expected {
        Some("the query is not the platform's")
    } else {
        None
    }
}

/// Azure Arc's first answer: the key file to prove the caller can read.
fn arc_challenge(key_name: &str) -> Response<ResBody> {
    let mut response = Response::new(full(String::new()));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    let realm = format!("Basic realm=/var/opt/azcmagent/tokens/{key_name}");
    response
        .headers_mut()
        .insert(WWW_AUTHENTICATE, realm.parse().expect("a challenge header"));
    response
}

/// Serves the instance metadata service over plain HTTP/1.1 until the runtime stops.
async fn serve_metadata(listener: StdTcpListener, state: Arc<State>) {
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    while let Ok((tcp, _)) = listener.accept().await {
        let state = Arc::clone(&state);
        let service = service_fn(move |request: Request<Incoming>| {
            let state = Arc::clone(&state);
            async move {
                let (parts, body) = request.into_parts();
                let body = Limited::new(body, MAX_REQUEST_BODY).collect().await;
                let recorded = record(&parts, body.map(|b| b.to_bytes().to_vec()).unwrap_or_default());
                state.log().requests.push(recorded.clone());
                Ok::<_, Infallible>(state.metadata(&recorded))
            }
        });
        tokio::spawn(hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tcp), service));
    }
}

fn not_found() -> Response<ResBody> {
    acr_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such endpoint on this test registry",
    )
}

/// A JSON response with the correlation header ACR puts on every response.
fn json_response(status: StatusCode, body: String) -> Response<ResBody> {
    let mut response = Response::new(full(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        "application/json; charset=utf-8".parse().expect("content type"),
    );
    headers.insert(
        "x-ms-correlation-request-id",
        CORRELATION_ID.parse().expect("correlation id"),
    );
    response
}

/// A whole body from a string.
fn full(body: impl Into<Bytes>) -> ResBody {
    Full::new(body.into()).boxed()
}

/// Seconds since the Unix epoch.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A body of `remaining` bytes of `x`, made chunk by chunk as the client reads.
struct Repeat {
    remaining: u64,
    /// Hide the length, so that hyper sends the body chunked.
    chunked: bool,
}

/// The chunk [`Repeat`] sends slices of.
static CHUNK: [u8; 64 * 1024] = [b'x'; 64 * 1024];

impl Body for Repeat {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        let length = usize::try_from(self.remaining).map_or(CHUNK.len(), |remaining| remaining.min(CHUNK.len()));
        self.remaining -= length as u64;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK[..length])))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> SizeHint {
        if self.chunked {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.remaining)
        }
    }
}

/// A body sent one byte at a time, `every` apart, with its length announced.
struct Drip {
    /// What is left to send.
    bytes: Bytes,
    every: Duration,
    /// The pause before the next byte.
    pause: Pin<Box<tokio::time::Sleep>>,
}

impl Body for Drip {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.bytes.is_empty() {
            return Poll::Ready(None);
        }
        if self.pause.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        let next = tokio::time::Instant::now() + self.every;
        self.pause.as_mut().reset(next);
        let byte = self.bytes.split_to(1);
        Poll::Ready(Some(Ok(Frame::data(byte))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.bytes.len() as u64)
    }
}
