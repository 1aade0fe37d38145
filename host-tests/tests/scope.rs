//! `resolve-scope`: every case of `tests/cases/scope.json` through the
//! component, which must agree with the native library and with the case's
//! expected answer.

use acr_auth_test_support::conformance::native::{cases, check, custom_cloud as native_cloud, input, scope_native};
use acr_auth_test_support::conformance::{custom_cloud, scope_wasm};

#[test]
fn scope_cases_agree_and_match() {
    let cases = cases("scope");
    assert!(cases.len() >= 60, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let wasm = scope_wasm(&reference, custom_cloud(case).as_ref());
        let native = scope_native(&reference, native_cloud(case).as_ref());
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &wasm);
    }
}

#[test]
fn resolving_a_login_server_again_changes_nothing() {
    for case in cases("scope").iter().filter(|c| c.get("expect").is_some()) {
        let env = custom_cloud(case);
        let first = scope_wasm(&input(case, "reference").expect("a reference"), env.as_ref());
        let login_server = first["login_server"].as_str().expect("a login server");
        assert_eq!(scope_wasm(login_server, env.as_ref()), first, "{}", case["name"]);
    }
}
