//! The proxy: the filter component (`examples/proxy/filter`) with the
//! `client` component plugged into its `acr:auth/login` import, composed with
//! `wac-graph` into `target/components/acr_auth_proxy.wasm`.
//!
//! The result is a `wasi:http/proxy` component that also imports
//! `acr:proxy/config`: the build fails if it imports anything else, so the
//! proxy reaches nothing but what its host's `wasi:http` lets it reach.

use std::path::{Path, PathBuf};

use super::{component_imports, encode_component, ensure_imports_allowed, write_component};
use anyhow::{Context as _, Result};
use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions};

/// The file the composed proxy is written to, under `target/components/`.
const PROXY_FILE: &str = "acr_auth_proxy.wasm";

/// What the composed proxy may import: the interfaces of the `wasi:http/proxy`
/// world, the filter's configuration, and the `wasi:filesystem` interfaces
/// the `client` component imports for the Arc agent's key file (the proxy's
/// host preopens nothing, so the proxy reads no file).
const PROXY_IMPORTS: &[&str] = &[
    "wasi:filesystem/types@",
    "wasi:filesystem/preopens@",
    "wasi:http/",
    "wasi:io/",
    "wasi:clocks/monotonic-clock@",
    "wasi:clocks/wall-clock@",
    "wasi:random/random@",
    "wasi:cli/stdout@",
    "wasi:cli/stderr@",
    "wasi:cli/stdin@",
    "acr:proxy/config@",
];

/// Builds the filter, plugs the `client` component at `client` into it,
/// checks the result's imports and writes it; returns its path.
pub fn build_proxy(client: &Path) -> Result<PathBuf> {
    let (_, filter) = encode_component("acr-auth-proxy-filter", &[])?;
    let filter_len = filter.len();
    let client = std::fs::read(client).with_context(|| format!("reading {}", client.display()))?;
    let proxy = compose(filter, client)?;
    let imports = component_imports(&proxy)?;
    ensure_imports_allowed(PROXY_FILE, &imports, PROXY_IMPORTS)?;
    write_component(
        PROXY_FILE,
        &proxy,
        &format!("filter component {filter_len} bytes"),
        &imports,
    )
}

/// Plugs every export of `client` that `filter` imports (`acr:auth/login`
/// and the interfaces whose types it uses) into `filter`, and exports what
/// `filter` exports. Imports both share, such as `wasi:http/types`, become
/// one import of the composition.
fn compose(filter: Vec<u8>, client: Vec<u8>) -> Result<Vec<u8>> {
    let mut graph = CompositionGraph::new();
    let filter = Package::from_bytes("acr:proxy-filter", None, filter, graph.types_mut())?;
    let filter = graph.register_package(filter)?;
    let client = Package::from_bytes("acr:auth-client", None, client, graph.types_mut())?;
    let client = graph.register_package(client)?;
    wac_graph::plug(&mut graph, vec![client], filter).context("plugging the client into the filter")?;
    graph
        .encode(EncodeOptions::default())
        .context("encoding the composition")
}
