//! `build_entra_token_request` on any identity, scope and authority.
//!
//! Input: one byte choosing the identity (modulo 9: federated token, client
//! secret, system-assigned managed identity, managed identity by client ID,
//! by object ID, by resource ID, App Service, Azure Arc, Cloud Shell), then
//! tenant, client ID (or managed identity ID), credential (or App Service's
//! identity header), authority host or platform endpoint (empty: none) and
//! scope, NUL-separated.
//! A built request goes only to a Microsoft Entra authority over HTTPS
//! (`POST <authority><tenant>/oauth2/v2.0/token`, whose form decodes to
//! exactly the client-credentials fields and the credential), to the
//! metadata service (`GET`, no body, no credential), or to exactly the
//! platform endpoint given, `http://` only to a loopback address, with the
//! identity header for App Service only. A refusal does not depend on the
//! credential and does not show it.

#![no_main]

use acr_auth::{
    EntraRequestError, Identity, MANAGED_IDENTITY_ENDPOINT, ManagedIdentityId, ManagedIdentitySource, Request, Secret,
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
    let selector = selector % 9;
    let imds = |id| Identity::ManagedIdentity {
        id,
        source: ManagedIdentitySource::Imds,
    };
    let endpoint = authority.clone().unwrap_or_default();
    let identity = |credential: &str| match selector {
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
        2 => imds(None),
        3 => imds(Some(ManagedIdentityId::ClientId(id.clone()))),
        4 => imds(Some(ManagedIdentityId::ObjectId(id.clone()))),
        5 => imds(Some(ManagedIdentityId::ResourceId(id.clone()))),
        6 => Identity::ManagedIdentity {
            id: None,
            source: ManagedIdentitySource::AppService {
                endpoint: endpoint.clone(),
                header: Secret::new(credential.to_owned()),
            },
        },
        7 => Identity::ManagedIdentity {
            id: None,
            source: ManagedIdentitySource::AzureArc {
                endpoint: endpoint.clone(),
            },
        },
        _ => Identity::ManagedIdentity {
            id: None,
            source: ManagedIdentitySource::CloudShell {
                endpoint: endpoint.clone(),
            },
        },
    };
    let call = |credential: &str| build_entra_token_request(&identity(credential), &scope, None);
    let has_credential = matches!(selector, 0 | 1 | 6);
    match call(&credential) {
        Ok(request) if selector < 2 => check_authority_request(&request, &tenant, &id, &scope, &credential),
        Ok(request) if selector < 6 => {
            assert_eq!(request.method, "GET");
            assert!(
                request.url.starts_with(&format!("{MANAGED_IDENTITY_ENDPOINT}?")),
                "{}",
                request.url
            );
            assert!(request.body.expose().is_empty());
            assert!(header(&request, "metadata") == Some("true"));
        }
        Ok(request) => check_platform_request(&request, &endpoint, (selector == 6).then_some(credential.as_str())),
        Err(e) => check_error(&e, &credential, has_credential, call),
    }
});

/// The value of the request's header `name`.
fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.as_str())
}

/// A request to a platform's managed identity endpoint: that endpoint
/// exactly (plain HTTP only to a loopback host), with the identity header
/// only when the platform has one.
fn check_platform_request(request: &Request, endpoint: &str, identity_header: Option<&str>) {
    let url = url::Url::parse(&request.url).expect("a URL");
    let given = url::Url::parse(endpoint).expect("the endpoint is a URL");
    assert_eq!(url.host(), given.host(), "{} is not {endpoint}", request.url);
    assert_eq!(url.port_or_known_default(), given.port_or_known_default());
    assert_eq!(url.path(), given.path());
    match url.scheme() {
        "https" => {}
        "http" => assert!(
            match url.host() {
                Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            },
            "plain HTTP to {}",
            request.url
        ),
        other => panic!("a request over {other}"),
    }
    assert_eq!(header(request, "x-identity-header"), identity_header);
}

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
