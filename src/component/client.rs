//! The `client` world: [`crate::login`] over imported `wasi:http`.

use crate::prelude::*;

use core::time::Duration;

use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasi::io::streams::StreamError;

use super::Component;
use super::wit::{entra, login, token};
use crate::{
    LoginError, LoginErrorKind, LoginOptions, LoginResult, Request, Response, Stage, Timeouts, Transport,
    TransportError, TransportErrorKind,
};

/// The largest chunk `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;
/// The largest chunk read from a response body at once.
const READ_CHUNK: u64 = 16 * 1024;

impl login::Guest for Component {
    fn login(
        reference: String,
        entra_token: String,
        options: login::LoginOptions,
    ) -> Result<login::LoginResult, login::LoginError> {
        let result = crate::login(&mut WasiHttp, &reference, &entra_token, &options.into())?;
        Ok(result.into())
    }

    fn login_with_identity(
        reference: String,
        identity: entra::Identity,
        options: login::LoginOptions,
    ) -> Result<login::LoginResult, login::LoginError> {
        let result = crate::login_with_identity(&mut WasiHttp, &reference, &identity.into(), &options.into())?;
        Ok(result.into())
    }
}

impl From<login::LoginOptions> for LoginOptions {
    fn from(options: login::LoginOptions) -> Self {
        let defaults = Timeouts::default();
        let millis = |ms: Option<u64>, default: Duration| ms.map_or(default, Duration::from_millis);
        Self {
            tenant: options.tenant,
            scopes: options.scopes,
            discover: options.discover,
            custom_cloud: options.custom_cloud.map(Into::into),
            timeouts: Timeouts {
                connect: millis(options.connect_timeout_ms, defaults.connect),
                first_byte: millis(options.first_byte_timeout_ms, defaults.first_byte),
                between_bytes: millis(options.between_bytes_timeout_ms, defaults.between_bytes),
            },
        }
    }
}

impl From<LoginResult> for login::LoginResult {
    fn from(result: LoginResult) -> Self {
        Self {
            login_server: result.login_server,
            credential: result.credential.into(),
            access_token: result.access_token.map(Into::into),
        }
    }
}

impl From<LoginError> for login::LoginError {
    fn from(e: LoginError) -> Self {
        use login::LoginErrorKind as K;
        Self {
            kind: match e.kind {
                LoginErrorKind::InvalidInput => K::InvalidInput,
                LoginErrorKind::Challenge => K::Challenge,
                LoginErrorKind::Connect => K::Connect,
                LoginErrorKind::Tls => K::Tls,
                LoginErrorKind::Timeout => K::Timeout,
                LoginErrorKind::Transport => K::Transport,
                LoginErrorKind::Redirect => K::Redirect,
                LoginErrorKind::Refused => K::Refused,
                LoginErrorKind::TooLarge => K::TooLarge,
                LoginErrorKind::Malformed => K::Malformed,
            },
            stage: match e.stage {
                Stage::Input => login::Stage::Input,
                Stage::Entra => login::Stage::Entra,
                Stage::Discovery => login::Stage::Discovery,
                Stage::Exchange => login::Stage::Exchange,
                Stage::Token => login::Stage::Token,
            },
            message: e.message,
            status: e.status,
            errors: e.errors.into_iter().map(token::AcrError::from).collect(),
            correlation_id: e.correlation_id,
        }
    }
}

/// The imported `wasi:http/outgoing-handler` as a [`Transport`].
struct WasiHttp;

impl Transport for WasiHttp {
    fn send(&mut self, request: &Request, timeouts: &Timeouts, max_body: usize) -> Result<Response, TransportError> {
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
        let headers: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.as_bytes().to_vec()))
            .collect();
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
