//! The `pure` world's exports: a thin layer that converts between the
//! generated WIT types and the library's own. No logic lives here.

mod wit {
    wit_bindgen::generate!({ path: "wit", world: "pure" });
    pub(super) use exports::acr::auth::{exchange, http, scope, token};
}

use wit::{exchange, http, scope, token};

use crate::{
    CloudEnvironmentError, InputError, Malformed, RequestError, ResponseError, ScopeError,
};

/// The component: every export delegates to the native library.
struct Component;

wit::export!(Component with_types_in wit);

impl scope::Guest for Component {
    fn resolve_scope(
        reference: String,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<scope::ResolvedScope, scope::ScopeError> {
        let custom_cloud = custom_cloud.map(crate::CloudEnvironment::from);
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

    fn parse_cloud_environment(
        json: String,
    ) -> Result<scope::CloudEnvironment, scope::CloudEnvironmentError> {
        let env = crate::parse_cloud_environment(&json)?;
        Ok(scope::CloudEnvironment {
            name: env.name,
            container_registry_dns_suffix: env.container_registry_dns_suffix,
            resource_manager_endpoint: env.resource_manager_endpoint,
            active_directory_endpoint: env.active_directory_endpoint,
            acr_audience: env.acr_audience,
        })
    }
}

impl exchange::Guest for Component {
    fn build_exchange_request(
        reference: String,
        entra_token: String,
        tenant: Option<String>,
        custom_cloud: Option<scope::CloudEnvironment>,
    ) -> Result<http::Request, exchange::RequestError> {
        let custom_cloud = custom_cloud.map(crate::CloudEnvironment::from);
        let request = crate::build_exchange_request(
            &reference,
            &entra_token,
            tenant.as_deref(),
            custom_cloud.as_ref(),
        )?;
        Ok(http::Request {
            method: request.method.to_owned(),
            url: request.url,
            headers: request
                .headers
                .into_iter()
                .map(|(name, value)| http::Header {
                    name: name.to_owned(),
                    value: value.to_owned(),
                })
                .collect(),
            body: request.body.into_exposed(),
        })
    }
}

impl token::Guest for Component {
    fn parse_refresh_token(status: u16, body: Vec<u8>) -> Result<token::Credential, token::ResponseError> {
        let credential = crate::parse_refresh_token(status, &body)?;
        Ok(token::Credential {
            username: credential.username.to_owned(),
            password: credential.password.into_exposed(),
            expires_at: credential.expires_at,
            issued_at: credential.issued_at,
            login_server: credential.login_server,
            tenant: credential.tenant,
        })
    }
}

impl From<scope::CloudEnvironment> for crate::CloudEnvironment {
    fn from(env: scope::CloudEnvironment) -> Self {
        Self {
            name: env.name,
            container_registry_dns_suffix: env.container_registry_dns_suffix,
            resource_manager_endpoint: env.resource_manager_endpoint,
            active_directory_endpoint: env.active_directory_endpoint,
            acr_audience: env.acr_audience,
        }
    }
}

impl From<ScopeError> for scope::ScopeError {
    fn from(e: ScopeError) -> Self {
        use scope::ScopeErrorKind as K;
        let kind = match &e {
            ScopeError::Empty => K::Empty,
            ScopeError::TooLong => K::TooLong,
            ScopeError::NotAscii => K::NotAscii,
            ScopeError::UnsupportedScheme { .. } => K::UnsupportedScheme,
            ScopeError::UserInfo => K::UserInfo,
            ScopeError::Port { .. } => K::Port,
            ScopeError::IpAddress => K::IpAddress,
            ScopeError::Localhost => K::Localhost,
            ScopeError::InvalidHost { .. } => K::InvalidHost,
            ScopeError::RetiredCloud => K::RetiredCloud,
            ScopeError::NotLoginServer { .. } => K::NotLoginServer,
            ScopeError::UnrecognisedHost { .. } => K::UnrecognisedHost,
        };
        Self { kind, message: e.to_string() }
    }
}

impl From<CloudEnvironmentError> for scope::CloudEnvironmentError {
    fn from(e: CloudEnvironmentError) -> Self {
        use scope::CloudEnvironmentErrorKind as K;
        let kind = match &e {
            CloudEnvironmentError::TooLarge => K::TooLarge,
            CloudEnvironmentError::NotJson { .. } => K::NotJson,
            CloudEnvironmentError::MissingField { .. } => K::MissingField,
            CloudEnvironmentError::InvalidField { .. } => K::InvalidField,
        };
        Self {
            kind,
            field: e.field().map(str::to_owned),
            message: e.to_string(),
        }
    }
}

impl From<RequestError> for exchange::RequestError {
    fn from(e: RequestError) -> Self {
        use exchange::InputErrorKind as K;
        match e {
            RequestError::Reference(e) => Self::Reference(e.into()),
            RequestError::Input(e) => Self::Input(exchange::InputError {
                kind: match e {
                    InputError::EmptyToken => K::EmptyToken,
                    InputError::TokenTooLong => K::TokenTooLong,
                    InputError::TokenInvalidCharacter => K::TokenInvalidCharacter,
                    InputError::InvalidTenant => K::InvalidTenant,
                },
                message: e.to_string(),
            }),
        }
    }
}

impl From<ResponseError> for token::ResponseError {
    fn from(e: ResponseError) -> Self {
        use token::MalformedKind as K;
        match e {
            ResponseError::Refused(refusal) => Self::Refused(token::Refusal {
                message: refusal.to_string(),
                status: refusal.status,
                errors: refusal
                    .errors
                    .into_iter()
                    .map(|e| token::AcrError { code: e.code, message: e.message })
                    .collect(),
            }),
            ResponseError::Malformed(m) => Self::Malformed(token::Malformed {
                kind: match m {
                    Malformed::TooLarge => K::TooLarge,
                    Malformed::NotJson => K::NotJson,
                    Malformed::MissingToken { .. } => K::MissingToken,
                    Malformed::TokenNotString { .. } => K::TokenNotString,
                    Malformed::NotAJwt { .. } => K::NotAJwt,
                    Malformed::BadBase64 { .. } => K::BadBase64,
                    Malformed::ClaimsNotJson { .. } => K::ClaimsNotJson,
                    Malformed::MissingExpiry => K::MissingExpiry,
                    Malformed::InvalidExpiry => K::InvalidExpiry,
                    Malformed::InvalidClaim { .. } => K::InvalidClaim,
                },
                message: m.to_string(),
            }),
        }
    }
}
