//! `build-token-request`: every case of `tests/cases/token-request.json`
//! through the component, which must agree with the native library (whose
//! requests the library's own tests decode field by field).

use acr_auth_test_support::conformance::native::{cases, check, input, list_input, token_request_native};
use acr_auth_test_support::conformance::token_request_wasm;

#[test]
fn token_request_cases_agree_and_match() {
    let cases = cases("token-request");
    assert!(cases.len() >= 19, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let token = input(case, "token").expect("a token");
        let scopes = list_input(case, "scopes");
        let wasm = token_request_wasm(&reference, &token, &scopes);
        assert_eq!(
            token_request_native(&reference, &token, &scopes),
            wasm,
            "{}: native and component differ",
            case["name"]
        );
        check(case, &wasm);
    }
}
