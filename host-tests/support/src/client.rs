//! Logging in through the `client` component in the Rust host
//! ([`ClientRuntime`]) against [`TestAcr`]s: the component compiled once per
//! test process, login options with short timeouts so that no test can hang,
//! and checks that a failed login leaks no token.

use std::sync::OnceLock;

use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::flow::{Credentials, LoginError, LoginOptions, LoginResult};
use acr_auth_host::network::{Network, connect_to_rule};

use crate::acr_server::TestAcr;

/// The timeout of each stage of each request in [`options`]: far above what a
/// login on loopback takes, short enough that a hung test fails quickly.
pub const TIMEOUT_MS: u64 = 5_000;

/// The client component with `network` and default limits, compiled once per
/// test process: compiling is the slow part, and every runtime made from it
/// shares the one engine.
pub fn runtime(network: Network) -> ClientRuntime {
    static COMPILED: OnceLock<ClientRuntime> = OnceLock::new();
    COMPILED
        .get_or_init(|| ClientRuntime::new(network.clone()).expect("the client component compiles"))
        .with_network(network)
}

/// A network that trusts every server's test CA and reaches each server's
/// registry host on loopback.
pub fn network(servers: &[&TestAcr]) -> Network {
    let pem: String = servers.iter().map(|s| s.ca_pem()).collect();
    let rules = servers.iter().map(|s| connect_to_rule(s.host(), s.addr())).collect();
    Network::new(Some(pem.as_bytes()), rules).expect("network")
}

/// A [`runtime`] over the [`network`] of `servers`.
pub fn client(servers: &[&TestAcr]) -> ClientRuntime {
    runtime(network(servers))
}

/// Exchange-only login options with every timeout at [`TIMEOUT_MS`].
pub fn options() -> LoginOptions {
    LoginOptions {
        tenant: None,
        repository_scopes: Vec::new(),
        discover: false,
        custom_cloud: None,
        connect_timeout_ms: Some(TIMEOUT_MS),
        first_byte_timeout_ms: Some(TIMEOUT_MS),
        between_bytes_timeout_ms: Some(TIMEOUT_MS),
        retry: None,
    }
}

/// Logs in with an Entra token expecting success; panics with the error otherwise.
pub fn login_ok(client: &ClientRuntime, reference: &str, entra_token: &str, options: &LoginOptions) -> LoginResult {
    login_with_ok(
        client,
        reference,
        &Credentials::EntraToken(entra_token.to_owned()),
        options,
    )
}

/// Logs in with `credentials` expecting success; panics with the error otherwise.
pub fn login_with_ok(
    client: &ClientRuntime,
    reference: &str,
    credentials: &Credentials,
    options: &LoginOptions,
) -> LoginResult {
    match client.login(reference, credentials, options) {
        Ok(Ok(result)) => result,
        Ok(Err(e)) => panic!("login to {reference} failed: {e:?}"),
        Err(e) => panic!("login to {reference} did not finish: {e}"),
    }
}

/// Logs in with an Entra token expecting a login error (not a trap), and
/// checks that no part of the token is in it.
pub fn login_err(client: &ClientRuntime, reference: &str, entra_token: &str, options: &LoginOptions) -> LoginError {
    let error = client
        .login(reference, &Credentials::EntraToken(entra_token.to_owned()), options)
        .unwrap_or_else(|e| panic!("login to {reference} did not finish: {e}"))
        .expect_err("the login must fail");
    assert_no_secret(&error, &[entra_token]);
    error
}

/// Asserts that no part of `secrets` (no [`acr_auth::MIN_FRAGMENT`]
/// consecutive bytes, or the whole of a shorter one) appears in the error's
/// `Debug` output, which shows every field.
pub fn assert_no_secret(error: &LoginError, secrets: &[&str]) {
    assert_text_has_no_secret(&format!("{error:?}"), secrets);
}

/// Asserts that no part of `secrets` (as [`assert_no_secret`] counts parts)
/// appears in `text`: what a program printed, say.
pub fn assert_text_has_no_secret(text: &str, secrets: &[&str]) {
    for secret in secrets {
        for fragment in secret
            .as_bytes()
            .windows(acr_auth::MIN_FRAGMENT.min(secret.len()).max(1))
        {
            let fragment = String::from_utf8_lossy(fragment);
            assert!(!text.contains(&*fragment), "a secret leaks: {text}");
        }
    }
}
