//! The components' shadow stack (the frames Rust's wasm32 code keeps in
//! linear memory): `cargo xtask build` links it at a few KiB instead of
//! Rust's 1 MiB, first in memory, so that an instance holds little memory
//! and an overflow is a clean trap: the stack grows down past address 0,
//! which is out of bounds, instead of into the data.

use acr_auth_host::{CLIENT_COMPONENT, COMPONENT, CallError, Embedder, Limits};
use acr_auth_test_support::inputs::{largest_refresh_token_response, maximal_scopes, maximal_token, reference_of_len};
use acr_auth_test_support::proxy_component;
use acr_auth_test_support::stack::{layout, with_stack_size};

const REFERENCE: &str = "myregistry.azurecr.io/team/app:1.2";

#[test]
fn each_component_keeps_a_small_stack_below_its_data() {
    for (name, component) in [
        ("pure", COMPONENT.to_vec()),
        ("client", CLIENT_COMPONENT.to_vec()),
        ("proxy", proxy_component()),
    ] {
        let layout = layout(&component).unwrap();
        assert!(
            layout.stack_top <= layout.data_start,
            "{name}: the stack (up to {}) must lie below the data (from {})",
            layout.stack_top,
            layout.data_start
        );
        assert!(
            layout.stack_top <= 64 * 1024,
            "{name}: a {} byte stack is not the small one the build sets",
            layout.stack_top
        );
    }
}

#[test]
fn a_stack_overflow_is_a_trap_never_a_wrong_answer() {
    let full = Embedder::new(COMPONENT, Limits::default()).unwrap();
    // The generated type has no `PartialEq`; its `Debug` shows every field.
    let expected = format!("{:?}", full.resolve_scope(REFERENCE, None).unwrap().unwrap());
    // A stack too small for any call, and one a call may or may not fit in
    // (each size compiles the component again, the slow part): every call
    // either overflows (a trap on an out-of-bounds access) or answers
    // exactly as the full stack does.
    let mut trapped = 0;
    for size in [64, 1024] {
        let embedder = Embedder::new(&with_stack_size(COMPONENT, size).unwrap(), Limits::default()).unwrap();
        match embedder.resolve_scope(REFERENCE, None) {
            Ok(answer) => assert_eq!(format!("{:?}", answer.unwrap()), expected, "with a {size} byte stack"),
            Err(CallError::Trap(e)) => {
                assert_eq!(
                    e.downcast_ref::<wasmtime::Trap>(),
                    Some(&wasmtime::Trap::MemoryOutOfBounds),
                    "with a {size} byte stack: {e:?}"
                );
                trapped += 1;
            }
            Err(e) => panic!("with a {size} byte stack: {e}"),
        }
    }
    assert!(trapped >= 1, "a 64 byte stack must overflow");
    // The host goes on: a new instance of the real component still answers.
    assert_eq!(
        format!("{:?}", full.resolve_scope(REFERENCE, None).unwrap().unwrap()),
        expected
    );
}

#[test]
fn the_largest_accepted_inputs_fit_in_256_kib_of_memory() {
    let embedder = Embedder::new(
        COMPONENT,
        Limits {
            memory: 256 * 1024,
            ..Limits::default()
        },
    )
    .unwrap();
    let token = maximal_token('e');
    let scopes = maximal_scopes();
    let request = embedder
        .build_exchange_request("myregistry.azurecr.io", &token, None, None)
        .unwrap();
    assert!(request.is_ok(), "the exchange request with the longest token");
    let refresh = maximal_token('r');
    let request = embedder
        .build_token_request("myregistry.azurecr.io", &refresh, &scopes, None)
        .unwrap();
    assert!(request.is_ok(), "the token request with the most and longest scopes");
    let body = largest_refresh_token_response();
    let parsed = embedder.parse_refresh_token(200, &body, &[]).unwrap();
    assert!(parsed.is_ok(), "the largest accepted response: {parsed:?}");
    let reference = reference_of_len(acr_auth::MAX_REFERENCE_LEN);
    let scope = embedder.resolve_scope(&reference, None).unwrap();
    assert!(scope.is_ok(), "the longest reference: {scope:?}");
    // A challenge of the largest accepted length: ACR's, padded with parameters.
    let start = r#"Bearer realm="https://myregistry.azurecr.io/oauth2/token",service="myregistry.azurecr.io""#;
    let pad = ",p=\"".to_owned() + &"v".repeat(acr_auth::MAX_CHALLENGE_LEN - start.len() - 5) + "\"";
    let header = format!("{start}{pad}");
    assert_eq!(header.len(), acr_auth::MAX_CHALLENGE_LEN);
    let challenge = embedder.parse_challenge(&header, None).unwrap();
    assert!(challenge.is_ok(), "the longest challenge: {challenge:?}");
    // A cloud environment file of the largest accepted size, the rest whitespace.
    let fields = r#"{"resourceManagerEndpoint":"https://management.contoso.private/","activeDirectoryEndpoint":"https://login.contoso.private/","containerRegistryDNSSuffix":"azurecr.contoso.private"}"#;
    let file = format!(
        "{fields}{}",
        " ".repeat(acr_auth::MAX_CLOUD_ENVIRONMENT_LEN - fields.len())
    );
    let cloud = embedder.parse_cloud_environment(&file).unwrap();
    assert!(cloud.is_ok(), "the largest cloud environment file: {cloud:?}");
}
