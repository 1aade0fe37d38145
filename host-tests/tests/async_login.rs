//! `acr_auth::login_async` over `acr-auth-hyper`'s `HyperTransport`
//! against the test ACR: the flow driven by async Rust, with no component.
//! While a login waits on the network, the runtime's other tasks run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use acr_auth::{Credentials, LoginOptions, Secret};
use acr_auth_hyper::HyperTransport;
use acr_auth_test_support::acr_server::{Behaviour, DEFAULT_ENTRA_TOKEN, TestAcr};

const HOST: &str = "asyncregistry.azurecr.io";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
}

fn transport(acr: &TestAcr) -> HyperTransport {
    HyperTransport::with_ca_pem(acr.ca_pem().as_bytes())
        .expect("the test CA")
        .connect_to(acr.addr())
}

fn token() -> Credentials {
    Credentials::EntraToken(Secret::new(DEFAULT_ENTRA_TOKEN.to_owned()))
}

#[test]
fn an_async_login_gets_the_refresh_and_access_tokens() {
    let acr = TestAcr::builder(HOST).start();
    let options = LoginOptions {
        repository_scopes: vec!["repository:team/app:pull".to_owned()],
        discover: true,
        ..LoginOptions::default()
    };
    let result = runtime()
        .block_on(acr_auth::login_async(&mut transport(&acr), HOST, token(), options))
        .expect("a login");
    assert_eq!(
        result.credential.password.expose(),
        &acr.issued_refresh_tokens()[0].token
    );
    let access = result.access_token.expect("an access token");
    assert_eq!(access.token.expose(), &acr.issued_access_tokens()[0].token);
    let paths: Vec<String> = acr.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/v2/", "/oauth2/exchange", "/oauth2/token"]);
    for post in acr.requests().iter().filter(|r| r.method == "POST") {
        assert_eq!(
            post.header("content-length"),
            Some(post.body.len().to_string().as_str())
        );
    }
}

#[test]
fn a_transport_keeps_one_connection_for_a_login_and_the_next() {
    let acr = TestAcr::builder(HOST).start();
    let options = LoginOptions {
        repository_scopes: vec!["repository:team/app:pull".to_owned()],
        discover: true,
        ..LoginOptions::default()
    };
    let runtime = runtime();
    let mut transport = transport(&acr);
    for _ in 0..2 {
        runtime
            .block_on(acr_auth::login_async(&mut transport, HOST, token(), options.clone()))
            .expect("a login");
    }
    assert_eq!(acr.requests().len(), 6, "discovery, exchange and token, twice");
    assert_eq!(acr.handshakes().len(), 1, "one connection for both logins");
    // A connection the server closed is replaced.
    acr.close_connections();
    std::thread::sleep(Duration::from_millis(100));
    runtime
        .block_on(acr_auth::login_async(&mut transport, HOST, token(), options))
        .expect("a login after the server closed the connection");
    assert_eq!(acr.handshakes().len(), 2);
}

#[test]
fn a_refusal_is_the_flows_typed_error() {
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::acr_error(
            401,
            "UNAUTHORIZED",
            &format!("bad token {DEFAULT_ENTRA_TOKEN}"),
        ))
        .start();
    let error = runtime()
        .block_on(acr_auth::login_async(
            &mut transport(&acr),
            HOST,
            token(),
            LoginOptions::default(),
        ))
        .expect_err("refused");
    assert_eq!(error.kind().as_str(), "refused");
    assert_eq!(error.status(), Some(401));
    assert!(!format!("{error:?}").contains(DEFAULT_ENTRA_TOKEN));
}

#[test]
fn other_tasks_run_while_a_login_waits_on_the_network() {
    // The registry drips its answer a byte every 2 ms; a ticker task on the
    // same single-threaded runtime must keep running meanwhile (a login that
    // blocked the thread would leave it at zero).
    let acr = TestAcr::builder(HOST)
        .exchange(Behaviour::SlowDrip {
            every: Duration::from_millis(2),
        })
        .start();
    let ticks = Arc::new(AtomicU32::new(0));
    runtime().block_on(async {
        let counter = Arc::clone(&ticks);
        let ticker = tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(1)).await;
                counter.fetch_add(1, Ordering::Relaxed);
            }
        });
        let login = acr_auth::login_async(&mut transport(&acr), HOST, token(), LoginOptions::default()).await;
        ticker.abort();
        login.expect("a login");
    });
    let ticks = ticks.load(Ordering::Relaxed);
    assert!(
        ticks >= 10,
        "the runtime ran other tasks {ticks} times during the login"
    );
}
