//! `build-exchange-request`: every case of `cases/exchange-request.json`
//! through the native library and the component; the URL and form are also
//! decoded independently to check that they carry exactly the inputs.

use acr_auth_host_tests::conformance::{cases, check, custom_cloud, exchange_native, exchange_wasm, input};

#[test]
fn exchange_request_cases_agree_and_match() {
    let cases = cases("exchange-request");
    assert!(cases.len() >= 22, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let token = input(case, "token").expect("a token");
        let tenant = input(case, "tenant");
        let (native_env, wasm_env) = custom_cloud(case);
        let native = exchange_native(&reference, &token, tenant.as_deref(), native_env.as_ref());
        let wasm = exchange_wasm(&reference, &token, tenant.as_deref(), wasm_env.as_ref());
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &native);
        if native.get("error").is_none() {
            assert_form_carries_inputs(&native, &token, tenant.as_deref());
        }
    }
}

/// Decodes the form and checks it holds exactly the protocol's fields, with
/// the token and tenant as given, and that the URL holds no token.
fn assert_form_carries_inputs(request: &serde_json::Value, token: &str, tenant: Option<&str>) {
    let body = request["body"].as_str().expect("a text body");
    let url = request["url"].as_str().expect("a url");
    let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let service = url
        .strip_prefix("https://")
        .and_then(|rest| rest.strip_suffix("/oauth2/exchange"))
        .expect("an https exchange URL");
    let mut expected = vec![
        ("grant_type".to_owned(), "access_token".to_owned()),
        ("service".to_owned(), service.to_owned()),
        ("access_token".to_owned(), token.to_owned()),
    ];
    if let Some(tenant) = tenant {
        expected.push(("tenant".to_owned(), tenant.to_owned()));
    }
    assert_eq!(fields, expected);
    assert!(!url.contains(token), "the token is in the URL");
}
