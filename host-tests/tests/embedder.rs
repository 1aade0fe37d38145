//! The embedder's limits: the largest inputs the component accepts run well
//! within the defaults; a call that exhausts its fuel or memory fails with an
//! error naming the limit, and the next call on the same embedder succeeds.

use acr_auth_host::{COMPONENT, CallError, Embedder, Limits};
use acr_auth_test_support::inputs::{maximal_token, reference_of_len};

/// A JWT whose header and claims are `{}`: parsed in full, then refused for
/// its missing `exp`.
const TOKEN_BODY_PREFIX: &str = r#"{"refresh_token":"e30.e30.e30"}"#;

/// The largest inputs each function accepts.
fn maximal_calls(embedder: &Embedder) -> Result<(), CallError> {
    embedder
        .resolve_scope(&reference_of_len(acr_auth::MAX_REFERENCE_LEN), None)?
        .expect("a maximal reference resolves");
    let token = maximal_token('t');
    embedder
        .build_exchange_request("myregistry.azurecr.io", &token, None, None)?
        .expect("a maximal token is accepted");
    let body = format!(
        "{TOKEN_BODY_PREFIX}{}",
        " ".repeat(acr_auth::MAX_RESPONSE_BODY_LEN - TOKEN_BODY_PREFIX.len())
    );
    let refused = embedder
        .parse_refresh_token(200, body.as_bytes(), &[])?
        .expect_err("the token has no exp");
    assert!(
        format!("{refused:?}").contains("MissingExpiry"),
        "the whole 64 KiB body was parsed: {refused:?}"
    );
    let header = format!(
        r#"Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io",x="{}""#,
        "y".repeat(8000)
    );
    embedder
        .parse_challenge(&header, None)?
        .expect("a long challenge parses");
    Ok(())
}

#[test]
fn maximal_inputs_fit_the_default_limits() {
    let embedder = Embedder::new(COMPONENT, Limits::default()).expect("compiles");
    maximal_calls(&embedder).expect("within the default limits");
}

#[test]
fn running_out_of_fuel_is_a_clear_error_and_the_embedder_keeps_serving() {
    let starved = Embedder::new(
        COMPONENT,
        Limits {
            fuel: 20_000,
            ..Limits::default()
        },
    )
    .expect("compiles");
    let error = maximal_calls(&starved).expect_err("20 000 instructions are not enough");
    assert!(matches!(error, CallError::OutOfFuel), "{error:?}");
    assert!(error.to_string().contains("fuel"), "{error}");
    let scope = starved
        .resolve_scope("myregistry.azurecr.io", None)
        .expect("a small call fits")
        .expect("resolves");
    assert_eq!(scope.login_server, "myregistry.azurecr.io");
}

#[test]
fn running_out_of_memory_is_a_clear_error_and_the_embedder_keeps_serving() {
    // Enough to instantiate and serve small calls (a 16 KiB stack, the data,
    // a little heap), not to hold a 64 KiB body next to its parsed copy.
    let tight = Embedder::new(
        COMPONENT,
        Limits {
            memory: 128 << 10,
            ..Limits::default()
        },
    )
    .expect("compiles");
    let body = format!(
        "{TOKEN_BODY_PREFIX}{}",
        " ".repeat(acr_auth::MAX_RESPONSE_BODY_LEN - TOKEN_BODY_PREFIX.len())
    );
    let error = tight
        .parse_refresh_token(200, body.as_bytes(), &[])
        .expect_err("128 KiB is too little");
    assert!(matches!(error, CallError::OutOfMemory), "{error:?}");
    assert!(error.to_string().contains("memory limit"), "{error}");
    let scope = tight
        .resolve_scope("myregistry.azurecr.io", None)
        .expect("a small call fits")
        .expect("resolves");
    assert_eq!(scope.login_server, "myregistry.azurecr.io");
}
