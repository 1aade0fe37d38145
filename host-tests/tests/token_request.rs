//! `build-token-request`: every case of `cases/token-request.json` through
//! the native library and the component; the form is also decoded to check
//! that it carries exactly the inputs.

use acr_auth_host_tests::conformance::{cases, check, input, list_input, token_request_native, token_request_wasm};

#[test]
fn token_request_cases_agree_and_match() {
    let cases = cases("token-request");
    assert!(cases.len() >= 19, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let token = input(case, "token").expect("a token");
        let scopes = list_input(case, "scopes");
        let native = token_request_native(&reference, &token, &scopes);
        assert_eq!(
            native,
            token_request_wasm(&reference, &token, &scopes),
            "{}: native and component differ",
            case["name"]
        );
        check(case, &native);
        if native.get("error").is_none() {
            let body = native["body"].as_str().expect("a text body");
            let fields: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
            let service = fields[1].1.clone();
            let mut expected = vec![
                ("grant_type".to_owned(), "refresh_token".to_owned()),
                ("service".to_owned(), service.clone()),
            ];
            expected.extend(scopes.iter().map(|s| ("scope".to_owned(), s.clone())));
            expected.push(("refresh_token".to_owned(), token.clone()));
            assert_eq!(fields, expected, "{}", case["name"]);
            assert_eq!(native["url"], format!("https://{service}/oauth2/token"));
        }
    }
}
