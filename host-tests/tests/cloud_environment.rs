//! `parse-cloud-environment`: every case of `cases/cloud-environment.json`
//! through the native library and the component.

use acr_auth_host_tests::conformance::{cases, check, cloud_environment_native, cloud_environment_wasm, input};

#[test]
fn cloud_environment_cases_agree_and_match() {
    let cases = cases("cloud-environment");
    assert!(cases.len() >= 19, "the case file lost cases");
    for case in &cases {
        let json = input(case, "json").expect("a json input");
        let native = cloud_environment_native(&json);
        let wasm = cloud_environment_wasm(&json);
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &native);
    }
}
