//! `parse-access-token`: every case of `tests/cases/access-token.json`
//! through the component, which must agree with the native library.

use acr_auth_test_support::conformance::native::access_native;
use acr_auth_test_support::conformance::{access_wasm, check_response_cases};

#[test]
fn access_token_cases_agree_and_match() {
    check_response_cases("access-token", 7, access_native, access_wasm, "token");
}
