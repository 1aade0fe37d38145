//! The pull proxy end to end: a plain HTTP client pulls through the proxy
//! host on 127.0.0.1, which logs in to the local test ACR over TLS (through
//! its Entra token endpoint, with a client secret from `wasi:config`), caches
//! the tokens in `wasi:keyvalue` and forwards each pull with its access token.
//!
//! Two `acr-auth-proxy` processes share a real Redis server as their cache.
//!
//! `cargo xtask build` writes the component; `ACR_AUTH_PROXY_COMPONENT`
//! names another, `ACR_AUTH_PROXY` another proxy binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_proxy_host::{KeyValue, ProxyHost, Settings};
use acr_auth_test_support::acr_server::{
    ACCESS_TOKEN_LIFETIME, ENTRA_HOST, OCI_INDEX, OCI_MANIFEST, STORAGE_HOST, TestAcr, TestApp, TestImage,
};
use acr_auth_test_support::cli::temp_file;
use acr_auth_test_support::proxy_component;
use acr_auth_test_support::redis_server::RedisServer;
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};

const HOST: &str = "testregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// A client secret of a realistic length and alphabet.
const CLIENT_SECRET: &str = "Xq8~Vn2.Lr5_Tg7-Hw3.Kb9~Mz4_Pd6-Fs1.Jc0~Ny8_Qe2-Ua5";
/// The most any test may take, compiling the component included.
const TEST_TIMEOUT: Duration = Duration::from_secs(240);

/// A test ACR that also answers Entra for the test app.
fn acr() -> TestAcr {
    TestAcr::builder(HOST)
        .entra_app(TestApp {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            credential: CLIENT_SECRET.into(),
        })
        .start()
}

/// The settings of the client-secret identity, plus `extra`.
fn config(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let base = [
        ("registry", HOST),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
    ];
    let mut config: Vec<(String, String)> = Vec::new();
    for (key, value) in base.iter().chain(extra) {
        config.retain(|(k, _)| k != key);
        config.push(((*key).to_owned(), (*value).to_owned()));
    }
    config
}

/// Starts a proxy host for `acr` on 127.0.0.1 with `config` and `cache`;
/// returns where it listens. It stops with the test's runtime.
async fn start_proxy(acr: &TestAcr, config: Vec<(String, String)>, cache: KeyValue) -> SocketAddr {
    let settings = Settings {
        config,
        cache,
        network: Network::new(
            Some(acr.ca_pem().as_bytes()),
            vec![
                connect_to_rule(acr.host(), acr.addr()),
                connect_to_rule(ENTRA_HOST, acr.addr()),
            ],
        )
        .expect("network"),
    };
    let host = ProxyHost::new(&proxy_component(), settings).expect("the proxy component links");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("listener address");
    tokio::spawn(Arc::new(host).serve(listener));
    addr
}

/// One response, its body in full.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map_or("", |v| v.to_str().expect("an ASCII header"))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The first error of a distribution-spec error body.
    fn error(&self) -> Value {
        self.json()["errors"][0].clone()
    }
}

/// `method http://<proxy><path>` with `Host: host` and `headers`, over a new connection.
async fn send(proxy: SocketAddr, method: Method, host: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let tcp = TcpStream::connect(proxy).await.expect("connect to the proxy");
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("handshake");
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(hyper::header::HOST, host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(Empty::<Bytes>::new()).expect("request");
    let response = sender.send_request(request).await.expect("a response");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("the whole body").to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `GET` with `Host: 127.0.0.1:<port>`, as a client configured with the proxy's address sends it.
async fn get(proxy: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Answer {
    send(proxy, Method::GET, &proxy.to_string(), path, headers).await
}

/// Runs a test body within [`TEST_TIMEOUT`].
async fn bounded(test: impl Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, test)
        .await
        .expect("the test finishes in time");
}

/// How many requests the test ACR got at Entra, `/oauth2/exchange` and `/oauth2/token`.
fn logins(acr: &TestAcr) -> (usize, usize, usize) {
    let requests = acr.requests();
    let count = |pred: &dyn Fn(&str) -> bool| requests.iter().filter(|r| pred(&r.path)).count();
    (
        count(&|p| p.ends_with("/oauth2/v2.0/token")),
        count(&|p| p == "/oauth2/exchange"),
        count(&|p| p == "/oauth2/token"),
    )
}

/// The registry API requests the test ACR got: method and path with query.
fn pulls(acr: &TestAcr) -> Vec<(String, String)> {
    acr.requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/v2/"))
        .map(|r| {
            let query = r.query.map(|q| format!("?{q}")).unwrap_or_default();
            (r.method, format!("{}{query}", r.path))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_logs_in_once_and_later_pulls_use_the_cached_tokens() {
    bounded(async {
        let acr = acr();
        let image = TestImage::new();
        let proxy = start_proxy(&acr, config(&[]), KeyValue::memory()).await;

        let answer = get(proxy, "/v2/team/app/manifests/1.0", &[("accept", OCI_MANIFEST)]).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        assert_eq!(answer.header("content-type"), OCI_MANIFEST);
        assert_eq!(answer.header("docker-content-digest"), image.manifest.digest);
        assert_eq!(answer.header("content-length"), image.manifest.bytes.len().to_string());
        assert_eq!(answer.body, image.manifest.bytes);
        assert_eq!(logins(&acr), (1, 1, 1));
        let token_request = acr
            .requests()
            .into_iter()
            .find(|r| r.path == "/oauth2/token")
            .expect("token request");
        let scopes: Vec<&str> = token_request
            .form
            .iter()
            .filter(|(name, _)| name == "scope")
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(scopes, ["repository:team/app:pull"]);
        let issued = acr.issued_access_tokens();
        let pull = acr.requests().into_iter().last().expect("the pull");
        assert_eq!(
            pull.header("authorization"),
            Some(format!("Bearer {}", issued[0].token).as_str())
        );
        assert_eq!(pull.header("accept"), Some(OCI_MANIFEST));

        // By digest, and HEAD (the headers without the body): no login.
        let by_digest = format!("/v2/team/app/manifests/{}", image.manifest.digest);
        assert_eq!(get(proxy, &by_digest, &[]).await.body, image.manifest.bytes);
        let head = send(
            proxy,
            Method::HEAD,
            &proxy.to_string(),
            "/v2/team/app/manifests/latest",
            &[],
        )
        .await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.header("content-type"), OCI_INDEX);
        assert_eq!(head.header("docker-content-digest"), image.index.digest);
        assert_eq!(head.header("content-length"), image.index.bytes.len().to_string());
        assert!(head.body.is_empty());
        assert_eq!(logins(&acr), (1, 1, 1), "the cached access token serves every pull");

        // Another repository: a token request from the cached refresh token only.
        let other = get(proxy, "/v2/team/other/manifests/1.2", &[]).await;
        assert_eq!(other.status, StatusCode::OK);
        assert_eq!(logins(&acr), (1, 1, 2));
        let unknown = get(proxy, "/v2/team/app/manifests/9.9", &[]).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND);
        assert_eq!(
            unknown.error()["code"],
            "MANIFEST_UNKNOWN",
            "the registry's error is relayed"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blobs_are_redirected_to_storage_with_the_range_passed_on() {
    bounded(async {
        let acr = acr();
        let image = TestImage::new();
        let proxy = start_proxy(&acr, config(&[]), KeyValue::memory()).await;
        let layer = &image.layers[1];
        let path = format!("/v2/team/app/blobs/{}", layer.digest);

        let answer = get(proxy, &path, &[("range", "bytes=0-99")]).await;
        assert_eq!(answer.status, StatusCode::TEMPORARY_REDIRECT);
        let location = answer.header("location");
        assert!(
            location.starts_with(&format!("https://{STORAGE_HOST}/registry/{}?", layer.digest)),
            "{location}"
        );
        assert!(
            location.contains("&sig="),
            "the signed URL is relayed whole: {location}"
        );
        let issued = acr.issued_access_tokens();
        for (name, value) in &answer.headers {
            let value = value.to_str().unwrap_or_default();
            assert!(!value.contains(&issued[0].token), "{name} carries the access token");
        }
        let sent = acr.requests().into_iter().last().expect("the blob request");
        assert_eq!(sent.header("range"), Some("bytes=0-99"));

        let head = send(proxy, Method::HEAD, &proxy.to_string(), &path, &[]).await;
        assert_eq!(head.status, StatusCode::OK);
        assert_eq!(head.header("content-length"), layer.bytes.len().to_string());
        assert_eq!(head.header("docker-content-digest"), layer.digest);
        assert_eq!(logins(&acr), (1, 1, 1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_paginate_and_referrers_pass_through() {
    bounded(async {
        let acr = acr();
        let image = TestImage::new();
        let proxy = start_proxy(&acr, config(&[]), KeyValue::memory()).await;

        let first = get(proxy, "/v2/team/app/tags/list?n=2&evil=1", &[]).await;
        assert_eq!(first.status, StatusCode::OK);
        assert_eq!(first.json(), json!({ "name": "team/app", "tags": ["1.0", "1.2"] }));
        let link = first.header("link").to_owned();
        assert_eq!(link, r#"</v2/team/app/tags/list?last=1.2&n=2>; rel="next""#);
        let next = link
            .trim_start_matches('<')
            .split_once('>')
            .expect("a link")
            .0
            .to_owned();
        let second = get(proxy, &next, &[]).await;
        assert_eq!(second.json(), json!({ "name": "team/app", "tags": ["latest"] }));
        assert!(second.headers.get("link").is_none());

        let referrers = format!(
            "/v2/team/app/referrers/{}?artifactType=application%2Fvnd.example",
            image.manifest.digest
        );
        let answer = get(proxy, &referrers, &[]).await;
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.header("content-type"), OCI_INDEX);
        assert_eq!(answer.json()["manifests"], json!([]));

        let sent: Vec<String> = pulls(&acr).into_iter().map(|(_, path)| path).collect();
        assert_eq!(
            sent,
            [
                "/v2/team/app/tags/list?n=2".to_owned(),
                "/v2/team/app/tags/list?last=1.2&n=2".to_owned(),
                format!(
                    "/v2/team/app/referrers/{}?artifactType=application%2Fvnd.example",
                    image.manifest.digest
                ),
            ],
            "only the parameters the spec names reach the registry"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_login_is_a_502_without_secrets() {
    bounded(async {
        let acr = acr();
        let wrong = "Wq8~Vn2.Lr5_Tg7-Hw3.Kb9~Mz4_Pd6-Fs1.Jc0~Ny8_Qe2-Ua5";
        let proxy = start_proxy(&acr, config(&[("AZURE_CLIENT_SECRET", wrong)]), KeyValue::memory()).await;

        let answer = get(proxy, "/v2/team/app/manifests/1.0", &[]).await;
        assert_eq!(answer.status, StatusCode::BAD_GATEWAY);
        let text = String::from_utf8_lossy(&answer.body);
        for secret in [wrong, CLIENT_SECRET] {
            for start in 0..secret.len() - 15 {
                assert!(
                    !text.contains(&secret[start..start + 16]),
                    "the body leaks a secret: {text}"
                );
            }
        }
        let error = answer.error();
        assert_eq!(error["code"], "UNAUTHORIZED", "{error}");
        assert_eq!(error["detail"]["status"], 401, "{error}");
        assert_eq!(error["detail"]["stage"], "entra", "{error}");
        assert_eq!(
            logins(&acr),
            (1, 0, 0),
            "nothing is sent after the refused Entra request"
        );
        assert!(pulls(&acr).is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_base_and_every_refusal_need_no_login() {
    bounded(async {
        let acr = acr();
        let proxy = start_proxy(&acr, config(&[]), KeyValue::memory()).await;

        let base = get(proxy, "/v2/", &[]).await;
        assert_eq!(base.status, StatusCode::OK);
        assert_eq!(base.header("docker-distribution-api-version"), "registry/2.0");
        assert_eq!(base.json(), json!({}));
        let head = send(proxy, Method::HEAD, &proxy.to_string(), "/v2/", &[]).await;
        assert_eq!(head.status, StatusCode::OK);

        let refused = [
            (Method::GET, "/", StatusCode::NOT_FOUND, "UNSUPPORTED"),
            (Method::GET, "/v2/_catalog", StatusCode::NOT_FOUND, "UNSUPPORTED"),
            (Method::GET, "/oauth2/token", StatusCode::NOT_FOUND, "UNSUPPORTED"),
            (
                Method::POST,
                "/v2/team/app/blobs/uploads/",
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
            ),
            (
                Method::PUT,
                "/v2/team/app/manifests/1.0",
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
            ),
            (
                Method::DELETE,
                "/v2/team/app/manifests/1.0",
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
            ),
            (
                Method::GET,
                "/v2/Team/app/manifests/1.0",
                StatusCode::BAD_REQUEST,
                "NAME_INVALID",
            ),
            (
                Method::GET,
                "/v2/team/app/manifests/1.0%2F..",
                StatusCode::BAD_REQUEST,
                "NAME_INVALID",
            ),
        ];
        for (method, path, status, code) in refused {
            let answer = send(proxy, method.clone(), &proxy.to_string(), path, &[]).await;
            assert_eq!(answer.status, status, "{method} {path}");
            assert_eq!(answer.header("content-type"), "application/json", "{method} {path}");
            assert_eq!(answer.error()["code"], code, "{method} {path}");
        }
        assert!(acr.requests().is_empty(), "the registry is never asked");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_name_not_allowed_is_refused_so_dns_rebinding_reaches_nothing() {
    bounded(async {
        let acr = acr();
        let loopback = start_proxy(&acr, config(&[]), KeyValue::memory()).await;
        let port = loopback.port();
        // A web page at attacker.example whose name now resolves to 127.0.0.1
        // sends its own name; so does any name the proxy was not given.
        for host in [
            format!("attacker.example:{port}"),
            "attacker.example".to_owned(),
            format!("127.0.0.2:{port}"),
        ] {
            let answer = send(loopback, Method::GET, &host, "/v2/team/app/manifests/1.0", &[]).await;
            assert_eq!(answer.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
            assert_eq!(answer.error()["code"], "DENIED", "{host}");
        }
        for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
            let answer = send(loopback, Method::GET, &host, "/v2/", &[]).await;
            assert_eq!(answer.status, StatusCode::OK, "{host}");
        }
        assert!(acr.requests().is_empty(), "a refused Host reaches nothing");

        let named = start_proxy(&acr, config(&[("allowed-hosts", "mirror.example")]), KeyValue::memory()).await;
        let answer = send(
            named,
            Method::GET,
            "Mirror.Example:5000",
            "/v2/team/app/manifests/1.0",
            &[],
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK);
        let answer = send(named, Method::GET, &format!("localhost:{}", named.port()), "/v2/", &[]).await;
        assert_eq!(
            answer.status,
            StatusCode::MISDIRECTED_REQUEST,
            "only the configured names"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_the_proxy_cannot_use_are_refused_by_name() {
    bounded(async {
        let acr = acr();
        let certificate = config(&[("AZURE_CLIENT_CERTIFICATE_PATH", "/etc/ssl/app.pem")])
            .into_iter()
            .filter(|(key, _)| key != "AZURE_CLIENT_SECRET")
            .collect();
        let proxy = start_proxy(&acr, certificate, KeyValue::memory()).await;
        let answer = get(proxy, "/v2/team/app/manifests/1.0", &[]).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        let message = answer.error()["message"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains("certificate"), "{message}");

        let proxy = start_proxy(&acr, config(&[("cache-margin-seconds", "soon")]), KeyValue::memory()).await;
        let answer = get(proxy, "/v2/team/app/manifests/1.0", &[]).await;
        assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(answer.body.windows(20).any(|w| w == b"cache-margin-seconds"));
        assert!(acr.requests().is_empty());
    })
    .await;
}

/// The cache margin that leaves an access token fresh for `seconds` after it is issued.
fn margin_leaving(seconds: u64) -> String {
    (ACCESS_TOKEN_LIFETIME - seconds).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_pulls_share_one_login_and_the_margin_brings_one_more() {
    bounded(async {
        let acr = acr();
        let fresh_for = 20;
        let margin = margin_leaving(fresh_for);
        let proxy = start_proxy(&acr, config(&[("cache-margin-seconds", &margin)]), KeyValue::memory()).await;

        let pulls: Vec<_> = (0..200)
            .map(|_| tokio::spawn(async move { get(proxy, "/v2/team/app/manifests/1.0", &[]).await.status }))
            .collect();
        for pull in pulls {
            assert_eq!(pull.await.expect("the pull task"), StatusCode::OK);
        }
        assert_eq!(
            logins(&acr),
            (1, 1, 1),
            "one Entra request, one exchange, one token request"
        );
        let issued = acr.issued_access_tokens()[0].expires_at;

        // Past the margin the next pull gets a new access token, from the refresh token.
        let stale_at = issued - ACCESS_TOKEN_LIFETIME + fresh_for + 1;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_secs();
        tokio::time::sleep(Duration::from_secs(stale_at.saturating_sub(now) + 1)).await;
        assert_eq!(
            get(proxy, "/v2/team/app/manifests/1.0", &[]).await.status,
            StatusCode::OK
        );
        assert_eq!(logins(&acr), (1, 1, 2));
    })
    .await;
}

/// An `acr-auth-proxy` process (`ACR_AUTH_PROXY`, or the workspace's debug
/// build) for `acr` on a free 127.0.0.1 port, caching in `cache`; killed when dropped.
struct ProxyProcess {
    child: std::process::Child,
    addr: SocketAddr,
}

impl ProxyProcess {
    fn start(acr: &TestAcr, cache: &str, name: &str) -> Self {
        use std::io::BufRead as _;
        let binary = std::env::var_os("ACR_AUTH_PROXY").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/debug/acr-auth-proxy"),
            PathBuf::from,
        );
        assert!(binary.exists(), "{} missing: run `cargo xtask test`", binary.display());
        let component = std::env::var_os("ACR_AUTH_PROXY_COMPONENT").map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/components/acr_auth_proxy.wasm"),
            PathBuf::from,
        );
        let ca = temp_file(&format!("proxy-{name}-ca.pem"), acr.ca_pem().as_bytes());
        let connect_to = |host: &str| format!("{host}:443:{}:{}", acr.addr().ip(), acr.addr().port());
        let mut child = std::process::Command::new(binary)
            .arg("--component")
            .arg(component)
            .args(["--registry", HOST, "--listen", "127.0.0.1:0", "--cache", cache])
            .arg("--cacert")
            .arg(ca)
            .args([
                "--connect-to",
                &connect_to(HOST),
                "--connect-to",
                &connect_to(ENTRA_HOST),
            ])
            .env("AZURE_TENANT_ID", TENANT)
            .env("AZURE_CLIENT_ID", CLIENT_ID)
            .env("AZURE_CLIENT_SECRET", CLIENT_SECRET)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the proxy starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = std::io::BufReader::new(stderr).lines();
        let line = lines.next().expect("a line from the proxy").expect("UTF-8");
        let addr = line
            .strip_prefix("acr-auth-proxy: serving http://")
            .unwrap_or_else(|| panic!("the proxy did not start: {line}"))
            .parse()
            .expect("an address");
        // Keep reading, so the proxy never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, addr }
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_proxy_processes_share_their_tokens_through_redis() {
    bounded(async {
        let redis = RedisServer::start();
        let acr = acr();
        let first = ProxyProcess::start(&acr, &redis.url(), "redis-first");
        let second = ProxyProcess::start(&acr, &redis.url(), "redis-second");

        let pull = |proxy: SocketAddr, repository: &'static str| async move {
            get(proxy, &format!("/v2/{repository}/manifests/1.0"), &[]).await.status
        };
        assert_eq!(pull(first.addr, "team/app").await, StatusCode::OK);
        assert_eq!(logins(&acr), (1, 1, 1));
        assert_eq!(pull(second.addr, "team/app").await, StatusCode::OK);
        assert_eq!(
            logins(&acr),
            (1, 1, 1),
            "the second proxy uses the first one's access token"
        );
        assert_eq!(pull(second.addr, "team/other").await, StatusCode::OK);
        assert_eq!(logins(&acr), (1, 1, 2), "and its refresh token");

        // Concurrent pulls through both share one login across the processes.
        let pulls: Vec<_> = (0..60)
            .map(|i| tokio::spawn(pull(if i % 2 == 0 { first.addr } else { second.addr }, "team/third")))
            .collect();
        for pull in pulls {
            assert_eq!(pull.await.expect("the pull task"), StatusCode::OK);
        }
        assert_eq!(logins(&acr), (1, 1, 3));
    })
    .await;
}
