//! `build-entra-token-request`: every case of `cases/entra-token-request.json`,
//! through the native library and the `client` component, which must agree
//! (request shapes from Microsoft's token endpoint and instance metadata
//! service documentation); the form is decoded independently and must hold
//! exactly the case's fields, and no error may contain the credential.

use acr_auth_host_tests::conformance::{cases, check, entra_request_native, entra_request_wasm};
use serde_json::Value;

#[test]
fn entra_token_request_cases_match() {
    let cases = cases("entra-token-request");
    assert!(cases.len() >= 25, "the case file lost cases");
    for case in &cases {
        let native = entra_request_native(case);
        let wasm = entra_request_wasm(case);
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &native);
        if let Some(form) = case.get("form") {
            let body = native["body"].as_str().expect("a text body");
            let fields: Vec<Value> = form_urlencoded::parse(body.as_bytes())
                .map(|(k, v)| serde_json::json!([k, v]))
                .collect();
            assert_eq!(&Value::Array(fields), form, "{}: form fields", case["name"]);
        }
    }
}
