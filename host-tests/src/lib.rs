//! This crate holds tests only (`tests/`), and one measuring example
//! (`examples/login_roundtrip.rs`): the components' conformance and their
//! hosts (the wasmtime host, the `acr-auth` CLI, the proxy) end to end
//! against the local test ACR of `acr-auth-test-support`. `cargo xtask test`
//! builds the components and the CLI they need, then runs them.
