//! The limits of the Rust host's client runtime ([`ClientRuntime`]): the
//! largest inputs a login accepts succeed within the default limits and those
//! beyond end in a typed error; a login that computes past its time budget or
//! needs more memory than its store may have ends in a [`CallError`] naming
//! the limit, while time spent waiting on the network does not count. After
//! each, the same compiled component keeps serving.

use std::time::Duration;

use acr_auth_host::CallError;
use acr_auth_host::client::wit::flow::{Credentials, LoginErrorKind, LoginOptions, Stage};
use acr_auth_host::client::{ClientLimits, ClientRuntime};
use acr_auth_test_support::acr_server::{Behaviour, DEFAULT_ENTRA_TOKEN, TestAcr};
use acr_auth_test_support::client::{client, login_err, login_ok, options};
use acr_auth_test_support::inputs::{
    MAX_SCOPE_LEN, exchange_body_at_cap, maximal_scopes, maximal_token, reference_of_len, unsigned_jwt,
};
use serde_json::json;

/// A registry that answers every login normally.
const NORMAL: &str = "normalregistry.azurecr.io";
/// A registry that answers the exchange with a body of exactly 64 KiB.
const CAPPED: &str = "cappedregistry.azurecr.io";

/// A registry whose exchange answers with a valid refresh token padded to the
/// 64 KiB cap, and that token.
fn capped_server() -> (TestAcr, String) {
    let token = unsigned_jwt(&json!({ "exp": 4_102_444_800_u64, "aud": CAPPED }));
    let server = TestAcr::builder(CAPPED)
        .exchange(Behaviour::Body(exchange_body_at_cap(&token)))
        .start();
    (server, token)
}

/// Checks that `client` still logs in to `normal`, receiving the token it issued last.
fn assert_still_serves(client: &ClientRuntime, normal: &TestAcr) {
    let result = login_ok(client, NORMAL, DEFAULT_ENTRA_TOKEN, &options());
    let issued = normal.issued_refresh_tokens();
    assert_eq!(Some(&result.credential.password), issued.last().map(|t| &t.token));
}

#[test]
fn maximal_inputs_succeed_and_larger_ones_are_refused_before_any_request() {
    let normal = TestAcr::builder(NORMAL).start();
    let token = maximal_token('m');
    let maximal = TestAcr::builder("maximalregistry.azurecr.io")
        .entra_token(&token)
        .start();
    let (capped, capped_token) = capped_server();
    let client = client(&[&normal, &maximal, &capped]);

    for len in [(64 << 10) - 1, 1 << 20] {
        let error = login_err(&client, &reference_of_len(len), DEFAULT_ENTRA_TOKEN, &options());
        assert_eq!((error.kind, error.stage), (LoginErrorKind::InvalidInput, Stage::Input));
        assert!(error.message.contains("longer than 4096 bytes"), "{}", error.message);
        assert_still_serves(&client, &normal);
    }

    let too_long_token = format!("{token}x");
    let error = login_err(&client, maximal.host(), &too_long_token, &options());
    assert_eq!((error.kind, error.stage), (LoginErrorKind::InvalidInput, Stage::Input));
    assert!(error.message.contains("longer than 32768 bytes"), "{}", error.message);
    let mut too_many = maximal_scopes();
    too_many.push("repository:one/more:pull".into());
    let mut too_long = maximal_scopes();
    let at = too_long[0].len() - ":pull".len();
    too_long[0].insert(at, 'a');
    assert_eq!(too_long[0].len(), MAX_SCOPE_LEN + 1);
    for scopes in [too_many, too_long] {
        let error = login_err(
            &client,
            maximal.host(),
            &token,
            &LoginOptions {
                repository_scopes: scopes,
                ..options()
            },
        );
        assert_eq!((error.kind, error.stage), (LoginErrorKind::InvalidInput, Stage::Input));
    }
    assert!(maximal.requests().is_empty(), "a refused input was sent");
    assert_still_serves(&client, &normal);

    let scoped = LoginOptions {
        repository_scopes: maximal_scopes(),
        discover: true,
        ..options()
    };
    let result = login_ok(&client, maximal.host(), &token, &scoped);
    let issued = maximal.issued_access_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(result.access_token.map(|a| a.token), Some(issued[0].token.clone()));
    assert_eq!(issued[0].scopes, maximal_scopes());
    assert_eq!(maximal.requests()[1].field("access_token"), Some(token.as_str()));
    assert_still_serves(&client, &normal);

    let result = login_ok(&client, CAPPED, DEFAULT_ENTRA_TOKEN, &options());
    assert_eq!(result.credential.password, capped_token);
    assert_still_serves(&client, &normal);
}

#[test]
fn computing_past_the_budget_is_out_of_time_and_the_host_keeps_serving() {
    // A login that lasts many epoch ticks, most of them waiting on the
    // network: the component computes between bytes, so with no budget at all
    // its first check after a tick ends it.
    let dripping = TestAcr::builder("drippingregistry.azurecr.io")
        .exchange(Behaviour::SlowDrip {
            every: Duration::from_millis(20),
        })
        .start();
    let normal = TestAcr::builder(NORMAL).start();
    let client = client(&[&dripping, &normal]);
    let starved = client.with_limits(ClientLimits {
        compute: Duration::ZERO,
        ..ClientLimits::default()
    });
    let error = starved
        .login(
            dripping.host(),
            &Credentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned()),
            &options(),
        )
        .expect_err("no time to compute");
    assert!(matches!(error, CallError::OutOfTime), "{error:?}");
    assert!(error.to_string().contains("ran out of time"), "{error}");
    assert_still_serves(&client, &normal);
}

#[test]
fn waiting_on_the_network_is_not_computation() {
    let every = Duration::from_millis(5);
    let dripping = TestAcr::builder("drippingregistry.azurecr.io")
        .exchange(Behaviour::SlowDrip { every })
        .start();
    let client = client(&[&dripping]);
    let result = login_ok(&client, dripping.host(), DEFAULT_ENTRA_TOKEN, &options());
    // The answer alone took longer than the whole budget to arrive.
    let body = json!({ "refresh_token": result.credential.password }).to_string();
    let bytes = u32::try_from(body.len()).expect("a short body");
    assert!(every * bytes > ClientLimits::default().compute, "{bytes} bytes");
}

#[test]
fn needing_more_memory_than_allowed_is_out_of_memory_and_the_host_keeps_serving() {
    let normal = TestAcr::builder(NORMAL).start();
    let (capped, capped_token) = capped_server();
    let client = client(&[&normal, &capped]);
    // A small login takes under 128 KiB (a 16 KiB stack, the data, the
    // heap); 192 KiB cannot hold a 64 KiB body beside its parsed copy.
    let tight = client.with_limits(ClientLimits {
        memory: 192 << 10,
        ..ClientLimits::default()
    });
    let error = tight
        .login(
            CAPPED,
            &Credentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned()),
            &options(),
        )
        .expect_err("192 KiB is too little");
    assert!(matches!(error, CallError::OutOfMemory), "{error:?}");
    assert!(error.to_string().contains("memory limit"), "{error}");
    assert_still_serves(&tight, &normal);
    let result = login_ok(&client, CAPPED, DEFAULT_ENTRA_TOKEN, &options());
    assert_eq!(result.credential.password, capped_token);
}
