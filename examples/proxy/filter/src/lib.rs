//! The acr-auth pull proxy: a `wasi:http/proxy` component that serves the OCI
//! distribution pull API of one Azure Container Registry to clients that
//! hold no credentials, as a registry mirror.
//!
//! For each request it reads its settings through `wasi:config/store`
//! ([`settings`]), refuses a `Host` it does not answer to (DNS rebinding),
//! parses the pull ([`route`]), takes a repository access token from the
//! token cache in `wasi:keyvalue` or logs in through the acr-auth library's
//! login flow ([`cache`]), and sends the pull to the registry with it,
//! relaying the answer as it arrives ([`forward`]). Everything about tokens
//! (audience, exchange, token request, retries, redaction) is the library's
//! `LoginFlow`, linked in and driven over `wasi:http` by `acr_auth::login`.
//!
//! Natively this crate is an rlib whose export does nothing useful; it is
//! built as a component for `wasm32-unknown-unknown`.

mod cache;
mod forward;
mod route;
mod settings;

use serde_json::{Value, json};
use wasi::http::types::{Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam};

use crate::route::{Refusal, Route};
use crate::settings::Settings;

/// The generated bindings of the `filter` world: `wasi:config/store` and
/// `wasi:keyvalue`. The `wasi:http/proxy` world's interfaces come from the
/// `wasi` crate, which the acr-auth library's transport uses too. The
/// generated glue needs `unsafe` for the canonical ABI; the filter does not.
#[allow(unsafe_code)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "filter",
        generate_all,
    });
}

/// The component.
struct Filter;

// The generated export glue needs `unsafe` for the canonical ABI.
#[allow(unsafe_code)]
const _: () = {
    wasi::http::proxy::export!(Filter);
};

impl wasi::exports::http::incoming_handler::Guest for Filter {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let settings = match Settings::read() {
            Ok(settings) => settings,
            Err(e) => return respond(response_out, 500, &[], &error_body("UNSUPPORTED", &e.0, None)),
        };
        let authority = request.authority().unwrap_or_default();
        if !route::host_allowed(&authority, &settings.allowed_hosts) {
            // 421 Misdirected Request (RFC 9110, 15.5.20): this server does
            // not answer for that name, whatever resolves to it.
            let message = "this proxy does not answer to that Host name; see its `allowed-hosts` setting";
            return respond(response_out, 421, &[], &error_body("DENIED", message, None));
        }
        let head = match request.method() {
            Method::Get => Some(false),
            Method::Head => Some(true),
            _ => None,
        };
        let path = request.path_with_query().unwrap_or_default();
        match route::parse(head, &path) {
            Ok(Route::Base) => {
                let headers = [("docker-distribution-api-version", "registry/2.0")];
                respond(response_out, 200, &headers, &json!({}));
            }
            Ok(Route::Pull { name, upstream, .. }) => {
                let pull = forward::Pull {
                    head: head == Some(true),
                    name,
                    upstream: &upstream,
                };
                forward::serve(&settings, &pull, &request, response_out);
            }
            Err(Refusal::NotFound) => {
                let message = "this proxy serves only the pull API: /v2/, manifests, blobs, tags/list and referrers";
                respond(response_out, 404, &[], &error_body("UNSUPPORTED", message, None));
            }
            Err(Refusal::Method) => {
                let message = "this proxy serves pulls only: GET and HEAD (GET for tags and referrers)";
                respond(
                    response_out,
                    405,
                    &[("allow", "GET, HEAD")],
                    &error_body("UNSUPPORTED", message, None),
                );
            }
            Err(Refusal::Name) => {
                let message = "invalid repository name, tag or digest";
                respond(response_out, 400, &[], &error_body("NAME_INVALID", message, None));
            }
        }
    }
}

/// The largest chunk `blocking-write-and-flush` accepts.
const WRITE_CHUNK: usize = 4096;

/// Answers with `status`, `headers` and a JSON body.
fn respond(response_out: ResponseOutparam, status: u16, headers: &[(&str, &str)], body: &Value) {
    let body = body.to_string().into_bytes();
    let mut fields = vec![
        ("content-type".to_owned(), b"application/json".to_vec()),
        ("content-length".to_owned(), body.len().to_string().into_bytes()),
    ];
    fields.extend(
        headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.as_bytes().to_vec())),
    );
    let Ok(fields) = Fields::from_list(&fields) else {
        // Every header here is a constant or a number.
        return ResponseOutparam::set(response_out, Err(wasi::http::types::ErrorCode::InternalError(None)));
    };
    let response = OutgoingResponse::new(fields);
    // Every status used here is valid.
    let _ = response.set_status_code(status);
    let Ok(out) = response.body() else {
        return;
    };
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

/// One error in the distribution spec's form, `{"errors":[{"code","message","detail"}]}`,
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

    use super::error_body;

    #[test]
    fn errors_have_the_distribution_spec_shape() {
        assert_eq!(
            error_body("NAME_INVALID", "no", None),
            json!({ "errors": [{ "code": "NAME_INVALID", "message": "no" }] })
        );
        assert_eq!(
            error_body("UNAUTHORIZED", "refused", Some(json!({ "status": 401 }))),
            json!({ "errors": [{ "code": "UNAUTHORIZED", "message": "refused", "detail": { "status": 401 } }] })
        );
    }
}
