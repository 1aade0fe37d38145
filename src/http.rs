//! HTTP as plain data: the requests this crate builds for the caller to
//! send, the responses the caller passes back, and why a request got none.

use crate::prelude::*;

use core::fmt;
use core::time::Duration;

use crate::Secret;

/// An HTTP request built by this crate, to be sent exactly as given.
///
/// The body carries a token, so it is a [`Secret`] and `Debug` redacts it,
/// as it does the values of the headers that carry secrets
/// (`authorization`, `x-identity-header`). The URL never carries a token.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Method, upper-case.
    pub method: &'static str,
    /// Absolute `https://` URL.
    pub url: String,
    /// Header names (lower-case) and values, in sending order.
    pub headers: Vec<(&'static str, String)>,
    /// The request body.
    pub body: Secret<Vec<u8>>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &Headers(&self.headers))
            .field("body", &format_args!("[{} bytes redacted]", self.body.expose().len()))
            .finish()
    }
}

/// The headers whose values are secrets.
const SECRET_HEADERS: [&str; 2] = ["authorization", "x-identity-header"];

/// Request headers for `Debug`, secret values redacted.
struct Headers<'h>(&'h [(&'static str, String)]);

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, value)| {
                let shown = if SECRET_HEADERS.contains(name) {
                    "[redacted]"
                } else {
                    value.as_str()
                };
                (*name, shown)
            }))
            .finish()
    }
}

/// The form content type used by both ACR token endpoints.
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// The default time allowed to establish a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default time allowed between sending a request and its first response byte.
pub const DEFAULT_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);
/// The default time allowed between two chunks of a response body.
pub const DEFAULT_BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// Timeouts a transport applies to one request.
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
    /// Header names and values (names compare case-insensitively). The flow
    /// reads `www-authenticate`, `location`, `retry-after` and
    /// `x-ms-correlation-request-id`.
    pub headers: Vec<(String, String)>,
    /// The body, at most the length the request allowed.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, by name in any letter case.
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
    /// Nothing reached the server.
    Connect,
    /// The TLS handshake failed, e.g. an untrusted or mismatched certificate.
    Tls,
    /// A timeout of [`Timeouts`] expired.
    Timeout,
    /// The response body is longer than allowed; the rest was not read.
    TooLarge,
    /// Anything else: a reset connection, a malformed HTTP response.
    Protocol,
}

impl TransportErrorKind {
    /// The kind's name in the WIT package, e.g. `too-large`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::TooLarge => "too-large",
            Self::Protocol => "protocol",
        }
    }
}

/// A transport failure. Its message must never contain a token; the flow
/// blanks any it handled all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportError {
    /// What failed.
    pub kind: TransportErrorKind,
    /// Details for people.
    pub message: String,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for TransportError {}
