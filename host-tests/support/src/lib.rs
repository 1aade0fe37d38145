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
//!   proxy's shared cache.

pub mod acr_server;
pub mod certificate;
pub mod cli;
pub mod client;
pub mod conformance;
pub mod inputs;
pub mod redis_server;
