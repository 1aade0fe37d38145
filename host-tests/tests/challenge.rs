//! `parse-challenge`: every case of `cases/challenge.json` (RFC 7235 shapes
//! and ACR's challenge) through the native library and the component.

use acr_auth_host_tests::conformance::{cases, challenge_native, challenge_wasm, check, input};

#[test]
fn challenge_cases_agree_and_match() {
    let cases = cases("challenge");
    assert!(cases.len() >= 30, "the case file lost cases");
    for case in &cases {
        let header = input(case, "header").expect("a header");
        let native = challenge_native(&header);
        assert_eq!(
            native,
            challenge_wasm(&header),
            "{}: native and component differ",
            case["name"]
        );
        check(case, &native);
    }
}
