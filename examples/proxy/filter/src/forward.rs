//! Sends a pull to the registry with an access token and relays the answer.
//!
//! Blobs: ACR answers a blob `GET` with `307` and a `Location` on its
//! storage host (a short-lived signed URL). The proxy relays that redirect
//! as it is, as registry mirrors do: the client follows it, sending no
//! credentials (it has none for the proxy, and clients drop `Authorization`
//! on a redirect to another host), and the layer's bytes go from storage to
//! the client without passing through the proxy, whose memory and bandwidth
//! stay those of the small manifest and token traffic. The registry's
//! `Authorization` never reaches storage: the proxy follows no redirect.

use acr_auth::wasi_http;
use acr_auth::{Timeouts, TransportError};
use serde_json::json;
use wasi::http::types::{Fields, IncomingRequest, IncomingResponse, OutgoingBody, OutgoingResponse, ResponseOutparam};
use wasi::io::streams::StreamError;

use crate::cache::{CacheError, TokenCache};
use crate::settings::Settings;
use crate::{error_body, respond};

/// The client's request headers a pull passes on to the registry.
const PASSED_REQUEST_HEADERS: [&str; 4] = ["accept", "range", "if-none-match", "if-modified-since"];

/// The registry's response headers relayed to the client: what a pull
/// needs. Others, such as the registry's `www-authenticate`, concern the
/// proxy, not its clients.
const RELAYED_HEADERS: [&str; 10] = [
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "docker-content-digest",
    "docker-distribution-api-version",
    "etag",
    "last-modified",
    "link",
    "location",
];

/// The most bytes moved from the registry to the client in one splice.
const SPLICE_CHUNK: u64 = 64 * 1024;

/// A pull to forward.
pub struct Pull<'a> {
    /// `HEAD` rather than `GET`.
    pub head: bool,
    /// The repository.
    pub name: &'a str,
    /// The path and query sent to the registry.
    pub upstream: &'a str,
}

/// Serves `pull`: token, registry request, answer.
pub fn serve(settings: &Settings, pull: &Pull<'_>, request: &IncomingRequest, response_out: ResponseOutparam) {
    match forward(settings, pull, request) {
        Ok(upstream) => relay(pull, upstream, response_out),
        Err(Failure::Cache(CacheError::Login(e))) => {
            let status = if e.status() == Some(429) { 429 } else { 502 };
            let code = if status == 429 {
                "TOOMANYREQUESTS"
            } else {
                "UNAUTHORIZED"
            };
            let detail = json!({
                "stage": e.stage().as_str(),
                "kind": e.kind().as_str(),
                "status": e.status(),
                "correlation_id": e.correlation_id(),
            });
            let message = format!("the proxy could not log in to the registry: {}", e.message());
            respond(response_out, status, &[], &error_body(code, &message, Some(detail)));
        }
        Err(Failure::Cache(CacheError::Store(message))) => {
            respond(response_out, 500, &[], &error_body("UNSUPPORTED", &message, None));
        }
        Err(Failure::Registry(e)) => {
            let message = format!("the registry could not be reached: {}", e.message);
            let detail = json!({ "kind": e.kind.as_str() });
            respond(
                response_out,
                502,
                &[],
                &error_body("UNSUPPORTED", &message, Some(detail)),
            );
        }
    }
}

/// Why a pull was not forwarded.
enum Failure {
    Cache(CacheError),
    Registry(TransportError),
}

impl From<CacheError> for Failure {
    fn from(error: CacheError) -> Self {
        Self::Cache(error)
    }
}

/// Sends the pull with a token; once more with a new token if the registry
/// refuses the cached one (revoked before its `exp`).
fn forward(settings: &Settings, pull: &Pull<'_>, request: &IncomingRequest) -> Result<IncomingResponse, Failure> {
    let cache = TokenCache::open(settings)?;
    let client_headers = request.headers();
    let passed: Vec<(&str, Vec<u8>)> = PASSED_REQUEST_HEADERS
        .iter()
        .flat_map(|name| client_headers.get(name).into_iter().map(move |value| (*name, value)))
        .collect();
    let url = format!("https://{}{}", settings.registry.to_ascii_lowercase(), pull.upstream);
    let method = if pull.head { "HEAD" } else { "GET" };
    let mut retried = false;
    loop {
        let token = cache.access_token(pull.name)?;
        let bearer = format!("Bearer {}", token.expose());
        let mut headers: Vec<(&str, &[u8])> = vec![("authorization", bearer.as_bytes())];
        headers.extend(passed.iter().map(|(name, value)| (*name, value.as_slice())));
        let (future, body) =
            wasi_http::start(method, &url, &headers, &Timeouts::default()).map_err(Failure::Registry)?;
        OutgoingBody::finish(body, None).map_err(|code| Failure::Registry(wasi_http::transport_error(code)))?;
        let response = wasi_http::response(&future).map_err(Failure::Registry)?;
        if response.status() != 401 || retried {
            return Ok(response);
        }
        cache.forget(pull.name)?;
        retried = true;
    }
}

/// Answers with the registry's status, [`RELAYED_HEADERS`] and body,
/// streaming the body as it arrives. A `HEAD` answer has no body, but keeps
/// the registry's `content-length`.
fn relay(pull: &Pull<'_>, upstream: IncomingResponse, response_out: ResponseOutparam) {
    let source = upstream.headers();
    let headers: Vec<(String, Vec<u8>)> = RELAYED_HEADERS
        .iter()
        .flat_map(|name| source.get(name).into_iter().map(|value| ((*name).to_owned(), value)))
        .collect();
    let Ok(headers) = Fields::from_list(&headers) else {
        let message = "the registry sent an invalid header";
        return respond(response_out, 502, &[], &error_body("UNSUPPORTED", message, None));
    };
    let response = OutgoingResponse::new(headers);
    // Every status the registry's HTTP client accepted is valid here too.
    let _ = response.set_status_code(upstream.status());
    if pull.head {
        // Without a body to take, the host sends the headers as they are.
        return ResponseOutparam::set(response_out, Ok(response));
    }
    let (Ok(body_in), Ok(body_out)) = (upstream.consume(), response.body()) else {
        let message = "the registry's response body is unavailable";
        return respond(response_out, 502, &[], &error_body("UNSUPPORTED", message, None));
    };
    ResponseOutparam::set(response_out, Ok(response));
    let (Ok(input), Ok(output)) = (body_in.stream(), body_out.write()) else {
        return;
    };
    loop {
        match output.blocking_splice(&input, SPLICE_CHUNK) {
            Ok(_) => {}
            Err(StreamError::Closed) => break,
            // The registry or the client broke off: leaving the body
            // unfinished makes the host abort the response rather than end
            // it as if it were complete.
            Err(StreamError::LastOperationFailed(_)) => return,
        }
    }
    drop((input, output));
    // An error means the client went away or the length was wrong; the host
    // has already ended the response either way.
    let _ = OutgoingBody::finish(body_out, None);
}
