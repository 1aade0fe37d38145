//! The whole login as a sans-IO state machine: [`LoginFlow`] says what to
//! send and when to wake it; the caller sends, sleeps and feeds back what
//! happened.
//!
//! ```text
//! let mut flow = LoginFlow::new(reference, credentials, options);
//! let mut event = Event::Start;
//! loop {
//!     match flow.step(now_ms(), event) {
//!         Step::Send(outgoing) => event = match send(&outgoing) {
//!             Ok(response) => Event::Response(response),
//!             Err(error) => Event::TransportFailed(error),
//!         },
//!         Step::Wait(until_ms) => { sleep_until(until_ms); event = Event::Woke }
//!         Step::Done(result) => return Ok(result),
//!         Step::Failed(error) => return Err(error),
//!     }
//! }
//! ```
//!
//! The flow decides every request and reads every response: discovery,
//! redirect refusal, retries and their waits, redaction and error mapping all
//! live here, once, so every driver ([`crate::login`], the `client`
//! component over `wasi:http`, Node, Python, the proxy) is a loop like the
//! one above. Time is an argument: unix milliseconds, never read.

use crate::prelude::*;

use core::fmt;
use core::time::Duration;

use crate::redact::Secrets;
use crate::{
    AccessToken, ChallengeError, CloudEnvironment, Credential, Identity, LoginError, ManagedIdentitySource, Request,
    RequestError, Response, Secret, Stage, Timeouts, TransportError, TransportErrorKind,
};

/// Who logs in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// An Entra access token the caller already has, for the scope
    /// [`crate::resolve_scope`] returns.
    EntraToken(Secret<String>),
    /// The host's own identity: the flow gets the Entra token first.
    Identity(Identity),
    /// The refresh-token credential of an earlier login, kept by the caller
    /// (a token cache): the flow asks only `/oauth2/token` for an access
    /// token, so [`LoginOptions::repository_scopes`] must name at least one
    /// scope, and returns this credential with it. No discovery is done: the
    /// login that obtained the credential did it, if asked.
    RefreshToken(Credential),
}

/// When to try a refused request again, and how often.
///
/// The metadata services' policy follows the Azure SDKs': 404, 408, 410, 429
/// and 5xx are retried with exponential backoff, and 410 (the service is
/// being upgraded) for at least [`RetryPolicy::gone_window`]. Registries and
/// Entra are retried on 429 and 503 only, honouring `Retry-After`. A wait the
/// server asks for beyond [`RetryPolicy::max_delay`] is not waited for: the
/// refusal ends the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after a refusal from a registry or Entra.
    pub max_retries: u32,
    /// Retries after a refusal from a metadata service (beyond which only
    /// 410 goes on, until [`RetryPolicy::gone_window`]).
    pub metadata_max_retries: u32,
    /// The first backoff; each retry doubles it.
    pub first_delay: Duration,
    /// The longest single wait, asked for or backed off.
    pub max_delay: Duration,
    /// How long after the first attempt a metadata service's 410 is retried.
    pub gone_window: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 3,
            metadata_max_retries: 5,
            first_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(60),
            gone_window: Duration::from_secs(70),
        }
    }
}

/// What a login needs besides the reference and the credentials.
#[derive(Debug, Clone, Default)]
pub struct LoginOptions {
    /// The Entra tenant, sent with the exchange. For an identity that names
    /// its tenant, that tenant is sent unless this is given.
    pub tenant: Option<String>,
    /// Repository scopes (`repository:<name>:pull`, `registry:catalog:*`) to
    /// get an access token for; none skips `/oauth2/token`.
    pub repository_scopes: Vec<String>,
    /// Whether to confirm the registry's Bearer challenge at `/v2/` first.
    pub discover: bool,
    /// A custom cloud, for its registries.
    pub custom_cloud: Option<CloudEnvironment>,
    /// The timeouts of every request.
    pub timeouts: Timeouts,
    /// When to retry.
    pub retry: RetryPolicy,
}

/// What a login yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginResult {
    /// The login server logged in to.
    pub login_server: String,
    /// The refresh-token credential.
    pub credential: Credential,
    /// The access token for the repository scopes, when scopes were given.
    pub access_token: Option<AccessToken>,
}

/// What happened since the last step.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Nothing yet: the first call.
    Start,
    /// The response to the request of the last [`Step::Send`].
    Response(Response),
    /// That request got no response.
    TransportFailed(TransportError),
    /// The time of the last [`Step::Wait`] has come.
    Woke,
    /// The contents of the file the last [`Step::ReadFile`] named.
    FileRead(Secret<String>),
    /// That file could not be read.
    FileFailed(String),
}

impl Event {
    /// The event for what sending a request gave.
    pub fn outcome(sent: Result<Response, TransportError>) -> Self {
        match sent {
            Ok(response) => Self::Response(response),
            Err(error) => Self::TransportFailed(error),
        }
    }

    /// The event for what reading a file gave.
    pub fn file(read: Result<String, String>) -> Self {
        match read {
            Ok(contents) => Self::FileRead(Secret::new(contents)),
            Err(why) => Self::FileFailed(why),
        }
    }
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Step {
    /// Send this request, then call [`LoginFlow::step`] with its
    /// [`Event::Response`] or [`Event::TransportFailed`].
    Send(Outgoing),
    /// Call [`LoginFlow::step`] with [`Event::Woke`] at this time (unix
    /// milliseconds) or later.
    Wait(u64),
    /// Read this file (the Azure Arc agent's key, which proves the caller
    /// may ask for the machine's token) and call [`LoginFlow::step`] with
    /// [`Event::FileRead`] or [`Event::FileFailed`]. The flow names only a
    /// `.key` file in the agent's token directory; a larger file than
    /// `max_len` bytes is not read.
    ReadFile {
        /// The file's path.
        path: String,
        /// The most bytes to read.
        max_len: usize,
    },
    /// Logged in.
    Done(LoginResult),
    /// The login failed; no further step changes that.
    Failed(LoginError),
}

/// A request to send, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The request, to send exactly as given and following no redirect.
    pub request: Request,
    /// The timeouts to apply.
    pub timeouts: Timeouts,
    /// The most response body bytes to read: a longer body is
    /// [`TransportErrorKind::TooLarge`], and the rest is not read.
    pub max_response_len: usize,
}

/// A login in progress.
pub struct LoginFlow {
    state: State,
    plan: Plan,
    secrets: Secrets,
}

impl fmt::Debug for LoginFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginFlow")
            .field("login_server", &self.plan.login_server)
            .field("stage", &self.state.stage())
            .finish_non_exhaustive()
    }
}

/// What the flow knows from its arguments and has gathered so far.
struct Plan {
    login_server: String,
    custom_cloud: Option<CloudEnvironment>,
    tenant: Option<String>,
    repository_scopes: Vec<String>,
    discover: bool,
    timeouts: Timeouts,
    retry: RetryPolicy,
    /// The exchange request, once it can be built, until it is sent.
    exchange: Option<Request>,
    /// The refresh-token credential, once the exchange answered.
    credential: Option<Credential>,
    /// Whether the Entra request goes to Azure Arc's endpoint, whose first
    /// answer is a challenge naming a key file.
    arc: bool,
}

impl Plan {
    /// The plan of a login that failed before it began.
    fn empty() -> Self {
        Self {
            login_server: String::new(),
            custom_cloud: None,
            tenant: None,
            repository_scopes: Vec::new(),
            discover: false,
            timeouts: Timeouts::default(),
            retry: RetryPolicy::default(),
            exchange: None,
            credential: None,
            arc: false,
        }
    }
}

/// Where the flow is.
enum State {
    /// Before [`Event::Start`], with the first request ready.
    Ready(Attempt),
    /// The request of an attempt is out.
    Sent(Attempt),
    /// The attempt is to be sent again at `until`.
    Waiting { attempt: Attempt, until: u64 },
    /// The attempt waits for the Arc key file at `path`.
    Reading { attempt: Attempt, path: String },
    /// Done or failed.
    Finished(Box<Result<LoginResult, LoginError>>),
}

impl State {
    /// The stage the flow is at.
    fn stage(&self) -> Stage {
        match self {
            Self::Ready(attempt)
            | Self::Sent(attempt)
            | Self::Waiting { attempt, .. }
            | Self::Reading { attempt, .. } => attempt.stage,
            Self::Finished(result) => match &**result {
                Ok(_) => Stage::Token,
                Err(e) => e.stage(),
            },
        }
    }

    /// What the flow awaits, for people.
    fn awaits(&self) -> &'static str {
        match self {
            Self::Ready(_) => "Start",
            Self::Sent(_) => "a response or a transport failure",
            Self::Waiting { .. } => "Woke",
            Self::Reading { .. } => "the file read",
            Self::Finished(_) => "nothing",
        }
    }
}

/// Which retry rules a request follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    /// A registry or Entra.
    Remote,
    /// A machine's own metadata service (managed identity).
    Metadata,
}

/// One request and its retries so far.
struct Attempt {
    stage: Stage,
    request: Request,
    service: Service,
    /// When it was first sent, unix milliseconds.
    first_sent: Option<u64>,
    /// Retries after a refusal so far.
    retries: u32,
    /// Whether it was sent again after a transport failure.
    resent: bool,
    /// Whether it carries the Arc agent's key already.
    keyed: bool,
}

impl Attempt {
    fn new(stage: Stage, request: Request, service: Service) -> Self {
        Self {
            stage,
            request,
            service,
            first_sent: None,
            retries: 0,
            resent: false,
            keyed: false,
        }
    }
}

impl LoginFlow {
    /// A login to the registry `reference` names, with `credentials`. Every
    /// argument is checked here; a refused one makes the first step
    /// [`Step::Failed`] with [`crate::LoginErrorKind::InvalidInput`], before any
    /// request.
    pub fn new(reference: &str, credentials: Credentials, options: LoginOptions) -> Self {
        let mut secrets = Secrets::default();
        match Self::plan(reference, credentials, options, &mut secrets) {
            Ok((plan, first)) => Self {
                state: State::Ready(first),
                plan,
                secrets,
            },
            Err(error) => Self {
                state: finish(Err(error.redact(&secrets))),
                plan: Plan::empty(),
                secrets,
            },
        }
    }

    /// A login that failed before it began, for an argument refused before
    /// [`LoginFlow::new`] could take it (a custom cloud record that does not
    /// check out, across the component boundary).
    #[cfg(feature = "component")]
    pub(crate) fn failed(error: LoginError) -> Self {
        Self {
            state: finish(Err(error)),
            plan: Plan::empty(),
            secrets: Secrets::default(),
        }
    }

    /// Checks the arguments and prepares the first request.
    fn plan(
        reference: &str,
        credentials: Credentials,
        options: LoginOptions,
        secrets: &mut Secrets,
    ) -> Result<(Plan, Attempt), LoginError> {
        let custom_cloud = options.custom_cloud.as_ref();
        let resolved = crate::resolve_scope(reference, custom_cloud)
            .map_err(|e| LoginError::invalid_input(RequestError::Reference(e)))?;
        if !options.repository_scopes.is_empty() {
            crate::exchange::check_scopes(&options.repository_scopes)
                .map_err(|e| LoginError::invalid_input(RequestError::Input(e)))?;
        }
        let mut arc = false;
        let mut credential = None;
        let (tenant, exchange, first) = match credentials {
            Credentials::RefreshToken(refresh) => {
                secrets.add(refresh.password.expose());
                crate::exchange::check_scopes(&options.repository_scopes)
                    .map_err(|e| LoginError::invalid_input(RequestError::Input(e)))?;
                if refresh.abac && options.repository_scopes.iter().any(|s| is_wildcard(s)) {
                    return Err(LoginError::wildcard_on_abac());
                }
                let request = crate::exchange::token_request(
                    &resolved.login_server,
                    refresh.password.expose(),
                    &options.repository_scopes,
                )
                .map_err(LoginError::invalid_input)?;
                credential = Some(refresh);
                (
                    options.tenant,
                    None,
                    Attempt::new(Stage::Token, request, Service::Remote),
                )
            }
            Credentials::EntraToken(token) => {
                secrets.add(token.expose());
                let exchange = crate::exchange::exchange_request(
                    &resolved.login_server,
                    token.expose(),
                    options.tenant.as_deref(),
                )
                .map_err(LoginError::invalid_input)?;
                if options.discover {
                    let first = discovery(&resolved.login_server).map_err(LoginError::invalid_input)?;
                    (options.tenant, Some(exchange), first)
                } else {
                    let first = Attempt::new(Stage::Exchange, exchange, Service::Remote);
                    (options.tenant, None, first)
                }
            }
            Credentials::Identity(identity) => {
                let (credential, identity_tenant, service) = match &identity {
                    Identity::FederatedToken { assertion, tenant, .. } => {
                        (assertion.expose().as_str(), Some(tenant), Service::Remote)
                    }
                    Identity::ClientSecret { secret, tenant, .. } => {
                        (secret.expose().as_str(), Some(tenant), Service::Remote)
                    }
                    Identity::ManagedIdentity { source, .. } => {
                        arc = matches!(source, ManagedIdentitySource::AzureArc { .. });
                        let header = match source {
                            ManagedIdentitySource::AppService { header, .. } => header.expose().as_str(),
                            _ => "",
                        };
                        (header, None, Service::Metadata)
                    }
                };
                secrets.add(credential);
                let request = crate::build_entra_token_request(&identity, &resolved.scope, custom_cloud)
                    .map_err(LoginError::invalid_entra_input)?;
                let tenant = options.tenant.or_else(|| identity_tenant.cloned());
                if let Some(tenant) = &tenant {
                    crate::exchange::check_tenant(tenant)
                        .map_err(|e| LoginError::invalid_input(RequestError::Input(e)))?;
                }
                (tenant, None, Attempt::new(Stage::Entra, request, service))
            }
        };
        let plan = Plan {
            login_server: resolved.login_server,
            custom_cloud: options.custom_cloud,
            tenant,
            repository_scopes: options.repository_scopes,
            discover: options.discover,
            timeouts: options.timeouts,
            retry: options.retry,
            exchange,
            credential,
            arc,
        };
        Ok((plan, first))
    }

    /// Takes what happened since the last step, at `now` (unix
    /// milliseconds), and returns what to do next.
    ///
    /// The first call takes [`Event::Start`]; after a [`Step::Send`] the
    /// next takes the request's outcome; after a [`Step::Wait`],
    /// [`Event::Woke`] (an early wake is told to wait again). Any other event
    /// is the driver's mistake and fails the login with
    /// [`crate::LoginErrorKind::Misuse`]. Once done or failed, every call returns
    /// that same step.
    pub fn step(&mut self, now: u64, event: Event) -> Step {
        let placeholder = State::Finished(Box::new(Err(LoginError::misuse(
            Stage::Input,
            "a step that never ended",
        ))));
        let state = core::mem::replace(&mut self.state, placeholder);
        self.state = match (state, event) {
            (State::Finished(result), _) => State::Finished(result),
            (State::Ready(attempt), Event::Start) => send(attempt, now),
            (State::Sent(attempt), Event::Response(response)) => self.on_response(attempt, response, now),
            (State::Sent(attempt), Event::TransportFailed(error)) => self.on_transport_failure(attempt, error),
            (State::Waiting { attempt, until }, Event::Woke) if now >= until => send(attempt, now),
            (State::Waiting { attempt, until }, Event::Woke) => State::Waiting { attempt, until },
            (State::Reading { attempt, .. }, Event::FileRead(key)) => self.with_key(attempt, key.expose(), now),
            (State::Reading { attempt, path }, Event::FileFailed(why)) => {
                self.fail(LoginError::key_file(attempt.stage, &path, &why))
            }
            (state, event) => {
                let message = format!(
                    "the driver fed {} while the flow awaited {}",
                    event_name(&event),
                    state.awaits()
                );
                finish(Err(LoginError::misuse(state.stage(), &message)))
            }
        };
        match &self.state {
            State::Sent(attempt) => Step::Send(Outgoing {
                request: attempt.request.clone(),
                timeouts: self.plan.timeouts,
                max_response_len: crate::MAX_RESPONSE_BODY_LEN,
            }),
            State::Waiting { until, .. } => Step::Wait(*until),
            State::Reading { path, .. } => Step::ReadFile {
                path: path.clone(),
                max_len: crate::entra::MAX_ARC_KEY_LEN,
            },
            State::Finished(result) => match &**result {
                Ok(result) => Step::Done(result.clone()),
                Err(error) => Step::Failed(error.clone()),
            },
            // `step` always leaves `Ready` on its first call.
            State::Ready(attempt) => Step::Failed(LoginError::misuse(attempt.stage, "the flow did not start")),
        }
    }

    /// The next state after a response to `attempt`.
    fn on_response(&mut self, mut attempt: Attempt, response: Response, now: u64) -> State {
        let stage = attempt.stage;
        if (300..400).contains(&response.status) {
            return self.fail(LoginError::redirect(stage, &response, &self.secrets));
        }
        if self.plan.arc && stage == Stage::Entra && response.status == 401 && !attempt.keyed {
            return match response.header("www-authenticate").and_then(crate::entra::arc_key_file) {
                Some(path) => State::Reading { attempt, path },
                None => self.fail(LoginError::key_file(
                    stage,
                    "",
                    "the Azure Arc endpoint's 401 names no key file in the agent's token directory",
                )),
            };
        }
        if let Some(delay) = self.retry_delay(&attempt, &response, now) {
            attempt.retries += 1;
            return State::Waiting {
                attempt,
                until: now.saturating_add(delay),
            };
        }
        let (status, body) = (response.status, &response.body);
        match stage {
            Stage::Entra => match crate::entra::read_entra_token_response(status, body, now / 1000, &self.secrets) {
                Ok(token) => {
                    self.secrets.add(token.access_token.expose());
                    self.after_entra(token.access_token.expose(), now)
                }
                Err(e) => self.fail(LoginError::entra(e, &response, &self.secrets)),
            },
            Stage::Discovery => match self.check_challenge(&response) {
                Ok(()) => self.exchange(now),
                Err(e) => self.fail(e),
            },
            Stage::Exchange => match crate::token::read_refresh_token(status, body, &self.secrets) {
                Ok(credential) if self.plan.repository_scopes.is_empty() => self.succeed(credential, None),
                Ok(credential) if credential.abac && self.plan.repository_scopes.iter().any(|s| is_wildcard(s)) => {
                    self.fail(LoginError::wildcard_on_abac())
                }
                Ok(credential) => {
                    let refresh_token = credential.password.expose().clone();
                    self.secrets.add(&refresh_token);
                    self.plan.credential = Some(credential);
                    match crate::exchange::token_request(
                        &self.plan.login_server,
                        &refresh_token,
                        &self.plan.repository_scopes,
                    ) {
                        Ok(request) => send(Attempt::new(Stage::Token, request, Service::Remote), now),
                        // The scopes were checked before any request, so this
                        // is about the registry's own token (say, its size).
                        Err(e) => self.fail(LoginError::unusable_refresh_token(e)),
                    }
                }
                Err(e) => self.fail(LoginError::response(stage, e, &response, &self.secrets)),
            },
            Stage::Token | Stage::Input => match crate::token::read_access_token(status, body, &self.secrets) {
                Ok(access_token) => match self.plan.credential.take() {
                    Some(credential) => self.succeed(credential, Some(access_token)),
                    None => self.fail(LoginError::misuse(stage, "an access token before the refresh token")),
                },
                Err(e) => self.fail(LoginError::response(stage, e, &response, &self.secrets)),
            },
        }
    }

    /// Sends `attempt` again with the Arc agent's `key`.
    fn with_key(&mut self, mut attempt: Attempt, key: &str, now: u64) -> State {
        if let Err(e) = crate::exchange::check_token(key) {
            let why = format!("it is not a key: {e}");
            return self.fail(LoginError::key_file(attempt.stage, "", &why));
        }
        self.secrets.add(key);
        attempt.request.headers.push(("authorization", format!("Basic {key}")));
        attempt.keyed = true;
        send(attempt, now)
    }

    /// After the Entra token: discovery, or the exchange.
    fn after_entra(&mut self, entra_token: &str, now: u64) -> State {
        let exchange =
            crate::exchange::exchange_request(&self.plan.login_server, entra_token, self.plan.tenant.as_deref());
        match exchange {
            Ok(exchange) => self.plan.exchange = Some(exchange),
            Err(e) => return self.fail(LoginError::unusable_entra_token(e)),
        }
        if !self.plan.discover {
            return self.exchange(now);
        }
        match discovery(&self.plan.login_server) {
            Ok(attempt) => send(attempt, now),
            Err(e) => self.fail(LoginError::invalid_input(e)),
        }
    }

    /// Sends the exchange request.
    fn exchange(&mut self, now: u64) -> State {
        match self.plan.exchange.take() {
            Some(request) => send(Attempt::new(Stage::Exchange, request, Service::Remote), now),
            None => self.fail(LoginError::misuse(Stage::Exchange, "the exchange was sent already")),
        }
    }

    /// `GET /v2/` must answer 401 with a Bearer challenge whose realm and
    /// service name this login server.
    fn check_challenge(&self, response: &Response) -> Result<(), LoginError> {
        let login_server = self.plan.login_server.as_str();
        if response.status != 401 {
            return Err(LoginError::challenge(
                ChallengeMismatch::Status(response.status),
                response,
                &self.secrets,
            ));
        }
        let header = response.header("www-authenticate").unwrap_or_default();
        let challenge = crate::parse_challenge(header, self.plan.custom_cloud.as_ref())
            .map_err(|e| LoginError::challenge(ChallengeMismatch::Refused(e), response, &self.secrets))?;
        if challenge.login_server != login_server || !challenge.service.eq_ignore_ascii_case(login_server) {
            let mismatch = ChallengeMismatch::OtherRegistry {
                realm: challenge.login_server,
                service: challenge.service,
                login_server: login_server.to_owned(),
            };
            return Err(LoginError::challenge(mismatch, response, &self.secrets));
        }
        Ok(())
    }

    /// The next state after `attempt` got no response: sent once more if
    /// that is safe (nothing reached the server, or the request is a GET),
    /// else failed.
    fn on_transport_failure(&mut self, mut attempt: Attempt, error: TransportError) -> State {
        let repeatable = match error.kind {
            TransportErrorKind::Connect => true,
            TransportErrorKind::Timeout | TransportErrorKind::Protocol => attempt.request.method == "GET",
            _ => false,
        };
        if repeatable && !attempt.resent {
            attempt.resent = true;
            return State::Sent(attempt);
        }
        self.fail(LoginError::transport(attempt.stage, error, &self.secrets))
    }

    /// How long to wait before sending `attempt` again after `response`,
    /// if at all (see [`RetryPolicy`]).
    fn retry_delay(&self, attempt: &Attempt, response: &Response, now: u64) -> Option<u64> {
        let policy = &self.plan.retry;
        let status = response.status;
        let (retryable, max_retries) = match attempt.service {
            Service::Remote => (matches!(status, 429 | 503), policy.max_retries),
            Service::Metadata => (
                matches!(status, 404 | 408 | 410 | 429) || (500..600).contains(&status),
                policy.metadata_max_retries,
            ),
        };
        if !retryable {
            return None;
        }
        let elapsed = now.saturating_sub(attempt.first_sent.unwrap_or(now));
        let gone = attempt.service == Service::Metadata && status == 410 && elapsed < millis(policy.gone_window);
        if attempt.retries >= max_retries && !gone {
            return None;
        }
        let backoff = millis(policy.first_delay).saturating_mul(1 << attempt.retries.min(16));
        let asked = response.header("retry-after").and_then(|value| retry_after(value, now));
        let delay = match asked {
            // Waiting longer than the policy allows is not done: the refusal stands.
            Some(asked) if asked > millis(policy.max_delay) => return None,
            Some(asked) => asked.max(if attempt.service == Service::Metadata {
                backoff
            } else {
                0
            }),
            None => backoff,
        };
        Some(delay.min(millis(policy.max_delay)))
    }

    /// Ends the login with `error`, its texts cleared of every secret.
    fn fail(&self, error: LoginError) -> State {
        finish(Err(error.redact(&self.secrets)))
    }

    /// Ends the login with its credentials.
    fn succeed(&self, credential: Credential, access_token: Option<AccessToken>) -> State {
        finish(Ok(LoginResult {
            login_server: self.plan.login_server.clone(),
            credential,
            access_token,
        }))
    }
}

/// How a `/v2/` answer failed to be the challenge the login needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ChallengeMismatch {
    /// Not 401.
    Status(u16),
    /// The challenge itself was refused.
    Refused(ChallengeError),
    /// The challenge names another registry.
    OtherRegistry {
        realm: String,
        service: String,
        login_server: String,
    },
}

/// `duration` in whole milliseconds, saturating.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// The wait a `Retry-After` value asks for (RFC 9110 section 10.2.3), in
/// milliseconds from `now`: delay-seconds, or an IMF-fixdate HTTP-date
/// (`Sun, 06 Nov 1994 08:49:37 GMT`); `None` for anything else.
pub(crate) fn retry_after(value: &str, now: u64) -> Option<u64> {
    let value = value.trim();
    if !value.is_empty() && value.len() <= 10 && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse::<u64>().ok().map(|secs| secs.saturating_mul(1000));
    }
    let at = http_date(value)?;
    Some(at.saturating_mul(1000).saturating_sub(now))
}

/// Unix seconds of an IMF-fixdate (RFC 9110 section 5.6.7).
fn http_date(value: &str) -> Option<u64> {
    let rest = value.get(5..).filter(|_| value.get(3..5) == Some(", "))?;
    let mut parts = rest.split(' ');
    let (day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = u64::try_from(MONTHS.iter().position(|m| *m == month)?).ok()? + 1;
    let number = |text: &str| -> Option<u64> {
        text.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| text.parse().ok())
            .flatten()
    };
    let (day, year) = (number(day)?, number(year)?);
    let mut clock = time.split(':');
    let (hour, minute, second) = (number(clock.next()?)?, number(clock.next()?)?, number(clock.next()?)?);
    if !(1..=31).contains(&day) || year < 1970 || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
    // days_from_civil), with the year starting in March.
    let (y, m) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

/// The state that sends `attempt` at `now`.
fn send(mut attempt: Attempt, now: u64) -> State {
    attempt.first_sent.get_or_insert(now);
    State::Sent(attempt)
}

/// A finished state.
fn finish(result: Result<LoginResult, LoginError>) -> State {
    State::Finished(Box::new(result))
}

/// `GET https://<login-server>/v2/`, whose 401 must carry a Bearer challenge
/// for this login server.
fn discovery(login_server: &str) -> Result<Attempt, RequestError> {
    let request = Request {
        method: "GET",
        url: crate::endpoint::login_server_url(login_server, "/v2/")?,
        headers: vec![("accept", "application/json".to_owned())],
        body: Secret::new(Vec::new()),
    };
    Ok(Attempt::new(Stage::Discovery, request, Service::Remote))
}

/// Whether a repository scope names every repository (`repository:*:...`).
fn is_wildcard(scope: &str) -> bool {
    scope.strip_prefix("repository:*:").is_some()
}

/// An event's name, for a misuse error.
fn event_name(event: &Event) -> &'static str {
    match event {
        Event::Start => "Start",
        Event::Response(_) => "a response",
        Event::TransportFailed(_) => "a transport failure",
        Event::Woke => "Woke",
        Event::FileRead(_) => "a file's contents",
        Event::FileFailed(_) => "a file that could not be read",
    }
}
