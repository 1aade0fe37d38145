//! The acr-auth proxy filter: a `wasi:http/proxy` component that serves image
//! pulls from one Azure Container Registry to clients that hold no
//! credentials.
//!
//! For `GET /v2/<name>/manifests/<reference>` and `GET /v2/<name>/blobs/<digest>`
//! it calls `acr:auth/login` for `repository:<name>:pull`, sends the same GET
//! to the registry with the access token, and streams the registry's answer
//! back. Everything about tokens (which registry, which audience, the
//! exchange, the token request, redaction) is `login`'s: this crate only
//! picks the requests it serves. It imports `login` and is composed with the
//! acr-auth `client` component, which exports it (see `xtask/src/proxy.rs`).
//!
//! Natively this crate is an rlib whose exports do nothing useful; it is
//! built as a component for `wasm32-unknown-unknown`.

use core::time::Duration;

use serde_json::{Value, json};
use wasi::http::outgoing_handler;
use wasi::http::types::{
    ErrorCode, Fields, IncomingRequest, IncomingResponse, Method, OutgoingBody, OutgoingRequest, OutgoingResponse,
    RequestOptions, ResponseOutparam, Scheme,
};
use wasi::io::streams::StreamError;

/// The generated bindings of the `filter` world; `wasi` interfaces map to the
/// `wasi` crate, so the filter and that crate share one set of types. The
/// generated glue, the export of [`Filter`] included, needs `unsafe` for the
/// canonical ABI; the filter does not.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "filter",
        with: {
            "wasi:http/types@0.2.12": wasi::http::types,
            "wasi:http/outgoing-handler@0.2.12": wasi::http::outgoing_handler,
            "wasi:io/error@0.2.12": wasi::io::error,
            "wasi:io/poll@0.2.12": wasi::io::poll,
            "wasi:io/streams@0.2.12": wasi::io::streams,
            "wasi:clocks/monotonic-clock@0.2.12": wasi::clocks::monotonic_clock,
            "wasi:clocks/wall-clock@0.2.12": wasi::clocks::wall_clock,
            "wasi:random/random@0.2.12": wasi::random::random,
            "wasi:cli/stdout@0.2.12": wasi::cli::stdout,
            "wasi:cli/stderr@0.2.12": wasi::cli::stderr,
            "wasi:cli/stdin@0.2.12": wasi::cli::stdin,
            "acr:auth/scope@0.1.0": generate,
            "acr:auth/token@0.1.0": generate,
            "acr:auth/http@0.1.0": generate,
            "acr:auth/entra@0.1.0": generate,
            "acr:auth/flow@0.1.0": generate,
            "acr:auth/login@0.1.0": generate,
            "acr:proxy/config@0.1.0": generate,
        },
    });

    use super::Filter;
    export!(Filter with_types_in self);
}

use bindings::acr::auth::flow::{self, Credentials, LoginOptions};
use bindings::acr::auth::login;
use bindings::acr::proxy::config;

/// The registry response headers passed to the client: what a pull needs
/// (`location` for blobs the registry redirects to storage). Others, such as
/// the registry's `www-authenticate`, concern the filter, not the client.
const RELAYED_HEADERS: [&str; 4] = ["content-type", "docker-content-digest", "content-length", "location"];

/// Timeouts of the request to the registry, as `login` uses by default.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// See [`CONNECT_TIMEOUT`].
const FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(30);
/// See [`CONNECT_TIMEOUT`].
const BETWEEN_BYTES_TIMEOUT: Duration = Duration::from_secs(30);

/// The message of the 404 for every request that is not a pull.
const NOT_SERVED: &str =
    "this proxy serves only GET /v2/<name>/manifests/<reference> and GET /v2/<name>/blobs/<digest>";

/// The most bytes moved from the registry to the client in one splice.
const SPLICE_CHUNK: u64 = 64 * 1024;

/// The largest chunk `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;

/// A pull the filter serves, parsed from a request path.
#[derive(Debug, PartialEq, Eq)]
struct Pull<'a> {
    /// The repository, e.g. `team/app`; `login` checks it is a valid name
    /// before any request is built from it.
    repository: &'a str,
    /// The path sent to the registry: the request's, without the query.
    path: &'a str,
}

impl<'a> Pull<'a> {
    /// Reads `/v2/<name>/manifests/<reference>` or `/v2/<name>/blobs/<digest>`;
    /// the query, if any, is dropped. The reference may hold only the
    /// characters of OCI tags and digests, so the path cannot carry anything
    /// else to the registry.
    fn parse(path_with_query: &'a str) -> Option<Self> {
        let path = path_with_query
            .split_once('?')
            .map_or(path_with_query, |(path, _)| path);
        let (rest, reference) = path.strip_prefix("/v2/")?.rsplit_once('/')?;
        let (repository, kind) = rest.rsplit_once('/')?;
        let reference_ok = !reference.is_empty()
            && reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-:+=".contains(&b));
        (matches!(kind, "manifests" | "blobs") && reference_ok && !repository.is_empty())
            .then_some(Self { repository, path })
    }
}

/// Why a pull could not be forwarded: each is answered 502.
enum Failure {
    /// `login` failed; its message never holds a token.
    Login(flow::LoginError),
    /// The request to the registry failed.
    Registry(String),
}

impl Failure {
    /// The error body: `LOGIN_FAILED` with the login's status and correlation
    /// id, or `REGISTRY_UNREACHABLE`.
    fn body(&self) -> Value {
        match self {
            Self::Login(e) => error_body(
                "LOGIN_FAILED",
                &e.message,
                Some(json!({ "status": e.status, "correlation_id": e.correlation_id })),
            ),
            Self::Registry(message) => error_body("REGISTRY_UNREACHABLE", message, None),
        }
    }
}

/// The component.
struct Filter;

impl bindings::exports::wasi::http::incoming_handler::Guest for Filter {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let pull = match (request.method(), Pull::parse(&path)) {
            (Method::Get, Some(pull)) => pull,
            _ => return respond(response_out, 404, &error_body("NOT_FOUND", NOT_SERVED, None)),
        };
        let accept = request.headers().get("accept");
        match forward(&pull, accept) {
            Ok(upstream) => relay(upstream, response_out),
            Err(failure) => respond(response_out, 502, &failure.body()),
        }
    }
}

/// Logs in for the pull's repository and sends the pull to the registry
/// with the access token and the client's `accept` values.
fn forward(pull: &Pull<'_>, accept: Vec<Vec<u8>>) -> Result<IncomingResponse, Failure> {
    let options = LoginOptions {
        tenant: None,
        repository_scopes: vec![format!("repository:{}:pull", pull.repository)],
        discover: false,
        custom_cloud: None,
        connect_timeout_ms: None,
        first_byte_timeout_ms: None,
        between_bytes_timeout_ms: None,
        retry: None,
    };
    let credentials = Credentials::EntraToken(config::entra_token());
    let result = login::login(&config::registry(), &credentials, &options).map_err(Failure::Login)?;
    let registry_error = |message: &str| Failure::Registry(message.to_owned());
    let token = result
        .access_token
        .ok_or_else(|| registry_error("login returned no access token"))?;

    let mut headers = vec![(
        "authorization".to_owned(),
        format!("Bearer {}", token.token).into_bytes(),
    )];
    headers.extend(accept.into_iter().map(|value| ("accept".to_owned(), value)));
    let headers = Fields::from_list(&headers).map_err(|_| registry_error("invalid request header"))?;
    let request = OutgoingRequest::new(headers);
    let refused = |()| registry_error("the host refused the request line");
    request.set_method(&Method::Get).map_err(refused)?;
    request.set_scheme(Some(&Scheme::Https)).map_err(refused)?;
    request.set_authority(Some(&result.login_server)).map_err(refused)?;
    request.set_path_with_query(Some(pull.path)).map_err(refused)?;

    let options = RequestOptions::new();
    let nanos = |d: Duration| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    // A host that cannot honour a timeout says so here; it then applies its own.
    let _ = options.set_connect_timeout(Some(nanos(CONNECT_TIMEOUT)));
    let _ = options.set_first_byte_timeout(Some(nanos(FIRST_BYTE_TIMEOUT)));
    let _ = options.set_between_bytes_timeout(Some(nanos(BETWEEN_BYTES_TIMEOUT)));
    let unreachable = |code: ErrorCode| Failure::Registry(format!("the request to the registry failed: {code:?}"));
    let future = outgoing_handler::handle(request, Some(options)).map_err(unreachable)?;
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response),
        Some(Ok(Err(code))) => Err(unreachable(code)),
        Some(Err(())) | None => Err(registry_error("the registry's response was already taken")),
    }
}

/// Answers with the registry's status, [`RELAYED_HEADERS`] and body,
/// streaming the body as it arrives.
fn relay(upstream: IncomingResponse, response_out: ResponseOutparam) {
    let source = upstream.headers();
    let headers: Vec<(String, Vec<u8>)> = RELAYED_HEADERS
        .iter()
        .flat_map(|name| source.get(name).into_iter().map(|value| ((*name).to_owned(), value)))
        .collect();
    let Ok(headers) = Fields::from_list(&headers) else {
        return respond(
            response_out,
            502,
            &Failure::Registry("the registry sent an invalid header".to_owned()).body(),
        );
    };
    let response = OutgoingResponse::new(headers);
    // Every status the registry's HTTP client accepted is valid here too.
    let _ = response.set_status_code(upstream.status());
    let (Ok(body_in), Ok(body_out)) = (upstream.consume(), response.body()) else {
        return respond(
            response_out,
            502,
            &Failure::Registry("the response body is unavailable".to_owned()).body(),
        );
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

/// Answers with `status` and a JSON body.
fn respond(response_out: ResponseOutparam, status: u16, body: &Value) {
    let body = body.to_string().into_bytes();
    let headers = Fields::from_list(&[
        ("content-type".to_owned(), b"application/json".to_vec()),
        ("content-length".to_owned(), body.len().to_string().into_bytes()),
    ])
    .expect("constant, valid headers");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("a valid status");
    let out = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let Ok(stream) = out.write() else {
        return;
    };
    for chunk in body.chunks(WRITE_CHUNK) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            return;
        }
    }
    drop(stream);
    // An error means the client went away.
    let _ = OutgoingBody::finish(out, None);
}

/// One OCI distribution error: `{"errors":[{"code","message","detail"}]}`,
/// without `detail` when there is none.
fn error_body(code: &str, message: &str, detail: Option<Value>) -> Value {
    let mut error = json!({ "code": code, "message": message });
    if let Some(detail) = detail {
        error["detail"] = detail;
    }
    json!({ "errors": [error] })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{Pull, error_body};

    #[test]
    fn errors_have_the_oci_shape() {
        assert_eq!(
            error_body("NOT_FOUND", "no", None),
            json!({ "errors": [{ "code": "NOT_FOUND", "message": "no" }] })
        );
        assert_eq!(
            error_body("LOGIN_FAILED", "refused", Some(json!({ "status": 401 }))),
            json!({ "errors": [{ "code": "LOGIN_FAILED", "message": "refused", "detail": { "status": 401 } }] })
        );
    }

    #[test]
    fn manifests_and_blobs_are_pulls() {
        assert_eq!(
            Pull::parse("/v2/team/app/manifests/1.0"),
            Some(Pull {
                repository: "team/app",
                path: "/v2/team/app/manifests/1.0"
            })
        );
        assert_eq!(
            Pull::parse("/v2/app/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a?x=1"),
            Some(Pull {
                repository: "app",
                path: "/v2/app/blobs/sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
            })
        );
        assert_eq!(
            Pull::parse("/v2/a/manifests/b/manifests/c").map(|p| p.repository),
            Some("a/manifests/b")
        );
    }

    #[test]
    fn anything_else_is_not() {
        for path in [
            "/",
            "/v2/",
            "/v2/_catalog",
            "/v2/app/tags/list",
            "/v2/manifests/1.0",
            "/v2//manifests/1.0",
            "/v2/app/manifests/",
            "/v2/app/manifests/1.0%2F..",
            "/v2/app/manifests/a b",
            "/v2/app/referrers/sha256:abc",
            "/oauth2/token",
        ] {
            assert_eq!(Pull::parse(path), None, "{path}");
        }
    }
}
