//! The `flow` interface: [`crate::LoginFlow`] as the `login-flow` resource,
//! and the conversions between its WIT types and the library's.

use crate::prelude::*;

use core::cell::RefCell;
use core::time::Duration;

use super::wit::{flow, http, token};
use super::{Component, checked_cloud, same_cases};
use crate::{LoginError, ReferenceError, RequestError, Secret, Timeouts};

impl flow::Guest for Component {
    type LoginFlow = LoginFlow;
}

/// The `login-flow` resource. Its methods take `&self`; a component instance
/// is single-threaded, so the cell is never borrowed twice.
pub(super) struct LoginFlow(RefCell<crate::LoginFlow>);

impl flow::GuestLoginFlow for LoginFlow {
    fn new(reference: String, credentials: flow::Credentials, options: flow::LoginOptions) -> Self {
        let flow = match login_options(options) {
            Ok(options) => crate::LoginFlow::new(&reference, credentials.into(), options),
            Err(error) => crate::LoginFlow::failed(error),
        };
        Self(RefCell::new(flow))
    }

    fn step(&self, now_ms: u64, event: flow::Event) -> flow::Step {
        self.0.borrow_mut().step(now_ms, event.into()).into()
    }
}

impl From<flow::Credentials> for crate::Credentials {
    fn from(credentials: flow::Credentials) -> Self {
        match credentials {
            flow::Credentials::EntraToken(token) => Self::EntraToken(Secret::new(token)),
            flow::Credentials::Identity(identity) => Self::Identity(identity.into()),
        }
    }
}

/// The library's options from the WIT record. A custom cloud the host built
/// by hand is checked as `parse-cloud-environment` checks one; a refused one
/// fails the login before any request.
pub(super) fn login_options(options: flow::LoginOptions) -> Result<crate::LoginOptions, LoginError> {
    let defaults = Timeouts::default();
    let millis = |ms: Option<u64>, default: Duration| ms.map_or(default, Duration::from_millis);
    let custom_cloud = checked_cloud(options.custom_cloud)
        .map_err(|e| LoginError::invalid_input(RequestError::Reference(ReferenceError::InvalidCloud(e))))?;
    let retry = options
        .retry
        .map_or_else(crate::RetryPolicy::default, |policy| crate::RetryPolicy {
            max_retries: policy.max_retries,
            metadata_max_retries: policy.metadata_max_retries,
            first_delay: Duration::from_millis(policy.first_delay_ms),
            max_delay: Duration::from_millis(policy.max_delay_ms),
            gone_window: Duration::from_millis(policy.gone_window_ms),
        });
    Ok(crate::LoginOptions {
        tenant: options.tenant,
        repository_scopes: options.repository_scopes,
        discover: options.discover,
        custom_cloud,
        timeouts: Timeouts {
            connect: millis(options.connect_timeout_ms, defaults.connect),
            first_byte: millis(options.first_byte_timeout_ms, defaults.first_byte),
            between_bytes: millis(options.between_bytes_timeout_ms, defaults.between_bytes),
        },
        retry,
    })
}

impl From<flow::Event> for crate::Event {
    fn from(event: flow::Event) -> Self {
        match event {
            flow::Event::Start => Self::Start,
            flow::Event::Response(response) => Self::Response(response.into()),
            flow::Event::TransportFailed(error) => Self::TransportFailed(crate::TransportError {
                kind: same_cases!(error.kind, http::TransportErrorKind => crate::TransportErrorKind {
                    Connect, Tls, Timeout, TooLarge, Protocol,
                }),
                message: error.message,
            }),
            flow::Event::Woke => Self::Woke,
            flow::Event::FileRead(contents) => Self::FileRead(Secret::new(contents)),
            flow::Event::FileFailed(why) => Self::FileFailed(why),
        }
    }
}

impl From<http::Response> for crate::Response {
    fn from(response: http::Response) -> Self {
        Self {
            status: response.status,
            headers: response.headers.into_iter().map(|h| (h.name, h.value)).collect(),
            body: response.body,
        }
    }
}

impl From<crate::Step> for flow::Step {
    fn from(step: crate::Step) -> Self {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match step {
            crate::Step::Send(outgoing) => Self::Send(flow::Outgoing {
                connect_timeout_ms: millis(outgoing.timeouts.connect),
                first_byte_timeout_ms: millis(outgoing.timeouts.first_byte),
                between_bytes_timeout_ms: millis(outgoing.timeouts.between_bytes),
                max_response_len: u32::try_from(outgoing.max_response_len).unwrap_or(u32::MAX),
                request: outgoing.request.into(),
            }),
            crate::Step::Wait(until) => Self::Wait(until),
            crate::Step::ReadFile { path, max_len } => Self::ReadFile(flow::FileToRead {
                path,
                max_len: u32::try_from(max_len).unwrap_or(u32::MAX),
            }),
            crate::Step::Done(result) => Self::Done(result.into()),
            crate::Step::Failed(error) => Self::Failed(error.into()),
        }
    }
}

impl From<crate::LoginResult> for flow::LoginResult {
    fn from(result: crate::LoginResult) -> Self {
        Self {
            login_server: result.login_server,
            credential: result.credential.into(),
            access_token: result.access_token.map(Into::into),
        }
    }
}

impl From<LoginError> for flow::LoginError {
    fn from(e: LoginError) -> Self {
        Self {
            kind: same_cases!(e.kind(), crate::LoginErrorKind => flow::LoginErrorKind {
                InvalidInput, Misuse, Challenge, Connect, Tls, Timeout, Transport, Redirect, Refused, TooLarge,
                Malformed, KeyFile,
            }),
            stage: same_cases!(e.stage(), crate::Stage => flow::Stage { Input, Entra, Discovery, Exchange, Token }),
            message: e.message(),
            status: e.status(),
            errors: e.errors().iter().cloned().map(token::AcrError::from).collect(),
            correlation_id: e.correlation_id().map(str::to_owned),
        }
    }
}
