//! `build-exchange-request`: every case of `tests/cases/exchange-request.json`
//! through the component, which must agree with the native library (whose
//! requests the library's own tests decode field by field).

use acr_auth_test_support::conformance::native::{cases, check, custom_cloud as native_cloud, exchange_native, input};
use acr_auth_test_support::conformance::{custom_cloud, exchange_wasm};

#[test]
fn exchange_request_cases_agree_and_match() {
    let cases = cases("exchange-request");
    assert!(cases.len() >= 22, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let token = input(case, "token").expect("a token");
        let tenant = input(case, "tenant");
        let wasm = exchange_wasm(&reference, &token, tenant.as_deref(), custom_cloud(case).as_ref());
        let native = exchange_native(&reference, &token, tenant.as_deref(), native_cloud(case).as_ref());
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &wasm);
    }
}
