//! HTTP requests as plain data: the caller sends them.

use crate::prelude::*;

use core::fmt;

use crate::Secret;

/// An HTTP request built by this crate, to be sent exactly as given.
///
/// The body carries a token, so it is a [`Secret`] and `Debug` redacts it.
/// The URL and headers never carry a token.
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// Method, upper-case.
    pub method: &'static str,
    /// Absolute `https://` URL.
    pub url: String,
    /// Header names (lower-case) and values, in sending order.
    pub headers: Vec<(&'static str, &'static str)>,
    /// The request body.
    pub body: Secret<Vec<u8>>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("body", &format_args!("[{} bytes redacted]", self.body.expose().len()))
            .finish()
    }
}

/// The form content type used by both ACR token endpoints.
pub(crate) const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
