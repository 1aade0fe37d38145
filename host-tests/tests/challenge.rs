//! `parse-challenge`: every case of `tests/cases/challenge.json` (RFC 7235
//! shapes and ACR's challenge) through the component, which must agree with
//! the native library.

use acr_auth_test_support::conformance::challenge_wasm;
use acr_auth_test_support::conformance::native::{cases, challenge_native, check, input};

#[test]
fn challenge_cases_agree_and_match() {
    let cases = cases("challenge");
    assert!(cases.len() >= 30, "the case file lost cases");
    for case in &cases {
        let header = input(case, "header").expect("a header");
        let wasm = challenge_wasm(&header);
        assert_eq!(
            challenge_native(&header),
            wasm,
            "{}: native and component differ",
            case["name"]
        );
        check(case, &wasm);
    }
}
