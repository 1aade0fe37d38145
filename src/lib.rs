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
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let scope = acr_auth::resolve_scope("MyRegistry.azurecr.io/team/app:1.2", None)?;
//! assert_eq!(scope.login_server, "myregistry.azurecr.io");
//! assert_eq!(scope.scope, acr_auth::ACR_SCOPE);
//!
//! // The caller obtains an Entra token for `scope.scope`, then sends this:
//! let request = acr_auth::build_exchange_request(&scope.login_server, "<entra token>", None, None);
//! assert!(request.is_err(), "tokens are checked: this one has a space");
//! let request = acr_auth::build_exchange_request(&scope.login_server, "eyJ0eXAi.e30.c2ln", None, None)?;
//! assert_eq!(request.url, "https://myregistry.azurecr.io/oauth2/exchange");
//!
//! // ... and passes the registry's answer back (here a refresh token whose
//! // payload is {"exp":1767232800}).
//! let body = br#"{"refresh_token":"eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3NjcyMzI4MDB9.c2ln"}"#;
//! let credential = acr_auth::parse_refresh_token(200, body, &["eyJ0eXAi.e30.c2ln"])?;
//! assert_eq!(credential.expires_at, 1_767_232_800);
//! assert_eq!(format!("{:?}", credential.password), "Secret([redacted])");
//! # Ok(())
//! # }
//! ```
//!
//! Nothing here performs I/O, reads a clock or draws randomness: the caller
//! drives the protocol. Tokens travel as [`Secret`], which never formats.
//! The same functions are exported by the `acr:auth` WebAssembly component
//! (`wit/`), which imports nothing.

// `no_std` (with `alloc`): the library needs nothing of an operating system,
// so it builds for any target with an allocator, and the components link no
// standard library: a panic (a bug) traps at once, with no message to format.
// Native users see the same API either way.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;
#[cfg(test)]
extern crate std;

/// What the modules use from `alloc`, as std's prelude would give it.
mod prelude {
    pub(crate) use alloc::borrow::ToOwned;
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::string::{String, ToString};
    pub(crate) use alloc::vec::Vec;
    pub(crate) use alloc::{format, vec};
}

mod challenge;
mod cloud;
mod document;
mod endpoint;
mod entra;
mod environment;
mod error;
mod exchange;
mod flow;
mod http;
mod login;
mod login_error;
mod redact;
mod scope;
mod secret;
mod token;
#[cfg(feature = "wasi-http")]
pub mod wasi_http;

// The generated glue needs `unsafe` for the canonical ABI; the library does not.
#[cfg(feature = "component")]
#[allow(unsafe_code)]
mod component;

pub use challenge::{Challenge, MAX_CHALLENGE_LEN, parse_challenge};
pub use cloud::{CloudEnvironment, MAX_CLOUD_ENVIRONMENT_LEN, parse_cloud_environment};
pub use entra::{
    CLIENT_ASSERTION_LIFETIME, DEFAULT_AUTHORITY_HOST, EntraToken, Identity, MANAGED_IDENTITY_API_VERSION,
    MANAGED_IDENTITY_ENDPOINT, ManagedIdentityId, ManagedIdentitySource, build_entra_token_request,
    client_assertion_claims, parse_entra_token_response,
};
pub use environment::{
    CertificateFile, EnvironmentError, EnvironmentErrorKind, EnvironmentIdentity, FederatedTokenFile,
    identity_from_environment,
};
pub use error::{
    AcrError, ChallengeError, ChallengeErrorKind, CloudEnvironmentError, CloudEnvironmentErrorKind, EntraRefusal,
    EntraRequestError, EntraRequestErrorKind, EntraResponseError, InputError, InputErrorKind, JwtPart, Malformed,
    MalformedKind, ReferenceError, ReferenceErrorKind, Refusal, RequestError, ResponseError, ResponseErrorKind,
    full_message,
};
pub use exchange::{MAX_SCOPES, MAX_TENANT_LEN, MAX_TOKEN_LEN, build_exchange_request, build_token_request};
pub use flow::{Credentials, Event, LoginFlow, LoginOptions, LoginResult, Outgoing, RetryPolicy, Step};
pub use http::{
    DEFAULT_BETWEEN_BYTES_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_FIRST_BYTE_TIMEOUT, Request, Response, Timeouts,
    TransportError, TransportErrorKind,
};
#[cfg(feature = "async")]
pub use login::{AsyncTransport, login_async};
pub use login::{Transport, login};
pub use login_error::{LoginError, LoginErrorKind, Stage};
pub use redact::MIN_FRAGMENT;
pub use scope::{ACR_SCOPE, Audience, Cloud, MAX_REFERENCE_LEN, ResolvedScope, resolve_scope};
pub use secret::Secret;
pub use token::{
    AccessToken, Credential, MAX_RESPONSE_BODY_LEN, REFRESH_TOKEN_USERNAME, parse_access_token, parse_refresh_token,
};
