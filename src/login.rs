//! Drivers of [`LoginFlow`]: the loop that sends what the flow asks for,
//! waits as long as it says, and feeds back what happened. [`login`] runs it
//! over a blocking [`Transport`]; with the `async` feature, [`login_async`]
//! over an [`AsyncTransport`].

use crate::prelude::*;
use crate::{
    Credentials, Event, LoginError, LoginFlow, LoginOptions, LoginResult, Outgoing, Response, Step, TransportError,
};

/// The blocking I/O of a login: sending one request, the clock, and reading
/// the one file a login may need (Azure Arc's key).
pub trait Transport {
    /// Sends `outgoing.request` exactly as given, applying its timeouts,
    /// following no redirect, and reading at most `max_response_len` bytes
    /// of the response body (more is [`crate::TransportErrorKind::TooLarge`]).
    fn send(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError>;

    /// The time now, in unix milliseconds.
    fn now(&self) -> u64;

    /// Returns at unix millisecond `until`, or soon after.
    fn sleep_until(&mut self, until: u64);

    /// The contents of the file at `path`, at most `max_len` bytes (a larger
    /// file is an error), or why it could not be read. The flow names only
    /// the Azure Arc agent's key file; a host that serves no Arc machine may
    /// refuse every path.
    fn read_file(&mut self, path: &str, max_len: usize) -> Result<String, String>;
}

/// Logs in to the registry `reference` names with `credentials`, through
/// `transport`: a [`LoginFlow`] driven to its end.
pub fn login(
    transport: &mut dyn Transport,
    reference: &str,
    credentials: Credentials,
    options: LoginOptions,
) -> Result<LoginResult, LoginError> {
    let mut flow = LoginFlow::new(reference, credentials, options);
    let mut event = Event::Start;
    loop {
        match flow.step(transport.now(), event) {
            Step::Send(outgoing) => {
                event = Event::outcome(transport.send(&outgoing));
            }
            Step::Wait(until) => {
                transport.sleep_until(until);
                event = Event::Woke;
            }
            Step::ReadFile { path, max_len } => event = Event::file(transport.read_file(&path, max_len)),
            Step::Done(result) => return Ok(result),
            Step::Failed(error) => return Err(error),
        }
    }
}

/// The asynchronous I/O of a login, for any async HTTP client and runtime.
#[cfg(feature = "async")]
pub trait AsyncTransport {
    /// Sends `outgoing.request` as [`Transport::send`] does.
    fn send(&mut self, outgoing: &Outgoing) -> impl Future<Output = Result<Response, TransportError>>;

    /// The time now, in unix milliseconds.
    fn now(&self) -> u64;

    /// Completes at unix millisecond `until`, or soon after.
    fn sleep_until(&mut self, until: u64) -> impl Future<Output = ()>;

    /// The contents of a file, as [`Transport::read_file`] reads it.
    fn read_file(&mut self, path: &str, max_len: usize) -> impl Future<Output = Result<String, String>>;
}

/// [`login`] over an [`AsyncTransport`]: the same flow, awaiting each
/// request and wait instead of blocking on it.
#[cfg(feature = "async")]
pub async fn login_async(
    transport: &mut impl AsyncTransport,
    reference: &str,
    credentials: Credentials,
    options: LoginOptions,
) -> Result<LoginResult, LoginError> {
    let mut flow = LoginFlow::new(reference, credentials, options);
    let mut event = Event::Start;
    loop {
        match flow.step(transport.now(), event) {
            Step::Send(outgoing) => {
                event = Event::outcome(transport.send(&outgoing).await);
            }
            Step::Wait(until) => {
                transport.sleep_until(until).await;
                event = Event::Woke;
            }
            Step::ReadFile { path, max_len } => event = Event::file(transport.read_file(&path, max_len).await),
            Step::Done(result) => return Ok(result),
            Step::Failed(error) => return Err(error),
        }
    }
}
