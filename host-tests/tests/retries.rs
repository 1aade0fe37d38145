//! Retries, decided by the login flow and waited through by the `client`
//! component's host: the test ACR refuses with 429 and `Retry-After`, and
//! its metadata service answers 410 while it "restarts"; the login goes on
//! after the wait, within the retry policy's bounds, and gives up past them.

use std::time::{Duration, Instant};

use acr_auth_host::client::wit::entra::{Identity, ManagedIdentity, ManagedIdentitySource};
use acr_auth_host::client::wit::flow::{Credentials, LoginErrorKind, LoginOptions, RetryPolicy, Stage};
use acr_auth_host::network::{ConnectTo, Network, connect_to_rule};
use acr_auth_test_support::acr_server::{Behaviour, DEFAULT_ENTRA_TOKEN, TestAcr};
use acr_auth_test_support::client::{client, options, runtime};

const HOST: &str = "retryregistry.azurecr.io";

/// A retry policy with short backoffs, so that the tests wait little.
fn quick_retries(max_retries: u32) -> LoginOptions {
    LoginOptions {
        retry: Some(RetryPolicy {
            max_retries,
            metadata_max_retries: max_retries,
            first_delay_ms: 50,
            max_delay_ms: 2_000,
            gone_window_ms: 10_000,
        }),
        ..options()
    }
}

fn requests_to(acr: &TestAcr, path: &str) -> usize {
    acr.requests().iter().filter(|r| r.path == path).count()
}

#[test]
fn a_busy_registry_is_asked_again_after_its_retry_after() {
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::Busy {
            times: 2,
            status: 429,
            retry_after: Some(1),
        })
        .start();
    let started = Instant::now();
    let result = client(&[&acr])
        .login(
            HOST,
            &Credentials::EntraToken(DEFAULT_ENTRA_TOKEN.into()),
            &quick_retries(3),
        )
        .expect("the login finishes")
        .expect("a credential after two refusals");
    assert_eq!(result.credential.password, acr.issued_refresh_tokens()[0].token);
    assert_eq!(requests_to(&acr, "/oauth2/exchange"), 3);
    // `Retry-After: 1` twice: the flow waited at least that, not the 50 ms backoff.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
}

#[test]
fn a_registry_busy_past_the_policy_is_its_refusal() {
    let acr = TestAcr::builder(HOST)
        .token(Behaviour::Busy {
            times: 100,
            status: 503,
            retry_after: None,
        })
        .start();
    let options = LoginOptions {
        repository_scopes: vec!["repository:team/app:pull".into()],
        ..quick_retries(2)
    };
    let error = client(&[&acr])
        .login(HOST, &Credentials::EntraToken(DEFAULT_ENTRA_TOKEN.into()), &options)
        .expect("the login finishes")
        .expect_err("refused");
    assert_eq!(
        (error.kind, error.stage, error.status),
        (LoginErrorKind::Refused, Stage::Token, Some(503))
    );
    assert_eq!(requests_to(&acr, "/oauth2/token"), 3, "the first try and two retries");
}

#[test]
fn a_restarting_metadata_service_is_retried_through_its_410s() {
    let acr = TestAcr::builder(HOST).metadata_service(None).metadata_gone(3).start();
    let metadata = acr.metadata_addr().expect("a metadata service");
    let imds: ConnectTo = format!("169.254.169.254:80:127.0.0.1:{}", metadata.port())
        .parse()
        .expect("a rule");
    let network = Network::new(
        Some(acr.ca_pem().as_bytes()),
        vec![connect_to_rule(HOST, acr.addr()), imds],
    )
    .expect("network");
    let identity = Identity::ManagedIdentity(ManagedIdentity {
        id: None,
        source: ManagedIdentitySource::Imds,
    });
    let result = runtime(network)
        .login(HOST, &Credentials::Identity(identity), &quick_retries(1))
        .expect("the login finishes")
        .expect("a credential once the service is back");
    assert_eq!(result.credential.password, acr.issued_refresh_tokens()[0].token);
    // 410 goes on past `metadata_max_retries` (1), within the gone window.
    assert_eq!(requests_to(&acr, "/metadata/identity/oauth2/token"), 4);
}
