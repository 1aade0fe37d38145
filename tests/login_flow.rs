//! The native login flow over a scripted transport that records every
//! request it is asked to send: the exact requests, their order, and that
//! nothing is sent after a failure or to another host.

mod script;

use std::time::Duration;

use acr_auth::{LoginErrorKind, LoginOptions, Response, Stage, Timeouts, TransportError, TransportErrorKind, login};
use script::{Script, response, token_body};
use serde_json::json;

const HOST: &str = "myregistry.azurecr.io";
const ENTRA: &str = "entra-token-value-0123456789";

/// A 401 with a Bearer challenge naming `realm_host` and `service`.
fn challenge(realm_host: &str, service: &str) -> Result<Response, TransportError> {
    let header = format!(r#"Bearer realm="https://{realm_host}/oauth2/token",service="{service}""#);
    response(
        401,
        &[("www-authenticate", &header)],
        r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#,
    )
}

#[test]
fn sends_exactly_the_exchange_then_the_token_request() {
    let (refresh, refresh_body) = token_body("refresh_token", HOST, 1_767_232_800);
    let (access, access_body) = token_body("access_token", HOST, 1_767_226_500);
    let mut script = Script::new(vec![
        challenge(HOST, HOST),
        response(200, &[], &refresh_body),
        response(200, &[], &access_body),
    ]);
    let options = LoginOptions {
        tenant: Some("contoso.onmicrosoft.com".into()),
        scopes: vec!["repository:team/app:pull".into()],
        discover: true,
        timeouts: Timeouts {
            connect: Duration::from_millis(1500),
            first_byte: Duration::from_secs(2),
            between_bytes: Duration::from_secs(3),
        },
        ..LoginOptions::default()
    };
    let result = login(&mut script, "MyRegistry.azurecr.io/team/app:1", ENTRA, &options).expect("login succeeds");
    assert_eq!(result.credential.password.expose(), &refresh);
    assert_eq!(result.access_token.as_ref().map(|a| a.token.expose()), Some(&access));
    assert_eq!(result.access_token.map(|a| a.expires_at), Some(1_767_226_500));

    let lines: Vec<(&str, &str)> = script.sent.iter().map(|s| (s.method, s.url.as_str())).collect();
    assert_eq!(
        lines,
        [
            ("GET", "https://myregistry.azurecr.io/v2/"),
            ("POST", "https://myregistry.azurecr.io/oauth2/exchange"),
            ("POST", "https://myregistry.azurecr.io/oauth2/token"),
        ]
    );
    assert_eq!(script.sent[0].body, "", "discovery carries no token");
    assert_eq!(
        script.sent[1].body,
        format!("grant_type=access_token&service={HOST}&access_token={ENTRA}&tenant=contoso.onmicrosoft.com")
    );
    assert_eq!(
        script.sent[2].body,
        format!("grant_type=refresh_token&service={HOST}&scope=repository%3Ateam%2Fapp%3Apull&refresh_token={refresh}")
    );
    for sent in &script.sent {
        assert_eq!(sent.timeouts, options.timeouts);
        assert_eq!(sent.max_body, acr_auth::MAX_RESPONSE_BODY_LEN);
    }
}

#[test]
fn default_timeouts_are_the_documented_ones() {
    let (_, body) = token_body("refresh_token", HOST, 10);
    let mut script = Script::new(vec![response(200, &[], &body)]);
    login(&mut script, HOST, ENTRA, &LoginOptions::default()).expect("login succeeds");
    assert_eq!(
        script.sent[0].timeouts,
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(30),
            between_bytes: Duration::from_secs(30),
        }
    );
}

#[test]
fn a_challenge_for_another_registry_stops_before_any_token_is_sent() {
    for (realm, service) in [("otherregistry.azurecr.io", HOST), (HOST, "otherregistry.azurecr.io")] {
        let mut script = Script::new(vec![challenge(realm, service)]);
        let options = LoginOptions {
            discover: true,
            ..LoginOptions::default()
        };
        let error = login(&mut script, HOST, ENTRA, &options).expect_err("refused");
        assert_eq!((error.kind, error.stage), (LoginErrorKind::Challenge, Stage::Discovery));
        assert_eq!(script.sent.len(), 1, "nothing after discovery");
    }
}

#[test]
fn discovery_needs_a_401_with_a_bearer_challenge() {
    for answer in [
        response(200, &[], "{}"),
        response(401, &[("www-authenticate", "Basic realm=\"x\"")], ""),
    ] {
        let mut script = Script::new(vec![answer]);
        let options = LoginOptions {
            discover: true,
            ..LoginOptions::default()
        };
        let error = login(&mut script, HOST, ENTRA, &options).expect_err("refused");
        assert_eq!(error.kind, LoginErrorKind::Challenge);
        assert_eq!(script.sent.len(), 1);
    }
}

#[test]
fn a_redirect_ends_the_login() {
    let mut script = Script::new(vec![response(302, &[("location", "https://evil.example/steal")], "")]);
    let error = login(&mut script, HOST, ENTRA, &LoginOptions::default()).expect_err("refused");
    assert_eq!(
        (error.kind, error.stage, error.status),
        (LoginErrorKind::Redirect, Stage::Exchange, Some(302))
    );
    assert!(
        error.message.contains("https://evil.example/steal"),
        "{}",
        error.message
    );
    assert_eq!(script.sent.len(), 1);
}

#[test]
fn transport_failures_keep_their_kind_and_lose_the_token() {
    for (kind, expected) in [
        (TransportErrorKind::Connect, LoginErrorKind::Connect),
        (TransportErrorKind::Tls, LoginErrorKind::Tls),
        (TransportErrorKind::Timeout, LoginErrorKind::Timeout),
        (TransportErrorKind::TooLarge, LoginErrorKind::TooLarge),
        (TransportErrorKind::Protocol, LoginErrorKind::Transport),
    ] {
        let message = format!("failed while sending {ENTRA}");
        let mut script = Script::new(vec![Err(TransportError { kind, message })]);
        let error = login(&mut script, HOST, ENTRA, &LoginOptions::default()).expect_err("fails");
        assert_eq!(error.kind, expected);
        assert_eq!(error.message, "failed while sending [redacted]");
        assert!(!error.to_string().contains(ENTRA));
    }
}

#[test]
fn a_refused_token_step_redacts_an_echoed_refresh_token() {
    let (refresh, refresh_body) = token_body("refresh_token", HOST, 10);
    let echo = json!({"errors": [{"code": "DENIED", "message": format!("token {refresh} lacks pull")}]}).to_string();
    let mut script = Script::new(vec![
        response(200, &[], &refresh_body),
        response(403, &[("x-ms-correlation-request-id", "abc-123")], &echo),
    ]);
    let options = LoginOptions {
        scopes: vec!["repository:team/app:pull".into()],
        ..LoginOptions::default()
    };
    let error = login(&mut script, HOST, ENTRA, &options).expect_err("refused");
    assert_eq!(
        (error.kind, error.stage, error.status),
        (LoginErrorKind::Refused, Stage::Token, Some(403))
    );
    assert_eq!(error.correlation_id.as_deref(), Some("abc-123"));
    assert_eq!(error.errors[0].message, "token [redacted] lacks pull");
    assert!(!format!("{error:?}{error}").contains(&refresh));
}

#[test]
fn bad_input_sends_nothing() {
    for (reference, token, scopes) in [
        ("myregistry.azurecr.io:8443", ENTRA, vec![]),
        (HOST, "", vec![]),
        (HOST, ENTRA, vec!["repository:team/app:push;rm".to_owned()]),
        (HOST, ENTRA, vec!["repository:a:pull".to_owned(); 33]),
    ] {
        let mut script = Script::new(vec![]);
        let options = LoginOptions {
            scopes,
            ..LoginOptions::default()
        };
        let error = login(&mut script, reference, token, &options).expect_err("refused");
        assert_eq!((error.kind, error.stage), (LoginErrorKind::InvalidInput, Stage::Input));
        assert!(script.sent.is_empty());
    }
}
