//! Azure Container Registry authentication as pure, sans-IO functions.
//!
//! To pull from ACR with a Microsoft Entra identity a client must
//!
//! 1. choose the Entra token scope: [`resolve_scope`] returns the ACR audience
//!    (`https://containerregistry.azure.net/.default`) for every built-in
//!    cloud, because registries that disable `authentication-as-arm` refuse
//!    Resource Manager tokens; ARM is only the fallback for a custom cloud
//!    ([`parse_cloud_environment`]) that names no ACR audience;
//! 2. trade the Entra token for an ACR refresh token: [`build_exchange_request`]
//!    returns the `POST /oauth2/exchange` request as plain data, for the caller
//!    to send;
//! 3. read the response: [`parse_refresh_token`] returns the credential and
//!    when it expires.
//!
//! Nothing here performs I/O, reads a clock or draws randomness: the caller
//! drives the protocol. Tokens travel as [`Secret`], which never formats.
//! The same functions are exported by the `acr:auth` WebAssembly component
//! (`wit/`), which imports nothing.

#![deny(unsafe_code)]
#![warn(missing_docs)]

mod cloud;
mod error;
mod exchange;
mod http;
mod scope;
mod secret;
mod token;

// The generated glue needs `unsafe` for the canonical ABI; the library does not.
#[cfg(feature = "component")]
#[allow(unsafe_code)]
mod component;

pub use cloud::{CloudEnvironment, MAX_CLOUD_ENVIRONMENT_LEN, parse_cloud_environment};
pub use error::{
    AcrError, CloudEnvironmentError, InputError, JwtPart, Malformed, Refusal, RequestError,
    ResponseError, ScopeError,
};
pub use exchange::{MAX_TENANT_LEN, MAX_TOKEN_LEN, build_exchange_request};
pub use http::Request;
pub use scope::{ACR_SCOPE, Audience, Cloud, MAX_REFERENCE_LEN, ResolvedScope, resolve_scope};
pub use secret::Secret;
pub use token::{Credential, MAX_RESPONSE_BODY_LEN, REFRESH_TOKEN_USERNAME, parse_refresh_token};
