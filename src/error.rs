//! One error type per function, each with a `kind()` to branch on whose
//! name (`as_str`) is the WIT package's. Caller misuse ([`ReferenceError`],
//! [`CloudEnvironmentError`], [`RequestError`], [`EntraRequestError`]) is
//! kept apart from what a server said ([`ResponseError`],
//! [`EntraResponseError`]). No message ever contains a token.

use crate::prelude::*;

use core::fmt;

/// Defines an error's kind: a fieldless enum whose names are the WIT
/// package's, with every kind listed in `ALL` (so tests can compare the
/// two).
macro_rules! kinds {
    ($(#[$meta:meta])* $name:ident { $($(#[$case_meta:meta])* $case:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$case_meta])* $case,)*
        }

        impl $name {
            /// Every kind, in the WIT package's order.
            pub const ALL: &[Self] = &[$(Self::$case,)*];

            /// The kind's name in the WIT package.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$case => $text,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use kinds;

/// The whole story of `error` for people: its text and each cause's, as
/// `anyhow` shows them with `{:#}`. The WIT package's `message` fields hold
/// this.
pub fn full_message(error: &dyn core::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.is_empty() {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Text in double quotes with every byte outside printable ASCII (and `"`
/// and `\\`) shown as `\\u{..}`, so no input can add lines or terminal
/// escapes to a message, whatever the terminal or log that shows it.
pub(crate) struct Quoted<'t>(pub(crate) &'t str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for c in self.0.chars() {
            if matches!(c, ' '..='~') && c != '"' && c != '\\' {
                f.write_str(c.encode_utf8(&mut [0; 4]))?;
            } else {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            }
        }
        f.write_str("\"")
    }
}

/// Why a registry reference was refused by [`crate::resolve_scope`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The reference is empty or only whitespace.
    Empty,
    /// The reference is longer than [`crate::MAX_REFERENCE_LEN`].
    TooLong,
    /// The reference holds a byte outside printable ASCII.
    NotAscii,
    /// A scheme other than `https://` or `oci://`.
    UnsupportedScheme {
        /// The scheme as given, lower-cased.
        scheme: String,
    },
    /// `user@` or `user:password@` before the host.
    UserInfo,
    /// A port other than 443.
    Port {
        /// The port as given (at most a few characters of it).
        port: String,
    },
    /// An IPv4 or IPv6 address instead of a name.
    IpAddress,
    /// `localhost` or a name under it.
    Localhost,
    /// A host name that is not a valid DNS name.
    InvalidHost {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `*.azurecr.de`: Azure Germany was retired in 2021.
    RetiredCloud,
    /// A registry endpoint that is not a login server.
    NotLoginServer {
        /// The host as given.
        host: String,
        /// The login server to use instead.
        login_server: String,
        /// What kind of endpoint the host is.
        endpoint: &'static str,
    },
    /// A host not under a recognised registry suffix, or not of a registry's shape.
    UnrecognisedHost {
        /// The host as given (lower-cased).
        host: String,
        /// What was expected instead.
        expected: String,
    },
    /// The custom cloud a host passed across the component boundary is
    /// refused. (A native [`crate::CloudEnvironment`] is checked when made.)
    InvalidCloud(CloudEnvironmentError),
}

kinds! {
    /// What kind of [`ReferenceError`].
    ReferenceErrorKind {
        /// [`ReferenceError::Empty`].
        Empty = "empty",
        /// [`ReferenceError::TooLong`].
        TooLong = "too-long",
        /// [`ReferenceError::NotAscii`].
        NotAscii = "not-ascii",
        /// [`ReferenceError::UnsupportedScheme`].
        UnsupportedScheme = "unsupported-scheme",
        /// [`ReferenceError::UserInfo`].
        UserInfo = "user-info",
        /// [`ReferenceError::Port`].
        Port = "port",
        /// [`ReferenceError::IpAddress`].
        IpAddress = "ip-address",
        /// [`ReferenceError::Localhost`].
        Localhost = "localhost",
        /// [`ReferenceError::InvalidHost`].
        InvalidHost = "invalid-host",
        /// [`ReferenceError::RetiredCloud`].
        RetiredCloud = "retired-cloud",
        /// [`ReferenceError::NotLoginServer`].
        NotLoginServer = "not-login-server",
        /// [`ReferenceError::UnrecognisedHost`].
        UnrecognisedHost = "unrecognised-host",
        /// [`ReferenceError::InvalidCloud`].
        InvalidCloud = "invalid-cloud",
    }
}

impl ReferenceError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> ReferenceErrorKind {
        use ReferenceErrorKind as K;
        match self {
            Self::Empty => K::Empty,
            Self::TooLong => K::TooLong,
            Self::NotAscii => K::NotAscii,
            Self::UnsupportedScheme { .. } => K::UnsupportedScheme,
            Self::UserInfo => K::UserInfo,
            Self::Port { .. } => K::Port,
            Self::IpAddress => K::IpAddress,
            Self::Localhost => K::Localhost,
            Self::InvalidHost { .. } => K::InvalidHost,
            Self::RetiredCloud => K::RetiredCloud,
            Self::NotLoginServer { .. } => K::NotLoginServer,
            Self::UnrecognisedHost { .. } => K::UnrecognisedHost,
            Self::InvalidCloud(_) => K::InvalidCloud,
        }
    }
}

impl fmt::Display for ReferenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the registry reference is empty"),
            Self::TooLong => write!(
                f,
                "the registry reference is longer than {} bytes",
                crate::MAX_REFERENCE_LEN
            ),
            Self::NotAscii => f.write_str(
                "the registry reference holds a space, control or non-ASCII character; \
                 registry hosts are ASCII (internationalised names are not used by ACR)",
            ),
            Self::UnsupportedScheme { scheme } if scheme == "http" => {
                f.write_str("http:// is refused: it would send the token in clear text; use https:// or a bare host")
            }
            Self::UnsupportedScheme { scheme } => write!(
                f,
                "unsupported scheme {}: expected https://, oci:// or a bare host",
                Quoted(scheme)
            ),
            Self::UserInfo => f.write_str(
                "the registry reference carries user information before the host (user@ or \
                 user:password@); pass credentials separately",
            ),
            Self::Port { port } => write!(
                f,
                "port {} is refused: ACR login servers listen on 443 only",
                Quoted(port)
            ),
            Self::IpAddress => f.write_str(
                "an IP address is not a registry login server: expected a name such as myregistry.azurecr.io",
            ),
            Self::Localhost => {
                f.write_str("localhost is not a registry login server: expected a name such as myregistry.azurecr.io")
            }
            Self::InvalidHost { reason } => write!(f, "invalid registry host: {reason}"),
            Self::RetiredCloud => f.write_str(
                "*.azurecr.de belonged to Azure Germany, which was retired in 2021; \
                 move the registry to another cloud",
            ),
            Self::NotLoginServer {
                host,
                login_server,
                endpoint,
            } => write!(
                f,
                "{host} is a registry {endpoint}, not a login server: authenticate against {login_server}"
            ),
            Self::UnrecognisedHost { host, expected } => {
                write!(
                    f,
                    "{host} is not an Azure Container Registry login server: expected {expected}"
                )
            }
            Self::InvalidCloud(_) => f.write_str("the custom cloud is refused"),
        }
    }
}

impl core::error::Error for ReferenceError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::InvalidCloud(e) => Some(e),
            _ => None,
        }
    }
}

/// Why a custom cloud's environment file was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloudEnvironmentError {
    /// Larger than [`crate::MAX_CLOUD_ENVIRONMENT_LEN`].
    TooLarge,
    /// Not a JSON object.
    NotJson {
        /// Where parsing failed (1-based), when the text is not JSON at all.
        position: Option<(usize, usize)>,
    },
    /// A field that is read appears twice; which copy counts would be a
    /// guess, so neither does.
    RepeatedField {
        /// Where the second copy ends (1-based line and column).
        position: (usize, usize),
    },
    /// A required field is absent.
    MissingField {
        /// The JSON field name.
        field: &'static str,
    },
    /// A field has the wrong type or an invalid value.
    InvalidField {
        /// The JSON field name.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
    },
}

kinds! {
    /// What kind of [`CloudEnvironmentError`].
    CloudEnvironmentErrorKind {
        /// [`CloudEnvironmentError::TooLarge`].
        TooLarge = "too-large",
        /// [`CloudEnvironmentError::NotJson`].
        NotJson = "not-json",
        /// [`CloudEnvironmentError::RepeatedField`].
        RepeatedField = "repeated-field",
        /// [`CloudEnvironmentError::MissingField`].
        MissingField = "missing-field",
        /// [`CloudEnvironmentError::InvalidField`].
        InvalidField = "invalid-field",
    }
}

impl CloudEnvironmentError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> CloudEnvironmentErrorKind {
        use CloudEnvironmentErrorKind as K;
        match self {
            Self::TooLarge => K::TooLarge,
            Self::NotJson { .. } => K::NotJson,
            Self::RepeatedField { .. } => K::RepeatedField,
            Self::MissingField { .. } => K::MissingField,
            Self::InvalidField { .. } => K::InvalidField,
        }
    }

    /// The JSON field at fault, when there is one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::MissingField { field } | Self::InvalidField { field, .. } => Some(field),
            Self::TooLarge | Self::NotJson { .. } | Self::RepeatedField { .. } => None,
        }
    }
}

impl fmt::Display for CloudEnvironmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => write!(
                f,
                "the cloud environment file is larger than {} bytes",
                crate::MAX_CLOUD_ENVIRONMENT_LEN
            ),
            Self::NotJson {
                position: Some((line, column)),
            } => write!(
                f,
                "the cloud environment file is not valid JSON (line {line}, column {column})"
            ),
            Self::NotJson { position: None } => f.write_str("the cloud environment file is not a JSON object"),
            Self::RepeatedField {
                position: (line, column),
            } => write!(
                f,
                "the cloud environment file repeats a field it must have once (line {line}, column {column})"
            ),
            Self::MissingField { field } => {
                write!(f, "the cloud environment file has no {} field", Quoted(field))
            }
            Self::InvalidField { field, expected } => {
                write!(f, "the cloud environment field {} must be {expected}", Quoted(field))
            }
        }
    }
}

impl core::error::Error for CloudEnvironmentError {}

/// Why a token or tenant argument was refused. Never contains the token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputError {
    /// The token is empty or only whitespace.
    EmptyToken,
    /// The token is longer than [`crate::MAX_TOKEN_LEN`].
    TokenTooLong,
    /// The token holds a space, control character or non-ASCII byte.
    TokenInvalidCharacter,
    /// The tenant is not a GUID or domain name.
    InvalidTenant,
    /// No scopes, or more than [`crate::MAX_SCOPES`].
    ScopeCount,
    /// A scope is not `repository:<name>:<actions>` or `registry:catalog:*`.
    InvalidScope {
        /// The scope as given (at most 64 bytes of it).
        scope: String,
    },
}

kinds! {
    /// What kind of [`InputError`].
    InputErrorKind {
        /// [`InputError::EmptyToken`].
        EmptyToken = "empty-token",
        /// [`InputError::TokenTooLong`].
        TokenTooLong = "token-too-long",
        /// [`InputError::TokenInvalidCharacter`].
        TokenInvalidCharacter = "token-invalid-character",
        /// [`InputError::InvalidTenant`].
        InvalidTenant = "invalid-tenant",
        /// [`InputError::ScopeCount`].
        ScopeCount = "scope-count",
        /// [`InputError::InvalidScope`].
        InvalidScope = "invalid-scope",
    }
}

impl InputError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> InputErrorKind {
        use InputErrorKind as K;
        match self {
            Self::EmptyToken => K::EmptyToken,
            Self::TokenTooLong => K::TokenTooLong,
            Self::TokenInvalidCharacter => K::TokenInvalidCharacter,
            Self::InvalidTenant => K::InvalidTenant,
            Self::ScopeCount => K::ScopeCount,
            Self::InvalidScope { .. } => K::InvalidScope,
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::EmptyToken => f.write_str("the token is empty"),
            Self::TokenTooLong => write!(f, "the token is longer than {} bytes", crate::MAX_TOKEN_LEN),
            Self::TokenInvalidCharacter => f.write_str(
                "the token holds a space, control or non-ASCII character (a token file with \
                 more than a trailing newline?)",
            ),
            Self::InvalidTenant => write!(
                f,
                "the tenant must be a directory GUID or domain name of at most {} letters, digits, dots and hyphens",
                crate::MAX_TENANT_LEN
            ),
            Self::ScopeCount => write!(f, "a token request needs 1 to {} scopes", crate::MAX_SCOPES),
            Self::InvalidScope { scope } => write!(
                f,
                "invalid scope {}: expected repository:<name>:<actions> (actions among pull, \
                 push, delete, metadata_read, metadata_write, *) or registry:catalog:*",
                Quoted(scope)
            ),
        }
    }
}

impl core::error::Error for InputError {}

/// Why a request could not be built: always caller misuse.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// The registry reference was refused.
    Reference(ReferenceError),
    /// A token or tenant argument was refused.
    Input(InputError),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Reference(e) => e.fmt(f),
            Self::Input(e) => e.fmt(f),
        }
    }
}

/// Transparent: its text is its inner error's, and so is its source.
impl core::error::Error for RequestError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Reference(e) => e.source(),
            Self::Input(e) => e.source(),
        }
    }
}

impl From<ReferenceError> for RequestError {
    fn from(e: ReferenceError) -> Self {
        Self::Reference(e)
    }
}

impl From<InputError> for RequestError {
    fn from(e: InputError) -> Self {
        Self::Input(e)
    }
}

/// Why a `WWW-Authenticate` challenge was refused by [`crate::parse_challenge`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeError {
    /// Longer than [`crate::MAX_CHALLENGE_LEN`].
    TooLong,
    /// Not RFC 7235 syntax.
    Syntax {
        /// What is wrong.
        reason: &'static str,
        /// The byte offset where it went wrong.
        offset: usize,
    },
    /// No `Bearer` challenge in the header.
    NoBearer,
    /// The Bearer challenge lacks a required parameter.
    MissingParameter {
        /// `realm` or `service`.
        name: &'static str,
    },
    /// A parameter occurs twice in the Bearer challenge (RFC 7235 forbids it).
    DuplicateParameter {
        /// The parameter, lower-cased.
        name: String,
    },
    /// The realm is not an `https://` URL.
    InsecureRealm,
    /// The realm's host is not a recognised ACR login server.
    Realm(ReferenceError),
    /// The custom cloud a host passed across the component boundary is
    /// refused. (A native [`crate::CloudEnvironment`] is checked when made.)
    InvalidCloud(CloudEnvironmentError),
}

kinds! {
    /// What kind of [`ChallengeError`].
    ChallengeErrorKind {
        /// [`ChallengeError::TooLong`].
        TooLong = "too-long",
        /// [`ChallengeError::Syntax`].
        Syntax = "syntax",
        /// [`ChallengeError::NoBearer`].
        NoBearer = "no-bearer",
        /// [`ChallengeError::MissingParameter`].
        MissingParameter = "missing-parameter",
        /// [`ChallengeError::DuplicateParameter`].
        DuplicateParameter = "duplicate-parameter",
        /// [`ChallengeError::InsecureRealm`].
        InsecureRealm = "insecure-realm",
        /// [`ChallengeError::Realm`].
        RealmHost = "realm-host",
        /// [`ChallengeError::InvalidCloud`].
        InvalidCloud = "invalid-cloud",
    }
}

impl ChallengeError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> ChallengeErrorKind {
        use ChallengeErrorKind as K;
        match self {
            Self::TooLong => K::TooLong,
            Self::Syntax { .. } => K::Syntax,
            Self::NoBearer => K::NoBearer,
            Self::MissingParameter { .. } => K::MissingParameter,
            Self::DuplicateParameter { .. } => K::DuplicateParameter,
            Self::InsecureRealm => K::InsecureRealm,
            Self::Realm(_) => K::RealmHost,
            Self::InvalidCloud(_) => K::InvalidCloud,
        }
    }
}

impl fmt::Display for ChallengeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong => write!(
                f,
                "the WWW-Authenticate header is longer than {} bytes",
                crate::MAX_CHALLENGE_LEN
            ),
            Self::Syntax { reason, offset } => {
                write!(f, "malformed WWW-Authenticate header at byte {offset}: {reason}")
            }
            Self::NoBearer => f.write_str("the WWW-Authenticate header has no Bearer challenge"),
            Self::MissingParameter { name } => {
                write!(f, "the Bearer challenge has no {} parameter", Quoted(name))
            }
            Self::DuplicateParameter { name } => {
                write!(f, "the Bearer challenge repeats the {} parameter", Quoted(name))
            }
            Self::InsecureRealm => {
                f.write_str("the challenge's realm is not an https:// URL: no token is sent over plain HTTP")
            }
            Self::Realm(_) => f.write_str("the challenge's realm is refused"),
            Self::InvalidCloud(_) => f.write_str("the custom cloud is refused"),
        }
    }
}

impl core::error::Error for ChallengeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Realm(e) => Some(e),
            Self::InvalidCloud(e) => Some(e),
            _ => None,
        }
    }
}

/// One entry of an ACR error body: `{"errors":[{"code":..,"message":..}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrError {
    /// E.g. `UNAUTHORIZED`, `DENIED`.
    pub code: String,
    /// The registry's explanation, truncated and with control characters replaced.
    pub message: String,
}

/// The registry answered with a status other than 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status.
    pub status: u16,
    /// The errors of an ACR error body; empty when the body had another shape.
    pub errors: Vec<AcrError>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the registry refused with HTTP {}", self.status)?;
        for (i, e) in self.errors.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{}: {}", e.code, e.message)?;
        }
        Ok(())
    }
}

/// Which part of a JWT a [`Malformed`] error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum JwtPart {
    /// The first segment.
    Header,
    /// The second segment: the claims.
    Payload,
    /// The third segment.
    Signature,
}

impl fmt::Display for JwtPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Header => "header",
            Self::Payload => "payload",
            Self::Signature => "signature",
        })
    }
}

/// A success response that breaks the protocol. Never contains the token or
/// the values of its claims.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// The body is larger than [`crate::MAX_RESPONSE_BODY_LEN`]; not parsed.
    TooLarge,
    /// The body is not a JSON object, or repeats a member that is read.
    NotJson,
    /// The body has no token field.
    MissingToken {
        /// The field looked for, e.g. `refresh_token`.
        field: &'static str,
    },
    /// The token field is not a string.
    TokenNotString {
        /// The field, e.g. `refresh_token`.
        field: &'static str,
    },
    /// The token is not three dot-separated segments.
    NotAJwt {
        /// How many segments it has.
        segments: usize,
    },
    /// A segment is not base64url.
    BadBase64 {
        /// Which segment.
        part: JwtPart,
    },
    /// The JWT header or payload is not a JSON object, or repeats a claim
    /// that is read.
    ClaimsNotJson {
        /// Which segment.
        part: JwtPart,
    },
    /// No expiry: the JWT payload has no `exp` claim, or an Entra answer has
    /// neither `expires_on` nor `expires_in`.
    MissingExpiry,
    /// The expiry (`exp`, `expires_on` or `expires_in`) is not a non-negative
    /// number of seconds.
    InvalidExpiry,
    /// Another claim that is read has the wrong type.
    InvalidClaim {
        /// The claim name.
        claim: &'static str,
    },
}

kinds! {
    /// What kind of [`Malformed`].
    MalformedKind {
        /// [`Malformed::TooLarge`].
        TooLarge = "too-large",
        /// [`Malformed::NotJson`].
        NotJson = "not-json",
        /// [`Malformed::MissingToken`].
        MissingToken = "missing-token",
        /// [`Malformed::TokenNotString`].
        TokenNotString = "token-not-string",
        /// [`Malformed::NotAJwt`].
        NotAJwt = "not-a-jwt",
        /// [`Malformed::BadBase64`].
        BadBase64 = "bad-base64",
        /// [`Malformed::ClaimsNotJson`].
        ClaimsNotJson = "claims-not-json",
        /// [`Malformed::MissingExpiry`].
        MissingExpiry = "missing-expiry",
        /// [`Malformed::InvalidExpiry`].
        InvalidExpiry = "invalid-expiry",
        /// [`Malformed::InvalidClaim`].
        InvalidClaim = "invalid-claim",
    }
}

impl Malformed {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> MalformedKind {
        use MalformedKind as K;
        match self {
            Self::TooLarge => K::TooLarge,
            Self::NotJson => K::NotJson,
            Self::MissingToken { .. } => K::MissingToken,
            Self::TokenNotString { .. } => K::TokenNotString,
            Self::NotAJwt { .. } => K::NotAJwt,
            Self::BadBase64 { .. } => K::BadBase64,
            Self::ClaimsNotJson { .. } => K::ClaimsNotJson,
            Self::MissingExpiry => K::MissingExpiry,
            Self::InvalidExpiry => K::InvalidExpiry,
            Self::InvalidClaim { .. } => K::InvalidClaim,
        }
    }
}

impl core::error::Error for Malformed {}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge => write!(
                f,
                "the response body is larger than the {} bytes allowed; it was not parsed",
                crate::MAX_RESPONSE_BODY_LEN
            ),
            Self::NotJson => f.write_str("the response body is not a JSON object with each member it must have once"),
            Self::MissingToken { field } => write!(f, "the response has no {} field", Quoted(field)),
            Self::TokenNotString { field } => write!(f, "the response's {} is not a string", Quoted(field)),
            Self::NotAJwt { segments } => write!(
                f,
                "the token is not a JWT: expected 3 dot-separated segments, found {segments}"
            ),
            Self::BadBase64 { part } => write!(f, "the token's JWT {part} is not base64url"),
            Self::ClaimsNotJson { part } => {
                write!(
                    f,
                    "the token's JWT {part} is not a JSON object with each claim it must have once"
                )
            }
            Self::MissingExpiry => f.write_str("no expiry (\"exp\" claim, \"expires_on\" or \"expires_in\")"),
            Self::InvalidExpiry => f.write_str("the expiry is not a non-negative number of seconds"),
            Self::InvalidClaim { claim } => {
                write!(f, "the token's {} claim has an unexpected type", Quoted(claim))
            }
        }
    }
}

/// Why a registry response did not yield a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseError {
    /// The registry refused: a status other than 200.
    Refused(Refusal),
    /// The response broke the protocol.
    Malformed(Malformed),
}

kinds! {
    /// What kind of [`ResponseError`] or [`EntraResponseError`].
    ResponseErrorKind {
        /// A status other than 200.
        Refused = "refused",
        /// A 200 response that breaks the protocol.
        Malformed = "malformed",
    }
}

impl ResponseError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> ResponseErrorKind {
        match self {
            Self::Refused(_) => ResponseErrorKind::Refused,
            Self::Malformed(_) => ResponseErrorKind::Malformed,
        }
    }
}

impl EntraResponseError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> ResponseErrorKind {
        match self {
            Self::Refused(_) => ResponseErrorKind::Refused,
            Self::Malformed(_) => ResponseErrorKind::Malformed,
        }
    }
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(r) => r.fmt(f),
            Self::Malformed(m) => m.fmt(f),
        }
    }
}

/// Transparent: its text is its inner error's.
impl core::error::Error for ResponseError {}

impl From<Malformed> for ResponseError {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}

/// Why an Entra token request was not built by [`crate::build_entra_token_request`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntraRequestError {
    /// The scope is not `https://<resource>/.default`.
    InvalidScope,
    /// The authority host is not a built-in cloud's Entra host or the custom
    /// cloud's `activeDirectoryEndpoint`, or not an `https://` URL; or a
    /// managed identity endpoint is neither `http://` to a loopback address
    /// nor `https://` to a DNS name.
    UnknownAuthority,
    /// The tenant is not a GUID or domain name.
    InvalidTenant,
    /// The client ID is not a GUID.
    InvalidClientId,
    /// A managed identity's client or object ID is not a GUID, or its resource
    /// ID is not `/subscriptions/...`.
    InvalidManagedIdentityId,
    /// A user-assigned identity on a platform that serves only the
    /// system-assigned one (Azure Arc, Cloud Shell).
    UserAssignedUnsupported,
    /// The federated token or client secret is empty, too long or holds a
    /// character that cannot be sent.
    InvalidCredential(InputError),
    /// The custom cloud a host passed across the component boundary is
    /// refused. (A native [`crate::CloudEnvironment`] is checked when made.)
    InvalidCloud(CloudEnvironmentError),
    /// A client assertion's ID (`jti`) is not a GUID.
    InvalidAssertionId,
}

kinds! {
    /// What kind of [`EntraRequestError`].
    EntraRequestErrorKind {
        /// [`EntraRequestError::InvalidScope`].
        InvalidScope = "invalid-scope",
        /// [`EntraRequestError::UnknownAuthority`].
        UnknownAuthority = "unknown-authority",
        /// [`EntraRequestError::InvalidTenant`].
        InvalidTenant = "invalid-tenant",
        /// [`EntraRequestError::InvalidClientId`].
        InvalidClientId = "invalid-client-id",
        /// [`EntraRequestError::InvalidManagedIdentityId`].
        InvalidManagedIdentityId = "invalid-managed-identity-id",
        /// [`EntraRequestError::UserAssignedUnsupported`].
        UserAssignedUnsupported = "user-assigned-unsupported",
        /// [`EntraRequestError::InvalidCredential`].
        InvalidCredential = "invalid-credential",
        /// [`EntraRequestError::InvalidCloud`].
        InvalidCloud = "invalid-cloud",
        /// [`EntraRequestError::InvalidAssertionId`].
        InvalidAssertionId = "invalid-assertion-id",
    }
}

impl EntraRequestError {
    /// What kind of error, to branch on.
    pub fn kind(&self) -> EntraRequestErrorKind {
        use EntraRequestErrorKind as K;
        match self {
            Self::InvalidScope => K::InvalidScope,
            Self::UnknownAuthority => K::UnknownAuthority,
            Self::InvalidTenant => K::InvalidTenant,
            Self::InvalidClientId => K::InvalidClientId,
            Self::InvalidManagedIdentityId => K::InvalidManagedIdentityId,
            Self::UserAssignedUnsupported => K::UserAssignedUnsupported,
            Self::InvalidCredential(_) => K::InvalidCredential,
            Self::InvalidCloud(_) => K::InvalidCloud,
            Self::InvalidAssertionId => K::InvalidAssertionId,
        }
    }
}

impl fmt::Display for EntraRequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidScope => f.write_str("the Entra scope must be https://<resource>/.default"),
            Self::UnknownAuthority => f.write_str(
                "the Entra authority host is not login.microsoftonline.com, login.chinacloudapi.cn, \
                 login.microsoftonline.us or the custom cloud's activeDirectoryEndpoint, over https://",
            ),
            Self::InvalidTenant => f.write_str("the tenant must be a directory GUID or domain name"),
            Self::InvalidClientId => f.write_str("the client ID must be a GUID"),
            Self::InvalidManagedIdentityId => f.write_str(
                "a managed identity's client or object ID must be a GUID, its resource ID /subscriptions/...",
            ),
            Self::UserAssignedUnsupported => f.write_str(
                "this platform (Azure Arc, Cloud Shell) serves only its system-assigned managed identity: \
                 name no client, object or resource ID",
            ),
            Self::InvalidCredential(_) => f.write_str("the federated token or client secret is refused"),
            Self::InvalidCloud(_) => f.write_str("the custom cloud is refused"),
            Self::InvalidAssertionId => f.write_str("a client assertion's ID must be a GUID"),
        }
    }
}

impl core::error::Error for EntraRequestError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::InvalidCredential(e) => Some(e),
            Self::InvalidCloud(e) => Some(e),
            _ => None,
        }
    }
}

/// Why Entra's answer gave no token ([`crate::parse_entra_token_response`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntraResponseError {
    /// Entra (or the metadata service) refused.
    Refused(EntraRefusal),
    /// A 200 response that cannot be read.
    Malformed(Malformed),
}

/// A refusal from Entra, with what its error body says (each text bounded,
/// control characters replaced; empty when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraRefusal {
    /// The HTTP status.
    pub status: u16,
    /// The OAuth error, e.g. `invalid_client`.
    pub error: String,
    /// `error_description`, which starts with the AADSTS code.
    pub description: String,
    /// The AADSTS code, e.g. 7000215 for a wrong client secret.
    pub code: Option<u32>,
    /// `trace_id`, for Microsoft support.
    pub trace_id: String,
    /// `correlation_id`, for Microsoft support.
    pub correlation_id: String,
}

impl fmt::Display for EntraRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Entra refused with HTTP {}", self.status)?;
        if !self.error.is_empty() {
            write!(f, ": {}", self.error)?;
        }
        if !self.description.is_empty() {
            write!(f, ": {}", self.description)?;
        }
        if !self.correlation_id.is_empty() {
            write!(f, " (correlation ID {})", self.correlation_id)?;
        }
        Ok(())
    }
}

impl fmt::Display for EntraResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(refusal) => refusal.fmt(f),
            Self::Malformed(_) => f.write_str("Entra's answer cannot be read"),
        }
    }
}

impl core::error::Error for EntraResponseError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Refused(_) => None,
            Self::Malformed(m) => Some(m),
        }
    }
}

impl From<Malformed> for EntraResponseError {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}
