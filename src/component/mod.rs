//! The components' exports: a thin layer that converts between the generated
//! WIT types and the library's own. No logic lives here.
//!
//! Feature `component` builds the `pure` world; feature `client` builds the
//! `client` world, which exports the same interfaces plus `login`.

use crate::prelude::*;

#[cfg(not(feature = "client"))]
mod wit {
    wit_bindgen::generate!({ path: "wit", world: "pure" });
    pub(super) use exports::acr::auth::{challenge, entra, exchange, flow, http, scope, token};
}

#[cfg(feature = "client")]
mod client;
mod flow;

#[cfg(feature = "client")]
mod wit {
    wit_bindgen::generate!({
        path: "wit",
        world: "client",
        with: {
            "wasi:http/types@0.2.12": wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": wasi::io::error,
            "wasi:io/poll@0.2.12": wasi::io::poll,
            "wasi:io/streams@0.2.12": wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.12": wasi::clocks::wall_clock,
            "wasi:filesystem/types@0.2.12": wasi::filesystem::types,
            "wasi:filesystem/preopens@0.2.12": wasi::filesystem::preopens,
        },
    });
    pub(super) use exports::acr::auth::{challenge, entra, exchange, flow, http, login, scope, token};
}

use wit::{challenge, entra, exchange, http, scope, token};

use crate::{
    ChallengeError, CloudEnvironmentError, EntraRequestError, EntraResponseError, InputError, Malformed,
    ReferenceError, RequestError, ResponseError, Secret, full_message,
};

/// Maps a library kind to the WIT enum of the same cases, exhaustively: a
/// kind added to the library and not to the WIT package fails to compile.
macro_rules! same_cases {
    ($value:expr, $from:path => $to:path { $($case:ident),* $(,)? }) => {{
        use $from as From;
        use $to as To;
        match $value {
            $(From::$case => To::$case,)*
        }
    }};
}
pub(crate) use same_cases;

// The components' allocator (the library is `no_std`, so the standard
// library's is not linked). A component instance is single-threaded.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

// Without the standard library a panic (a bug: every input error is a typed
// result) traps at once; the host sees a trap, never a message.
#[cfg(all(target_family = "wasm", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The component: every export delegates to the native library.
struct Component;

wit::export!(Component with_types_in wit);

impl scope::Guest for Component {
    fn resolve_scope(
        reference: String,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<scope::ResolvedScope, scope::ReferenceError> {
        let custom_cloud = checked_cloud(custom_cloud).map_err(ReferenceError::InvalidCloud)?;
        let resolved = crate::resolve_scope(&reference, custom_cloud.as_ref())?;
        Ok(scope::ResolvedScope {
            login_server: resolved.login_server,
            cloud: match resolved.cloud {
                crate::Cloud::Public => scope::Cloud::Public,
                crate::Cloud::China => scope::Cloud::China,
                crate::Cloud::UsGovernment => scope::Cloud::UsGovernment,
                crate::Cloud::Custom => scope::Cloud::Custom,
            },
            scope: resolved.scope,
            audience: match resolved.audience {
                crate::Audience::Acr => scope::Audience::Acr,
                crate::Audience::Arm => scope::Audience::Arm,
            },
            authority_host: resolved.authority_host,
        })
    }

    fn parse_cloud_environment(json: String) -> Result<scope::CloudEnvironment, scope::CloudEnvironmentError> {
        let env = crate::parse_cloud_environment(&json)?;
        Ok(scope::CloudEnvironment {
            name: env.name().map(str::to_owned),
            container_registry_dns_suffix: env.container_registry_dns_suffix().to_owned(),
            resource_manager_endpoint: env.resource_manager_endpoint().to_owned(),
            active_directory_endpoint: env.active_directory_endpoint().to_owned(),
            acr_audience: env.acr_audience().map(str::to_owned),
        })
    }
}

/// A custom cloud a host passed, checked as `parse-cloud-environment`
/// checks one: a host may build the record by hand.
pub(crate) fn checked_cloud(
    env: Option<scope::CloudEnvironment>,
) -> Result<Option<crate::CloudEnvironment>, CloudEnvironmentError> {
    env.map(|env| {
        crate::CloudEnvironment::new(
            env.name,
            &env.container_registry_dns_suffix,
            &env.resource_manager_endpoint,
            &env.active_directory_endpoint,
            env.acr_audience.as_deref(),
        )
    })
    .transpose()
}

impl exchange::Guest for Component {
    fn build_exchange_request(
        reference: String,
        entra_token: String,
        tenant: Option<String>,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<http::Request, exchange::RequestError> {
        let custom_cloud = checked_cloud(custom_cloud).map_err(ReferenceError::InvalidCloud)?;
        let request =
            crate::build_exchange_request(&reference, &entra_token, tenant.as_deref(), custom_cloud.as_ref())?;
        Ok(request.into())
    }

    fn build_token_request(
        reference: String,
        refresh_token: String,
        scopes: Vec<String>,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<http::Request, exchange::RequestError> {
        let custom_cloud = checked_cloud(custom_cloud).map_err(ReferenceError::InvalidCloud)?;
        let request = crate::build_token_request(&reference, &refresh_token, &scopes, custom_cloud.as_ref())?;
        Ok(request.into())
    }
}

impl challenge::Guest for Component {
    fn parse_challenge(
        www_authenticate: String,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<challenge::Challenge, challenge::ChallengeError> {
        let custom_cloud = checked_cloud(custom_cloud).map_err(ChallengeError::InvalidCloud)?;
        let c = crate::parse_challenge(&www_authenticate, custom_cloud.as_ref())?;
        Ok(challenge::Challenge {
            realm: c.realm,
            service: c.service,
            scopes: c.scopes,
            login_server: c.login_server,
            exchange_url: c.exchange_url,
        })
    }
}

impl From<crate::Request> for http::Request {
    fn from(request: crate::Request) -> Self {
        Self {
            method: request.method.to_owned(),
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| http::Header {
                    name: name.to_owned(),
                    value,
                })
                .collect(),
            body: request.body.into_exposed(),
        }
    }
}

impl token::Guest for Component {
    fn parse_refresh_token(
        status: u16,
        body: Vec<u8>,
        sent: Vec<String>,
    ) -> Result<token::Credential, token::ResponseError> {
        Ok(crate::parse_refresh_token(status, &body, &borrowed(&sent))?.into())
    }

    fn parse_access_token(
        status: u16,
        body: Vec<u8>,
        sent: Vec<String>,
    ) -> Result<token::AccessToken, token::ResponseError> {
        Ok(crate::parse_access_token(status, &body, &borrowed(&sent))?.into())
    }
}

/// The texts of `strings`, as the library takes secrets.
fn borrowed(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

impl From<crate::Credential> for token::Credential {
    fn from(credential: crate::Credential) -> Self {
        Self {
            username: credential.username.to_owned(),
            password: credential.password.into_exposed(),
            expires_at: credential.expires_at,
            issued_at: credential.issued_at,
            audience: credential.audience,
            tenant: credential.tenant,
            abac: credential.abac,
        }
    }
}

impl From<crate::AccessToken> for token::AccessToken {
    fn from(access: crate::AccessToken) -> Self {
        Self {
            token: access.token.into_exposed(),
            expires_at: access.expires_at,
            issued_at: access.issued_at,
            audience: access.audience,
        }
    }
}

impl From<crate::AcrError> for token::AcrError {
    fn from(e: crate::AcrError) -> Self {
        Self {
            code: e.code,
            message: e.message,
        }
    }
}

impl From<ReferenceError> for scope::ReferenceError {
    fn from(e: ReferenceError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::ReferenceErrorKind => scope::ReferenceErrorKind {
                Empty, TooLong, NotAscii, UnsupportedScheme, UserInfo, Port, IpAddress, Localhost,
                InvalidHost, RetiredCloud, NotLoginServer, UnrecognisedHost, InvalidCloud,
            }),
            message: full_message(&e),
        }
    }
}

impl From<CloudEnvironmentError> for scope::CloudEnvironmentError {
    fn from(e: CloudEnvironmentError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::CloudEnvironmentErrorKind => scope::CloudEnvironmentErrorKind {
                TooLarge, NotJson, RepeatedField, MissingField, InvalidField,
            }),
            field: e.field().map(str::to_owned),
            message: full_message(&e),
        }
    }
}

impl From<InputError> for exchange::InputError {
    fn from(e: InputError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::InputErrorKind => exchange::InputErrorKind {
                EmptyToken, TokenTooLong, TokenInvalidCharacter, InvalidTenant, ScopeCount, InvalidScope,
            }),
            message: full_message(&e),
        }
    }
}

impl From<ReferenceError> for exchange::RequestError {
    fn from(e: ReferenceError) -> Self {
        Self::Reference(e.into())
    }
}

impl From<RequestError> for exchange::RequestError {
    fn from(e: RequestError) -> Self {
        match e {
            RequestError::Reference(e) => Self::Reference(e.into()),
            RequestError::Input(e) => Self::Input(e.into()),
        }
    }
}

impl From<ResponseError> for token::ResponseError {
    fn from(e: ResponseError) -> Self {
        match e {
            ResponseError::Refused(refusal) => Self::Refused(token::Refusal {
                message: refusal.to_string(),
                status: refusal.status,
                errors: refusal.errors.into_iter().map(Into::into).collect(),
            }),
            ResponseError::Malformed(m) => Self::Malformed(m.into()),
        }
    }
}

impl From<Malformed> for token::Malformed {
    fn from(m: Malformed) -> Self {
        Self {
            kind: same_cases!(m.kind(), crate::MalformedKind => token::MalformedKind {
                TooLarge, NotJson, MissingToken, TokenNotString, NotAJwt, BadBase64, ClaimsNotJson,
                MissingExpiry, InvalidExpiry, InvalidClaim,
            }),
            message: full_message(&m),
        }
    }
}

impl From<entra::Identity> for crate::Identity {
    fn from(identity: entra::Identity) -> Self {
        match identity {
            entra::Identity::FederatedToken(t) => Self::FederatedToken {
                tenant: t.tenant,
                client_id: t.client_id,
                assertion: Secret::new(t.assertion),
                authority_host: t.authority_host,
            },
            entra::Identity::ClientSecret(c) => Self::ClientSecret {
                tenant: c.tenant,
                client_id: c.client_id,
                secret: Secret::new(c.secret),
                authority_host: c.authority_host,
            },
            entra::Identity::ManagedIdentity(identity) => Self::ManagedIdentity {
                id: identity.id.map(|id| match id {
                    entra::ManagedIdentityId::ClientId(id) => crate::ManagedIdentityId::ClientId(id),
                    entra::ManagedIdentityId::ObjectId(id) => crate::ManagedIdentityId::ObjectId(id),
                    entra::ManagedIdentityId::ResourceId(id) => crate::ManagedIdentityId::ResourceId(id),
                }),
                source: match identity.source {
                    entra::ManagedIdentitySource::Imds => crate::ManagedIdentitySource::Imds,
                    entra::ManagedIdentitySource::AppService(app) => crate::ManagedIdentitySource::AppService {
                        endpoint: app.endpoint,
                        header: Secret::new(app.header),
                    },
                    entra::ManagedIdentitySource::AzureArc(endpoint) => {
                        crate::ManagedIdentitySource::AzureArc { endpoint }
                    }
                    entra::ManagedIdentitySource::CloudShell(endpoint) => {
                        crate::ManagedIdentitySource::CloudShell { endpoint }
                    }
                },
            },
        }
    }
}

impl From<crate::Identity> for entra::Identity {
    fn from(identity: crate::Identity) -> Self {
        match identity {
            crate::Identity::FederatedToken {
                tenant,
                client_id,
                assertion,
                authority_host,
            } => Self::FederatedToken(entra::FederatedToken {
                tenant,
                client_id,
                assertion: assertion.into_exposed(),
                authority_host,
            }),
            crate::Identity::ClientSecret {
                tenant,
                client_id,
                secret,
                authority_host,
            } => Self::ClientSecret(entra::ClientSecret {
                tenant,
                client_id,
                secret: secret.into_exposed(),
                authority_host,
            }),
            crate::Identity::ManagedIdentity { id, source } => Self::ManagedIdentity(entra::ManagedIdentity {
                id: id.map(|id| match id {
                    crate::ManagedIdentityId::ClientId(id) => entra::ManagedIdentityId::ClientId(id),
                    crate::ManagedIdentityId::ObjectId(id) => entra::ManagedIdentityId::ObjectId(id),
                    crate::ManagedIdentityId::ResourceId(id) => entra::ManagedIdentityId::ResourceId(id),
                }),
                source: match source {
                    crate::ManagedIdentitySource::Imds => entra::ManagedIdentitySource::Imds,
                    crate::ManagedIdentitySource::AppService { endpoint, header } => {
                        entra::ManagedIdentitySource::AppService(entra::AppService {
                            endpoint,
                            header: header.into_exposed(),
                        })
                    }
                    crate::ManagedIdentitySource::AzureArc { endpoint } => {
                        entra::ManagedIdentitySource::AzureArc(endpoint)
                    }
                    crate::ManagedIdentitySource::CloudShell { endpoint } => {
                        entra::ManagedIdentitySource::CloudShell(endpoint)
                    }
                },
            }),
        }
    }
}

impl From<crate::EnvironmentIdentity> for entra::EnvironmentIdentity {
    fn from(identity: crate::EnvironmentIdentity) -> Self {
        match identity {
            crate::EnvironmentIdentity::Ready(identity) => Self::Ready(identity.into()),
            crate::EnvironmentIdentity::ClientCertificate(file) => Self::ClientCertificate(entra::CertificateFile {
                tenant: file.tenant,
                client_id: file.client_id,
                path: file.path,
                send_chain: file.send_chain,
                authority_host: file.authority_host,
            }),
            crate::EnvironmentIdentity::WorkloadIdentity(file) => Self::WorkloadIdentity(entra::FederatedTokenFile {
                tenant: file.tenant,
                client_id: file.client_id,
                path: file.path,
                authority_host: file.authority_host,
            }),
        }
    }
}

impl From<crate::EnvironmentError> for entra::EnvironmentError {
    fn from(e: crate::EnvironmentError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::EnvironmentErrorKind => entra::EnvironmentErrorKind {
                Incomplete, Unsupported,
            }),
            message: full_message(&e),
        }
    }
}

impl entra::Guest for Component {
    fn build_entra_token_request(
        identity: entra::Identity,
        scope: String,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<http::Request, entra::EntraRequestError> {
        let identity = crate::Identity::from(identity);
        let custom_cloud = checked_cloud(custom_cloud).map_err(EntraRequestError::InvalidCloud)?;
        crate::build_entra_token_request(&identity, &scope, custom_cloud.as_ref())
            .map(Into::into)
            .map_err(Into::into)
    }

    fn parse_entra_token_response(
        status: u16,
        body: Vec<u8>,
        now: u64,
        sent: Vec<String>,
    ) -> Result<entra::EntraToken, entra::EntraResponseError> {
        match crate::parse_entra_token_response(status, &body, now, &borrowed(&sent)) {
            Ok(token) => Ok(entra::EntraToken {
                access_token: token.access_token.into_exposed(),
                expires_at: token.expires_at,
            }),
            Err(EntraResponseError::Refused(refusal)) => Err(entra::EntraResponseError::Refused(entra::EntraRefusal {
                message: refusal.to_string(),
                status: refusal.status,
                error: refusal.error,
                description: refusal.description,
                code: refusal.code,
                trace_id: refusal.trace_id,
                correlation_id: refusal.correlation_id,
            })),
            Err(EntraResponseError::Malformed(m)) => Err(entra::EntraResponseError::Malformed(m.into())),
        }
    }

    fn client_assertion_claims(
        tenant: String,
        client_id: String,
        authority_host: Option<String>,
        custom_cloud: Option<scope::CloudEnvironment>,
        now: u64,
        id: String,
    ) -> Result<String, entra::EntraRequestError> {
        let custom_cloud = checked_cloud(custom_cloud).map_err(EntraRequestError::InvalidCloud)?;
        crate::client_assertion_claims(
            &tenant,
            &client_id,
            authority_host.as_deref(),
            custom_cloud.as_ref(),
            now,
            &id,
        )
        .map_err(Into::into)
    }

    fn identity_from_environment(
        variables: Vec<(String, String)>,
    ) -> Result<entra::EnvironmentIdentity, entra::EnvironmentError> {
        let value = |name: &str| {
            variables
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        crate::identity_from_environment(value)
            .map(Into::into)
            .map_err(Into::into)
    }
}

impl From<EntraRequestError> for entra::EntraRequestError {
    fn from(e: EntraRequestError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::EntraRequestErrorKind => entra::EntraRequestErrorKind {
                InvalidScope, UnknownAuthority, InvalidTenant, InvalidClientId, InvalidManagedIdentityId,
                UserAssignedUnsupported, InvalidCredential, InvalidCloud, InvalidAssertionId,
            }),
            message: full_message(&e),
        }
    }
}

impl From<ChallengeError> for challenge::ChallengeError {
    fn from(e: ChallengeError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::ChallengeErrorKind => challenge::ChallengeErrorKind {
                TooLong, Syntax, NoBearer, MissingParameter, DuplicateParameter, InsecureRealm, RealmHost,
                InvalidCloud,
            }),
            message: full_message(&e),
            realm_error: match e {
                ChallengeError::Realm(realm) => Some(realm.into()),
                _ => None,
            },
        }
    }
}
