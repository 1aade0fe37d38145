//! `acr-auth-proxy`: serves pulls from one Azure Container Registry over
//! HTTP to clients without credentials, logging in with the identity the
//! Azure SDKs' environment variables name, through the acr-auth pull proxy
//! component.
//!
//! It listens on loopback unless told otherwise: whoever reaches the proxy
//! pulls with its identity.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use acr_auth_host::network::{ConnectTo, Network};
use acr_auth_proxy_host::{IDENTITY_VARIABLES, KeyValue, ProxyHost, Settings};
use anyhow::{Context as _, Result, bail};
use clap::Parser;

/// Serve registry pulls, logging in to the registry through the acr-auth pull proxy component.
///
/// The identity comes from the environment variables the Azure SDKs read (AZURE_TENANT_ID,
/// AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_FEDERATED_TOKEN_FILE, IDENTITY_ENDPOINT, ...);
/// none of them means the managed identity of the instance metadata service.
#[derive(Parser)]
#[command(name = "acr-auth-proxy", version)]
struct Args {
    /// The proxy component (`cargo xtask build` writes target/components/acr_auth_proxy.wasm).
    #[arg(long, value_name = "FILE")]
    component: PathBuf,
    /// The registry's login server, e.g. myregistry.azurecr.io.
    #[arg(long, value_name = "HOST")]
    registry: String,
    /// The address to listen on.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// A Host name the proxy answers to (repeatable); loopback names when none is given.
    #[arg(long, value_name = "NAME")]
    allowed_host: Vec<String>,
    /// Use a token until this many seconds before it expires.
    #[arg(long, value_name = "SECONDS")]
    cache_margin: Option<u64>,
    /// Where tokens are cached: `memory` (this process) or `redis://HOST:PORT[/DB]` (shared by replicas).
    #[arg(long, value_name = "STORE", default_value = "memory")]
    cache: String,
    /// Trust only these PEM CA certificates for the registry, instead of the system's roots.
    #[arg(long, value_name = "FILE")]
    cacert: Option<PathBuf>,
    /// Connect to ADDR:PORT for HOST:PORT while still verifying HOST's certificate, as in curl.
    #[arg(long, value_name = "HOST:PORT:ADDR:PORT")]
    connect_to: Vec<ConnectTo>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let ca = args
        .cacert
        .as_ref()
        .map(|path| std::fs::read(path).with_context(|| format!("reading {}", path.display())))
        .transpose()?;
    let component = std::fs::read(&args.component).with_context(|| format!("reading {}", args.component.display()))?;
    let mut config = vec![("registry".to_owned(), args.registry)];
    if !args.allowed_host.is_empty() {
        config.push(("allowed-hosts".to_owned(), args.allowed_host.join(",")));
    }
    if let Some(margin) = args.cache_margin {
        config.push(("cache-margin-seconds".to_owned(), margin.to_string()));
    }
    for name in IDENTITY_VARIABLES {
        if let Some(value) = std::env::var_os(name) {
            let value = value
                .into_string()
                .map_err(|_| anyhow::anyhow!("{name} is not UTF-8"))?;
            config.push((name.to_owned(), value));
        }
    }
    let cache = match args.cache.as_str() {
        "memory" => KeyValue::memory(),
        url if url.starts_with("redis://") || url.starts_with("rediss://") => KeyValue::redis(url)
            .await
            .with_context(|| format!("connecting to the cache at {url}"))?,
        other => bail!("--cache {other}: expected `memory` or `redis://...`"),
    };
    let mut network = Network::new(ca.as_deref(), args.connect_to)?;
    // App Service's and Cloud Shell's managed-identity endpoints are plain
    // HTTP on loopback; nothing else is reached without TLS.
    for (key, value) in &config {
        if key == "IDENTITY_ENDPOINT" || key == "MSI_ENDPOINT" {
            network = network.allow_plain_http(value)?;
        }
    }
    let settings = Settings { config, cache, network };
    let host = Arc::new(ProxyHost::new(&component, settings)?);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    eprintln!("acr-auth-proxy: serving http://{}", listener.local_addr()?);
    host.serve(listener).await;
    Ok(())
}
