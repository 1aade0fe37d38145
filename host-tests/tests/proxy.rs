//! The composed proxy component end to end: a plain HTTP client pulls a
//! manifest through the proxy host on 127.0.0.1, which logs in to the local
//! test ACR over TLS and forwards the pull with the access token it got.
//!
//! `cargo xtask build` writes the component; `ACR_AUTH_PROXY_COMPONENT`
//! names another.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_proxy_host::{ProxyHost, Settings};
use acr_auth_test_support::acr_server::{DEFAULT_ENTRA_TOKEN, TestAcr};
use acr_auth_test_support::cli::temp_file;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{HeaderMap, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};

const HOST: &str = "testregistry.azurecr.io";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// The most any test may take, compiling the component included.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// The composed proxy: `ACR_AUTH_PROXY_COMPONENT`, or where `cargo xtask build` writes it.
fn component() -> Vec<u8> {
    let path = std::env::var_os("ACR_AUTH_PROXY_COMPONENT").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(
                    || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
                    PathBuf::from,
                )
                .join("components/acr_auth_proxy.wasm")
        },
        PathBuf::from,
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run `cargo xtask build`", path.display()))
}

/// Starts a proxy host for `acr` on 127.0.0.1, with `entra_token` in its
/// token file; returns where it listens. It stops with the test's runtime.
async fn start_proxy(acr: &TestAcr, entra_token: &str, name: &str) -> SocketAddr {
    let settings = Settings {
        registry: HOST.to_owned(),
        entra_token_file: temp_file(&format!("proxy-{name}-token"), format!("{entra_token}\n").as_bytes()),
        network: Network::new(
            Some(acr.ca_pem().as_bytes()),
            vec![connect_to_rule(acr.host(), acr.addr())],
        )
        .expect("network"),
    };
    let host = ProxyHost::new(&component(), settings).expect("the proxy component links");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    tokio::spawn(Arc::new(host).serve(listener));
    addr
}

/// `GET http://<proxy><path>` with an OCI `accept` header, over a new connection.
async fn get(proxy: SocketAddr, path: &str) -> (StatusCode, HeaderMap, Bytes) {
    let tcp = TcpStream::connect(proxy).await.expect("connect to the proxy");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let request = Request::get(path)
        .header(hyper::header::HOST, proxy.to_string())
        .header(hyper::header::ACCEPT, OCI_MANIFEST)
        .body(Empty::<Bytes>::new())
        .expect("request");
    let response = sender.send_request(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the whole body").to_bytes();
    (parts.status, parts.headers, body)
}

/// Runs a test body within [`TEST_TIMEOUT`].
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test finishes in time");
}

/// The first error of an OCI error body: its code and the whole error.
fn first_error(body: &[u8]) -> (String, Value) {
    let body: Value = serde_json::from_slice(body).expect("a JSON body");
    let error = body["errors"][0].clone();
    (error["code"].as_str().expect("an error code").to_owned(), error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_pull_logs_in_and_forwards_with_the_access_token() {
    bounded(async {
        let acr = TestAcr::builder(HOST).start();
        let proxy = start_proxy(&acr, DEFAULT_ENTRA_TOKEN, "pull").await;

        let (status, headers, body) = get(proxy, "/v2/team/app/manifests/1.0").await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(headers[hyper::header::CONTENT_TYPE], OCI_MANIFEST);
        assert_eq!(headers[hyper::header::CONTENT_LENGTH], body.len().to_string());
        let manifest: Value = serde_json::from_slice(&body).expect("the manifest JSON");
        assert_eq!(manifest["schemaVersion"], 2);
        assert_eq!(manifest["mediaType"], OCI_MANIFEST);

        let requests = acr.requests();
        let lines: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
        assert_eq!(
            lines,
            [
                ("POST", "/oauth2/exchange"),
                ("POST", "/oauth2/token"),
                ("GET", "/v2/team/app/manifests/1.0")
            ]
        );
        let scopes: Vec<&str> = requests[1]
            .form
            .iter()
            .filter(|(name, _)| name == "scope")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(scopes, ["repository:team/app:pull"]);
        let issued = acr.issued_access_tokens();
        assert_eq!(issued.len(), 1);
        assert_eq!(
            requests[2].header("authorization"),
            Some(format!("Bearer {}", issued[0].token).as_str())
        );
        assert_eq!(requests[2].header("accept"), Some(OCI_MANIFEST));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_is_a_502_without_tokens() {
    bounded(async {
        let acr = TestAcr::builder(HOST).start();
        let wrong_token = "not-the-entra-token-the-registry-expects";
        let proxy = start_proxy(&acr, wrong_token, "refused").await;

        let (status, _, body) = get(proxy, "/v2/team/app/manifests/1.0").await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        let text = String::from_utf8_lossy(&body);
        for token in [wrong_token, DEFAULT_ENTRA_TOKEN] {
            assert!(!text.contains(token), "the body leaks a token: {text}");
        }
        let (code, error) = first_error(&body);
        assert_eq!(code, "LOGIN_FAILED", "{error}");
        assert_eq!(error["detail"]["status"], 400, "{error}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()), "{error}");

        let paths: Vec<String> = acr.requests().into_iter().map(|r| r.path).collect();
        assert_eq!(
            paths,
            ["/oauth2/exchange"],
            "nothing is sent after the refused exchange"
        );
        assert!(acr.issued_refresh_tokens().is_empty() && acr.issued_access_tokens().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paths_outside_pulls_are_404_without_a_login() {
    bounded(async {
        let acr = TestAcr::builder(HOST).start();
        let proxy = start_proxy(&acr, DEFAULT_ENTRA_TOKEN, "not-found").await;

        for path in ["/", "/v2/", "/oauth2/token", "/v2/team/app/tags/list"] {
            let (status, headers, body) = get(proxy, path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(headers[hyper::header::CONTENT_TYPE], "application/json", "{path}");
            assert_eq!(first_error(&body).0, "NOT_FOUND", "{path}");
        }
        assert!(acr.requests().is_empty(), "the registry is never asked");
    })
    .await;
}
