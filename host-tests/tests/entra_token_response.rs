//! `parse-entra-token-response`: every case of
//! `tests/cases/entra-token-response.json` (Entra v2 and instance metadata
//! service answers as Microsoft documents them, and refusals with AADSTS
//! codes) through the `client` component, which must agree with the native
//! library.

use acr_auth_test_support::conformance::entra_response_wasm;
use acr_auth_test_support::conformance::native::{cases, check, entra_response_native, input, status};

#[test]
fn entra_token_response_cases_agree_and_match() {
    let cases = cases("entra-token-response");
    assert!(cases.len() >= 17, "the case file lost cases");
    for case in &cases {
        let now = case["now"].as_u64().expect("a time");
        let body = input(case, "body").expect("a body");
        let wasm = entra_response_wasm(status(case), body.as_bytes(), now);
        let native = entra_response_native(status(case), body.as_bytes(), now);
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &wasm);
    }
}
