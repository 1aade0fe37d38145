//! The components' answers to the conformance cases, in the JSON shape of the
//! native library's answers, so that a test can require both to agree and
//! the component's answer to match the case.
//!
//! The cases and the native answers are the library's own
//! (`tests/conformance/mod.rs`, included here as [`native`]): one module
//! computes the answer every component must equal.

use std::sync::OnceLock;

use acr_auth_host::Runtime;
use acr_auth_host::wit::{challenge, entra, exchange, http, scope, token};
use serde_json::Value;

/// The case files and the native library's answers to them.
#[path = "../../../tests/conformance/mod.rs"]
pub mod native;

use native::{
    Host, access_token_json, audience_name, challenge_json, cloud_environment_json, cloud_environment_text, cloud_name,
    credential_json, entra_refusal_json, entra_token_json, error_json, identity_native, input, refusal_json,
    request_json, scope_json,
};

/// Maps a WIT kind to the library's kind of the same cases, exhaustively, so
/// that the component's answers are named by the library's `as_str`.
macro_rules! library_kind {
    ($value:expr, $from:path => $to:path { $($case:ident),* $(,)? }) => {{
        use $from as From;
        use $to as To;
        match $value {
            $(From::$case => To::$case,)*
        }
    }};
}

/// A component reference error's kind, by the library's name.
pub fn reference_kind(kind: scope::ReferenceErrorKind) -> &'static str {
    library_kind!(kind, scope::ReferenceErrorKind => acr_auth::ReferenceErrorKind {
        Empty, TooLong, NotAscii, UnsupportedScheme, UserInfo, Port, IpAddress, Localhost, InvalidHost,
        RetiredCloud, NotLoginServer, UnrecognisedHost, InvalidCloud,
    })
    .as_str()
}

/// A component cloud environment error's kind, by the library's name.
pub fn cloud_environment_kind(kind: scope::CloudEnvironmentErrorKind) -> &'static str {
    library_kind!(kind, scope::CloudEnvironmentErrorKind => acr_auth::CloudEnvironmentErrorKind {
        TooLarge, NotJson, RepeatedField, MissingField, InvalidField,
    })
    .as_str()
}

/// A component input error's kind, by the library's name.
fn input_kind(kind: exchange::InputErrorKind) -> &'static str {
    library_kind!(kind, exchange::InputErrorKind => acr_auth::InputErrorKind {
        EmptyToken, TokenTooLong, TokenInvalidCharacter, InvalidTenant, ScopeCount, InvalidScope,
    })
    .as_str()
}

/// A component challenge error's kind, by the library's name.
pub fn challenge_kind(kind: challenge::ChallengeErrorKind) -> &'static str {
    library_kind!(kind, challenge::ChallengeErrorKind => acr_auth::ChallengeErrorKind {
        TooLong, Syntax, NoBearer, MissingParameter, DuplicateParameter, InsecureRealm, RealmHost, InvalidCloud,
    })
    .as_str()
}

/// A component malformed response's kind, by the library's name.
fn malformed_kind(kind: token::MalformedKind) -> &'static str {
    library_kind!(kind, token::MalformedKind => acr_auth::MalformedKind {
        TooLarge, NotJson, MissingToken, TokenNotString, NotAJwt, BadBase64, ClaimsNotJson, MissingExpiry,
        InvalidExpiry, InvalidClaim,
    })
    .as_str()
}

/// A component Entra request error's kind, by the library's name.
pub fn entra_request_kind(kind: entra::EntraRequestErrorKind) -> &'static str {
    library_kind!(kind, entra::EntraRequestErrorKind => acr_auth::EntraRequestErrorKind {
        InvalidScope, UnknownAuthority, InvalidTenant, InvalidClientId, InvalidManagedIdentityId,
        UserAssignedUnsupported, InvalidCredential, InvalidCloud, InvalidAssertionId,
    })
    .as_str()
}

/// The secrets a case's request carried, as the component takes them.
fn owned(strings: &[String]) -> Vec<String> {
    strings.to_vec()
}

/// The `pure` component, compiled once per test binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("the embedded component compiles"))
}

/// A case's custom cloud, parsed by the component.
pub fn custom_cloud(case: &Value) -> Option<scope::CloudEnvironment> {
    cloud_environment_text(case).map(|text| {
        runtime()
            .parse_cloud_environment(&text)
            .expect("no trap")
            .expect("the case's environment parses in the component")
    })
}

/// `resolve-scope` through the component.
pub fn scope_wasm(reference: &str, env: Option<&scope::CloudEnvironment>) -> Value {
    match runtime().resolve_scope(reference, env).expect("no trap") {
        Ok(r) => {
            let cloud = library_kind!(r.cloud, scope::Cloud => acr_auth::Cloud { Public, China, UsGovernment, Custom });
            let audience = library_kind!(r.audience, scope::Audience => acr_auth::Audience { Acr, Arm });
            scope_json(
                &r.login_server,
                cloud_name(cloud),
                &r.scope,
                audience_name(audience),
                &r.authority_host,
            )
        }
        Err(e) => error_json(reference_kind(e.kind).to_owned(), e.message),
    }
}

/// `parse-cloud-environment` through the component.
pub fn cloud_environment_wasm(json: &str) -> Value {
    match runtime().parse_cloud_environment(json).expect("no trap") {
        Ok(env) => cloud_environment_json(
            env.name.as_deref(),
            &env.container_registry_dns_suffix,
            &env.resource_manager_endpoint,
            &env.active_directory_endpoint,
            env.acr_audience.as_deref(),
        ),
        Err(e) => {
            serde_json::json!({ "error": cloud_environment_kind(e.kind), "field": e.field, "message": e.message })
        }
    }
}

/// A request the component built, as JSON.
fn wasm_request_json(r: &http::Request) -> Value {
    let headers = r.headers.iter().map(|h| (h.name.as_str(), h.value.as_str()));
    request_json(&r.method, &r.url, headers, &r.body)
}

/// A component request-building result as JSON.
fn request_wasm(result: Result<http::Request, exchange::RequestError>) -> Value {
    match result {
        Ok(r) => wasm_request_json(&r),
        Err(exchange::RequestError::Reference(e)) => {
            error_json(format!("reference:{}", reference_kind(e.kind)), e.message)
        }
        Err(exchange::RequestError::Input(e)) => error_json(format!("input:{}", input_kind(e.kind)), e.message),
    }
}

/// `build-exchange-request` through the component.
pub fn exchange_wasm(
    reference: &str,
    token: &str,
    tenant: Option<&str>,
    env: Option<&scope::CloudEnvironment>,
) -> Value {
    request_wasm(
        runtime()
            .build_exchange_request(reference, token, tenant, env)
            .expect("no trap"),
    )
}

/// `build-token-request` through the component.
pub fn token_request_wasm(reference: &str, token: &str, scopes: &[String]) -> Value {
    request_wasm(
        runtime()
            .build_token_request(reference, token, scopes, None)
            .expect("no trap"),
    )
}

/// `parse-challenge` through the component.
pub fn challenge_wasm(header: &str) -> Value {
    match runtime().parse_challenge(header, None).expect("no trap") {
        Ok(c) => challenge_json(&c.realm, &c.service, &c.scopes, &c.login_server, &c.exchange_url),
        Err(e) => error_json(challenge_kind(e.kind).to_owned(), e.message),
    }
}

/// A component response error as JSON.
fn response_error_wasm(error: token::ResponseError) -> Value {
    match error {
        token::ResponseError::Refused(r) => refusal_json(
            r.status,
            r.errors.iter().map(|e| (e.code.as_str(), e.message.as_str())),
            r.message,
        ),
        token::ResponseError::Malformed(m) => error_json(format!("malformed:{}", malformed_kind(m.kind)), m.message),
    }
}

/// `parse-access-token` through the component, token included.
pub fn access_wasm(status: u16, body: &[u8], sent: &[String]) -> Value {
    match runtime()
        .parse_access_token(status, body, &owned(sent))
        .expect("no trap")
    {
        Ok(a) => access_token_json(&a.token, a.expires_at, a.issued_at, &a.audience),
        Err(e) => response_error_wasm(e),
    }
}

/// `parse-refresh-token` through the component, token included.
pub fn refresh_wasm(status: u16, body: &[u8], sent: &[String]) -> Value {
    match runtime()
        .parse_refresh_token(status, body, &owned(sent))
        .expect("no trap")
    {
        Ok(c) => credential_json(
            &c.username,
            &c.password,
            c.expires_at,
            c.issued_at,
            &c.audience,
            c.tenant.as_deref(),
            c.abac,
        ),
        Err(e) => response_error_wasm(e),
    }
}

/// A native identity as the component's bindings type it.
pub fn identity_wasm(identity: acr_auth::Identity) -> entra::Identity {
    use acr_auth::{Identity, ManagedIdentityId, ManagedIdentitySource};
    match identity {
        Identity::FederatedToken {
            tenant,
            client_id,
            assertion,
            authority_host,
        } => entra::Identity::FederatedToken(entra::FederatedToken {
            tenant,
            client_id,
            assertion: assertion.into_exposed(),
            authority_host,
        }),
        Identity::ClientSecret {
            tenant,
            client_id,
            secret,
            authority_host,
        } => entra::Identity::ClientSecret(entra::ClientSecret {
            tenant,
            client_id,
            secret: secret.into_exposed(),
            authority_host,
        }),
        Identity::ManagedIdentity { id, source } => entra::Identity::ManagedIdentity(entra::ManagedIdentity {
            id: id.map(|id| match id {
                ManagedIdentityId::ClientId(id) => entra::ManagedIdentityId::ClientId(id),
                ManagedIdentityId::ObjectId(id) => entra::ManagedIdentityId::ObjectId(id),
                ManagedIdentityId::ResourceId(id) => entra::ManagedIdentityId::ResourceId(id),
                other => panic!("no WIT form for {other:?}"),
            }),
            source: match source {
                ManagedIdentitySource::Imds => entra::ManagedIdentitySource::Imds,
                ManagedIdentitySource::AppService { endpoint, header } => {
                    entra::ManagedIdentitySource::AppService(entra::AppService {
                        endpoint,
                        header: header.into_exposed(),
                    })
                }
                ManagedIdentitySource::AzureArc { endpoint } => entra::ManagedIdentitySource::AzureArc(endpoint),
                ManagedIdentitySource::CloudShell { endpoint } => entra::ManagedIdentitySource::CloudShell(endpoint),
                other => panic!("no WIT form for {other:?}"),
            },
        }),
        other => panic!("no WIT form for {other:?}"),
    }
}

/// `build-entra-token-request` for a case, through the component.
pub fn entra_request_wasm(case: &Value) -> Value {
    let scope = input(case, "scope").expect("a scope");
    let identity = identity_wasm(identity_native(case));
    let env = custom_cloud(case);
    match runtime()
        .build_entra_token_request(&identity, &scope, env.as_ref())
        .expect("no trap")
    {
        Ok(r) => wasm_request_json(&r),
        Err(e) => error_json(entra_request_kind(e.kind).to_owned(), e.message),
    }
}

/// `parse-entra-token-response` through the component.
pub fn entra_response_wasm(status: u16, body: &[u8], now: u64, sent: &[String]) -> Value {
    match runtime()
        .parse_entra_token_response(status, body, now, &owned(sent))
        .expect("no trap")
    {
        Ok(t) => entra_token_json(&t.access_token, t.expires_at),
        Err(entra::EntraResponseError::Refused(r)) => entra_refusal_json(
            r.message,
            r.status,
            &r.error,
            &r.description,
            r.code,
            &r.trace_id,
            &r.correlation_id,
        ),
        Err(entra::EntraResponseError::Malformed(m)) => {
            error_json(format!("malformed:{}", malformed_kind(m.kind)), m.message)
        }
    }
}

/// The `pure` component, as a conformance [`Host`].
pub struct Component;

impl Host for Component {
    fn resolve_scope(&self, reference: &str, case: &Value) -> Value {
        scope_wasm(reference, custom_cloud(case).as_ref())
    }

    fn parse_cloud_environment(&self, json: &str) -> Value {
        cloud_environment_wasm(json)
    }

    fn build_exchange_request(&self, reference: &str, token: &str, tenant: Option<&str>, case: &Value) -> Value {
        exchange_wasm(reference, token, tenant, custom_cloud(case).as_ref())
    }

    fn build_token_request(&self, reference: &str, token: &str, scopes: &[String]) -> Value {
        token_request_wasm(reference, token, scopes)
    }

    fn parse_challenge(&self, header: &str) -> Value {
        challenge_wasm(header)
    }

    fn parse_refresh_token(&self, status: u16, body: &[u8], sent: &[String]) -> Value {
        refresh_wasm(status, body, sent)
    }

    fn parse_access_token(&self, status: u16, body: &[u8], sent: &[String]) -> Value {
        access_wasm(status, body, sent)
    }

    fn build_entra_token_request(&self, case: &Value) -> Value {
        entra_request_wasm(case)
    }

    fn parse_entra_token_response(&self, status: u16, body: &[u8], now: u64, sent: &[String]) -> Value {
        entra_response_wasm(status, body, now, sent)
    }
}
