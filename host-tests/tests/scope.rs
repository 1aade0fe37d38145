//! `resolve-scope`: every case of `cases/scope.json` through the native
//! library and the component, which must agree with each other and with the
//! case's expected answer.

use acr_auth_host_tests::conformance::{cases, check, custom_cloud, input, scope_native, scope_wasm};

#[test]
fn scope_cases_agree_and_match() {
    let cases = cases("scope");
    assert!(cases.len() >= 60, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let (native_env, wasm_env) = custom_cloud(case);
        let native = scope_native(&reference, native_env.as_ref());
        let wasm = scope_wasm(&reference, wasm_env.as_ref());
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &native);
    }
}

#[test]
fn resolving_a_login_server_again_changes_nothing() {
    for case in cases("scope").iter().filter(|c| c.get("expect").is_some()) {
        let (native_env, wasm_env) = custom_cloud(case);
        let first = scope_native(&input(case, "reference").expect("a reference"), native_env.as_ref());
        let login_server = first["login_server"].as_str().expect("a login server");
        assert_eq!(
            scope_native(login_server, native_env.as_ref()),
            first,
            "{}",
            case["name"]
        );
        assert_eq!(scope_wasm(login_server, wasm_env.as_ref()), first, "{}", case["name"]);
    }
}
