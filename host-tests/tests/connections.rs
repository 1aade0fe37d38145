//! Connections per login through the `client` component in the Rust host:
//! the host keeps each connection open for the next request to the same
//! host, so a login with an identity, discovery and a repository scope opens
//! one connection to Entra and one to the registry (not one per request),
//! and a second login in the same host opens none.

use acr_auth_host::client::wit::entra::{FederatedToken, Identity};
use acr_auth_host::client::wit::flow::{Credentials, LoginOptions};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_test_support::acr_server::{ENTRA_HOST, TestAcr, TestApp};
use acr_auth_test_support::client::{login_with_ok, options, runtime};

const HOST: &str = "reuseregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// A service account token of a realistic size (about 1.5 KB).
fn assertion() -> String {
    format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", "e".repeat(1500))
}

fn server() -> TestAcr {
    TestAcr::builder(HOST)
        .entra_app(TestApp {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            credential: assertion(),
        })
        .start()
}

/// The network to the registry and its Entra side, both served by `acr`.
fn network(acr: &TestAcr) -> Network {
    let rules = vec![
        connect_to_rule(HOST, acr.addr()),
        connect_to_rule(ENTRA_HOST, acr.addr()),
    ];
    Network::new(Some(acr.ca_pem().as_bytes()), rules).expect("network")
}

/// A workload identity's login: Entra token, discovery, exchange and a
/// repository's access token, four requests to two hosts.
fn login(client: &acr_auth_host::client::ClientRuntime) {
    let credentials = Credentials::Identity(Identity::FederatedToken(FederatedToken {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        assertion: assertion(),
        authority_host: None,
    }));
    let options = LoginOptions {
        discover: true,
        repository_scopes: vec!["repository:team/app:pull".into()],
        ..options()
    };
    let result = login_with_ok(client, HOST, &credentials, &options);
    assert!(result.access_token.is_some());
}

#[test]
fn a_login_opens_one_connection_per_host_and_the_next_login_none() {
    let acr = server();
    let client = runtime(network(&acr));
    login(&client);
    assert_eq!(
        acr.requests().len(),
        4,
        "Entra token, discovery, exchange, access token"
    );
    assert_eq!(
        acr.handshakes().len(),
        2,
        "one connection to Entra's host, one to the registry"
    );
    login(&client);
    assert_eq!(acr.requests().len(), 8);
    assert_eq!(acr.handshakes().len(), 2, "the second login reuses both connections");
}

#[test]
fn without_reuse_each_request_opens_its_own_connection() {
    let acr = server();
    let client = runtime(network(&acr).without_connection_reuse());
    login(&client);
    login(&client);
    assert_eq!(acr.requests().len(), 8);
    assert_eq!(acr.handshakes().len(), 8, "a connection per request");
}

#[test]
fn connections_the_server_closed_are_replaced() {
    let acr = server();
    let client = runtime(network(&acr));
    login(&client);
    acr.close_connections();
    // The kept connections now end; the next login notices and opens new ones.
    std::thread::sleep(std::time::Duration::from_millis(100));
    login(&client);
    assert_eq!(acr.requests().len(), 8);
    assert_eq!(
        acr.handshakes().len(),
        4,
        "two new connections after the server closed the first two"
    );
}
