//! Test support for acr-auth: conformance helpers that run every case through
//! the native library and the component.

pub mod conformance;
pub mod acr_server;
