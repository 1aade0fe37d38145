//! Runs one input through the native library and through the component and
//! turns each result into the same JSON shape, so that a test can require
//! both to agree and both to match the expected answer of a case file.
//!
//! Case files live in `host-tests/cases/`; other hosts read the same files.

use std::fmt::Debug;
use std::sync::OnceLock;

use acr_auth_cli::wit::{entra, exchange, http, scope, token};
use acr_auth_cli::{Runtime, challenge_json, credential_json, request_json, scope_json};
use serde_json::{Value, json};

/// The component, compiled once per test binary.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| Runtime::new().expect("the embedded component compiles"))
}

/// The cases of `host-tests/cases/<name>.json`.
pub fn cases(name: &str) -> Vec<Value> {
    let path = format!("{}/cases/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A case's string input `key`: either a string, or
/// `{"repeat": "<text>", "times": N}` for inputs too long to write out.
pub fn input(case: &Value, key: &str) -> Option<String> {
    match case.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            let text = o["repeat"].as_str().expect("repeat is a string");
            let times = o["times"].as_u64().expect("times is a number");
            let prefix = o.get("prefix").and_then(Value::as_str).unwrap_or_default();
            let suffix = o.get("suffix").and_then(Value::as_str).unwrap_or_default();
            Some(format!("{prefix}{}{suffix}", text.repeat(times as usize)))
        }
        other => Some(other.to_string()),
    }
}

/// The kebab-case name of an enum variant from its `Debug` form:
/// `ScopeErrorKind::NotAscii` and `NotAscii { .. }` are both `not-ascii`.
pub fn kind_name(value: &impl Debug) -> String {
    let debug = format!("{value:?}");
    let head = debug.split(['{', '(', ' ']).next().unwrap_or_default();
    let ident = head.rsplit("::").next().unwrap_or_default();
    let mut name = String::new();
    for (i, c) in ident.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                name.push('-');
            }
            name.push(c.to_ascii_lowercase());
        } else {
            name.push(c);
        }
    }
    name
}

/// An error as JSON: its kind and message.
fn error_json(kind: String, message: String) -> Value {
    json!({ "error": kind, "message": message })
}

/// A case's custom cloud, parsed by the native library and by the component.
pub fn custom_cloud(case: &Value) -> (Option<acr_auth::CloudEnvironment>, Option<scope::CloudEnvironment>) {
    match case.get("cloud_environment") {
        None | Some(Value::Null) => (None, None),
        Some(env) => {
            let text = env.to_string();
            let native = acr_auth::parse_cloud_environment(&text).expect("the case's environment parses natively");
            let wasm = runtime()
                .parse_cloud_environment(&text)
                .expect("no trap")
                .expect("the case's environment parses in the component");
            (Some(native), Some(wasm))
        }
    }
}

/// `resolve-scope` through the native library.
pub fn scope_native(reference: &str, env: Option<&acr_auth::CloudEnvironment>) -> Value {
    match acr_auth::resolve_scope(reference, env) {
        Ok(r) => json!({
            "login_server": r.login_server,
            "cloud": kind_name(&r.cloud),
            "scope": r.scope,
            "audience": kind_name(&r.audience),
            "authority_host": r.authority_host,
        }),
        Err(e) => error_json(kind_name(&e), e.to_string()),
    }
}

/// `resolve-scope` through the component.
pub fn scope_wasm(reference: &str, env: Option<&scope::CloudEnvironment>) -> Value {
    match runtime().resolve_scope(reference, env).expect("no trap") {
        Ok(r) => scope_json(&r),
        Err(e) => error_json(kind_name(&e.kind), e.message),
    }
}

/// A cloud environment as JSON; the native and the generated types share
/// their field names.
macro_rules! cloud_environment_json {
    ($env:expr) => {
        json!({
            "name": $env.name,
            "container_registry_dns_suffix": $env.container_registry_dns_suffix,
            "resource_manager_endpoint": $env.resource_manager_endpoint,
            "active_directory_endpoint": $env.active_directory_endpoint,
            "acr_audience": $env.acr_audience,
        })
    };
}

/// `parse-cloud-environment` through the native library.
pub fn cloud_environment_native(json: &str) -> Value {
    match acr_auth::parse_cloud_environment(json) {
        Ok(env) => cloud_environment_json!(env),
        Err(e) => json!({ "error": kind_name(&e), "field": e.field(), "message": e.to_string() }),
    }
}

/// `parse-cloud-environment` through the component.
pub fn cloud_environment_wasm(json: &str) -> Value {
    match runtime().parse_cloud_environment(json).expect("no trap") {
        Ok(env) => cloud_environment_json!(env),
        Err(e) => json!({ "error": kind_name(&e.kind), "field": e.field, "message": e.message }),
    }
}

/// A request the native library built, as JSON (the CLI's `request_json` shape).
fn native_request_json(r: &acr_auth::Request) -> Value {
    let headers: Vec<[&str; 2]> = r.headers.iter().map(|(n, v)| [*n, *v]).collect();
    json!({
        "method": r.method,
        "url": r.url,
        "headers": headers,
        "body": String::from_utf8_lossy(r.body.expose()),
    })
}

/// A native request-building result as JSON.
fn request_native(result: Result<acr_auth::Request, acr_auth::RequestError>) -> Value {
    match result {
        Ok(r) => native_request_json(&r),
        Err(acr_auth::RequestError::Reference(e)) => error_json(format!("reference:{}", kind_name(&e)), e.to_string()),
        Err(acr_auth::RequestError::Input(e)) => error_json(format!("input:{}", kind_name(&e)), e.to_string()),
        Err(other) => panic!("unexpected error variant {other:?}"),
    }
}

/// A component request-building result as JSON.
fn request_wasm(result: Result<http::Request, exchange::RequestError>) -> Value {
    match result {
        Ok(r) => request_json(&r),
        Err(exchange::RequestError::Reference(e)) => error_json(format!("reference:{}", kind_name(&e.kind)), e.message),
        Err(exchange::RequestError::Input(e)) => error_json(format!("input:{}", kind_name(&e.kind)), e.message),
    }
}

/// `build-exchange-request` through the native library.
pub fn exchange_native(
    reference: &str,
    token: &str,
    tenant: Option<&str>,
    env: Option<&acr_auth::CloudEnvironment>,
) -> Value {
    request_native(acr_auth::build_exchange_request(reference, token, tenant, env))
}

/// `build-exchange-request` through the component.
pub fn exchange_wasm(
    reference: &str,
    token: &str,
    tenant: Option<&str>,
    env: Option<&scope::CloudEnvironment>,
) -> Value {
    request_wasm(
        runtime()
            .build_exchange_request(reference, token, tenant, env)
            .expect("no trap"),
    )
}

/// `build-token-request` through the native library.
pub fn token_request_native(reference: &str, token: &str, scopes: &[String]) -> Value {
    request_native(acr_auth::build_token_request(reference, token, scopes, None))
}

/// `build-token-request` through the component.
pub fn token_request_wasm(reference: &str, token: &str, scopes: &[String]) -> Value {
    request_wasm(
        runtime()
            .build_token_request(reference, token, scopes, None)
            .expect("no trap"),
    )
}

/// `parse-challenge` through the native library.
pub fn challenge_native(header: &str) -> Value {
    match acr_auth::parse_challenge(header, None) {
        Ok(c) => json!({
            "realm": c.realm,
            "service": c.service,
            "scopes": c.scopes,
            "login_server": c.login_server,
            "exchange_url": c.exchange_url,
        }),
        Err(e) => {
            let kind = match &e {
                acr_auth::ChallengeError::Realm(_) => "realm-host".to_owned(),
                other => kind_name(other),
            };
            error_json(kind, e.to_string())
        }
    }
}

/// `parse-challenge` through the component.
pub fn challenge_wasm(header: &str) -> Value {
    match runtime().parse_challenge(header, None).expect("no trap") {
        Ok(c) => challenge_json(&c),
        Err(e) => error_json(kind_name(&e.kind), e.message),
    }
}

/// A native response error as JSON.
fn response_error_native(error: acr_auth::ResponseError) -> Value {
    match error {
        acr_auth::ResponseError::Refused(r) => json!({
            "error": "refused",
            "status": r.status,
            "errors": r.errors.iter().map(|e| json!({"code": e.code, "message": e.message})).collect::<Vec<_>>(),
            "message": r.to_string(),
        }),
        acr_auth::ResponseError::Malformed(m) => error_json(format!("malformed:{}", kind_name(&m)), m.to_string()),
        other => panic!("unexpected error variant {other:?}"),
    }
}

/// A component response error as JSON.
fn response_error_wasm(error: token::ResponseError) -> Value {
    match error {
        token::ResponseError::Refused(r) => json!({
            "error": "refused",
            "status": r.status,
            "errors": r.errors.iter().map(|e| json!({"code": e.code, "message": e.message})).collect::<Vec<_>>(),
            "message": r.message,
        }),
        token::ResponseError::Malformed(m) => error_json(format!("malformed:{}", kind_name(&m.kind)), m.message),
    }
}

/// `parse-access-token` through the native library, token included.
pub fn access_native(status: u16, body: &[u8]) -> Value {
    match acr_auth::parse_access_token(status, body) {
        Ok(a) => json!({
            "token": a.token.expose(),
            "expires_at": a.expires_at,
            "issued_at": a.issued_at,
            "login_server": a.login_server,
        }),
        Err(e) => response_error_native(e),
    }
}

/// `parse-access-token` through the component, token included.
pub fn access_wasm(status: u16, body: &[u8]) -> Value {
    match runtime().parse_access_token(status, body).expect("no trap") {
        Ok(a) => json!({
            "token": a.token,
            "expires_at": a.expires_at,
            "issued_at": a.issued_at,
            "login_server": a.login_server,
        }),
        Err(e) => response_error_wasm(e),
    }
}

/// `parse-refresh-token` through the native library; the password is
/// included so that tests can check it is the token the server sent.
pub fn refresh_native(status: u16, body: &[u8]) -> Value {
    match acr_auth::parse_refresh_token(status, body) {
        Ok(c) => json!({
            "username": c.username,
            "password": c.password.expose(),
            "expires_at": c.expires_at,
            "issued_at": c.issued_at,
            "login_server": c.login_server,
            "tenant": c.tenant,
        }),
        Err(e) => response_error_native(e),
    }
}

/// `parse-refresh-token` through the component.
pub fn refresh_wasm(status: u16, body: &[u8]) -> Value {
    match runtime().parse_refresh_token(status, body).expect("no trap") {
        Ok(c) => {
            let mut out = credential_json(&c);
            out["password"] = json!(c.password);
            out
        }
        Err(e) => response_error_wasm(e),
    }
}

/// Checks an observation against a case's expectation: every key of
/// `expect` must be present with the same value; `error` cases compare the
/// kind and, when given, require `message_contains` in the message.
pub fn check(case: &Value, observed: &Value) {
    let name = case["name"].as_str().unwrap_or("unnamed case");
    if let Some(kind) = case.get("error") {
        assert_eq!(observed.get("error"), Some(kind), "{name}: {observed:#}");
        let message = observed["message"].as_str().unwrap_or_default();
        for needle in case
            .get("message_contains")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let needle = needle.as_str().expect("message_contains holds strings");
            assert!(message.contains(needle), "{name}: {message:?} lacks {needle:?}");
        }
        for secret in case
            .get("message_lacks")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let secret = secret.as_str().expect("message_lacks holds strings");
            assert!(!message.contains(secret), "{name}: {message:?} leaks {secret:?}");
        }
        if let Some(field) = case.get("field") {
            assert_eq!(observed.get("field"), Some(field), "{name}: {observed:#}");
        }
    } else {
        let expect = case["expect"]
            .as_object()
            .unwrap_or_else(|| panic!("{name}: no expect or error"));
        assert!(observed.get("error").is_none(), "{name}: unexpected error {observed:#}");
        for (key, want) in expect {
            assert_eq!(observed.get(key), Some(want), "{name}: field {key} of {observed:#}");
        }
    }
}

/// The response body of a `parse-refresh-token` or `parse-access-token` case
/// and the token it carries (in `token_field`, by default `refresh_token`). A case gives `body` as text, `token_segments` to join with dots,
/// or `jwt` (`header`, `payload`, `signature` text) to encode here: base64url
/// without padding unless `padded`, the standard alphabet if
/// `standard_alphabet`; `require_chars` must then occur in the payload segment.
pub fn response_body(case: &Value) -> (Vec<u8>, Option<String>) {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let token = if let Some(segments) = case.get("token_segments") {
        let segments: Vec<&str> = segments
            .as_array()
            .expect("token_segments is an array")
            .iter()
            .map(|s| s.as_str().expect("segments are strings"))
            .collect();
        segments.join(".")
    } else if let Some(jwt) = case.get("jwt") {
        let flag = |key| jwt.get(key).and_then(Value::as_bool).unwrap_or(false);
        let engine = match (flag("standard_alphabet"), flag("padded")) {
            (false, false) => &URL_SAFE_NO_PAD,
            (false, true) => &URL_SAFE,
            (true, false) => &STANDARD_NO_PAD,
            (true, true) => &STANDARD,
        };
        let payload = engine.encode(jwt["payload"].to_string());
        if let Some(chars) = jwt.get("require_chars").and_then(Value::as_str) {
            for c in chars.chars() {
                assert!(payload.contains(c), "{}: payload segment lacks {c:?}", case["name"]);
            }
        }
        if flag("padded") {
            assert!(
                payload.ends_with('='),
                "{}: payload segment is not padded",
                case["name"]
            );
        }
        let signature = jwt["signature"].as_str().expect("signature is text");
        format!(
            "{}.{payload}.{}",
            engine.encode(jwt["header"].to_string()),
            engine.encode(signature)
        )
    } else {
        return (input(case, "body").expect("a body").into_bytes(), None);
    };
    let field = case
        .get("token_field")
        .and_then(Value::as_str)
        .unwrap_or("refresh_token");
    (json!({ field: token }).to_string().into_bytes(), Some(token))
}

/// A case's list input `key`: an array of strings, or
/// `{"repeat": "<text>", "times": N}` for N copies.
pub fn list_input(case: &Value, key: &str) -> Vec<String> {
    match case.get(key) {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| i.as_str().expect("list items are strings").to_owned())
            .collect(),
        Some(Value::Object(o)) => {
            let text = o["repeat"].as_str().expect("repeat is a string");
            vec![text.to_owned(); o["times"].as_u64().expect("times is a number") as usize]
        }
        _ => Vec::new(),
    }
}

/// Runs every case of a response-parsing case file through `native` and
/// `wasm`: both must agree and match the case; a successful parse must
/// return the token the body carried (under `token_key`), and an error
/// message must not contain any of its segments.
pub fn check_response_cases(
    file: &str,
    min_cases: usize,
    native: fn(u16, &[u8]) -> Value,
    wasm: fn(u16, &[u8]) -> Value,
    token_key: &str,
) {
    let cases = cases(file);
    assert!(cases.len() >= min_cases, "{file}: the case file lost cases");
    for case in &cases {
        let status = u16::try_from(case["status"].as_u64().expect("a status")).expect("a u16 status");
        let (body, token) = response_body(case);
        let native = native(status, &body);
        let wasm = wasm(status, &body);
        assert_eq!(native, wasm, "{}: native and component differ", case["name"]);
        check(case, &native);
        if let Some(refusal) = case.get("expect_refusal") {
            assert_eq!(native["status"], refusal["status"], "{}", case["name"]);
            assert_eq!(native["errors"], refusal["errors"], "{}", case["name"]);
        }
        match (&token, native.get("error")) {
            (Some(token), None) => assert_eq!(native[token_key], json!(token), "{}", case["name"]),
            (Some(token), Some(_)) => {
                let message = native["message"].as_str().unwrap_or_default();
                for segment in token.split('.').filter(|s| s.len() >= 4) {
                    assert!(!message.contains(segment), "{}: message leaks the token", case["name"]);
                }
            }
            (None, _) => {}
        }
    }
}

/// A case's Entra identity, as the native library types it: the case's
/// `identity` holds one of `federated_token`, `client_secret` (objects with
/// `tenant`, `client_id`, the credential and optional `authority_host`) or
/// `managed_identity` (null, or an object with `client_id`, `object_id` or
/// `resource_id`).
pub fn identity_native(case: &Value) -> acr_auth::Identity {
    let identity = &case["identity"];
    let text = |v: &Value, key: &str| v[key].as_str().map(str::to_owned);
    let app = |v: &Value| {
        (
            text(v, "tenant").expect("a tenant"),
            text(v, "client_id").expect("a client_id"),
            text(v, "authority_host"),
        )
    };
    if let Some(f) = identity.get("federated_token") {
        let (tenant, client_id, authority_host) = app(f);
        acr_auth::Identity::FederatedToken {
            tenant,
            client_id,
            assertion: acr_auth::Secret::new(text(f, "assertion").expect("an assertion")),
            authority_host,
        }
    } else if let Some(c) = identity.get("client_secret") {
        let (tenant, client_id, authority_host) = app(c);
        acr_auth::Identity::ClientSecret {
            tenant,
            client_id,
            secret: acr_auth::Secret::new(text(c, "secret").expect("a secret")),
            authority_host,
        }
    } else {
        let id = &identity["managed_identity"];
        acr_auth::Identity::ManagedIdentity {
            id: [
                ("client_id", acr_auth::ManagedIdentityId::ClientId as fn(String) -> _),
                ("object_id", acr_auth::ManagedIdentityId::ObjectId),
                ("resource_id", acr_auth::ManagedIdentityId::ResourceId),
            ]
            .into_iter()
            .find_map(|(key, make)| text(id, key).map(make)),
        }
    }
}

/// `build-entra-token-request` for a case, through the native library.
pub fn entra_request_native(case: &Value) -> Value {
    let (env, _) = custom_cloud(case);
    let scope = input(case, "scope").expect("a scope");
    match acr_auth::build_entra_token_request(&identity_native(case), &scope, env.as_ref()) {
        Ok(r) => native_request_json(&r),
        Err(e) => error_json(kind_name(&e), e.to_string()),
    }
}

/// A native identity as the component's bindings type it.
fn identity_wasm(identity: acr_auth::Identity) -> entra::Identity {
    use acr_auth::{Identity, ManagedIdentityId};
    match identity {
        Identity::FederatedToken {
            tenant,
            client_id,
            assertion,
            authority_host,
        } => entra::Identity::FederatedToken(entra::FederatedToken {
            tenant,
            client_id,
            assertion: assertion.into_exposed(),
            authority_host,
        }),
        Identity::ClientSecret {
            tenant,
            client_id,
            secret,
            authority_host,
        } => entra::Identity::ClientSecret(entra::ClientSecret {
            tenant,
            client_id,
            secret: secret.into_exposed(),
            authority_host,
        }),
        Identity::ManagedIdentity { id } => entra::Identity::ManagedIdentity(id.map(|id| match id {
            ManagedIdentityId::ClientId(id) => entra::ManagedIdentityId::ClientId(id),
            ManagedIdentityId::ObjectId(id) => entra::ManagedIdentityId::ObjectId(id),
            ManagedIdentityId::ResourceId(id) => entra::ManagedIdentityId::ResourceId(id),
            other => panic!("no WIT form for {other:?}"),
        })),
        other => panic!("no WIT form for {other:?}"),
    }
}

/// `build-entra-token-request` for a case, through the component.
pub fn entra_request_wasm(case: &Value) -> Value {
    let (_, env) = custom_cloud(case);
    let scope = input(case, "scope").expect("a scope");
    let identity = identity_wasm(identity_native(case));
    match runtime()
        .build_entra_token_request(&identity, &scope, env.as_ref())
        .expect("no trap")
    {
        Ok(r) => {
            let headers: Vec<[&str; 2]> = r.headers.iter().map(|h| [h.name.as_str(), h.value.as_str()]).collect();
            json!({
                "method": r.method,
                "url": r.url,
                "headers": headers,
                "body": String::from_utf8_lossy(&r.body),
            })
        }
        Err(e) => error_json(kind_name(&e.kind), e.message),
    }
}

/// `parse-entra-token-response` through the component.
pub fn entra_response_wasm(status: u16, body: &[u8], now: u64) -> Value {
    match runtime()
        .parse_entra_token_response(status, body, now)
        .expect("no trap")
    {
        Ok(t) => json!({ "access_token": t.access_token, "expires_at": t.expires_at }),
        Err(entra::EntraResponseError::Refused(r)) => json!({
            "error": "refused",
            "message": r.message,
            "status": r.status,
            "error_code": r.error,
            "description": r.description,
            "code": r.code,
            "trace_id": r.trace_id,
            "correlation_id": r.correlation_id,
        }),
        Err(entra::EntraResponseError::Malformed(m)) => {
            error_json(format!("malformed:{}", kind_name(&m.kind)), m.message)
        }
    }
}

/// `parse-entra-token-response` through the native library.
pub fn entra_response_native(status: u16, body: &[u8], now: u64) -> Value {
    match acr_auth::parse_entra_token_response(status, body, now) {
        Ok(t) => json!({ "access_token": t.access_token.expose(), "expires_at": t.expires_at }),
        Err(acr_auth::EntraResponseError::Refused(r)) => json!({
            "error": "refused",
            "message": r.to_string(),
            "status": r.status,
            "error_code": r.error,
            "description": r.description,
            "code": r.code,
            "trace_id": r.trace_id,
            "correlation_id": r.correlation_id,
        }),
        Err(acr_auth::EntraResponseError::Malformed(m)) => {
            error_json(format!("malformed:{}", kind_name(&m)), m.to_string())
        }
        Err(other) => panic!("unexpected error variant {other:?}"),
    }
}
