//! `build_entra_token_request` on any identity, scope and authority.
//!
//! Input: one byte choosing the identity (modulo 6: federated token, client
//! secret, system-assigned managed identity, managed identity by client ID,
//! by object ID, by resource ID), then tenant, client ID (or managed
//! identity ID), credential, authority host (empty: none) and scope,
//! NUL-separated.
//! A built request goes only to a Microsoft Entra authority over HTTPS
//! (`POST <authority><tenant>/oauth2/v2.0/token`, whose form decodes to
//! exactly the client-credentials fields and the credential) or to the
//! metadata service (`GET`, no body, no credential). A refusal does not
//! depend on the credential and does not show it.

#![no_main]

use acr_auth::{
    EntraRequestError, Identity, MANAGED_IDENTITY_ENDPOINT, ManagedIdentityId, Request, Secret,
    build_entra_token_request,
};
use acr_auth_fuzz::{assert_clean_message, fields, optional, rotate};
use libfuzzer_sys::fuzz_target;

/// The Entra hosts a credential may go to without a custom cloud.
const AUTHORITY_HOSTS: [&str; 3] = [
    "login.microsoftonline.com",
    "login.chinacloudapi.cn",
    "login.microsoftonline.us",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let [tenant, id, credential, authority, scope] = fields(input);
    let authority = optional(&authority).map(str::to_owned);
    let identity = |credential: &str| match selector % 6 {
        0 => Identity::FederatedToken {
            tenant: tenant.clone(),
            client_id: id.clone(),
            assertion: Secret::new(credential.to_owned()),
            authority_host: authority.clone(),
        },
        1 => Identity::ClientSecret {
            tenant: tenant.clone(),
            client_id: id.clone(),
            secret: Secret::new(credential.to_owned()),
            authority_host: authority.clone(),
        },
        2 => Identity::ManagedIdentity { id: None },
        3 => Identity::ManagedIdentity {
            id: Some(ManagedIdentityId::ClientId(id.clone())),
        },
        4 => Identity::ManagedIdentity {
            id: Some(ManagedIdentityId::ObjectId(id.clone())),
        },
        _ => Identity::ManagedIdentity {
            id: Some(ManagedIdentityId::ResourceId(id.clone())),
        },
    };
    let call = |credential: &str| build_entra_token_request(&identity(credential), &scope, None);
    match call(&credential) {
        Ok(request) if selector % 6 < 2 => check_authority_request(&request, &tenant, &id, &scope, &credential),
        Ok(request) => {
            assert_eq!(request.method, "GET");
            assert!(
                request.url.starts_with(&format!("{MANAGED_IDENTITY_ENDPOINT}?")),
                "{}",
                request.url
            );
            assert!(request.body.expose().is_empty());
            assert!(request.headers.contains(&("metadata", "true")));
        }
        Err(e) => check_error(&e, &credential, selector % 6 < 2, call),
    }
});

/// A request to an Entra authority: HTTPS to a Microsoft host, a form of
/// exactly the client-credentials fields.
fn check_authority_request(request: &Request, tenant: &str, client_id: &str, scope: &str, credential: &str) {
    assert_eq!(request.method, "POST");
    let rest = request.url.strip_prefix("https://").expect("an https:// URL");
    let host = rest.split('/').next().unwrap_or_default().to_ascii_lowercase();
    assert!(AUTHORITY_HOSTS.contains(&host.as_str()), "a credential for {host}");
    assert!(
        request.url.ends_with(&format!("/{tenant}/oauth2/v2.0/token")),
        "{}",
        request.url
    );
    let form: Vec<(String, String)> = form_urlencoded::parse(request.body.expose()).into_owned().collect();
    let field = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    let mut expected = vec![
        field("client_id", client_id),
        field("scope", scope),
        field("grant_type", "client_credentials"),
    ];
    if form.iter().any(|(name, _)| name == "client_assertion") {
        expected.push(field(
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ));
        expected.push(field("client_assertion", credential));
    } else {
        expected.push(field("client_secret", credential));
    }
    assert_eq!(form, expected);
}

/// A refusal is the same, text and all, with the credential's letters and
/// digits rotated, so it cannot show the credential.
fn check_error(
    error: &EntraRequestError,
    credential: &str,
    uses_credential: bool,
    call: impl Fn(&str) -> Result<Request, EntraRequestError>,
) {
    assert_clean_message(&error.to_string());
    if uses_credential {
        let rotated = call(&rotate(credential)).expect_err("rotating the credential keeps the call invalid");
        assert_eq!(
            error.to_string(),
            rotated.to_string(),
            "the message depends on the credential"
        );
        assert_eq!(
            format!("{error:?}"),
            format!("{rotated:?}"),
            "the Debug text depends on the credential"
        );
    }
}
