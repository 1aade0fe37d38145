//! The pull proxy: the filter component (`examples/proxy/filter`), which
//! links the acr-auth library and drives its login flow over `wasi:http`,
//! built into `target/components/acr_auth_proxy.wasm`.
//!
//! It may import only the interfaces of the `wasi:http/proxy` world,
//! `wasi:config` and `wasi:keyvalue`: the build fails otherwise, so any host
//! of that world with those two interfaces (`wasmtime serve`, Spin,
//! wasmCloud) can serve it, and it reaches nothing but what its host's
//! `wasi:http` lets it reach.

use std::path::PathBuf;

use super::{component_imports, encode_component, ensure_imports_allowed, write_component};
use anyhow::Result;

/// The file the proxy is written to, under `target/components/`.
const PROXY_FILE: &str = "acr_auth_proxy.wasm";

/// What the proxy may import: the interfaces of the `wasi:http/proxy` world,
/// its settings and its token cache.
const PROXY_IMPORTS: &[&str] = &[
    "wasi:http/",
    "wasi:io/",
    "wasi:clocks/monotonic-clock@",
    "wasi:clocks/wall-clock@",
    "wasi:random/random@",
    "wasi:cli/stdout@",
    "wasi:cli/stderr@",
    "wasi:cli/stdin@",
    "wasi:config/store@",
    "wasi:keyvalue/store@",
    "wasi:keyvalue/atomics@",
];

/// Builds the filter, checks its imports and writes it; returns its path.
pub fn build_proxy() -> Result<PathBuf> {
    let (module_len, proxy) = encode_component("acr-auth-proxy-filter", &[])?;
    let imports = component_imports(&proxy)?;
    ensure_imports_allowed(PROXY_FILE, &imports, PROXY_IMPORTS)?;
    write_component(PROXY_FILE, &proxy, &format!("core module {module_len} bytes"), &imports)
}
