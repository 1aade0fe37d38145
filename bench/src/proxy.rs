//! The pull proxy ([`ProxyHost`], the component in wasmtime) in front of the
//! local test ACR, in this process: manifest pulls per second through the
//! proxy with a warm token cache beside the same client straight to the test
//! ACR with a bearer token, in one run; logins per 1,000 pulls from a cold
//! cache; and the memory an in-flight request holds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_proxy_host::{KeyValue, ProxyHost, Settings};
use acr_auth_test_support::acr_server::{Behaviour, ENTRA_HOST, TestAcr, TestApp};
use anyhow::{Context as _, Result, ensure};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};

use crate::stats::{Plan, Stat};

/// The registry name the test ACR's certificate carries.
const HOST: &str = "benchproxyregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const CLIENT_SECRET: &str = "Xq8~Vn2.Lr5_Tg7-Hw3.Kb9~Mz4_Pd6-Fs1.Jc0~Ny8_Qe2-Ua5";
/// The pull every client repeats.
const PULL: &str = "/v2/team/app/manifests/1.0";
/// Connections pulling at once, each one request after another.
const CLIENTS: usize = 8;
/// Pulls in the logins-per-1,000 measurement.
const PULLS: usize = 1000;

/// Every proxy row.
pub fn rows(plan: &Plan, quick: bool) -> Result<Vec<Stat>> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let component = std::fs::read(component_path()).context("reading the proxy component")?;
    runtime.block_on(async {
        let mut rows = throughput(&component, plan).await?;
        rows.extend(logins_per_thousand(&component).await?);
        rows.push(memory_per_request(&component, if quick { 20 } else { 100 }).await?);
        Ok(rows)
    })
}

/// `ACR_AUTH_PROXY_COMPONENT`, or where `cargo xtask build` writes it.
fn component_path() -> std::path::PathBuf {
    std::env::var_os("ACR_AUTH_PROXY_COMPONENT").map_or_else(
        || std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/components/acr_auth_proxy.wasm"),
        std::path::PathBuf::from,
    )
}

/// A test ACR that answers Entra for the app the proxy logs in as, with its
/// token endpoint behaving as `token`.
fn acr(token: Behaviour) -> TestAcr {
    TestAcr::builder(HOST)
        .entra_app(TestApp {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            credential: CLIENT_SECRET.into(),
        })
        .token(token)
        .start()
}

/// A proxy for `acr` with an empty in-memory cache, on a free port; it keeps
/// its connections to the registry when `reuse`, else opens one per request.
async fn start_proxy(component: &[u8], acr: &TestAcr, reuse: bool) -> Result<SocketAddr> {
    let config = [
        ("registry", HOST),
        ("AZURE_TENANT_ID", TENANT),
        ("AZURE_CLIENT_ID", CLIENT_ID),
        ("AZURE_CLIENT_SECRET", CLIENT_SECRET),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .into();
    let network = Network::new(
        Some(acr.ca_pem().as_bytes()),
        vec![
            connect_to_rule(HOST, acr.addr()),
            connect_to_rule(ENTRA_HOST, acr.addr()),
        ],
    )?;
    let network = if reuse {
        network
    } else {
        network.without_connection_reuse()
    };
    let settings = Settings {
        config,
        cache: KeyValue::memory(),
        network,
    };
    let host = Arc::new(ProxyHost::new(component, settings)?);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(host.serve(listener));
    Ok(addr)
}

/// An HTTP/1.1 connection to the proxy.
async fn connect_plain(proxy: SocketAddr) -> Result<SendRequest<Empty<Bytes>>> {
    let tcp = TcpStream::connect(proxy).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// An HTTP/1.1 connection over TLS to the test ACR, trusting only its CA.
async fn connect_tls(acr: &TestAcr) -> Result<SendRequest<Empty<Bytes>>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(acr.ca_pem().as_bytes()) {
        let cert: CertificateDer<'static> = cert?;
        roots.add(cert)?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(acr.addr()).await?;
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from(HOST)?, tcp)
        .await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// One pull on `sender` with `host` and `headers`; fails unless it is a 200.
async fn pull(sender: &mut SendRequest<Empty<Bytes>>, host: &str, headers: &[(&str, &str)]) -> Result<()> {
    let mut request = hyper::Request::get(PULL).header(hyper::header::HOST, host);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = sender.send_request(request.body(Empty::new())?).await?;
    let status = response.status();
    response.into_body().collect().await?;
    ensure!(status == hyper::StatusCode::OK, "a pull answered {status}");
    Ok(())
}

/// Pulls per second over [`CLIENTS`] connections that `connect` opens, for `duration`.
async fn pulls_per_second<F, Fut>(connect: F, host: &str, headers: &[(&str, &str)], duration: Duration) -> Result<f64>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<SendRequest<Empty<Bytes>>>>,
{
    let mut senders = Vec::new();
    for _ in 0..CLIENTS {
        senders.push(connect().await?);
    }
    let started = Instant::now();
    let until = started + duration;
    let workers: Vec<_> = senders
        .into_iter()
        .map(|mut sender| {
            let host = host.to_owned();
            let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
            tokio::spawn(async move {
                let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let mut done = 0u64;
                while Instant::now() < until {
                    pull(&mut sender, &host, &headers).await?;
                    done += 1;
                }
                anyhow::Ok(done)
            })
        })
        .collect();
    let mut total = 0;
    for worker in workers {
        total += worker.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Pulls per second through the proxy with a warm cache (keeping its
/// registry connections, and opening one per pull as it did before), and
/// straight to the test ACR with the access token the proxy got, alternating
/// runs.
async fn throughput(component: &[u8], plan: &Plan) -> Result<Vec<Stat>> {
    let acr = acr(Behaviour::Normal);
    let proxy = start_proxy(component, &acr, true).await?;
    let unpooled = start_proxy(component, &acr, false).await?;
    for warm in [proxy, unpooled] {
        pull(&mut connect_plain(warm).await?, &warm.to_string(), &[]).await?;
    }
    let token = acr
        .issued_access_tokens()
        .first()
        .context("the proxy got an access token")?
        .token
        .clone();
    let bearer = format!("Bearer {token}");
    let runs = plan.min_samples.min(5);
    let (mut through, mut through_unpooled, mut direct) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        through.push(pulls_per_second(|| connect_plain(proxy), &proxy.to_string(), &[], plan.budget).await?);
        through_unpooled
            .push(pulls_per_second(|| connect_plain(unpooled), &unpooled.to_string(), &[], plan.budget).await?);
        let headers = [("authorization", bearer.as_str())];
        direct.push(pulls_per_second(|| connect_tls(&acr), HOST, &headers, plan.budget).await?);
    }
    let direct = Stat::from_samples(
        format!("manifest pulls straight to the test ACR (TLS, bearer token), {CLIENTS} connections"),
        "pulls/s",
        direct,
    );
    let through = Stat::from_samples(
        format!("manifest pulls through the proxy, warm cache, {CLIENTS} connections"),
        "pulls/s",
        through,
    )
    .versus(&direct);
    let through_unpooled = Stat::from_samples(
        format!("manifest pulls through the proxy, warm cache, {CLIENTS} connections, a registry connection per pull"),
        "pulls/s",
        through_unpooled,
    )
    .versus(&direct);
    Ok(vec![direct, through, through_unpooled])
}

/// Logins (Entra requests, exchanges, token requests) the test ACR sees for
/// [`PULLS`] pulls through a proxy that starts with an empty cache.
async fn logins_per_thousand(component: &[u8]) -> Result<Vec<Stat>> {
    let acr = acr(Behaviour::Normal);
    let proxy = start_proxy(component, &acr, true).await?;
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            tokio::spawn(async move {
                let mut sender = connect_plain(proxy).await?;
                for _ in 0..PULLS / CLIENTS {
                    pull(&mut sender, &proxy.to_string(), &[]).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for worker in workers {
        worker.await??;
    }
    let requests = acr.requests();
    let count = |what: &dyn Fn(&str) -> bool| requests.iter().filter(|r| what(&r.path)).count() as f64;
    let pulls = count(&|path| path == PULL);
    ensure!(pulls == PULLS as f64, "the registry saw {pulls} pulls");
    Ok(vec![
        Stat::single(
            format!("proxy: Entra token requests per {PULLS} pulls, cold cache"),
            "requests",
            count(&|path| path.ends_with("/oauth2/v2.0/token")),
        ),
        Stat::single(
            format!("proxy: exchanges per {PULLS} pulls, cold cache"),
            "requests",
            count(&|path| path == "/oauth2/exchange"),
        ),
        Stat::single(
            format!("proxy: token requests per {PULLS} pulls, cold cache"),
            "requests",
            count(&|path| path == "/oauth2/token"),
        ),
    ])
}

/// The process's resident memory, in KiB.
fn resident_kib() -> Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .context("VmRSS in /proc/self/status")?;
    let kib = line.split_whitespace().nth(1).context("a VmRSS value")?;
    Ok(kib.parse()?)
}

/// Resident memory per request in flight: `in_flight` pulls of as many
/// repositories, each held in its login by a token endpoint that sends its
/// answer a byte every 10 ms, against the resident memory before them. Each
/// holds a connection, a store and an instance of the component.
async fn memory_per_request(component: &[u8], in_flight: usize) -> Result<Stat> {
    let acr = acr(Behaviour::SlowDrip {
        every: Duration::from_millis(10),
    });
    let proxy = start_proxy(component, &acr, true).await?;
    // The component compiled, the runtime's threads and the allocator warm.
    pull(&mut connect_plain(proxy).await?, &proxy.to_string(), &[])
        .await
        .ok();
    let before = resident_kib()?;
    let pulls: Vec<_> = (0..in_flight)
        .map(|i| {
            tokio::spawn(async move {
                let mut sender = connect_plain(proxy).await?;
                let request = hyper::Request::get(format!("/v2/team/app{i}/manifests/1.0"))
                    .header(hyper::header::HOST, proxy.to_string())
                    .body(Empty::<Bytes>::new())?;
                let response = sender.send_request(request).await?;
                response.into_body().collect().await?;
                anyhow::Ok(())
            })
        })
        .collect();
    let mut peak = before;
    while !pulls.iter().all(|pull| pull.is_finished()) {
        peak = peak.max(resident_kib()?);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for pull in pulls {
        pull.await??;
    }
    Ok(Stat::single(
        format!("proxy: resident memory per in-flight request ({in_flight} in flight, peak over before)"),
        "KiB",
        (peak - before) / in_flight as f64,
    ))
}
