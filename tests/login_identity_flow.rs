//! The native login with the host's own identity, over a scripted transport
//! that records every request: the Entra (or metadata service) request comes
//! first, exactly as Microsoft documents it, then the ACR exchange with the
//! token Entra returned; a refusal stops the flow at the Entra stage, and no
//! error holds the credential.

mod script;

use acr_auth::{
    Identity, LoginErrorKind, LoginOptions, ManagedIdentityId, Secret, Stage, login_with_identity,
    parse_cloud_environment,
};
use script::{Script, response, token_body};
use serde_json::json;

const HOST: &str = "myregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const ASSERTION: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpwdWxsZXIifQ.c2ln";
const SECRET: &str = "client~secret.value_0123456789";
const ENTRA_TOKEN: &str = "entra.access.token-from-the-token-endpoint";

fn federated() -> Identity {
    Identity::FederatedToken {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        assertion: Secret::new(ASSERTION.into()),
        authority_host: None,
    }
}

fn entra_answer() -> Result<acr_auth::Response, acr_auth::TransportError> {
    let body = json!({ "token_type": "Bearer", "expires_in": 3599, "access_token": ENTRA_TOKEN });
    response(200, &[], &body.to_string())
}

/// The decoded form of a sent body.
fn form(body: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

fn pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn a_federated_token_buys_the_entra_token_that_is_exchanged() {
    let (refresh, refresh_body) = token_body("refresh_token", HOST, 1_767_232_800);
    let mut script = Script::new(vec![entra_answer(), response(200, &[], &refresh_body)]);
    let result =
        login_with_identity(&mut script, HOST, &federated(), &LoginOptions::default()).expect("login succeeds");
    assert_eq!(result.credential.password.expose(), &refresh);

    let [entra, exchange] = &script.sent[..] else {
        panic!("expected two requests, got {:?}", script.sent);
    };
    assert_eq!(
        (entra.method, entra.url.as_str()),
        (
            "POST",
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        )
    );
    assert_eq!(
        form(&entra.body),
        pairs(&[
            ("client_id", CLIENT_ID),
            ("scope", "https://containerregistry.azure.net/.default"),
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
            ),
            ("client_assertion", ASSERTION),
        ])
    );
    assert_eq!(exchange.url, "https://myregistry.azurecr.io/oauth2/exchange");
    assert_eq!(
        form(&exchange.body),
        pairs(&[
            ("grant_type", "access_token"),
            ("service", HOST),
            ("access_token", ENTRA_TOKEN)
        ])
    );
}

#[test]
fn a_managed_identity_asks_the_metadata_service() {
    let (_, refresh_body) = token_body("refresh_token", HOST, 1_767_232_800);
    let imds = json!({ "access_token": ENTRA_TOKEN, "expires_in": "86399", "expires_on": "1767308399" });
    let mut script = Script::new(vec![
        response(200, &[], &imds.to_string()),
        response(200, &[], &refresh_body),
    ]);
    let identity = Identity::ManagedIdentity {
        id: Some(ManagedIdentityId::ClientId(CLIENT_ID.into())),
    };
    login_with_identity(&mut script, HOST, &identity, &LoginOptions::default()).expect("login succeeds");
    let imds = &script.sent[0];
    assert_eq!(imds.method, "GET");
    assert_eq!(
        imds.url,
        "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01\
         &resource=https%3A%2F%2Fcontainerregistry.azure.net&client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46"
    );
    assert!(imds.headers.contains(&("metadata", "true")), "{:?}", imds.headers);
    assert_eq!(imds.body, "");
    assert_eq!(
        form(&script.sent[1].body)[2],
        ("access_token".into(), ENTRA_TOKEN.into())
    );
}

#[test]
fn a_custom_cloud_without_an_acr_audience_asks_for_its_arm_scope() {
    let env = parse_cloud_environment(
        r#"{"resourceManagerEndpoint": "https://management.contoso.private/",
            "activeDirectoryEndpoint": "https://login.contoso.private/adfs",
            "containerRegistryDNSSuffix": "azurecr.contoso.private"}"#,
    )
    .expect("a valid environment file");
    let identity = Identity::ClientSecret {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        secret: Secret::new(SECRET.into()),
        authority_host: Some("https://login.contoso.private/adfs/".into()),
    };
    let (_, refresh_body) = token_body("refresh_token", "contosoreg.azurecr.contoso.private", 1_767_232_800);
    let mut script = Script::new(vec![entra_answer(), response(200, &[], &refresh_body)]);
    let options = LoginOptions {
        custom_cloud: Some(env),
        ..LoginOptions::default()
    };
    login_with_identity(&mut script, "contosoreg.azurecr.contoso.private", &identity, &options)
        .expect("login succeeds");
    assert_eq!(
        script.sent[0].url,
        "https://login.contoso.private/adfs/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
    );
    assert_eq!(
        form(&script.sent[0].body)[1],
        ("scope".into(), "https://management.contoso.private/.default".into())
    );
}

#[test]
fn an_entra_refusal_stops_at_the_entra_stage_with_its_code() {
    // Entra's real answer to a wrong secret, here echoing the secret back.
    let body = json!({
        "error": "invalid_client",
        "error_description": format!("AADSTS7000215: Invalid client secret provided: {SECRET}."),
        "error_codes": [7000215],
        "trace_id": "0b7c1f4e-2f33-4f0e-9c1a-6b9d2a5e1a00",
        "correlation_id": "5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
    });
    let mut script = Script::new(vec![response(401, &[], &body.to_string())]);
    let identity = Identity::ClientSecret {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        secret: Secret::new(SECRET.into()),
        authority_host: None,
    };
    let error = login_with_identity(&mut script, HOST, &identity, &LoginOptions::default()).expect_err("refused");
    assert_eq!(
        (error.kind, error.stage, error.status),
        (LoginErrorKind::Refused, Stage::Entra, Some(401))
    );
    assert_eq!(
        error.correlation_id.as_deref(),
        Some("5e6f7a8b-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
    );
    assert!(error.message.contains("AADSTS7000215"), "{}", error.message);
    let debug = format!("{error:?} {error}");
    assert!(!debug.contains(SECRET), "the secret leaked: {debug}");
    assert_eq!(script.sent.len(), 1, "nothing may follow a refusal");
}

#[test]
fn bad_settings_fail_before_any_request() {
    let cases = [
        (
            Identity::FederatedToken {
                tenant: TENANT.into(),
                client_id: "not-a-guid".into(),
                assertion: Secret::new(ASSERTION.into()),
                authority_host: None,
            },
            HOST,
        ),
        (
            Identity::FederatedToken {
                tenant: TENANT.into(),
                client_id: CLIENT_ID.into(),
                assertion: Secret::new(ASSERTION.into()),
                authority_host: Some("https://login.evil.example/".into()),
            },
            HOST,
        ),
        (federated(), "myregistry.azurecr.io.evil.example"),
    ];
    for (identity, reference) in cases {
        let mut script = Script::new(Vec::new());
        let error =
            login_with_identity(&mut script, reference, &identity, &LoginOptions::default()).expect_err("refused");
        assert_eq!(
            (error.kind, error.stage),
            (LoginErrorKind::InvalidInput, Stage::Input),
            "{error}"
        );
        assert!(!format!("{error:?}").contains(ASSERTION));
        assert!(script.sent.is_empty(), "a request was sent: {:?}", script.sent);
    }
}
