//! What the acr-auth host tests, the benchmark and the fuzz targets share:
//!
//! - [`acr_server`]: a local HTTPS test ACR (hyper and rustls on 127.0.0.1, a
//!   CA made at test time with rcgen) that checks every form field, issues
//!   signed JWTs with real expiry times, can misbehave on request, and also
//!   answers Entra's token endpoint for one app registration; the `test-acr`
//!   binary serves it to the Node and Python tests;
//! - [`client`]: logins through the `client` component in the Rust host
//!   against test ACRs, with short timeouts and checks that no error leaks a
//!   token;
//! - [`conformance`]: the components' answers to the conformance cases, in
//!   the shape of the native answers they must equal;
//! - [`cli`]: running the `acr-auth` binary as a user does;
//! - [`inputs`]: inputs at and beyond the component's caps, and JWTs;
//! - [`redis_server`]: a real `redis-server` on a free port, for the pull
//!   proxy's shared cache;
//! - [`stack`]: a component's shadow stack, and the same component with a
//!   smaller one.

pub mod acr_server;
pub mod certificate;
pub mod cli;
pub mod client;
pub mod conformance;
pub mod inputs;
pub mod redis_server;
pub mod stack;

/// The pull proxy component: `ACR_AUTH_PROXY_COMPONENT`, or where `cargo
/// xtask build` writes it. (The host crate embeds the other two; the proxy's
/// own host reads it from a file.)
///
/// # Panics
/// If it cannot be read: run `cargo xtask build`.
pub fn proxy_component() -> Vec<u8> {
    let path = std::env::var_os("ACR_AUTH_PROXY_COMPONENT").map_or_else(
        || {
            std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(
                    || std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
                    std::path::PathBuf::from,
                )
                .join("components/acr_auth_proxy.wasm")
        },
        std::path::PathBuf::from,
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}: run `cargo xtask build`", path.display()))
}
