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

/// An `application/x-www-form-urlencoded` body or query string, serialized
/// as the WHATWG URL standard does: ASCII letters, digits and `*-._` as they
/// are, space as `+`, every other byte as `%XX`. Hand-written because the
/// `form_urlencoded` crate cost the `pure` component 1.6 KB of its 64 KiB;
/// its tests compare this with that crate.
pub(crate) struct Form(String);

impl Form {
    /// An empty form with room for `capacity` bytes.
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        Self(String::with_capacity(capacity))
    }

    /// Appends `name=value`.
    pub(crate) fn append(&mut self, name: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        self.encode(name);
        self.0.push('=');
        self.encode(value);
        self
    }

    fn encode(&mut self, text: &str) {
        const HEX: &[u8; 16] = b"0123456789ABCDEF";
        let bytes = text.as_bytes();
        let mut start = 0;
        for (i, &byte) in bytes.iter().enumerate() {
            if matches!(byte, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_') {
                continue;
            }
            // Runs of bytes kept as they are go in at once. A non-empty run
            // is ASCII and ends before this byte, so both ends are char
            // boundaries (an empty one may sit inside a character).
            if start < i {
                self.0.push_str(&text[start..i]);
            }
            start = i + 1;
            if byte == b' ' {
                self.0.push('+');
            } else {
                self.0.push('%');
                self.0.push(char::from(HEX[usize::from(byte >> 4)]));
                self.0.push(char::from(HEX[usize::from(byte & 15)]));
            }
        }
        self.0.push_str(&text[start..]);
    }

    /// The serialized form.
    pub(crate) fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Form;
    use crate::prelude::*;

    #[test]
    fn forms_serialize_as_the_form_urlencoded_crate_does() {
        let texts = [
            "",
            "plain",
            "a b",
            "a+b",
            "100%",
            "é",
            "😀",
            "a=b&c",
            "~!@#$^()[]{}|\\\"'<>,;:/?",
            "\u{0}\u{7f}\t\n",
            "*-._",
        ];
        let all_bytes: String = (1..=127u8).map(char::from).collect();
        for name in texts.iter().chain([&all_bytes.as_str()]) {
            for value in texts {
                let mut ours = Form::with_capacity(0);
                ours.append(name, value).append("k", "v w");
                let theirs = form_urlencoded::Serializer::new(String::new())
                    .append_pair(name, value)
                    .append_pair("k", "v w")
                    .finish();
                assert_eq!(ours.finish(), theirs, "{name:?}={value:?}");
            }
        }
    }
}
