//! `acr-auth-proxy`: serves pulls from one Azure Container Registry on
//! `http://127.0.0.1:<port>` to clients without credentials, logging in with
//! an Entra token through the composed acr-auth proxy component.
//!
//! It listens on loopback only: whoever reaches the proxy pulls with its
//! identity.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::Arc;

use acr_auth_host::network::{ConnectTo, Network};
use acr_auth_proxy_host::{ProxyHost, Settings};
use anyhow::{Context as _, Result};
use clap::Parser;

/// Serve registry pulls on 127.0.0.1, logging in to the registry through the acr-auth proxy component.
#[derive(Parser)]
#[command(name = "acr-auth-proxy", version)]
struct Args {
    /// The composed proxy component (`cargo xtask build` writes target/components/acr_auth_proxy.wasm).
    #[arg(long, value_name = "FILE")]
    component: PathBuf,
    /// The registry's login server, e.g. myregistry.azurecr.io.
    #[arg(long, value_name = "HOST")]
    registry: String,
    /// A file holding an Entra access token for the registry, read for every request.
    #[arg(long, value_name = "FILE")]
    entra_token_file: PathBuf,
    /// The port to listen on, on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
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
    let settings = Settings {
        registry: args.registry,
        entra_token_file: args.entra_token_file,
        network: Network::new(ca.as_deref(), args.connect_to)?,
    };
    let host = Arc::new(ProxyHost::new(&component, settings)?);
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, args.port))
        .await
        .with_context(|| format!("listening on 127.0.0.1:{}", args.port))?;
    eprintln!("acr-auth-proxy: serving http://{}", listener.local_addr()?);
    host.serve(listener).await;
    Ok(())
}
