//! A scripted [`Transport`] for the native login flows: it records every
//! request it is asked to send and answers each with the next scripted
//! result, so tests assert the exact requests, their order, and that nothing
//! is sent after a failure or to another host.

use std::collections::VecDeque;

use acr_auth::{Request, Response, Timeouts, Transport, TransportError};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

/// A request as the transport saw it.
#[derive(Debug, PartialEq)]
pub struct Sent {
    /// The method.
    pub method: &'static str,
    /// The URL.
    pub url: String,
    /// The header names and values.
    pub headers: Vec<(&'static str, &'static str)>,
    /// The body, as text (form bodies are).
    pub body: String,
    /// The timeouts it was sent with.
    pub timeouts: Timeouts,
    /// The body cap it was sent with.
    pub max_body: usize,
}

/// Answers each request with the next scripted result.
pub struct Script {
    answers: VecDeque<Result<Response, TransportError>>,
    /// Every request sent, in order.
    pub sent: Vec<Sent>,
}

impl Script {
    /// A transport that answers with `answers`, in order.
    pub fn new(answers: Vec<Result<Response, TransportError>>) -> Self {
        Self {
            answers: answers.into(),
            sent: Vec::new(),
        }
    }
}

impl Transport for Script {
    fn send(&mut self, request: &Request, timeouts: &Timeouts, max_body: usize) -> Result<Response, TransportError> {
        self.sent.push(Sent {
            method: request.method,
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: String::from_utf8(request.body.expose().clone()).expect("form bodies are text"),
            timeouts: *timeouts,
            max_body,
        });
        self.answers
            .pop_front()
            .expect("the flow sent more requests than scripted")
    }
}

/// A response with `status`, `headers` and `body`.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Result<Response, TransportError> {
    Ok(Response {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    })
}

/// A JWT for `aud` with the given `exp`, and a response body holding it
/// under `field`.
pub fn token_body(field: &str, aud: &str, exp: u64) -> (String, String) {
    let token = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
        URL_SAFE_NO_PAD.encode(json!({ "exp": exp, "aud": aud }).to_string()),
        URL_SAFE_NO_PAD.encode(b"sig"),
    );
    let body = json!({ field: token }).to_string();
    (token, body)
}
