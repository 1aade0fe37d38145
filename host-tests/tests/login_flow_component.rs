//! `tests/cases/login-flow.json` through the `pure` component's
//! `login-flow` resource (in the Rust embedder), beside the native
//! [`LoginFlow`], fed the same script: at every step both must ask for the
//! same request, wait or file, and end alike. The native runner
//! (`tests/login_flow.rs`) holds the native flow to the file's expectations,
//! so the component meets them too.

#[path = "../../tests/flow_cases/mod.rs"]
mod flow_cases;

use acr_auth::{Event, LoginFlow, Step};
use acr_auth_host::wit::flow as wit;
use acr_auth_host::wit::http;
use acr_auth_host::{Embedder, Limits};
use acr_auth_test_support::conformance::identity_wasm;
use serde_json::{Value, json};

use flow_cases::{cases, credentials, file_outcome, options, outcome, resolve};

/// The case file.
const CASE_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/cases/login-flow.json");

/// The case's credentials and options as the component takes them.
fn wit_arguments(case: &Value) -> (wit::Credentials, wit::LoginOptions) {
    let credentials = match credentials(case) {
        acr_auth::Credentials::EntraToken(token) => wit::Credentials::EntraToken(token.into_exposed()),
        acr_auth::Credentials::Identity(identity) => wit::Credentials::Identity(identity_wasm(identity)),
        other => panic!("no case gives {other:?}"),
    };
    let native = options(case);
    let options = wit::LoginOptions {
        tenant: native.tenant,
        repository_scopes: native.repository_scopes,
        discover: native.discover,
        custom_cloud: None,
        connect_timeout_ms: None,
        first_byte_timeout_ms: None,
        between_bytes_timeout_ms: None,
        retry: None,
    };
    (credentials, options)
}

/// A native event as the component takes it.
fn wit_event(event: &Event) -> wit::Event {
    match event {
        Event::Start => wit::Event::Start,
        Event::Woke => wit::Event::Woke,
        Event::Response(response) => wit::Event::Response(http::Response {
            status: response.status,
            headers: response
                .headers
                .iter()
                .map(|(name, value)| http::Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body: response.body.clone(),
        }),
        Event::TransportFailed(error) => wit::Event::TransportFailed(http::TransportError {
            kind: match error.kind.as_str() {
                "connect" => http::TransportErrorKind::Connect,
                "tls" => http::TransportErrorKind::Tls,
                "timeout" => http::TransportErrorKind::Timeout,
                "too-large" => http::TransportErrorKind::TooLarge,
                _ => http::TransportErrorKind::Protocol,
            },
            message: error.message.clone(),
        }),
        Event::FileRead(contents) => wit::Event::FileRead(contents.expose().clone()),
        Event::FileFailed(why) => wit::Event::FileFailed(why.clone()),
        other => panic!("no case feeds {other:?}"),
    }
}

/// A native step as plain data to compare.
fn native_json(step: &Step) -> Value {
    match step {
        Step::Send(outgoing) => {
            let request = &outgoing.request;
            json!({"send": {
                "method": request.method,
                "url": request.url,
                "headers": request.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                "body": String::from_utf8_lossy(request.body.expose()),
                "timeouts_ms": [
                    outgoing.timeouts.connect.as_millis(),
                    outgoing.timeouts.first_byte.as_millis(),
                    outgoing.timeouts.between_bytes.as_millis(),
                ],
                "max_response_len": outgoing.max_response_len,
            }})
        }
        Step::Wait(until) => json!({ "wait": until }),
        Step::ReadFile { path, max_len } => json!({"read_file": {"path": path, "max_len": max_len}}),
        Step::Done(result) => {
            let credential = &result.credential;
            json!({"done": {
                "login_server": result.login_server,
                "username": credential.username,
                "password": credential.password.expose(),
                "expires_at": credential.expires_at,
                "issued_at": credential.issued_at,
                "audience": credential.audience,
                "tenant": credential.tenant,
                "abac": credential.abac,
                "access_token": result.access_token.as_ref().map(|token| json!({
                    "token": token.token.expose(),
                    "expires_at": token.expires_at,
                    "issued_at": token.issued_at,
                    "audience": token.audience,
                })),
            }})
        }
        Step::Failed(error) => json!({"failed": {
            "kind": error.kind().as_str(),
            "stage": error.stage().as_str(),
            "message": error.message(),
            "status": error.status(),
            "errors": error.errors().iter().map(|e| json!([e.code, e.message])).collect::<Vec<_>>(),
            "correlation_id": error.correlation_id(),
        }}),
        other => panic!("no case ends with {other:?}"),
    }
}

/// The component's step as the same plain data.
fn wit_json(step: &wit::Step) -> Value {
    match step {
        wit::Step::Send(outgoing) => {
            let request = &outgoing.request;
            json!({"send": {
                "method": request.method,
                "url": request.url,
                "headers": request.headers.iter().map(|h| json!([h.name, h.value])).collect::<Vec<_>>(),
                "body": String::from_utf8_lossy(&request.body),
                "timeouts_ms": [
                    outgoing.connect_timeout_ms,
                    outgoing.first_byte_timeout_ms,
                    outgoing.between_bytes_timeout_ms,
                ],
                "max_response_len": outgoing.max_response_len,
            }})
        }
        wit::Step::Wait(until) => json!({ "wait": until }),
        wit::Step::ReadFile(file) => json!({"read_file": {"path": file.path, "max_len": file.max_len}}),
        wit::Step::Done(result) => {
            let credential = &result.credential;
            json!({"done": {
                "login_server": result.login_server,
                "username": credential.username,
                "password": credential.password,
                "expires_at": credential.expires_at,
                "issued_at": credential.issued_at,
                "audience": credential.audience,
                "tenant": credential.tenant,
                "abac": credential.abac,
                "access_token": result.access_token.as_ref().map(|token| json!({
                    "token": token.token,
                    "expires_at": token.expires_at,
                    "issued_at": token.issued_at,
                    "audience": token.audience,
                })),
            }})
        }
        wit::Step::Failed(error) => json!({"failed": {
            "kind": login_kind(error.kind),
            "stage": stage(error.stage),
            "message": error.message,
            "status": error.status,
            "errors": error.errors.iter().map(|e| json!([e.code, e.message])).collect::<Vec<_>>(),
            "correlation_id": error.correlation_id,
        }}),
    }
}

/// A component login error's kind, by its WIT name.
fn login_kind(kind: wit::LoginErrorKind) -> &'static str {
    use wit::LoginErrorKind as K;
    match kind {
        K::InvalidInput => "invalid-input",
        K::Misuse => "misuse",
        K::Challenge => "challenge",
        K::Connect => "connect",
        K::Tls => "tls",
        K::Timeout => "timeout",
        K::Transport => "transport",
        K::Redirect => "redirect",
        K::Refused => "refused",
        K::TooLarge => "too-large",
        K::Malformed => "malformed",
        K::KeyFile => "key-file",
    }
}

/// A component stage, by its WIT name.
fn stage(stage: wit::Stage) -> &'static str {
    match stage {
        wit::Stage::Input => "input",
        wit::Stage::Entra => "entra",
        wit::Stage::Discovery => "discovery",
        wit::Stage::Exchange => "exchange",
        wit::Stage::Token => "token",
    }
}

#[test]
fn every_case_through_the_component_steps_as_the_native_flow() {
    let embedder = Embedder::new(acr_auth_host::COMPONENT, Limits::default()).expect("the component compiles");
    let (cases, secrets) = cases(CASE_FILE);
    assert!(cases.len() >= 38, "{} cases", cases.len());
    let mut steps = 0;
    for case in &cases {
        let case = &resolve(case, &secrets);
        let name = case["name"].as_str().expect("a name");
        let reference = case["reference"].as_str().expect("a reference");
        let mut native = LoginFlow::new(reference, credentials(case), options(case));
        let (wit_credentials, wit_options) = wit_arguments(case);
        let mut component = embedder
            .login_flow(reference, &wit_credentials, &wit_options)
            .expect("the flow starts");
        let mut now = case["start"].as_u64().expect("a start");
        let mut event = Event::Start;
        let mut script = case["script"].as_array().expect("a script").iter();
        loop {
            let expected = native.step(now, event.clone());
            let got = component.step(now, &wit_event(&event)).expect("no trap");
            assert_eq!(wit_json(&got), native_json(&expected), "{name}: step {steps}");
            steps += 1;
            event = match expected {
                Step::Done(_) | Step::Failed(_) => break,
                Step::Wait(until) => {
                    now = until;
                    Event::Woke
                }
                Step::ReadFile { .. } => Event::file(file_outcome(script.next().expect("a scripted read"))),
                Step::Send(_) => Event::outcome(outcome(script.next().expect("a scripted answer"))),
                other => panic!("{name}: {other:?}"),
            };
            if matches!(event, Event::Woke) {
                script.next();
            }
        }
        assert!(script.next().is_none(), "{name}: the script was not played to its end");
    }
    assert!(steps >= 100, "{steps} steps compared");
}
