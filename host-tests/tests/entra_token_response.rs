//! `parse-entra-token-response`: every case of
//! `cases/entra-token-response.json` (Entra v2 and instance metadata service
//! answers as Microsoft documents them, and refusals with AADSTS codes),
//! through the native library and the `client` component, which must agree.

use acr_auth_host_tests::conformance::{cases, check, entra_response_native, entra_response_wasm, input};

#[test]
fn entra_token_response_cases_match() {
    let cases = cases("entra-token-response");
    assert!(cases.len() >= 17, "the case file lost cases");
    for case in &cases {
        let status = u16::try_from(case["status"].as_u64().expect("a status")).expect("a u16 status");
        let now = case["now"].as_u64().expect("a time");
        let body = input(case, "body").expect("a body");
        let native = entra_response_native(status, body.as_bytes(), now);
        let wasm = entra_response_wasm(status, body.as_bytes(), now);
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &native);
        if let Some(refusal) = case.get("expect_refusal").and_then(|r| r.as_object()) {
            for (key, want) in refusal {
                let key = if key == "error" { "error_code" } else { key.as_str() };
                assert_eq!(&native[key], want, "{}: refusal field {key}", case["name"]);
            }
        }
    }
}
