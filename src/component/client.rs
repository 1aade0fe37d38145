//! The `client` world: [`crate::LoginFlow`] driven by [`crate::login`] over
//! imported `wasi:http`, with `wasi:clocks` telling the time and sleeping
//! through the waits the flow asks for.

use crate::prelude::*;

use core::time::Duration;

use wasi::clocks::{monotonic_clock, wall_clock};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

use super::Component;
use super::wit::{flow, login};
use crate::{Outgoing, Response, Transport, TransportError, TransportErrorKind};

/// The largest chunk `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;
/// The largest chunk read from a response body at once.
const READ_CHUNK: u64 = 16 * 1024;

impl login::Guest for Component {
    fn login(
        reference: String,
        credentials: flow::Credentials,
        options: flow::LoginOptions,
    ) -> Result<flow::LoginResult, flow::LoginError> {
        let options = super::flow::login_options(options)?;
        let result = crate::login(&mut WasiHttp, &reference, credentials.into(), options)?;
        Ok(result.into())
    }
}

/// The imported `wasi:http/outgoing-handler` as a [`Transport`].
struct WasiHttp;

impl Transport for WasiHttp {
    fn now(&self) -> u64 {
        let now = wall_clock::now();
        now.seconds
            .saturating_mul(1000)
            .saturating_add(u64::from(now.nanoseconds / 1_000_000))
    }

    fn sleep_until(&mut self, until: u64) {
        let wait = until.saturating_sub(self.now());
        monotonic_clock::subscribe_duration(wait.saturating_mul(1_000_000)).block();
    }

    /// The component has no file system: a login whose managed identity is
    /// Azure Arc's needs a host that drives the flow itself (the `flow`
    /// interface) and reads the key file.
    fn read_file(&mut self, path: &str, _max_len: usize) -> Result<String, String> {
        Err(format!("the client component reads no files, so not {path}"))
    }

    fn send(&mut self, outgoing: &Outgoing) -> Result<Response, TransportError> {
        let (request, timeouts, max_body) = (&outgoing.request, &outgoing.timeouts, outgoing.max_response_len);
        let protocol = |message: &str| TransportError {
            kind: TransportErrorKind::Protocol,
            message: message.to_owned(),
        };
        // Requests are built by this crate: `https://<host><path>`, or plain
        // HTTP to the instance metadata service's link-local address only.
        let url = url::Url::parse(&request.url).map_err(|_| protocol("request URL is not https://host/path"))?;
        let scheme = match (url.scheme(), url.host_str(), url.port()) {
            ("https", Some(_), None) => Scheme::Https,
            ("http", Some(crate::entra::METADATA_HOST), None) => Scheme::Http,
            _ => return Err(protocol("request URL is not https://host/path")),
        };
        let authority = url.host_str().unwrap_or_default();
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let mut headers: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone().into_bytes()))
            .collect();
        // Every body is known in full: its length goes ahead of it, as curl,
        // Go and the Azure SDKs send it, rather than chunked.
        let body_len = request.body.expose().len();
        if request.method != "GET" {
            headers.push(("content-length".to_owned(), body_len.to_string().into_bytes()));
        }
        let fields = Fields::from_list(&headers).map_err(|_| protocol("invalid request header"))?;
        let outgoing = OutgoingRequest::new(fields);
        let method = if request.method == "GET" {
            Method::Get
        } else {
            Method::Post
        };
        let refused = |_| protocol("the host refused the request line");
        outgoing.set_method(&method).map_err(refused)?;
        outgoing.set_scheme(Some(&scheme)).map_err(refused)?;
        outgoing.set_authority(Some(authority)).map_err(refused)?;
        outgoing.set_path_with_query(Some(path)).map_err(refused)?;
        let body = outgoing.body().map_err(|_| protocol("request body unavailable"))?;

        let options = RequestOptions::new();
        let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        // A host that cannot honour a timeout says so here; it then applies its own.
        let _ = options.set_connect_timeout(Some(nanos(timeouts.connect)));
        let _ = options.set_first_byte_timeout(Some(nanos(timeouts.first_byte)));
        let _ = options.set_between_bytes_timeout(Some(nanos(timeouts.between_bytes)));
        let future = outgoing_handler::handle(outgoing, Some(options)).map_err(transport_error)?;

        // When the connection fails, the body stream closes first; the
        // response future then says why, so it takes precedence.
        let written = write_body(body, request.body.expose());
        future.subscribe().block();
        let response = match future.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(transport_error(code)),
            Some(Err(())) | None => return Err(protocol("the response was already taken")),
        };
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
fn stream_error(e: StreamError) -> TransportError {
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
fn transport_error(code: ErrorCode) -> TransportError {
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
