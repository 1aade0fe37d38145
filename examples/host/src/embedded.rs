//! The components built into this crate (feature `embed`): `cargo xtask build`
//! writes them and the build script points `include_bytes!` at them, so a
//! host binary carries the exact components it was tested with.

use anyhow::Result;

use crate::{Embedder, Limits};

/// The `pure` component (`ACR_AUTH_COMPONENT`, by default
/// `target/components/acr_auth.wasm`).
pub const COMPONENT: &[u8] = include_bytes!(env!("ACR_AUTH_COMPONENT"));

/// The `client` component (`ACR_AUTH_CLIENT_COMPONENT`, by default
/// `target/components/acr_auth_client.wasm`).
pub const CLIENT_COMPONENT: &[u8] = include_bytes!(env!("ACR_AUTH_CLIENT_COMPONENT"));

/// The embedded `pure` component with default limits: what the CLI and the
/// tests call.
pub struct Runtime(Embedder);

impl Runtime {
    /// Compiles the embedded component, or loads it from wasmtime's on-disk
    /// cache when an earlier run compiled it (see [`Embedder::new_cached`]).
    /// Without a usable cache directory it compiles every time.
    pub fn new() -> Result<Self> {
        let embedder = Embedder::new_cached(COMPONENT, Limits::default())
            .or_else(|_| Embedder::new(COMPONENT, Limits::default()))
            .map_err(anyhow::Error::from)?;
        Ok(Self(embedder))
    }
}

impl std::ops::Deref for Runtime {
    type Target = Embedder;

    fn deref(&self) -> &Embedder {
        &self.0
    }
}
