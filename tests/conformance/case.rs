//! Reading the case files of `tests/cases/`: which there are, the fewest
//! cases each may hold, and a case's inputs as every host builds them. It
//! needs no crate of this repository, so that `cargo xtask fuzz` can include
//! it too and write the fuzz targets' seeds from the same inputs.

use serde_json::{Value, json};

/// Every case file: its name, the fewest cases it may hold (so that a file
/// that loses cases fails), and its text as this crate was built with it.
pub const CASE_FILES: [(&str, usize, &str); 9] = [
    ("access-token", 7, include_str!("../cases/access-token.json")),
    ("challenge", 30, include_str!("../cases/challenge.json")),
    ("cloud-environment", 19, include_str!("../cases/cloud-environment.json")),
    (
        "entra-token-request",
        25,
        include_str!("../cases/entra-token-request.json"),
    ),
    (
        "entra-token-response",
        17,
        include_str!("../cases/entra-token-response.json"),
    ),
    ("exchange-request", 22, include_str!("../cases/exchange-request.json")),
    ("refresh-token", 38, include_str!("../cases/refresh-token.json")),
    ("scope", 60, include_str!("../cases/scope.json")),
    ("token-request", 19, include_str!("../cases/token-request.json")),
];

/// Defines one `#[test]` per case file, named after it, that runs the file
/// with `$run` (a function of the file's name), and a test that these are
/// exactly the files of [`CASE_FILES`] (which must be in scope where it is
/// used).
#[macro_export]
macro_rules! test_each_case_file {
    ($run:path) => {
        $crate::test_each_case_file!($run;
            access_token: "access-token",
            challenge: "challenge",
            cloud_environment: "cloud-environment",
            entra_token_request: "entra-token-request",
            entra_token_response: "entra-token-response",
            exchange_request: "exchange-request",
            refresh_token: "refresh-token",
            scope: "scope",
            token_request: "token-request",
        );
    };
    ($run:path; $($test:ident: $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                $run($file);
            }
        )*

        #[test]
        fn every_case_file_has_its_test() {
            let listed: Vec<&str> = CASE_FILES.iter().map(|(name, ..)| *name).collect();
            assert_eq!([$($file),*], listed[..]);
        }
    };
}

/// The cases of `tests/cases/<name>.json`.
pub fn cases(name: &str) -> Vec<Value> {
    let (_, min_cases, text) = CASE_FILES
        .iter()
        .find(|(file, ..)| *file == name)
        .unwrap_or_else(|| panic!("no case file {name}.json"));
    let cases: Vec<Value> = serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}.json: {e}"));
    assert!(
        cases.len() >= *min_cases,
        "{name}.json lost cases: {} left",
        cases.len()
    );
    cases
}

/// A case's string input `key`: either a string, or
/// `{"repeat": "<text>", "times": N}` for inputs too long to write out.
pub fn input(case: &Value, key: &str) -> Option<String> {
    match case.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let text = o["repeat"].as_str().expect("repeat is a string");
            let times = o["times"].as_u64().expect("times is a number");
            let prefix = o.get("prefix").and_then(Value::as_str).unwrap_or_default();
            let suffix = o.get("suffix").and_then(Value::as_str).unwrap_or_default();
            Some(format!("{prefix}{}{suffix}", text.repeat(times as usize)))
        }
        other => Some(other.to_string()),
    }
}

/// A case's list input `key`: an array of strings, or
/// `{"repeat": "<text>", "times": N}` for N copies.
pub fn list_input(case: &Value, key: &str) -> Vec<String> {
    match case.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().expect("list items are strings").to_owned())
            .collect(),
        Some(Value::Object(o)) => {
            let text = o["repeat"].as_str().expect("repeat is a string");
            vec![text.to_owned(); o["times"].as_u64().expect("times is a number") as usize]
        }
        _ => Vec::new(),
    }
}

/// A case's HTTP status.
pub fn status(case: &Value) -> u16 {
    u16::try_from(case["status"].as_u64().expect("a status")).expect("a u16 status")
}

/// The response body of a `parse-refresh-token` or `parse-access-token` case
/// and the token it carries (in `token_field`, by default `refresh_token`). A
/// case gives `body` as text, `token_segments` to join with dots, or `jwt`
/// (`header`, `payload`, `signature` text) to encode here: base64url without
/// padding unless `padded`, the standard alphabet if `standard_alphabet`;
/// `require_chars` must then occur in the payload segment.
pub fn response_body(case: &Value) -> (Vec<u8>, Option<String>) {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let token = if let Some(segments) = case.get("token_segments") {
        let segments: Vec<&str> = segments
            .as_array()
            .expect("token_segments is an array")
            .iter()
            .map(|s| s.as_str().expect("segments are strings"))
            .collect();
        segments.join(".")
    } else if let Some(jwt) = case.get("jwt") {
        let flag = |key| jwt.get(key).and_then(Value::as_bool).unwrap_or(false);
        let engine = match (flag("standard_alphabet"), flag("padded")) {
            (false, false) => &URL_SAFE_NO_PAD,
            (false, true) => &URL_SAFE,
            (true, false) => &STANDARD_NO_PAD,
            (true, true) => &STANDARD,
        };
        let payload = engine.encode(jwt["payload"].to_string());
        if let Some(chars) = jwt.get("require_chars").and_then(Value::as_str) {
            for c in chars.chars() {
                assert!(payload.contains(c), "{}: payload segment lacks {c:?}", case["name"]);
            }
        }
        if flag("padded") {
            assert!(
                payload.ends_with('='),
                "{}: payload segment is not padded",
                case["name"]
            );
        }
        let signature = jwt["signature"].as_str().expect("signature is text");
        format!(
            "{}.{payload}.{}",
            engine.encode(jwt["header"].to_string()),
            engine.encode(signature)
        )
    } else {
        return (input(case, "body").expect("a body").into_bytes(), None);
    };
    let field = case
        .get("token_field")
        .and_then(Value::as_str)
        .unwrap_or("refresh_token");
    (json!({ field: token }).to_string().into_bytes(), Some(token))
}

/// The inputs of an `exchange-request` case: reference, token and tenant.
pub fn exchange_inputs(case: &Value) -> (String, String, Option<String>) {
    let reference = input(case, "reference").expect("a reference");
    (reference, input(case, "token").expect("a token"), input(case, "tenant"))
}

/// The inputs of a `token-request` case: reference, token and scopes.
pub fn token_request_inputs(case: &Value) -> (String, String, Vec<String>) {
    let reference = input(case, "reference").expect("a reference");
    (
        reference,
        input(case, "token").expect("a token"),
        list_input(case, "scopes"),
    )
}

/// The inputs of an `entra-token-response` case: status, body and the time
/// the request was sent.
pub fn entra_response_inputs(case: &Value) -> (u16, String, u64) {
    let now = case["now"].as_u64().expect("a time");
    (status(case), input(case, "body").expect("a body"), now)
}
