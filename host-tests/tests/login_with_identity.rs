//! `login` with an identity through the `client` component in the Rust host,
//! against the local test ACR, which also answers Entra's token endpoint (as
//! login.microsoftonline.com, over TLS) and the instance metadata service
//! (plain HTTP, reached as 169.254.169.254:80): the Entra token the identity
//! buys is the one the registry accepts, and no error leaks the credential.

use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::entra::{
    ClientSecret, FederatedToken, Identity, ManagedIdentity, ManagedIdentityId, ManagedIdentitySource,
};
use acr_auth_host::client::wit::flow::{Credentials, LoginErrorKind, Stage};
use acr_auth_host::network::{ConnectTo, Network, connect_to_rule};
use acr_auth_test_support::acr_server::{ENTRA_HOST, TestAcr, TestApp};
use acr_auth_test_support::client::{assert_no_secret, options, runtime};

const HOST: &str = "identityregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const CREDENTIAL: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpwdWxsZXIifQ.c2ln";

/// A test ACR that knows the app and serves the metadata service.
fn server() -> TestAcr {
    TestAcr::builder(HOST)
        .entra_app(TestApp {
            tenant: TENANT.into(),
            client_id: CLIENT_ID.into(),
            credential: CREDENTIAL.into(),
        })
        .metadata_service(Some(CLIENT_ID))
        .start()
}

/// A client that reaches the registry and Entra on the server over TLS, and
/// the metadata service on its plain-HTTP port.
fn client(acr: &TestAcr) -> ClientRuntime {
    let metadata = acr.metadata_addr().expect("a metadata service");
    let imds: ConnectTo = format!("169.254.169.254:80:127.0.0.1:{}", metadata.port())
        .parse()
        .expect("a rule");
    let rules = vec![
        connect_to_rule(HOST, acr.addr()),
        connect_to_rule(ENTRA_HOST, acr.addr()),
        imds,
    ];
    runtime(Network::new(Some(acr.ca_pem().as_bytes()), rules).expect("network"))
}

/// A user-assigned managed identity served by the instance metadata service.
fn metadata_identity(client_id: &str) -> Identity {
    Identity::ManagedIdentity(ManagedIdentity {
        id: Some(ManagedIdentityId::ClientId(client_id.into())),
        source: ManagedIdentitySource::Imds,
    })
}

fn federated(assertion: &str) -> Identity {
    Identity::FederatedToken(FederatedToken {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        assertion: assertion.into(),
        authority_host: None,
    })
}

/// The request paths the server saw, in order.
fn paths(acr: &TestAcr) -> Vec<String> {
    acr.requests()
        .into_iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

#[test]
fn each_identity_buys_the_token_the_registry_accepts() {
    let secret = Identity::ClientSecret(ClientSecret {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        secret: CREDENTIAL.into(),
        authority_host: Some("https://login.microsoftonline.com".into()),
    });
    let managed = metadata_identity(CLIENT_ID);
    let entra = format!("POST /{TENANT}/oauth2/v2.0/token");
    for (identity, first) in [
        (federated(CREDENTIAL), entra.as_str()),
        (secret, entra.as_str()),
        (managed, "GET /metadata/identity/oauth2/token"),
    ] {
        let acr = server();
        let result = client(&acr)
            .login(HOST, &Credentials::Identity(identity.clone()), &options())
            .expect("no trap")
            .unwrap_or_else(|e| panic!("{identity:?}: {e:?}"));
        let issued = acr.issued_refresh_tokens();
        assert_eq!(issued.len(), 1, "{identity:?}");
        assert_eq!(result.credential.password, issued[0].token);
        assert_eq!(paths(&acr), [first, "POST /oauth2/exchange"], "{identity:?}");
    }
}

#[test]
fn a_wrong_credential_is_refused_at_the_entra_stage() {
    let acr = server();
    let wrong = "eyJhbGciOiJSUzI1NiJ9.d3Jvbmc.c2ln";
    let error = client(&acr)
        .login(HOST, &Credentials::Identity(federated(wrong)), &options())
        .expect("no trap")
        .expect_err("refused");
    assert_eq!(
        (error.kind, error.stage, error.status),
        (LoginErrorKind::Refused, Stage::Entra, Some(401))
    );
    assert!(error.message.contains("AADSTS7000215"), "{}", error.message);
    assert!(error.correlation_id.is_some(), "{error:?}");
    assert_no_secret(&error, &[wrong, CREDENTIAL]);
    assert_eq!(
        paths(&acr),
        [format!("POST /{TENANT}/oauth2/v2.0/token")],
        "nothing may follow a refusal"
    );
}

#[test]
fn an_unknown_managed_identity_is_refused_by_the_metadata_service() {
    let acr = server();
    let other = metadata_identity("11111111-2222-3333-4444-555555555555");
    let error = client(&acr)
        .login(HOST, &Credentials::Identity(other), &options())
        .expect("no trap")
        .expect_err("refused");
    assert_eq!(
        (error.kind, error.stage, error.status),
        (LoginErrorKind::Refused, Stage::Entra, Some(400))
    );
    assert!(error.message.contains("Identity not found"), "{}", error.message);
}
