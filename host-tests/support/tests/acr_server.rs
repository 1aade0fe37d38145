//! Self-test of the fake registry in `acr_auth_test_support::acr_server`, through a plain
//! rustls + hyper client that trusts only the server's test CA and sends the registry name
//! as SNI, as a real client would.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use acr_auth_test_support::acr_server::{
    Behaviour, CORRELATION_ID, CertFault, DEFAULT_ENTRA_TOKEN, Handshake, TestAcr, WRONG_HOST,
};
use acr_auth_test_support::inputs::jwt_claims;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rustls::CertificateError;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const HOST: &str = "testregistry.azurecr.io";
const TENANT: &str = "6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b";

/// Every exchange with the server must finish within this.
const TIMEOUT: Duration = Duration::from_secs(5);

/// A response as the tests see it.
struct Reply {
    status: u16,
    headers: hyper::HeaderMap,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().expect("ASCII header"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }

    /// The message of an ACR error body.
    fn error_message(&self) -> String {
        self.json()["errors"][0]["message"]
            .as_str()
            .expect("ACR error message")
            .to_owned()
    }
}

/// Opens a TLS connection to the server, trusting only its CA, with SNI = its host.
async fn connect(acr: &TestAcr) -> TlsStream<TcpStream> {
    try_connect(acr).await.expect("TLS handshake")
}

/// Like [`connect`], but returns a failed handshake's error.
async fn try_connect(acr: &TestAcr) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(acr.ca_pem().as_bytes()).expect("CA PEM"))
        .expect("CA");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(acr.addr()).await.expect("connect");
    let name = ServerName::try_from(acr.host().to_owned()).expect("server name");
    TlsConnector::from(Arc::new(config)).connect(name, tcp).await
}

/// Sends one request on a new connection.
async fn send_async(acr: &TestAcr, request: Request<Full<Bytes>>) -> Response<Incoming> {
    let tls = connect(acr).await;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .expect("HTTP handshake");
    tokio::spawn(connection);
    sender.send_request(request).await.expect("response")
}

/// Runs `future` on a fresh runtime, failing the test after [`TIMEOUT`].
fn block_on<T>(future: impl Future<Output = T>) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async { tokio::time::timeout(TIMEOUT, future).await.expect("timed out") })
}

/// Sends one request and reads the whole reply.
fn send(acr: &TestAcr, request: Request<Full<Bytes>>) -> Reply {
    block_on(async {
        let response = send_async(acr, request).await;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body").to_bytes().to_vec();
        Reply {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        }
    })
}

fn get(acr: &TestAcr, path: &str, bearer: Option<&str>) -> Reply {
    let mut request = Request::get(path).header("host", acr.host());
    if let Some(token) = bearer {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    send(acr, request.body(Full::default()).expect("request"))
}

fn form_request(acr: &TestAcr, path: &str, fields: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Request::post(path)
        .header("host", acr.host())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .expect("request")
}

fn post_form(acr: &TestAcr, path: &str, fields: &[(&str, &str)]) -> Reply {
    send(acr, form_request(acr, path, fields))
}

fn exchange(acr: &TestAcr, fields: &[(&str, &str)]) -> Reply {
    post_form(acr, "/oauth2/exchange?api-version=2021-07-01", fields)
}

fn good_exchange_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("grant_type", "access_token"),
        ("service", HOST),
        ("tenant", TENANT),
        ("access_token", DEFAULT_ENTRA_TOKEN),
    ]
}

fn server() -> TestAcr {
    TestAcr::builder(HOST).tenant(Some(TENANT)).start()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

/// Exchanges, then asks for an access token for `scopes`.
fn access_token(acr: &TestAcr, scopes: &[&str]) -> String {
    let refresh = exchange(acr, &good_exchange_fields()).json()["refresh_token"]
        .as_str()
        .expect("refresh token")
        .to_owned();
    let mut fields = vec![("grant_type", "refresh_token"), ("service", HOST)];
    fields.extend(scopes.iter().map(|scope| ("scope", *scope)));
    fields.push(("refresh_token", &refresh));
    let reply = post_form(acr, "/oauth2/token", &fields);
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()["access_token"].as_str().expect("access token").to_owned()
}

#[test]
fn base_challenge_names_realm_and_service() {
    let acr = server();
    let reply = get(&acr, "/v2/", None);
    assert_eq!(reply.status, 401);
    assert_eq!(
        reply.header("www-authenticate"),
        r#"Bearer realm="https://testregistry.azurecr.io/oauth2/token",service="testregistry.azurecr.io""#
    );
    assert_eq!(reply.json()["errors"][0]["code"], "UNAUTHORIZED");
    assert_eq!(reply.header("x-ms-correlation-request-id"), CORRELATION_ID);
    assert!(acr.addr().ip().is_loopback());
    let requests = acr.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("GET", "/v2/")
    );
    assert_eq!(requests[0].header("host"), Some(HOST));
}

#[test]
fn exchange_issues_a_three_hour_refresh_token_and_records_the_form() {
    let acr = server();
    let reply = exchange(&acr, &good_exchange_fields());
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let token = reply.json()["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_owned();
    let claims = jwt_claims(&token);
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(
        exp.abs_diff(now() + 3 * 3600) <= 5,
        "exp {exp} is not about 3 hours ahead"
    );
    assert_eq!(claims["iss"], "Azure Container Registry");
    assert_eq!(claims["aud"], HOST);
    assert_eq!(claims["grant_type"], "refresh_token");
    assert_eq!(claims["tenant"], TENANT);

    let issued = acr.issued_refresh_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].token, token);
    assert_eq!(issued[0].expires_at, exp);

    let request = acr.requests().pop().expect("recorded");
    assert_eq!(request.query.as_deref(), Some("api-version=2021-07-01"));
    let form: Vec<(&str, &str)> = request.form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(form, good_exchange_fields());
}

#[test]
fn exchange_refuses_bad_forms_saying_which_field() {
    let acr = server();
    let cases: [(&str, Vec<(&str, &str)>); 6] = [
        (
            "service",
            vec![
                ("grant_type", "access_token"),
                ("service", "other.azurecr.io"),
                ("tenant", TENANT),
                ("access_token", DEFAULT_ENTRA_TOKEN),
            ],
        ),
        (
            "access_token",
            vec![
                ("grant_type", "access_token"),
                ("service", HOST),
                ("tenant", TENANT),
                ("access_token", "wrong"),
            ],
        ),
        (
            "grant_type",
            vec![
                ("grant_type", "refresh_token"),
                ("service", HOST),
                ("tenant", TENANT),
                ("access_token", DEFAULT_ENTRA_TOKEN),
            ],
        ),
        (
            "tenant",
            vec![
                ("grant_type", "access_token"),
                ("service", HOST),
                ("access_token", DEFAULT_ENTRA_TOKEN),
            ],
        ),
        (
            "service",
            vec![
                ("grant_type", "access_token"),
                ("service", HOST),
                ("service", HOST),
                ("tenant", TENANT),
                ("access_token", DEFAULT_ENTRA_TOKEN),
            ],
        ),
        (
            "scope",
            vec![
                ("grant_type", "access_token"),
                ("service", HOST),
                ("scope", "x"),
                ("tenant", TENANT),
                ("access_token", DEFAULT_ENTRA_TOKEN),
            ],
        ),
    ];
    for (field, fields) in cases {
        let reply = exchange(&acr, &fields);
        assert_eq!(reply.status, 400, "{fields:?}");
        let message = reply.error_message();
        assert!(
            message.contains(&format!("`{field}`")),
            "{message:?} should name {field}"
        );
        assert!(
            !message.contains(DEFAULT_ENTRA_TOKEN),
            "a token was echoed: {message:?}"
        );
    }

    let in_query = post_form(
        &acr,
        &format!("/oauth2/exchange?access_token={DEFAULT_ENTRA_TOKEN}"),
        &good_exchange_fields(),
    );
    assert_eq!(in_query.status, 400);
    assert!(in_query.error_message().contains("query string"));

    let mut json = form_request(&acr, "/oauth2/exchange", &good_exchange_fields());
    json.headers_mut()
        .insert("content-type", "application/json".parse().unwrap());
    let reply = send(&acr, json);
    assert_eq!(reply.status, 400);
    assert!(reply.error_message().contains("content-type"));

    assert!(acr.issued_refresh_tokens().is_empty());
}

#[test]
fn exchange_without_tenant_when_none_is_configured() {
    let acr = TestAcr::builder(HOST).entra_token("another-token").start();
    let fields = [
        ("grant_type", "access_token"),
        ("service", HOST),
        ("access_token", "another-token"),
    ];
    let reply = exchange(&acr, &fields);
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let tenant = jwt_claims(reply.json()["refresh_token"].as_str().unwrap())["tenant"].clone();
    assert!(tenant.as_str().is_some_and(|t| t.len() == 36), "{tenant}");

    let reply = exchange(
        &acr,
        &[
            ("grant_type", "access_token"),
            ("service", HOST),
            ("tenant", TENANT),
            ("access_token", "another-token"),
        ],
    );
    assert_eq!(reply.status, 400);
    assert!(reply.error_message().contains("`tenant`"));
}

#[test]
fn token_step_issues_a_scoped_access_token() {
    let acr = server();
    let token = access_token(&acr, &["repository:team/app:pull", "registry:catalog:*"]);
    let claims = jwt_claims(&token);
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(
        exp.abs_diff(now() + 75 * 60) <= 5,
        "exp {exp} is not about 75 minutes ahead"
    );
    assert_eq!(claims["aud"], HOST);
    assert_eq!(
        claims["access"][0],
        serde_json::json!({"type": "repository", "name": "team/app", "actions": ["pull"]})
    );
    assert_eq!(claims["access"][1]["type"], "registry");
    let issued = acr.issued_access_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].scopes, ["repository:team/app:pull", "registry:catalog:*"]);

    let refresh = acr.issued_refresh_tokens()[0].token.clone();
    let unknown = post_form(
        &acr,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("service", HOST),
            ("scope", "repository:a:pull"),
            ("refresh_token", "not-issued"),
        ],
    );
    assert_eq!(unknown.status, 400);
    assert!(unknown.error_message().contains("`refresh_token`"));
    let no_scope = post_form(
        &acr,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("service", HOST),
            ("refresh_token", &refresh),
        ],
    );
    assert_eq!(no_scope.status, 400);
    assert!(no_scope.error_message().contains("`scope`"));
    let bad_scope = post_form(
        &acr,
        "/oauth2/token",
        &[
            ("grant_type", "refresh_token"),
            ("service", HOST),
            ("scope", "repository:a"),
            ("refresh_token", &refresh),
        ],
    );
    assert_eq!(bad_scope.status, 400);
    assert!(bad_scope.error_message().contains("malformed"));
}

#[test]
fn manifest_needs_an_access_token_for_the_repository() {
    let acr = server();
    let path = "/v2/team/app/manifests/1.2";
    let anonymous = get(&acr, path, None);
    assert_eq!(anonymous.status, 401);
    assert!(
        anonymous
            .header("www-authenticate")
            .ends_with(r#",scope="repository:team/app:pull""#)
    );

    let token = access_token(&acr, &["repository:team/app:pull"]);
    let pulled = get(&acr, path, Some(&token));
    assert_eq!(pulled.status, 200);
    assert_eq!(
        pulled.header("content-type"),
        "application/vnd.oci.image.manifest.v1+json"
    );
    assert_eq!(pulled.json()["schemaVersion"], 2);
    assert_eq!(get(&acr, "/v2/", Some(&token)).status, 200);

    assert_eq!(get(&acr, "/v2/other/manifests/1.2", Some(&token)).status, 401);
    let refresh = acr.issued_refresh_tokens()[0].token.clone();
    assert_eq!(
        get(&acr, path, Some(&refresh)).status,
        401,
        "a refresh token is not an access token"
    );
}

#[test]
fn behaviours_status_body_redirect() {
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::acr_error(401, "UNAUTHORIZED", "token rejected"))
        .token(Behaviour::Redirect {
            location: "https://elsewhere.example/".into(),
            status: 307,
        })
        .start();
    let rejected = exchange(&acr, &good_exchange_fields());
    assert_eq!(rejected.status, 401);
    assert_eq!(rejected.error_message(), "token rejected");
    assert_eq!(rejected.header("x-ms-correlation-request-id"), CORRELATION_ID);
    let redirected = post_form(&acr, "/oauth2/token", &[]);
    assert_eq!(redirected.status, 307);
    assert_eq!(redirected.header("location"), "https://elsewhere.example/");

    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::Body("not json".into()))
        .start();
    let reply = exchange(&acr, &[]);
    assert_eq!((reply.status, reply.body.as_slice()), (200, b"not json".as_slice()));
}

#[test]
fn huge_body_announces_its_length_and_streams() {
    let bytes = 100 * 1024 * 1024;
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::HugeBody { bytes, chunked: false })
        .start();
    block_on(async {
        let mut response = send_async(&acr, form_request(&acr, "/oauth2/exchange", &[])).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-length"], bytes.to_string().as_str());
        let frame = response.body_mut().frame().await.expect("a frame").expect("data");
        assert!(frame.data_ref().is_some_and(|data| !data.is_empty()));
        // Dropping the response here closes the connection without reading the rest.
    });
}

#[test]
fn never_answer_holds_the_request_and_drop_stops_the_server() {
    let acr = TestAcr::builder(HOST).exchange(Behaviour::NeverAnswer).start();
    let addr = acr.addr();
    block_on(async {
        let pending = send_async(&acr, form_request(&acr, "/oauth2/exchange", &good_exchange_fields()));
        assert!(
            tokio::time::timeout(Duration::from_millis(300), pending).await.is_err(),
            "it answered"
        );
    });
    assert_eq!(acr.requests().len(), 1, "the request is recorded before the silence");
    drop(acr);
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
        "still listening"
    );
}

#[test]
fn oversized_body_is_refused_unread() {
    let acr = server();
    // Announce 2 MiB but send a few bytes: the server must answer from the header alone.
    let head = format!(
        "POST /oauth2/exchange HTTP/1.1\r\nhost: {HOST}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\na=b",
        2 * 1024 * 1024
    );
    let reply = block_on(async {
        let mut tls = connect(&acr).await;
        tls.write_all(head.as_bytes()).await.expect("write");
        tls.flush().await.expect("flush");
        let mut reply = Vec::new();
        let mut buffer = [0u8; 4096];
        while !reply.windows(4).any(|w| w == b"\r\n\r\n") {
            match tls.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => reply.extend_from_slice(&buffer[..n]),
            }
        }
        String::from_utf8_lossy(&reply).into_owned()
    });
    assert!(reply.starts_with("HTTP/1.1 413"), "{reply:?}");
    let recorded = acr.requests();
    assert_eq!(recorded.len(), 1);
    assert!(recorded[0].body.is_empty());
}

#[test]
fn a_chunked_post_is_refused_with_411() {
    let acr = server();
    // A well-formed exchange, sent chunked: every client of the registry knows
    // its body in full, so one that streams it has lost its length.
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(good_exchange_fields())
        .finish();
    let request = format!(
        "POST /oauth2/exchange HTTP/1.1\r\nhost: {HOST}\r\nconnection: close\r\n\
         content-type: application/x-www-form-urlencoded\r\ntransfer-encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let reply = block_on(async {
        let mut tls = connect(&acr).await;
        tls.write_all(request.as_bytes()).await.expect("write");
        tls.flush().await.expect("flush");
        let mut received = Vec::new();
        let _ = tls.read_to_end(&mut received).await;
        String::from_utf8_lossy(&received).into_owned()
    });
    assert!(reply.starts_with("HTTP/1.1 411"), "{reply:?}");
    assert!(reply.contains("LENGTH_REQUIRED"), "{reply:?}");
    assert!(acr.issued_refresh_tokens().is_empty());
    // The same form with its length is a good exchange.
    assert_eq!(exchange(&acr, &good_exchange_fields()).status, 200);
}

/// Sends a well-formed exchange request on a raw TLS connection and reads until the server
/// ends the connection: what arrived, split into head and body, and how reading ended (`Ok`
/// for a clean close).
fn raw_exchange(acr: &TestAcr) -> (String, Vec<u8>, std::io::Result<()>) {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(good_exchange_fields())
        .finish();
    let request = format!(
        "POST /oauth2/exchange HTTP/1.1\r\nhost: {HOST}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let (received, end) = block_on(async {
        let mut tls = connect(acr).await;
        tls.write_all(request.as_bytes()).await.expect("write");
        tls.flush().await.expect("flush");
        let mut received = Vec::new();
        // On an error, what was read before it is kept.
        let end = tls.read_to_end(&mut received).await.map(drop);
        (received, end)
    });
    let split = received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a whole response head");
    let head = String::from_utf8(received[..split].to_vec()).expect("ASCII head");
    (head, received[split + 4..].to_vec(), end)
}

/// Checks the head and half body a broken-off answer sent: the issued token's answer,
/// announced whole, cut in half.
fn assert_half_of_the_answer(acr: &TestAcr, head: &str, body: &[u8]) {
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    let issued = acr.issued_refresh_tokens();
    assert_eq!(issued.len(), 1);
    let whole = serde_json::json!({ "refresh_token": issued[0].token }).to_string();
    assert!(
        head.lines()
            .any(|line| line.eq_ignore_ascii_case(&format!("content-length: {}", whole.len()))),
        "{head}"
    );
    assert_eq!(body, &whole.as_bytes()[..whole.len() / 2]);
}

#[test]
fn reset_mid_body_sends_half_the_answer_then_resets() {
    let acr = TestAcr::builder(HOST)
        .tenant(Some(TENANT))
        .exchange(Behaviour::ResetMidBody)
        .start();
    let (head, body, end) = raw_exchange(&acr);
    assert_half_of_the_answer(&acr, &head, &body);
    let error = end.expect_err("a reset, not a close");
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    assert_eq!(acr.handshakes(), [Handshake::Completed]);
}

#[test]
fn truncated_sends_half_the_answer_then_closes_cleanly() {
    let acr = TestAcr::builder(HOST)
        .tenant(Some(TENANT))
        .exchange(Behaviour::Truncated)
        .start();
    let (head, body, end) = raw_exchange(&acr);
    assert_half_of_the_answer(&acr, &head, &body);
    end.expect("TLS close_notify, then end of stream");
}

#[test]
fn slow_drip_delivers_the_whole_answer_with_its_length() {
    let acr = TestAcr::builder(HOST)
        .tenant(Some(TENANT))
        .exchange(Behaviour::SlowDrip {
            every: Duration::from_millis(1),
        })
        .start();
    let reply = exchange(&acr, &good_exchange_fields());
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-length"), reply.body.len().to_string());
    assert_eq!(
        reply.json()["refresh_token"].as_str(),
        Some(acr.issued_refresh_tokens()[0].token.as_str())
    );
}

/// Whether `error` is the reason a client must refuse a certificate with `fault`.
fn is_refusal_for(fault: CertFault, error: &CertificateError) -> bool {
    match fault {
        CertFault::Expired => matches!(
            error,
            CertificateError::Expired | CertificateError::ExpiredContext { .. }
        ),
        CertFault::WrongHost => matches!(
            error,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
        ),
        CertFault::UntrustedCa => matches!(error, CertificateError::UnknownIssuer),
        other => panic!("no expected refusal for {other:?}"),
    }
}

#[test]
fn certificate_faults_fail_verification_for_their_own_reason() {
    for fault in [CertFault::Expired, CertFault::WrongHost, CertFault::UntrustedCa] {
        let acr = TestAcr::builder(HOST).certificate(fault).start();
        let error = block_on(try_connect(&acr)).expect_err("the handshake must fail");
        let reason = error.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
        assert!(
            matches!(reason, Some(rustls::Error::InvalidCertificate(e)) if is_refusal_for(fault, e)),
            "{fault:?}: {error}"
        );
        assert_eq!(acr.handshakes(), [Handshake::Failed], "{fault:?}");
        assert!(acr.requests().is_empty());
    }
    // The wrong host's certificate is valid for its own name: only the name is wrong.
    let acr = TestAcr::builder(WRONG_HOST).certificate(CertFault::WrongHost).start();
    block_on(connect(&acr));
}

#[test]
fn plain_http_is_recorded_and_never_served() {
    let acr = server();
    let reply = block_on(async {
        let mut tcp = TcpStream::connect(acr.addr()).await.expect("connect");
        let request = format!("GET /v2/ HTTP/1.1\r\nhost: {HOST}\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.expect("write");
        let mut reply = Vec::new();
        // The server closes without answering; a reset is as good as a close here.
        let _ = tcp.read_to_end(&mut reply).await;
        reply
    });
    assert!(reply.is_empty(), "{}", String::from_utf8_lossy(&reply));
    assert_eq!(acr.handshakes(), [Handshake::NotTls]);
    assert!(acr.requests().is_empty());
}
