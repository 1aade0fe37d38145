//! `parse-cloud-environment`: every case of
//! `tests/cases/cloud-environment.json` through the component, which must
//! agree with the native library.

use acr_auth_test_support::conformance::cloud_environment_wasm;
use acr_auth_test_support::conformance::native::{cases, check, cloud_environment_native, input};

#[test]
fn cloud_environment_cases_agree_and_match() {
    let cases = cases("cloud-environment");
    assert!(cases.len() >= 19, "the case file lost cases");
    for case in &cases {
        let json = input(case, "json").expect("a json input");
        let wasm = cloud_environment_wasm(&json);
        assert_eq!(
            cloud_environment_native(&json),
            wasm,
            "{}: native and component differ",
            case["name"]
        );
        check(case, &wasm);
    }
}
