//! Test support for acr-auth: conformance helpers that run every case through
//! the native library and the component, a local HTTPS test registry, logins
//! through the client component against it, inputs at the component's caps,
//! and a runner for the `acr-auth` binary.

pub mod acr_server;
pub mod cli;
pub mod client;
pub mod conformance;
pub mod inputs;
pub mod script;
