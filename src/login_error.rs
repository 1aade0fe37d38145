//! Why a login failed: [`LoginError`], with its [`LoginErrorKind`] to
//! branch on, the [`Stage`] that failed, what the server said, and the typed
//! cause as its [`source`](core::error::Error::source).

use crate::prelude::*;

use core::fmt;

use crate::flow::ChallengeMismatch;
use crate::redact::Secrets;
use crate::{
    AcrError, ChallengeError, EntraRequestError, EntraResponseError, Malformed, RequestError, Response, ResponseError,
    TransportError, TransportErrorKind,
};

/// The step of a login that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stage {
    /// Checking the arguments, before any request.
    Input,
    /// Getting the Entra token with the host's identity.
    Entra,
    /// `GET /v2/` and its challenge.
    Discovery,
    /// `POST /oauth2/exchange`.
    Exchange,
    /// `POST /oauth2/token`.
    Token,
}

impl Stage {
    /// The stage's name in the WIT package, e.g. `exchange`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Entra => "entra",
            Self::Discovery => "discovery",
            Self::Exchange => "exchange",
            Self::Token => "token",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Input => "checking the arguments",
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
    /// The caller's reference, credentials, tenant, scopes or custom cloud
    /// were refused.
    InvalidInput,
    /// The driver fed the flow an event it did not ask for.
    Misuse,
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
    /// A server answered with a redirect, which is never followed.
    Redirect,
    /// A server refused: a status other than 200 (after any retries).
    Refused,
    /// A response body exceeded the cap.
    TooLarge,
    /// A 200 response broke the protocol.
    Malformed,
    /// The Azure Arc agent's key file could not be read, or is not one.
    KeyFile,
}

impl LoginErrorKind {
    /// The kind's name in the WIT package, e.g. `too-large`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidInput => "invalid-input",
            Self::Misuse => "misuse",
            Self::Challenge => "challenge",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Transport => "transport",
            Self::Redirect => "redirect",
            Self::Refused => "refused",
            Self::TooLarge => "too-large",
            Self::Malformed => "malformed",
            Self::KeyFile => "key-file",
        }
    }
}

/// The typed cause of a [`LoginError`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cause {
    Request(RequestError),
    EntraRequest(EntraRequestError),
    Response(ResponseError),
    EntraResponse(EntraResponseError),
    Challenge(ChallengeError),
    Transport(TransportError),
}

impl Cause {
    fn as_error(&self) -> &(dyn core::error::Error + 'static) {
        match self {
            Self::Request(e) => e,
            Self::EntraRequest(e) => e,
            Self::Response(e) => e,
            Self::EntraResponse(e) => e,
            Self::Challenge(e) => e,
            Self::Transport(e) => e,
        }
    }
}

/// Why a login failed: its kind, the stage that failed, what the server
/// said, and the typed cause as [`source`](core::error::Error::source). No
/// text holds a secret the login handled, whole or in part: the credential,
/// the Entra token, the refresh and access tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginError {
    kind: LoginErrorKind,
    stage: Stage,
    /// What this level adds to its cause; may be empty.
    detail: String,
    status: Option<u16>,
    errors: Vec<AcrError>,
    correlation_id: Option<String>,
    cause: Option<Box<Cause>>,
}

/// The longest correlation ID kept, in bytes.
const MAX_CORRELATION_ID_LEN: usize = 128;
/// The longest redirect target shown, in bytes.
const MAX_LOCATION_LEN: usize = 256;

impl LoginError {
    /// What kind of failure, to branch on.
    pub fn kind(&self) -> LoginErrorKind {
        self.kind
    }

    /// Which step failed.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The HTTP status, when a response arrived.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The ACR errors of the response body.
    pub fn errors(&self) -> &[AcrError] {
        &self.errors
    }

    /// The response's correlation ID (`x-ms-correlation-request-id`, or
    /// Entra's `correlation_id`): what support asks for.
    pub fn correlation_id(&self) -> Option<&str> {
        self.correlation_id.as_deref()
    }

    /// The whole story for people: this error and each of its causes.
    pub fn message(&self) -> String {
        crate::error::full_message(self)
    }

    fn new(kind: LoginErrorKind, stage: Stage, detail: impl Into<String>) -> Self {
        Self {
            kind,
            stage,
            detail: detail.into(),
            status: None,
            errors: Vec::new(),
            correlation_id: None,
            cause: None,
        }
    }

    fn because(mut self, cause: Cause) -> Self {
        self.cause = Some(Box::new(cause));
        self
    }

    /// Adds a response's status and correlation ID, `secrets` blanked before
    /// the ID is cut to its length cap.
    fn with_response(mut self, response: &Response, secrets: &Secrets) -> Self {
        self.status = Some(response.status);
        self.correlation_id = response
            .header("x-ms-correlation-request-id")
            .map(|id| bounded(&secrets.redact(id), MAX_CORRELATION_ID_LEN))
            .filter(|id| !id.is_empty());
        self
    }

    /// Blanks `secrets` in every text a server or transport produced. A
    /// cause whose text would hold one is replaced by its blanked text.
    pub(crate) fn redact(mut self, secrets: &Secrets) -> Self {
        self.detail = secrets.redact(&self.detail);
        for e in &mut self.errors {
            e.code = secrets.redact(&e.code);
            e.message = secrets.redact(&e.message);
        }
        if let Some(id) = &mut self.correlation_id {
            *id = secrets.redact(id);
        }
        if let Some(cause) = &self.cause {
            let text = crate::error::full_message(cause.as_error());
            let redacted = secrets.redact(&text);
            if redacted != text {
                self.cause = None;
                self.detail = if self.detail.is_empty() {
                    redacted
                } else {
                    format!("{}: {redacted}", self.detail)
                };
            }
        }
        self
    }

    /// An argument was refused.
    pub(crate) fn invalid_input(error: RequestError) -> Self {
        Self::new(LoginErrorKind::InvalidInput, Stage::Input, "").because(Cause::Request(error))
    }

    /// An identity argument was refused.
    pub(crate) fn invalid_entra_input(error: EntraRequestError) -> Self {
        Self::new(LoginErrorKind::InvalidInput, Stage::Input, "").because(Cause::EntraRequest(error))
    }

    /// The driver fed an event the flow did not ask for.
    pub(crate) fn misuse(stage: Stage, what: &str) -> Self {
        Self::new(LoginErrorKind::Misuse, stage, what)
    }

    /// A server answered with a redirect.
    pub(crate) fn redirect(stage: Stage, response: &Response, secrets: &Secrets) -> Self {
        let target = response.header("location").map_or_else(
            || "nowhere".to_owned(),
            |l| bounded(&secrets.redact(l), MAX_LOCATION_LEN),
        );
        let detail = format!(
            "HTTP {}: the server redirected to {target}; redirects are never followed with a token",
            response.status
        );
        Self::new(LoginErrorKind::Redirect, stage, detail).with_response(response, secrets)
    }

    /// Entra (or a metadata service) gave no token.
    pub(crate) fn entra(error: EntraResponseError, response: &Response, secrets: &Secrets) -> Self {
        let kind = match &error {
            EntraResponseError::Refused(_) => LoginErrorKind::Refused,
            EntraResponseError::Malformed(Malformed::TooLarge) => LoginErrorKind::TooLarge,
            _ => LoginErrorKind::Malformed,
        };
        let mut login_error = Self::new(kind, Stage::Entra, "").with_response(response, secrets);
        if let EntraResponseError::Refused(refusal) = &error
            && !refusal.correlation_id.is_empty()
        {
            login_error.correlation_id = Some(refusal.correlation_id.clone());
        }
        login_error.because(Cause::EntraResponse(error))
    }

    /// A registry gave no token.
    pub(crate) fn response(stage: Stage, error: ResponseError, response: &Response, secrets: &Secrets) -> Self {
        let (kind, errors) = match &error {
            ResponseError::Refused(refusal) => (LoginErrorKind::Refused, refusal.errors.clone()),
            ResponseError::Malformed(Malformed::TooLarge) => (LoginErrorKind::TooLarge, Vec::new()),
            _ => (LoginErrorKind::Malformed, Vec::new()),
        };
        let mut login_error = Self::new(kind, stage, "").with_response(response, secrets);
        login_error.errors = errors;
        login_error.because(Cause::Response(error))
    }

    /// The refresh token the registry issued cannot be sent back.
    pub(crate) fn unusable_refresh_token(error: RequestError) -> Self {
        Self::new(
            LoginErrorKind::Malformed,
            Stage::Exchange,
            "the registry's refresh token cannot be sent back",
        )
        .because(Cause::Request(error))
    }

    /// The Entra token Entra issued cannot be sent to the registry.
    pub(crate) fn unusable_entra_token(error: RequestError) -> Self {
        Self::new(
            LoginErrorKind::Malformed,
            Stage::Entra,
            "Entra's token cannot be sent to the registry",
        )
        .because(Cause::Request(error))
    }

    /// `/v2/` did not give the challenge the login needs.
    pub(crate) fn challenge(mismatch: ChallengeMismatch, response: &Response, secrets: &Secrets) -> Self {
        let error = |detail: String| Self::new(LoginErrorKind::Challenge, Stage::Discovery, detail);
        let login_error = match mismatch {
            ChallengeMismatch::Status(status) => {
                error(format!("expected 401 with a Bearer challenge, got HTTP {status}"))
            }
            ChallengeMismatch::Refused(e) => error(String::new()).because(Cause::Challenge(e)),
            ChallengeMismatch::OtherRegistry {
                realm,
                service,
                login_server,
            } => error(format!(
                "the challenge names realm {realm} and service {}, not {login_server}: no token is sent elsewhere",
                crate::error::Quoted(&service)
            )),
        };
        login_error.with_response(response, secrets)
    }

    /// The Arc agent's key file at `path` could not be used.
    pub(crate) fn key_file(stage: Stage, path: &str, why: &str) -> Self {
        let detail = if path.is_empty() {
            format!("the Azure Arc key file: {why}")
        } else {
            format!("the Azure Arc key file {}: {why}", crate::error::Quoted(path))
        };
        Self::new(LoginErrorKind::KeyFile, stage, detail)
    }

    /// A wildcard repository scope for a registry that grants per repository.
    pub(crate) fn wildcard_on_abac() -> Self {
        Self::new(
            LoginErrorKind::InvalidInput,
            Stage::Token,
            "this registry grants access per repository (repository permissions, ABAC): a wildcard \
             repository:*:... scope is refused, so name each repository instead",
        )
    }

    /// A request got no response.
    pub(crate) fn transport(stage: Stage, mut error: TransportError, secrets: &Secrets) -> Self {
        let kind = match error.kind {
            TransportErrorKind::Connect => LoginErrorKind::Connect,
            TransportErrorKind::Tls => LoginErrorKind::Tls,
            TransportErrorKind::Timeout => LoginErrorKind::Timeout,
            TransportErrorKind::TooLarge => LoginErrorKind::TooLarge,
            TransportErrorKind::Protocol => LoginErrorKind::Transport,
        };
        error.message = secrets.redact(&error.message);
        Self::new(kind, stage, "").because(Cause::Transport(error))
    }
}

impl fmt::Display for LoginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.stage)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlation id {id})")?;
        }
        Ok(())
    }
}

impl core::error::Error for LoginError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        self.cause.as_deref().map(Cause::as_error)
    }
}

/// The printable ASCII of a header value, at most `max` bytes of it.
fn bounded(text: &str, max: usize) -> String {
    text.chars().filter(|c| c.is_ascii_graphic()).take(max).collect()
}
