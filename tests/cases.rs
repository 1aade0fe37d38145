//! Every case of every case file in `tests/cases/` through the native
//! library: each answer must match the case's expected answer. Requests are
//! also decoded independently (`form_urlencoded`), and must carry exactly
//! their inputs. The components answer the same cases in `host-tests`, and
//! must agree with these answers.

mod conformance;

use conformance::{
    CASE_FILES, access_native, cases, challenge_native, check, check_response_case, cloud_environment_native,
    custom_cloud, entra_request_native, entra_response_native, exchange_native, input, list_input, refresh_native,
    response_body, scope_native, status, token_request_native,
};
use serde_json::{Value, json};

/// The form fields of a request body, decoded.
fn form(request: &Value) -> Vec<(String, String)> {
    let body = request["body"].as_str().expect("a text body");
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

#[test]
fn every_case_file_is_run() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("the case directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.file_stem().expect("a name").to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let run: Vec<&str> = CASE_FILES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        on_disk, run,
        "a case file without a runner, or a runner without its file"
    );
}

#[test]
fn scope_cases_match() {
    let cases = cases("scope");
    assert!(cases.len() >= 60, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        check(case, &scope_native(&reference, custom_cloud(case).as_ref()));
    }
}

#[test]
fn resolving_a_login_server_again_changes_nothing() {
    for case in cases("scope").iter().filter(|c| c.get("expect").is_some()) {
        let env = custom_cloud(case);
        let first = scope_native(&input(case, "reference").expect("a reference"), env.as_ref());
        let login_server = first["login_server"].as_str().expect("a login server");
        assert_eq!(scope_native(login_server, env.as_ref()), first, "{}", case["name"]);
    }
}

#[test]
fn cloud_environment_cases_match() {
    let cases = cases("cloud-environment");
    assert!(cases.len() >= 19, "the case file lost cases");
    for case in &cases {
        check(
            case,
            &cloud_environment_native(&input(case, "json").expect("a json input")),
        );
    }
}

#[test]
fn exchange_request_cases_match_and_carry_exactly_their_inputs() {
    let cases = cases("exchange-request");
    assert!(cases.len() >= 22, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let token = input(case, "token").expect("a token");
        let tenant = input(case, "tenant");
        let request = exchange_native(&reference, &token, tenant.as_deref(), custom_cloud(case).as_ref());
        check(case, &request);
        if request.get("error").is_some() {
            continue;
        }
        let url = request["url"].as_str().expect("a url");
        let service = url
            .strip_prefix("https://")
            .and_then(|rest| rest.strip_suffix("/oauth2/exchange"))
            .expect("an https exchange URL");
        let mut expected = vec![
            ("grant_type".to_owned(), "access_token".to_owned()),
            ("service".to_owned(), service.to_owned()),
            ("access_token".to_owned(), token.clone()),
        ];
        expected.extend(tenant.map(|tenant| ("tenant".to_owned(), tenant)));
        assert_eq!(form(&request), expected, "{}", case["name"]);
        assert!(!url.contains(&token), "{}: the token is in the URL", case["name"]);
    }
}

#[test]
fn token_request_cases_match_and_carry_exactly_their_inputs() {
    let cases = cases("token-request");
    assert!(cases.len() >= 19, "the case file lost cases");
    for case in &cases {
        let reference = input(case, "reference").expect("a reference");
        let token = input(case, "token").expect("a token");
        let scopes = list_input(case, "scopes");
        let request = token_request_native(&reference, &token, &scopes);
        check(case, &request);
        if request.get("error").is_some() {
            continue;
        }
        let fields = form(&request);
        let service = fields[1].1.clone();
        let mut expected = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("service".to_owned(), service.clone()),
        ];
        expected.extend(scopes.iter().map(|s| ("scope".to_owned(), s.clone())));
        expected.push(("refresh_token".to_owned(), token.clone()));
        assert_eq!(fields, expected, "{}", case["name"]);
        assert_eq!(request["url"], format!("https://{service}/oauth2/token"));
    }
}

#[test]
fn challenge_cases_match() {
    let cases = cases("challenge");
    assert!(cases.len() >= 30, "the case file lost cases");
    for case in &cases {
        check(case, &challenge_native(&input(case, "header").expect("a header")));
    }
}

/// Runs every case of a response-parsing case file through `parse`.
fn check_response_file(file: &str, min_cases: usize, parse: fn(u16, &[u8]) -> Value, token_key: &str) {
    let cases = cases(file);
    assert!(cases.len() >= min_cases, "{file}: the case file lost cases");
    for case in &cases {
        let (body, token) = response_body(case);
        check_response_case(case, &parse(status(case), &body), token.as_deref(), token_key);
    }
}

#[test]
fn refresh_token_cases_match() {
    check_response_file("refresh-token", 38, refresh_native, "password");
}

#[test]
fn access_token_cases_match() {
    check_response_file("access-token", 7, access_native, "token");
}

#[test]
fn entra_token_request_cases_match_and_carry_exactly_their_fields() {
    let cases = cases("entra-token-request");
    assert!(cases.len() >= 25, "the case file lost cases");
    for case in &cases {
        let request = entra_request_native(case);
        check(case, &request);
        if let Some(expected) = case.get("form") {
            let fields: Vec<Value> = form(&request).into_iter().map(|(k, v)| json!([k, v])).collect();
            assert_eq!(&Value::Array(fields), expected, "{}: form fields", case["name"]);
        }
    }
}

#[test]
fn entra_token_response_cases_match() {
    let cases = cases("entra-token-response");
    assert!(cases.len() >= 17, "the case file lost cases");
    for case in &cases {
        let now = case["now"].as_u64().expect("a time");
        let body = input(case, "body").expect("a body");
        let answer = entra_response_native(status(case), body.as_bytes(), now);
        check(case, &answer);
        if let Some(refusal) = case.get("expect_refusal").and_then(Value::as_object) {
            for (key, want) in refusal {
                let key = if key == "error" { "error_code" } else { key.as_str() };
                assert_eq!(&answer[key], want, "{}: refusal field {key}", case["name"]);
            }
        }
    }
}
