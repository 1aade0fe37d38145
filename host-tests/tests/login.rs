//! `login` through the `client` component in the Rust wasmtime host, against
//! the local test ACR over TLS on 127.0.0.1. Each failure must come back as
//! the typed error, and no error may contain a token.

use std::net::SocketAddr;

use acr_auth_host::client::wit::flow::{Credentials, LoginErrorKind, LoginOptions, Stage};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_test_support::acr_server::{Behaviour, CORRELATION_ID, DEFAULT_ENTRA_TOKEN, TestAcr};
use acr_auth_test_support::client::{client, login_err, login_ok, options, runtime};

const HOST: &str = "testregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

#[test]
fn exchange_only_returns_the_issued_refresh_token() {
    let acr = TestAcr::builder(HOST).start();
    let result = login_ok(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options());
    let issued = acr.issued_refresh_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(result.login_server, HOST);
    assert_eq!(result.credential.username, "00000000-0000-0000-0000-000000000000");
    assert_eq!(result.credential.password, issued[0].token);
    assert_eq!(result.credential.expires_at, issued[0].expires_at);
    assert_eq!(result.credential.audience, [HOST]);
    assert!(result.access_token.is_none());

    let requests = acr.requests();
    assert_eq!(requests.len(), 1, "only the exchange is sent");
    assert_eq!(
        (requests[0].method.as_str(), requests[0].path.as_str()),
        ("POST", "/oauth2/exchange")
    );
    assert_eq!(requests[0].query, None, "nothing in the query string");
    let form: Vec<(&str, &str)> = requests[0].form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        form,
        [
            ("grant_type", "access_token"),
            ("service", HOST),
            ("access_token", DEFAULT_ENTRA_TOKEN)
        ]
    );
}

#[test]
fn discovery_exchange_and_scoped_access_token() {
    let acr = TestAcr::builder(HOST).start();
    let options = LoginOptions {
        discover: true,
        repository_scopes: vec!["repository:team/app:pull".into(), "registry:catalog:*".into()],
        ..options()
    };
    let result = login_ok(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options);
    let access = result.access_token.expect("an access token");
    let issued = acr.issued_access_tokens();
    assert_eq!(issued.len(), 1);
    assert_eq!(access.token, issued[0].token);
    assert_eq!(access.expires_at, issued[0].expires_at);
    assert_eq!(issued[0].scopes, ["repository:team/app:pull", "registry:catalog:*"]);

    let requests = acr.requests();
    let lines: Vec<(&str, &str)> = requests.iter().map(|r| (r.method.as_str(), r.path.as_str())).collect();
    assert_eq!(
        lines,
        [("GET", "/v2/"), ("POST", "/oauth2/exchange"), ("POST", "/oauth2/token")]
    );
    assert!(
        requests[0].header("authorization").is_none(),
        "discovery sends no credential"
    );
    let token_form: Vec<(&str, &str)> = requests[2].form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        token_form,
        [
            ("grant_type", "refresh_token"),
            ("service", HOST),
            ("scope", "repository:team/app:pull"),
            ("scope", "registry:catalog:*"),
            ("refresh_token", result.credential.password.as_str()),
        ]
    );
}

#[test]
fn tenant_is_passed_through() {
    let acr = TestAcr::builder(HOST).tenant(Some(TENANT)).start();
    let result = login_ok(
        &client(&[&acr]),
        HOST,
        DEFAULT_ENTRA_TOKEN,
        &LoginOptions {
            tenant: Some(TENANT.into()),
            ..options()
        },
    );
    assert_eq!(result.credential.tenant.as_deref(), Some(TENANT));
    assert_eq!(acr.requests()[0].field("tenant"), Some(TENANT));
}

#[test]
fn refusals_carry_status_acr_error_and_correlation_id() {
    for (status, code) in [
        (401, "UNAUTHORIZED"),
        (403, "DENIED"),
        (404, "NAME_UNKNOWN"),
        (500, "INTERNAL"),
    ] {
        let message = format!("refused for the test with {status}");
        let acr = TestAcr::builder(HOST)
            .exchange(Behaviour::acr_error(status, code, &message))
            .start();
        let error = login_err(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options());
        assert_eq!(error.kind, LoginErrorKind::Refused);
        assert!(matches!(error.stage, Stage::Exchange));
        assert_eq!(error.status, Some(status));
        assert_eq!(error.errors.len(), 1);
        assert_eq!(
            (error.errors[0].code.as_str(), error.errors[0].message.as_str()),
            (code, message.as_str())
        );
        assert_eq!(error.correlation_id.as_deref(), Some(CORRELATION_ID));
    }
}

#[test]
fn refused_token_step_names_its_stage() {
    let acr = TestAcr::builder(HOST)
        .token(Behaviour::acr_error(401, "UNAUTHORIZED", "no pull"))
        .start();
    let options = LoginOptions {
        repository_scopes: vec!["repository:team/app:pull".into()],
        ..options()
    };
    let error = login_err(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options);
    assert_eq!(error.kind, LoginErrorKind::Refused);
    assert!(matches!(error.stage, Stage::Token));
    assert_eq!(error.status, Some(401));
    assert_eq!(acr.issued_refresh_tokens().len(), 1, "the exchange before it succeeded");
}

#[test]
fn a_server_echoing_the_token_is_redacted() {
    let echo = format!("bad token {DEFAULT_ENTRA_TOKEN} received");
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::acr_error(401, "UNAUTHORIZED", &echo))
        .start();
    let error = login_err(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options());
    assert_eq!(error.errors[0].message, "bad token [redacted] received");
}

#[test]
fn malformed_success_bodies() {
    for (body, fragment) in [("<html>busy</html>", "not a JSON object"), ("{}", "refresh_token")] {
        let acr = TestAcr::builder(HOST).exchange(Behaviour::Body(body.into())).start();
        let error = login_err(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options());
        assert_eq!(error.kind, LoginErrorKind::Malformed, "{body}");
        assert_eq!(error.status, Some(200));
        assert!(error.message.contains(fragment), "{}", error.message);
    }
}

#[test]
fn a_100_mb_body_is_refused_at_the_cap() {
    // The store's 16 MiB memory limit means the component could not have
    // buffered the body: a typed error, not a trap, shows it stopped reading.
    for chunked in [false, true] {
        let acr = TestAcr::builder(HOST)
            .exchange(Behaviour::HugeBody {
                bytes: 100_000_000,
                chunked,
            })
            .start();
        let error = login_err(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options());
        assert_eq!(error.kind, LoginErrorKind::TooLarge, "chunked: {chunked}");
        assert!(error.message.contains("65536"), "{}", error.message);
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    let acr = TestAcr::builder(HOST).exchange(Behaviour::NeverAnswer).start();
    let options = LoginOptions {
        first_byte_timeout_ms: Some(500),
        ..options()
    };
    let error = login_err(&client(&[&acr]), HOST, DEFAULT_ENTRA_TOKEN, &options);
    assert_eq!(error.kind, LoginErrorKind::Timeout);
    assert_eq!(error.status, None);
}

#[test]
fn a_cross_host_redirect_is_not_followed() {
    let other = TestAcr::builder("otherregistry.azurecr.io").start();
    let location = "https://otherregistry.azurecr.io/oauth2/exchange".to_owned();
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::Redirect { location, status: 307 })
        .start();
    let error = login_err(&client(&[&acr, &other]), HOST, DEFAULT_ENTRA_TOKEN, &options());
    assert_eq!(error.kind, LoginErrorKind::Redirect);
    assert_eq!(error.status, Some(307));
    assert!(error.message.contains("otherregistry.azurecr.io"), "{}", error.message);
    assert!(other.requests().is_empty(), "the redirect target received a request");
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    // The test servers bind 127.0.0.1 only, so nothing listens on 127.0.0.2
    // (a port just released on 127.0.0.1 could be taken by a parallel test).
    let acr = TestAcr::builder(HOST).start();
    let closed = SocketAddr::from(([127, 0, 0, 2], acr.port()));
    let network = Network::new(Some(acr.ca_pem().as_bytes()), vec![connect_to_rule(HOST, closed)]).expect("network");
    let error = login_err(&runtime(network), HOST, DEFAULT_ENTRA_TOKEN, &options());
    assert_eq!(error.kind, LoginErrorKind::Connect, "{error:?}");
    assert!(acr.requests().is_empty());
}

#[test]
fn bad_input_fails_before_any_request() {
    let acr = TestAcr::builder(HOST).start();
    let client = client(&[&acr]);
    for (reference, scopes) in [
        ("http://testregistry.azurecr.io", vec![]),
        ("testregistry.azurecr.io.evil.com", vec![]),
        (HOST, vec!["repository:Team/App:pull".to_owned()]),
        (HOST, vec!["repository:team/app:steal".to_owned()]),
    ] {
        let options = LoginOptions {
            repository_scopes: scopes,
            ..options()
        };
        let error = client
            .login(
                reference,
                &Credentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned()),
                &options,
            )
            .expect("no trap")
            .expect_err("refused");
        assert_eq!(error.kind, LoginErrorKind::InvalidInput, "{reference}");
        assert!(matches!(error.stage, Stage::Input));
    }
    assert!(acr.requests().is_empty());
}
