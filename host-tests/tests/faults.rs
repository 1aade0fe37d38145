//! `login` through the `client` component in the Rust host against a test ACR
//! that breaks the connection (reset or cut short mid-body, a body dripped
//! slower than the between-bytes timeout) or presents a bad certificate
//! (expired, for another host, from an untrusted CA). Each login must fail
//! closed with the typed error for the fault, leak no token, and make no
//! request beyond the one that failed: no retry, and never plain HTTP.

use std::time::Duration;

use acr_auth_host::client::wit::flow::{LoginError, LoginErrorKind, LoginOptions, Stage};
use acr_auth_test_support::acr_server::{Behaviour, CertFault, DEFAULT_ENTRA_TOKEN, Handshake, TestAcr};
use acr_auth_test_support::client::{assert_no_secret, client, login_err, login_ok, options};

const HOST: &str = "faultyregistry.azurecr.io";
const SCOPE: &str = "repository:team/app:pull";

/// Logs in to `acr` with an access token scope, so that both OAuth steps run,
/// expecting failure; checks that neither the Entra token nor any refresh
/// token the server issued is in the error.
fn failed_login(acr: &TestAcr, options: LoginOptions) -> LoginError {
    let options = LoginOptions {
        repository_scopes: vec![SCOPE.to_owned()],
        ..options
    };
    let error = login_err(&client(&[acr]), HOST, DEFAULT_ENTRA_TOKEN, &options);
    let issued: Vec<String> = acr.issued_refresh_tokens().into_iter().map(|t| t.token).collect();
    let issued: Vec<&str> = issued.iter().map(String::as_str).collect();
    assert_no_secret(&error, &issued);
    error
}

/// Checks that `acr` received one request per step up to `stage`, the step
/// that failed, over one TLS connection (the host keeps it for the next
/// step): nothing was retried, on that connection or another, and nothing
/// was sent in plain HTTP.
fn assert_no_retry(acr: &TestAcr, stage: Stage, case: &str) {
    let steps: &[&str] = match stage {
        Stage::Exchange => &["/oauth2/exchange"],
        Stage::Token => &["/oauth2/exchange", "/oauth2/token"],
        other => panic!("no fault is injected at {other:?}"),
    };
    let lines: Vec<(String, String)> = acr.requests().into_iter().map(|r| (r.method, r.path)).collect();
    let expected: Vec<(String, String)> = steps.iter().map(|path| ("POST".into(), (*path).into())).collect();
    assert_eq!(lines, expected, "{case}");
    assert_eq!(acr.handshakes(), [Handshake::Completed], "{case}");
}

/// A server whose `stage` step answers with `fault`, the other normally.
fn faulty_at(stage: Stage, fault: Behaviour) -> TestAcr {
    let builder = TestAcr::builder(HOST);
    match stage {
        Stage::Exchange => builder.exchange(fault),
        _ => builder.token(fault),
    }
    .start()
}

#[test]
fn a_connection_broken_mid_body_is_a_transport_error_at_its_step() {
    for fault in [Behaviour::ResetMidBody, Behaviour::Truncated] {
        for stage in [Stage::Exchange, Stage::Token] {
            let acr = faulty_at(stage, fault.clone());
            let error = failed_login(&acr, options());
            let case = format!("{fault:?} at {stage:?}: {error:?}");
            assert_eq!(error.kind, LoginErrorKind::Transport, "{case}");
            assert_eq!(error.stage, stage, "{case}");
            assert_eq!(error.status, None, "{case}");
            assert!(error.message.contains("error reading a body"), "{case}");
            assert_no_retry(&acr, stage, &case);
        }
    }
}

#[test]
fn a_body_dripping_slower_than_the_between_bytes_timeout_times_out() {
    for stage in [Stage::Exchange, Stage::Token] {
        let acr = faulty_at(
            stage,
            Behaviour::SlowDrip {
                every: Duration::from_secs(1),
            },
        );
        let error = failed_login(
            &acr,
            LoginOptions {
                between_bytes_timeout_ms: Some(200),
                ..options()
            },
        );
        let case = format!("at {stage:?}: {error:?}");
        assert_eq!(error.kind, LoginErrorKind::Timeout, "{case}");
        assert_eq!(error.stage, stage, "{case}");
        assert!(error.message.contains("connection read timeout"), "{case}");
        assert_no_retry(&acr, stage, &case);
    }
}

#[test]
fn a_body_dripping_faster_than_the_between_bytes_timeout_arrives_whole() {
    // The timeout is between chunks, not for the whole body: a login whose
    // answer takes a second or more, a byte every 2 ms, still succeeds.
    let acr = faulty_at(
        Stage::Exchange,
        Behaviour::SlowDrip {
            every: Duration::from_millis(2),
        },
    );
    let result = login_ok(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options());
    assert_eq!(result.credential.password, acr.issued_refresh_tokens()[0].token);
}

#[test]
fn a_bad_certificate_fails_closed_before_any_request() {
    for fault in [CertFault::Expired, CertFault::WrongHost, CertFault::UntrustedCa] {
        let acr = TestAcr::builder(HOST).certificate(fault).start();
        let error = failed_login(&acr, options());
        let case = format!("{fault:?}: {error:?}");
        assert_eq!(error.kind, LoginErrorKind::Tls, "{case}");
        assert_eq!(error.stage, Stage::Exchange, "{case}");
        assert_eq!(error.status, None, "{case}");
        assert!(error.message.contains("TlsCertificateError"), "{case}");
        // One handshake, refused: no second attempt, no fallback to plain HTTP.
        assert_eq!(acr.handshakes(), [Handshake::Failed], "{case}");
        assert!(acr.requests().is_empty(), "{case}");
        assert!(acr.issued_refresh_tokens().is_empty(), "{case}");
    }
}
