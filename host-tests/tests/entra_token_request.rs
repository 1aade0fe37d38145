//! `build-entra-token-request`: every case of
//! `tests/cases/entra-token-request.json` through the `client` component,
//! which must agree with the native library (whose requests the library's
//! own tests decode field by field).

use acr_auth_test_support::conformance::entra_request_wasm;
use acr_auth_test_support::conformance::native::{cases, check, entra_request_native};

#[test]
fn entra_token_request_cases_agree_and_match() {
    let cases = cases("entra-token-request");
    assert!(cases.len() >= 25, "the case file lost cases");
    for case in &cases {
        let wasm = entra_request_wasm(case);
        assert_eq!(
            entra_request_native(case),
            wasm,
            "{}: native and component differ",
            case["name"]
        );
        check(case, &wasm);
    }
}
