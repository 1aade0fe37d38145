//! `tests/cases/login-flow.json` through the native [`LoginFlow`], step by
//! step, and through the blocking driver [`acr_auth::login`] over a scripted
//! transport with a virtual clock: the same requests, waits and endings.
//! The file's `about` describes the format; the component, Node and Python
//! run the same file.

mod flow_cases;

use std::collections::BTreeMap;

use acr_auth::{
    Credentials, Event, Identity, LoginError, LoginFlow, LoginOptions, LoginResult, Outgoing, Response, Secret, Step,
    Transport, TransportError,
};
use serde_json::{Value, json};

use flow_cases::{cases, credentials, file_outcome, options, outcome, resolve, text};

/// The case file.
const CASE_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cases/login-flow.json");

/// Asserts that `outgoing` is the request `expected` describes.
fn check_request(name: &str, outgoing: &Outgoing, expected: &Value) {
    let request = &outgoing.request;
    assert_eq!(request.method, expected["method"], "{name}: method");
    assert_eq!(request.url, expected["url"], "{name}: URL");
    let headers: Vec<Value> = request.headers.iter().map(|(n, v)| json!([n, v])).collect();
    assert_eq!(Value::Array(headers), expected["headers"], "{name}: headers");
    let body = request.body.expose();
    if let Some(form) = expected.get("form") {
        let fields: Vec<Value> = form_urlencoded::parse(body).map(|(k, v)| json!([k, v])).collect();
        assert_eq!(&Value::Array(fields), form, "{name}: form");
    } else {
        assert_eq!(
            std::str::from_utf8(body).expect("text"),
            expected["body"],
            "{name}: body"
        );
    }
    assert_eq!(
        outgoing.max_response_len,
        acr_auth::MAX_RESPONSE_BODY_LEN,
        "{name}: body cap"
    );
    // The cases give no timeouts: the documented defaults.
    assert_eq!(outgoing.timeouts, acr_auth::Timeouts::default(), "{name}: timeouts");
    assert_eq!(
        (
            outgoing.timeouts.connect.as_secs(),
            outgoing.timeouts.first_byte.as_secs(),
            outgoing.timeouts.between_bytes.as_secs()
        ),
        (10, 30, 30),
        "{name}: default timeouts"
    );
}

/// Asserts that the login ended as the case says.
fn check_end(case: &Value, secrets: &BTreeMap<String, String>, end: Result<LoginResult, LoginError>) {
    let name = case["name"].as_str().expect("a name");
    match (end, case.get("done"), case.get("failed")) {
        (Ok(result), Some(done), None) => {
            assert_eq!(result.login_server, done["login_server"], "{name}");
            assert_eq!(result.credential.expires_at, done["expires_at"], "{name}");
            assert_eq!(json!(result.credential.audience), done["audience"], "{name}");
            assert_eq!(result.credential.password.expose(), &done["password"], "{name}");
            let access = result.access_token.map(|t| t.expires_at);
            assert_eq!(json!(access), done["access_token_expires_at"], "{name}");
        }
        (Err(error), None, Some(failed)) => {
            assert_eq!(error.kind().as_str(), failed["kind"], "{name}: kind ({error:?})");
            assert_eq!(error.stage().as_str(), failed["stage"], "{name}: stage ({error:?})");
            if let Some(status) = failed.get("status") {
                assert_eq!(json!(error.status()), *status, "{name}: status");
            }
            let message = error.message();
            for part in failed["message_contains"].as_array().into_iter().flatten() {
                assert!(message.contains(part.as_str().expect("text")), "{name}: {message}");
            }
            if let Some(errors) = failed.get("errors") {
                let observed: Vec<Value> = error
                    .errors()
                    .iter()
                    .map(|e| json!({"code": e.code, "message": e.message}))
                    .collect();
                assert_eq!(&Value::Array(observed), errors, "{name}: errors");
            }
            if let Some(id) = failed.get("correlation_id") {
                assert_eq!(json!(error.correlation_id()), *id, "{name}: correlation ID");
            }
            let texts = [
                message.clone(),
                format!("{error:?}"),
                error.correlation_id().unwrap_or_default().to_owned(),
            ]
            .into_iter()
            .chain(error.errors().iter().flat_map(|e| [e.code.clone(), e.message.clone()]));
            let texts: Vec<String> = texts.collect();
            for secret in failed["lacks"].as_array().into_iter().flatten() {
                let secret = &secrets[secret.as_str().expect("a name")];
                for window in secret.as_bytes().windows(acr_auth::MIN_FRAGMENT) {
                    let window = std::str::from_utf8(window).expect("ASCII");
                    for text in &texts {
                        assert!(!text.contains(window), "{name}: {window:?} in {text}");
                    }
                }
            }
        }
        (end, _, _) => panic!("{name}: ended with {end:?}"),
    }
}

#[test]
fn every_case_step_by_step() {
    let (cases, secrets) = cases(CASE_FILE);
    assert!(cases.len() >= 38, "{} cases", cases.len());
    for case in &cases {
        let case = &resolve(case, &secrets);
        let name = case["name"].as_str().expect("a name");
        let mut flow = LoginFlow::new(
            case["reference"].as_str().expect("a reference"),
            credentials(case),
            options(case),
        );
        let mut now = case["start"].as_u64().expect("a start");
        let mut event = Event::Start;
        for item in case["script"].as_array().expect("a script") {
            let step = flow.step(now, event);
            if let Some(wait) = item.get("wait").and_then(Value::as_u64) {
                assert_eq!(step, Step::Wait(now + wait), "{name}");
                // Waking early is told to wait again.
                assert_eq!(flow.step(now + wait - 1, Event::Woke), Step::Wait(now + wait), "{name}");
                now += wait;
                event = Event::Woke;
                continue;
            }
            if let Some(file) = item.get("read_file") {
                assert_eq!(
                    step,
                    Step::ReadFile {
                        path: text(file, "path").expect("a path"),
                        max_len: usize::try_from(file["max_len"].as_u64().expect("a cap")).expect("usize"),
                    },
                    "{name}"
                );
                event = Event::file(file_outcome(item));
                continue;
            }
            let Step::Send(outgoing) = step else {
                panic!("{name}: expected a request, got {step:?}");
            };
            check_request(name, &outgoing, &item["send"]);
            event = Event::outcome(outcome(item));
        }
        let end = match flow.step(now, event) {
            Step::Done(result) => Ok(result),
            Step::Failed(error) => Err(error),
            other => panic!("{name}: expected the end, got {other:?}"),
        };
        check_end(case, &secrets, end.clone());
        // The end is the end: every further step returns it again.
        let again = match flow.step(now + 1, Event::Woke) {
            Step::Done(result) => Ok(result),
            Step::Failed(error) => Err(error),
            other => panic!("{name}: after the end, {other:?}"),
        };
        assert_eq!(again, end, "{name}");
    }
}

/// A transport that plays a case's script on a virtual clock.
struct Scripted<'c> {
    name: &'c str,
    script: std::slice::Iter<'c, Value>,
    now: u64,
}

impl Transport for Scripted<'_> {
    fn send(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        let item = self
            .script
            .next()
            .unwrap_or_else(|| panic!("{}: an unscripted request", self.name));
        check_request(self.name, outgoing, &item["send"]);
        outcome(item)
    }

    fn now(&self) -> u64 {
        self.now
    }

    fn sleep_until(&mut self, until: u64) {
        let item = self
            .script
            .next()
            .unwrap_or_else(|| panic!("{}: an unscripted wait", self.name));
        assert_eq!(Some(until - self.now), item["wait"].as_u64(), "{}: wait", self.name);
        self.now = until;
    }

    fn read_file(&mut self, path: &str, max_len: usize) -> Result<String, String> {
        let item = self
            .script
            .next()
            .unwrap_or_else(|| panic!("{}: an unscripted read", self.name));
        let file = &item["read_file"];
        assert_eq!(Some(path), file["path"].as_str(), "{}: path", self.name);
        assert_eq!(Some(max_len as u64), file["max_len"].as_u64(), "{}: cap", self.name);
        file_outcome(item)
    }
}

#[test]
fn every_case_through_the_blocking_driver() {
    let (cases, secrets) = cases(CASE_FILE);
    for case in &cases {
        let case = &resolve(case, &secrets);
        let name = case["name"].as_str().expect("a name");
        let script = case["script"].as_array().expect("a script");
        let mut transport = Scripted {
            name,
            script: script.iter(),
            now: case["start"].as_u64().expect("a start"),
        };
        let end = acr_auth::login(
            &mut transport,
            case["reference"].as_str().expect("a reference"),
            credentials(case),
            options(case),
        );
        assert!(
            transport.script.next().is_none(),
            "{name}: the script was not played to its end"
        );
        check_end(case, &secrets, end);
    }
}

#[test]
fn events_the_flow_did_not_ask_for_end_it() {
    let token = Credentials::EntraToken(Secret::new("eyJ0eXAi.e30.c2ln".to_owned()));
    let reference = "myregistry.azurecr.io";
    let response = Response {
        status: 200,
        headers: Vec::new(),
        body: Vec::new(),
    };
    for (before, event) in [
        (0, Event::Response(response.clone())),
        (0, Event::Woke),
        (1, Event::Start),
        (1, Event::Woke),
    ] {
        let mut flow = LoginFlow::new(reference, token.clone(), LoginOptions::default());
        if before == 1 {
            assert!(matches!(flow.step(0, Event::Start), Step::Send(_)));
        }
        match flow.step(0, event.clone()) {
            Step::Failed(error) => assert_eq!(error.kind().as_str(), "misuse", "{event:?}: {error}"),
            other => panic!("{event:?}: {other:?}"),
        }
    }
}

#[test]
fn a_login_error_keeps_its_cause_and_does_not_repeat_it() {
    let mut flow = LoginFlow::new(
        "myregistry.azurecr.io",
        Credentials::EntraToken(Secret::new("eyJ0eXAi.e30.c2ln".to_owned())),
        LoginOptions::default(),
    );
    assert!(matches!(flow.step(0, Event::Start), Step::Send(_)));
    let body = br#"{"errors":[{"code":"UNAUTHORIZED","message":"no"}]}"#.to_vec();
    let Step::Failed(error) = flow.step(
        0,
        Event::Response(Response {
            status: 401,
            headers: Vec::new(),
            body,
        }),
    ) else {
        panic!("not failed");
    };
    let source = std::error::Error::source(&error).expect("a cause");
    let cause = source
        .downcast_ref::<acr_auth::ResponseError>()
        .expect("the registry's refusal");
    assert_eq!(cause.kind().as_str(), "refused");
    assert!(!error.to_string().contains(&source.to_string()), "{error}");
    assert_eq!(error.message(), format!("{error}: {source}"));
}

#[test]
fn every_request_carries_the_timeouts_given() {
    let timeouts = acr_auth::Timeouts {
        connect: std::time::Duration::from_millis(1500),
        first_byte: std::time::Duration::from_millis(2500),
        between_bytes: std::time::Duration::from_millis(3500),
    };
    let options = LoginOptions {
        timeouts,
        discover: true,
        ..LoginOptions::default()
    };
    let token = Credentials::EntraToken(Secret::new("eyJ0eXAi.e30.c2ln".to_owned()));
    let mut flow = LoginFlow::new("myregistry.azurecr.io", token, options);
    let Step::Send(discovery) = flow.step(0, Event::Start) else {
        panic!("no discovery");
    };
    assert_eq!(discovery.timeouts, timeouts);
}

#[test]
fn a_custom_cloud_without_an_acr_audience_asks_for_its_arm_scope() {
    let env = acr_auth::parse_cloud_environment(
        r#"{"resourceManagerEndpoint": "https://management.contoso.private/",
            "activeDirectoryEndpoint": "https://login.contoso.private/",
            "containerRegistryDNSSuffix": "azurecr.contoso.private"}"#,
    )
    .expect("an environment");
    let identity = Identity::ClientSecret {
        tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".to_owned(),
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".to_owned(),
        secret: Secret::new("s3cr3t~value.With-Chars_0".to_owned()),
        authority_host: Some("https://login.contoso.private/".to_owned()),
    };
    let options = LoginOptions {
        custom_cloud: Some(env),
        ..LoginOptions::default()
    };
    let mut flow = LoginFlow::new(
        "myregistry.azurecr.contoso.private",
        Credentials::Identity(identity),
        options,
    );
    let Step::Send(entra) = flow.step(0, Event::Start) else {
        panic!("no Entra request");
    };
    assert_eq!(
        entra.request.url,
        "https://login.contoso.private/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
    );
    let form: Vec<(String, String)> = form_urlencoded::parse(entra.request.body.expose())
        .into_owned()
        .collect();
    assert!(form.contains(&(
        "scope".to_owned(),
        "https://management.contoso.private/.default".to_owned()
    )));
}
