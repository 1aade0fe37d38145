//! `wasi:http` from inside a component: the login's [`Transport`] over the
//! imported `wasi:http/outgoing-handler`, and the request code it is built
//! on, which components that send requests of their own (the pull proxy's
//! registry requests) share. `wasi:clocks` tells the time and sleeps through
//! the waits the flow asks for.
//!
//! Feature `wasi-http`; only meaningful for wasm32 targets, where a host
//! provides the `wasi:http`, `wasi:io` and `wasi:clocks` imports.

use crate::prelude::*;

use core::time::Duration;

use wasi::clocks::{monotonic_clock, wall_clock};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, Method, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

use crate::{Outgoing, Response, Timeouts, Transport, TransportError, TransportErrorKind};

/// The largest chunk `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;
/// The largest chunk read from a response body at once.
const READ_CHUNK: u64 = 16 * 1024;

/// The imported `wasi:http/outgoing-handler` as a [`Transport`]. Files are
/// read by the function it is made with: a component decides whether it
/// reads any (Azure Arc's key file), and how.
pub struct WasiHttp {
    read_file: fn(&str, usize) -> Result<String, String>,
}

impl WasiHttp {
    /// A transport whose [`Transport::read_file`] is `read_file`.
    pub const fn new(read_file: fn(&str, usize) -> Result<String, String>) -> Self {
        Self { read_file }
    }
}

impl Transport for WasiHttp {
    fn send(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        send(outgoing)
    }

    fn now(&self) -> u64 {
        now()
    }

    fn sleep_until(&mut self, until: u64) {
        sleep_for(until.saturating_sub(now()));
    }

    fn read_file(&mut self, path: &str, max_len: usize) -> Result<String, String> {
        (self.read_file)(path, max_len)
    }
}

/// The wall-clock time now, in unix milliseconds.
pub fn now() -> u64 {
    let now = wall_clock::now();
    now.seconds
        .saturating_mul(1000)
        .saturating_add(u64::from(now.nanoseconds / 1_000_000))
}

/// Blocks the component for `millis` milliseconds (the host runs others meanwhile).
pub fn sleep_for(millis: u64) {
    monotonic_clock::subscribe_duration(millis.saturating_mul(1_000_000)).block();
}

/// Starts a request: `method` to `url` (`https://host/path?query`, or plain
/// HTTP to the instance metadata service's link-local address only) with
/// `headers` and `timeouts`. Returns the response to come, and the request
/// body, which the caller writes and finishes (an empty one too).
pub fn start(
    method: &str,
    url: &str,
    headers: &[(&str, &[u8])],
    timeouts: &Timeouts,
) -> Result<(FutureIncomingResponse, OutgoingBody), TransportError> {
    open(method, url, headers, timeouts, PlainHttp::Metadata)
}

/// Where a request may go over plain HTTP.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlainHttp {
    /// The instance metadata service's link-local address, port 80.
    Metadata,
    /// That, or a loopback address on any port: the managed-identity
    /// endpoints App Service, Azure Arc and Cloud Shell name in the
    /// environment, which the login flow sends to as given and checked
    /// (`http://` only to loopback).
    MetadataOrLoopback,
}

/// [`start`], with plain HTTP allowed where `plain_http` says.
fn open(
    method: &str,
    url: &str,
    headers: &[(&str, &[u8])],
    timeouts: &Timeouts,
    plain_http: PlainHttp,
) -> Result<(FutureIncomingResponse, OutgoingBody), TransportError> {
    let url = url::Url::parse(url).map_err(|_| protocol("request URL is not https://host/path"))?;
    let loopback = crate::endpoint::is_loopback(&url);
    let scheme = match (url.scheme(), url.host_str(), url.port()) {
        ("https", Some(_), None) => Scheme::Https,
        ("http", Some(crate::entra::METADATA_HOST), None) => Scheme::Http,
        ("http", Some(_), _) if loopback && plain_http == PlainHttp::MetadataOrLoopback => Scheme::Http,
        _ => return Err(protocol("request URL is not https://host/path")),
    };
    let authority = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let headers: Vec<(String, Vec<u8>)> = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), value.to_vec()))
        .collect();
    let fields = Fields::from_list(&headers).map_err(|_| protocol("invalid request header"))?;
    let request = OutgoingRequest::new(fields);
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        other => Method::Other(other.to_owned()),
    };
    let refused = |_| protocol("the host refused the request line");
    request.set_method(&method).map_err(refused)?;
    request.set_scheme(Some(&scheme)).map_err(refused)?;
    request.set_authority(Some(&authority)).map_err(refused)?;
    request.set_path_with_query(Some(path)).map_err(refused)?;
    let body = request.body().map_err(|_| protocol("request body unavailable"))?;

    let options = RequestOptions::new();
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    // A host that cannot honour a timeout says so here; it then applies its own.
    let _ = options.set_connect_timeout(Some(nanos(timeouts.connect)));
    let _ = options.set_first_byte_timeout(Some(nanos(timeouts.first_byte)));
    let _ = options.set_between_bytes_timeout(Some(nanos(timeouts.between_bytes)));
    let future = outgoing_handler::handle(request, Some(options)).map_err(transport_error)?;
    Ok((future, body))
}

/// Waits for the response [`start`] promised.
pub fn response(future: &FutureIncomingResponse) -> Result<IncomingResponse, TransportError> {
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response),
        Some(Ok(Err(code))) => Err(transport_error(code)),
        Some(Err(())) | None => Err(protocol("the response was already taken")),
    }
}

/// Sends one request of the login flow and reads its response, at most
/// `outgoing.max_response_len` body bytes.
pub fn send(outgoing: &Outgoing) -> Result<Response, TransportError> {
    let (request, max_body) = (&outgoing.request, outgoing.max_response_len);
    let body_len = request.body.expose().len().to_string();
    let mut headers: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .map(|(name, value)| (*name, value.as_bytes()))
        .collect();
    // Every body is known in full: its length goes ahead of it, as curl,
    // Go and the Azure SDKs send it, rather than chunked.
    if request.method != "GET" {
        headers.push(("content-length", body_len.as_bytes()));
    }
    let (future, body) = open(
        request.method,
        &request.url,
        &headers,
        &outgoing.timeouts,
        PlainHttp::MetadataOrLoopback,
    )?;
    // When the connection fails, the body stream closes first; the
    // response future then says why, so it takes precedence.
    let written = write_body(body, request.body.expose());
    let response = response(&future)?;
    written?;
    let status = response.status();
    let headers: Vec<(String, String)> = response
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
        .collect();
    let declared = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > max_body as u64) {
        return Err(too_large(max_body));
    }
    let body = response.consume().map_err(|_| protocol("response body unavailable"))?;
    let body = read_body(body, max_body)?;
    Ok(Response { status, headers, body })
}

/// Writes a request body and finishes it.
fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), TransportError> {
    {
        let stream = body.write().map_err(|_| TransportError {
            kind: TransportErrorKind::Protocol,
            message: "request body stream unavailable".to_owned(),
        })?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream.blocking_write_and_flush(chunk).map_err(stream_error)?;
        }
    }
    OutgoingBody::finish(body, None).map_err(transport_error)
}

/// Reads a response body, refusing it once it exceeds `max_body` bytes.
fn read_body(body: IncomingBody, max_body: usize) -> Result<Vec<u8>, TransportError> {
    let mut bytes = Vec::new();
    {
        let stream = body.stream().map_err(|_| TransportError {
            kind: TransportErrorKind::Protocol,
            message: "response body stream unavailable".to_owned(),
        })?;
        loop {
            match stream.blocking_read(READ_CHUNK) {
                Ok(chunk) => {
                    if bytes.len() + chunk.len() > max_body {
                        return Err(too_large(max_body));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
    // Trailers are not used; finishing reports a transport error, if any.
    let trailers = IncomingBody::finish(body);
    trailers.subscribe().block();
    if let Some(Ok(Err(code))) = trailers.get() {
        return Err(transport_error(code));
    }
    Ok(bytes)
}

fn too_large(max_body: usize) -> TransportError {
    TransportError {
        kind: TransportErrorKind::TooLarge,
        message: format!("the response body is larger than the {max_body} bytes allowed; the rest was not read"),
    }
}

/// A stream failure as a transport error.
pub fn stream_error(e: StreamError) -> TransportError {
    match e {
        StreamError::Closed => TransportError {
            kind: TransportErrorKind::Protocol,
            message: "the connection closed early".to_owned(),
        },
        StreamError::LastOperationFailed(error) => match wasi::http::types::http_error_code(&error) {
            Some(code) => transport_error(code),
            None => {
                // Hosts built on wasmtime-wasi-http give a response body's
                // errors, its between-bytes timeout included, no HTTP error
                // code: their text is the only sign of a timeout.
                let message = error.to_debug_string();
                let timed_out = message.contains("timeout") || message.contains("timed out");
                TransportError {
                    kind: if timed_out {
                        TransportErrorKind::Timeout
                    } else {
                        TransportErrorKind::Protocol
                    },
                    message: format!("stream failed: {message}"),
                }
            }
        },
    }
}

/// A `wasi:http` error code as a transport error.
pub fn transport_error(code: ErrorCode) -> TransportError {
    let kind = match &code {
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => TransportErrorKind::Timeout,
        ErrorCode::DnsError(_)
        | ErrorCode::DestinationNotFound
        | ErrorCode::DestinationUnavailable
        | ErrorCode::DestinationIpProhibited
        | ErrorCode::DestinationIpUnroutable
        | ErrorCode::ConnectionRefused => TransportErrorKind::Connect,
        ErrorCode::TlsProtocolError | ErrorCode::TlsCertificateError | ErrorCode::TlsAlertReceived(_) => {
            TransportErrorKind::Tls
        }
        _ => TransportErrorKind::Protocol,
    };
    let what = match kind {
        TransportErrorKind::Timeout => "timed out",
        TransportErrorKind::Connect => "could not connect",
        TransportErrorKind::Tls => "the TLS handshake failed",
        _ => "the connection failed",
    };
    TransportError {
        kind,
        message: format!("{what} ({code:?})"),
    }
}

/// A transport error of kind `protocol`.
fn protocol(message: &str) -> TransportError {
    TransportError {
        kind: TransportErrorKind::Protocol,
        message: message.to_owned(),
    }
}
