//! The whole login: optional challenge discovery, the token exchange and
//! optional repository access tokens, driven over a caller-supplied
//! [`Transport`].
//!
//! The flow decides every request and reads every response; the transport only
//! moves bytes. The `client` component runs it over imported `wasi:http`, so
//! the host still owns every byte that leaves the sandbox.

use crate::prelude::*;

use core::fmt;
use core::time::Duration;

use crate::{
    AccessToken, AcrError, CloudEnvironment, Credential, EntraResponseError, Identity, Malformed, Request,
    RequestError, ResponseError, Secret,
};

/// The default time allowed to establish a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time allowed between sending a request and its first response byte.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time allowed between two chunks of a response body.
pub const DEFAULT_BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// Timeouts a [`Transport`] must apply to each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// For establishing the connection.
    pub connect: Duration,
    /// From sending the request to the first byte of the response.
    pub first_byte: Duration,
    /// Between two chunks of the response body.
    pub between_bytes: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: DEFAULT_CONNECT_TIMEOUT,
            first_byte: DEFAULT_FIRST_BYTE_TIMEOUT,
            between_bytes: DEFAULT_BETWEEN_BYTES_TIMEOUT,
        }
    }
}

/// A response as plain data: what the flow needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The HTTP status.
    pub status: u16,
    /// Header names (lower-case) and values.
    pub headers: Vec<(String, String)>,
    /// The body, at most the `max_body` the transport was given.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why a transport could not deliver a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// No connection: refused, unreachable, or the name did not resolve.
    Connect,
    /// The TLS handshake failed, e.g. an untrusted or mismatched certificate.
    Tls,
    /// A timeout of [`Timeouts`] expired.
    Timeout,
    /// The response body is larger than `max_body`; the rest was not read.
    TooLarge,
    /// Anything else: a reset connection, a malformed HTTP response.
    Protocol,
}

/// A transport failure. Its message must never contain a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// What failed.
    pub kind: TransportErrorKind,
    /// Details for people.
    pub message: String,
}

/// Sends one HTTP request and returns its response: the only I/O of a login.
pub trait Transport {
    /// Sends `request` exactly as given, applying `timeouts`, following no
    /// redirect, and reading at most `max_body` bytes of the response body
    /// (more is [`TransportErrorKind::TooLarge`]).
    fn send(&mut self, request: &Request, timeouts: &Timeouts, max_body: usize) -> Result<Response, TransportError>;
}

/// What a login needs besides the registry reference and the Entra token.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// The Entra tenant, sent with the exchange when given.
    pub tenant: Option<String>,
    /// Repository scopes to get an access token for; none skips `/oauth2/token`.
    pub scopes: Vec<String>,
    /// Whether to confirm the registry's Bearer challenge at `/v2/` first.
    pub discover: bool,
    /// A custom cloud, for its registries.
    pub custom_cloud: Option<CloudEnvironment>,
    /// The timeouts of every request.
    pub timeouts: Timeouts,
}

/// What a login yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginResult {
    /// The login server logged in to.
    pub login_server: String,
    /// The refresh-token credential.
    pub credential: Credential,
    /// The access token for the requested scopes, when scopes were given.
    pub access_token: Option<AccessToken>,
}

/// The step of a login that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Checking the arguments, before any request.
    Input,
    /// Getting the Entra token with the host's identity ([`login_with_identity`]).
    Entra,
    /// `GET /v2/` and its challenge.
    Discovery,
    /// `POST /oauth2/exchange`.
    Exchange,
    /// `POST /oauth2/token`.
    Token,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Input => "input",
            Self::Entra => "Entra token request",
            Self::Discovery => "challenge discovery (GET /v2/)",
            Self::Exchange => "token exchange (POST /oauth2/exchange)",
            Self::Token => "access token (POST /oauth2/token)",
        })
    }
}

/// What kind of failure ended a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginErrorKind {
    /// The caller's reference, token, tenant or scopes were refused.
    InvalidInput,
    /// The `/v2/` challenge was missing, malformed or named another registry.
    Challenge,
    /// No connection could be made.
    Connect,
    /// The TLS handshake failed.
    Tls,
    /// A timeout expired.
    Timeout,
    /// The connection broke or the HTTP response was malformed.
    Transport,
    /// The registry answered with a redirect, which is never followed.
    Redirect,
    /// The registry refused: a status other than 200.
    Refused,
    /// The response body exceeded the cap.
    TooLarge,
    /// A 200 response broke the protocol.
    Malformed,
}

/// Why a login failed: the kind, the stage, and what the registry said.
/// No field ever holds a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginError {
    /// What kind of failure.
    pub kind: LoginErrorKind,
    /// Which step failed.
    pub stage: Stage,
    /// A summary for people.
    pub message: String,
    /// The HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// The ACR errors of the response body.
    pub errors: Vec<AcrError>,
    /// The response's `x-ms-correlation-request-id`, which support asks for.
    pub correlation_id: Option<String>,
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.stage, self.message)?;
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {id})")?;
        }
        Ok(())
    }
}

impl core::error::Error for LoginError {}

impl LoginError {
    fn new(kind: LoginErrorKind, stage: Stage, message: impl Into<String>) -> Self {
        Self {
            kind,
            stage,
            message: message.into(),
            status: None,
            errors: Vec::new(),
            correlation_id: None,
        }
    }

    /// Adds what a response said.
    fn with_response(mut self, response: &Response) -> Self {
        self.status = Some(response.status);
        self.correlation_id = response
            .header("x-ms-correlation-request-id")
            .map(|id| id.chars().filter(|c| c.is_ascii_graphic()).take(128).collect());
        self
    }

    /// Replaces every occurrence of the secrets in the texts a server or
    /// transport produced.
    fn redact(mut self, secrets: &[&str]) -> Self {
        let scrub = |text: &mut String| {
            for secret in secrets.iter().filter(|s| !s.is_empty()) {
                if text.contains(secret) {
                    *text = text.replace(secret, "[redacted]");
                }
            }
        };
        scrub(&mut self.message);
        for e in &mut self.errors {
            scrub(&mut e.code);
            scrub(&mut e.message);
        }
        if let Some(id) = &mut self.correlation_id {
            scrub(id);
        }
        self
    }
}

/// Logs in to the registry `reference` names with an Entra access token for
/// the scope [`crate::resolve_scope`] returns.
///
/// Sends, through `transport`: `GET https://<login-server>/v2/` when
/// `options.discover` (the challenge's realm and service must name the same
/// login server), then `POST /oauth2/exchange`, then, when scopes are given,
/// `POST /oauth2/token`. Tokens go only to the login server, over HTTPS, in
/// request bodies. A redirect is an error, never followed. Response bodies
/// are capped at [`crate::MAX_RESPONSE_BODY_LEN`].
pub fn login(
    transport: &mut dyn Transport,
    reference: &str,
    entra_token: &str,
    options: &LoginOptions,
) -> Result<LoginResult, LoginError> {
    let invalid = |e: RequestError| LoginError::new(LoginErrorKind::InvalidInput, Stage::Input, e.to_string());
    let custom_cloud = options.custom_cloud.as_ref();
    let (login_server, _) = crate::scope::login_server(reference, custom_cloud).map_err(|e| invalid(e.into()))?;
    let exchange = crate::exchange::exchange_request(&login_server, entra_token, options.tenant.as_deref())
        .map_err(|e| invalid(e.into()))?;
    if !options.scopes.is_empty() {
        crate::exchange::check_scopes(&options.scopes).map_err(|e| invalid(e.into()))?;
    }
    let mut flow = Flow {
        transport,
        timeouts: options.timeouts,
        secrets: vec![entra_token],
    };
    if options.discover {
        flow.discover(&login_server, custom_cloud)?;
    }
    let response = flow.send(&exchange, Stage::Exchange)?;
    let credential = crate::parse_refresh_token(response.status, &response.body)
        .map_err(|e| flow.response_error(e, Stage::Exchange, &response))?;
    let access_token = if options.scopes.is_empty() {
        None
    } else {
        let refresh_token = credential.password.expose().as_str();
        flow.secrets.push(refresh_token);
        // The scopes were checked before any request, so a refusal here is
        // about the registry's own token (say, over the size cap).
        let request = crate::exchange::token_request(&login_server, refresh_token, &options.scopes).map_err(|e| {
            let message = format!("the registry's refresh token cannot be sent back: {e}");
            flow.redacted(LoginError::new(LoginErrorKind::Malformed, Stage::Exchange, message))
        })?;
        let response = flow.send(&request, Stage::Token)?;
        let token = crate::parse_access_token(response.status, &response.body)
            .map_err(|e| flow.response_error(e, Stage::Token, &response))?;
        Some(token)
    };
    Ok(LoginResult {
        login_server,
        credential,
        access_token,
    })
}

/// Logs in with the host's own identity: gets an Entra token for the scope
/// [`crate::resolve_scope`] chooses (the ACR audience; ARM only for a custom
/// cloud that names no ACR audience) with `identity`, then logs in with it
/// as [`login`] does.
///
/// The Entra request goes to the identity's authority over HTTPS (a
/// built-in cloud's Entra host or the custom cloud's), or, for a managed
/// identity, to the instance metadata service's link-local address over
/// plain HTTP. Every argument is checked before the first request; no error
/// holds the credential or either token.
pub fn login_with_identity(
    transport: &mut dyn Transport,
    reference: &str,
    identity: &Identity,
    options: &LoginOptions,
) -> Result<LoginResult, LoginError> {
    let invalid = |message: String| LoginError::new(LoginErrorKind::InvalidInput, Stage::Input, message);
    let custom_cloud = options.custom_cloud.as_ref();
    let resolved = crate::resolve_scope(reference, custom_cloud).map_err(|e| invalid(e.to_string()))?;
    let request = crate::build_entra_token_request(identity, &resolved.scope, custom_cloud)
        .map_err(|e| invalid(e.to_string()))?;
    if let Some(tenant) = &options.tenant {
        crate::exchange::check_tenant(tenant).map_err(|e| invalid(e.to_string()))?;
    }
    if !options.scopes.is_empty() {
        crate::exchange::check_scopes(&options.scopes).map_err(|e| invalid(e.to_string()))?;
    }
    let credential = match identity {
        Identity::FederatedToken { assertion, .. } => assertion.expose().as_str(),
        Identity::ClientSecret { secret, .. } => secret.expose().as_str(),
        Identity::ManagedIdentity { .. } => "",
    };
    let mut flow = Flow {
        transport,
        timeouts: options.timeouts,
        secrets: vec![credential],
    };
    let response = flow.send(&request, Stage::Entra)?;
    // The Entra token is used at once, so its expiry (relative to `now`) is not needed.
    let token = crate::parse_entra_token_response(response.status, &response.body, 0).map_err(|e| {
        let (kind, correlation_id) = match &e {
            EntraResponseError::Refused(r) => (LoginErrorKind::Refused, Some(r.correlation_id.clone())),
            EntraResponseError::Malformed(Malformed::TooLarge) => (LoginErrorKind::TooLarge, None),
            _ => (LoginErrorKind::Malformed, None),
        };
        let mut error = LoginError::new(kind, Stage::Entra, e.to_string());
        error.status = Some(response.status);
        error.correlation_id = correlation_id.filter(|id| !id.is_empty());
        flow.redacted(error)
    })?;
    login(flow.transport, reference, token.access_token.expose(), options).map_err(|e| e.redact(&[credential]))
}

/// One login's state: the transport and the secrets to keep out of errors.
struct Flow<'a> {
    transport: &'a mut dyn Transport,
    timeouts: Timeouts,
    secrets: Vec<&'a str>,
}

impl Flow<'_> {
    fn redacted(&self, error: LoginError) -> LoginError {
        error.redact(&self.secrets)
    }

    /// Sends a request; transport failures and redirects become errors.
    fn send(&mut self, request: &Request, stage: Stage) -> Result<Response, LoginError> {
        let response = self
            .transport
            .send(request, &self.timeouts, crate::MAX_RESPONSE_BODY_LEN)
            .map_err(|e| {
                let kind = match e.kind {
                    TransportErrorKind::Connect => LoginErrorKind::Connect,
                    TransportErrorKind::Tls => LoginErrorKind::Tls,
                    TransportErrorKind::Timeout => LoginErrorKind::Timeout,
                    TransportErrorKind::TooLarge => LoginErrorKind::TooLarge,
                    TransportErrorKind::Protocol => LoginErrorKind::Transport,
                };
                self.redacted(LoginError::new(kind, stage, e.message))
            })?;
        if (300..400).contains(&response.status) {
            let target = response
                .header("location")
                .map(|l| l.chars().filter(|c| c.is_ascii_graphic()).take(256).collect::<String>())
                .unwrap_or_else(|| "nowhere".to_owned());
            let message = format!("the server redirected to {target}; redirects are never followed with a token");
            return Err(
                self.redacted(LoginError::new(LoginErrorKind::Redirect, stage, message).with_response(&response))
            );
        }
        Ok(response)
    }

    /// Turns a response parsing error into a login error.
    fn response_error(&self, error: ResponseError, stage: Stage, response: &Response) -> LoginError {
        let (kind, errors) = match &error {
            ResponseError::Refused(refusal) => (LoginErrorKind::Refused, refusal.errors.clone()),
            ResponseError::Malformed(Malformed::TooLarge) => (LoginErrorKind::TooLarge, Vec::new()),
            _ => (LoginErrorKind::Malformed, Vec::new()),
        };
        let mut login_error = LoginError::new(kind, stage, error.to_string()).with_response(response);
        login_error.errors = errors;
        self.redacted(login_error)
    }

    /// `GET /v2/` must answer 401 with a Bearer challenge for this login server.
    fn discover(&mut self, login_server: &str, custom_cloud: Option<&CloudEnvironment>) -> Result<(), LoginError> {
        let request = Request {
            method: "GET",
            url: format!("https://{login_server}/v2/"),
            headers: vec![("accept", "application/json")],
            body: Secret::new(Vec::new()),
        };
        let response = self.send(&request, Stage::Discovery)?;
        let challenge_error = |message: String| {
            LoginError::new(LoginErrorKind::Challenge, Stage::Discovery, message).with_response(&response)
        };
        if response.status != 401 {
            return Err(self.redacted(challenge_error(format!(
                "expected 401 with a Bearer challenge, got HTTP {}",
                response.status
            ))));
        }
        let header = response.header("www-authenticate").unwrap_or_default();
        let challenge =
            crate::parse_challenge(header, custom_cloud).map_err(|e| self.redacted(challenge_error(e.to_string())))?;
        if challenge.login_server != login_server || !challenge.service.eq_ignore_ascii_case(login_server) {
            return Err(self.redacted(challenge_error(format!(
                "the challenge names realm {} and service {}, not {login_server}: no token is sent elsewhere",
                challenge.login_server,
                crate::error::Quoted(&challenge.service)
            ))));
        }
        Ok(())
    }
}
