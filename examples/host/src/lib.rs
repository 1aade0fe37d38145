//! What every Rust host of the `acr:auth` components shares, on wasmtime 48.
//!
//! - [`Embedder`] ([`pure`](crate::pure)): the `pure` world, which imports
//!   nothing, in a long-running host: one engine, a fresh store per call,
//!   fuel and memory [`Limits`].
//! - [`client::ClientRuntime`]: the `client` world, whose `login` runs over
//!   imported `wasi:http`; the host sends every request itself through
//!   [`network::NetworkHooks`] (TLS with rustls, `--cacert`, curl-style
//!   `--connect-to`, `https://` only), and bounds each login's memory and
//!   computation time.
//! - [`limits`]: the limits both share, and the [`CallError`] a call that
//!   reached one ends with.
//! - [`certificate`]: a service principal's client certificate, which signs
//!   the client assertion the component's `client-assertion-claims`
//!   describes (RSA signing is the host's: the components carry none).
//! - With the `embed` feature, the components themselves ([`COMPONENT`],
//!   [`CLIENT_COMPONENT`]) and [`Runtime`], the embedded `pure` component
//!   compiled once per machine through wasmtime's on-disk cache.
//!
//! Each runtime compiles its component once and gives every call a fresh,
//! memory-limited store, so one bad input cannot affect the next call. The
//! `acr-auth` CLI, the proxy host, the tests and the benchmark are built on
//! this crate.

pub mod certificate;
pub mod client;
#[cfg(feature = "embed")]
mod embedded;
pub mod limits;
pub mod network;
pub mod pure;

#[cfg(feature = "embed")]
pub use embedded::{CLIENT_COMPONENT, COMPONENT, Runtime};
pub use limits::{CallError, MemoryLimiter};
pub use pure::{Embedder, Limits, wit};
