//! `parse-access-token`: every case of `cases/access-token.json` through the
//! native library and the component.

use acr_auth_host_tests::conformance::{access_native, access_wasm, check_response_cases};

#[test]
fn access_token_cases_agree_and_match() {
    check_response_cases("access-token", 7, access_native, access_wasm, "token");
}
