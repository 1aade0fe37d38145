//! The conformance cases of `tests/cases/*.json` and the native library's
//! answers to them, in the JSON shape the cases expect.
//!
//! A case gives inputs and either the expected answer (`expect`: fields that
//! must be present with these values) or the expected refusal (`error`: its
//! kind, with words the message must hold or lack). The expected answers are
//! facts of the protocol, not outputs of this code. [`check_answer`] holds any
//! host's answer to them: the case's expectation, and what every answer must
//! satisfy besides (a request's form decoded independently carries exactly its
//! inputs; a parsed token is the one the body carried, and no message holds
//! it).
//!
//! Every host answers the same files: the native library here
//! (`tests/cases.rs`); the components in `host-tests`, whose support crate
//! includes this file, so that the native answer a component must equal is
//! computed by this one module; Node and Python in their own test suites.

pub mod case;

use serde_json::{Value, json};

pub use case::{
    CASE_FILES, cases, entra_response_inputs, exchange_inputs, input, response_body, status, token_request_inputs,
};

/// The WIT name of a resolved scope's cloud.
pub fn cloud_name(cloud: acr_auth::Cloud) -> &'static str {
    match cloud {
        acr_auth::Cloud::Public => "public",
        acr_auth::Cloud::China => "china",
        acr_auth::Cloud::UsGovernment => "us-government",
        _ => "custom",
    }
}

/// The WIT name of a resolved scope's audience.
pub fn audience_name(audience: acr_auth::Audience) -> &'static str {
    match audience {
        acr_auth::Audience::Acr => "acr",
        _ => "arm",
    }
}

/// An error as JSON: its kind and message.
pub fn error_json(kind: String, message: String) -> Value {
    json!({ "error": kind, "message": message })
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

/// Checks one host's `answer` to a case of the case file `file`: it must
/// match the case ([`check`]), and satisfy what every answer to that file
/// must, whatever the case says.
pub fn check_answer(file: &str, case: &Value, answer: &Value) {
    check(case, answer);
    let name = &case["name"];
    match file {
        "exchange-request" if answer.get("error").is_none() => {
            let (_, token, tenant) = exchange_inputs(case);
            let url = answer["url"].as_str().expect("a url");
            let service = url
                .strip_prefix("https://")
                .and_then(|rest| rest.strip_suffix("/oauth2/exchange"))
                .expect("an https exchange URL");
            let mut expected = vec![
                ("grant_type".to_owned(), "access_token".to_owned()),
                ("service".to_owned(), service.to_owned()),
                ("access_token".to_owned(), token.clone()),
            ];
            expected.extend(tenant.map(|tenant| ("tenant".to_owned(), tenant)));
            assert_eq!(form(answer), expected, "{name}: form fields");
            assert!(!url.contains(&token), "{name}: the token is in the URL");
        }
        "token-request" if answer.get("error").is_none() => {
            let (_, token, scopes) = token_request_inputs(case);
            let fields = form(answer);
            let service = fields[1].1.clone();
            let mut expected = vec![
                ("grant_type".to_owned(), "refresh_token".to_owned()),
                ("service".to_owned(), service.clone()),
            ];
            expected.extend(scopes.into_iter().map(|s| ("scope".to_owned(), s)));
            expected.push(("refresh_token".to_owned(), token));
            assert_eq!(fields, expected, "{name}: form fields");
            assert_eq!(answer["url"], format!("https://{service}/oauth2/token"), "{name}");
        }
        "entra-token-request" => {
            if let Some(expected) = case.get("form") {
                let fields: Vec<Value> = form(answer).into_iter().map(|(k, v)| json!([k, v])).collect();
                assert_eq!(&Value::Array(fields), expected, "{name}: form fields");
            }
        }
        "entra-token-response" => {
            for (key, want) in case
                .get("expect_refusal")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let key = if key == "error" { "error_code" } else { key.as_str() };
                assert_eq!(&answer[key], want, "{name}: refusal field {key}");
            }
        }
        "refresh-token" => check_token_answer(case, answer, "password"),
        "access-token" => check_token_answer(case, answer, "token"),
        _ => {}
    }
}

/// The form fields of a request's body, decoded.
fn form(request: &Value) -> Vec<(String, String)> {
    let body = request["body"].as_str().expect("a text body");
    form_urlencoded::parse(body.as_bytes()).into_owned().collect()
}

/// What an answer to a response-parsing case must satisfy: a successful
/// parse returns the token the body carried (under `token_key`), an error
/// message contains none of its segments, and a refusal carries the status
/// and ACR errors the case expects.
fn check_token_answer(case: &Value, answer: &Value, token_key: &str) {
    let name = &case["name"];
    if let Some(refusal) = case.get("expect_refusal") {
        assert_eq!(answer["status"], refusal["status"], "{name}");
        assert_eq!(answer["errors"], refusal["errors"], "{name}");
    }
    match (response_body(case).1, answer.get("error")) {
        (Some(token), None) => assert_eq!(answer[token_key], json!(token), "{name}"),
        (Some(token), Some(_)) => {
            let message = answer["message"].as_str().unwrap_or_default();
            for segment in token.split('.').filter(|s| s.len() >= 4) {
                assert!(!message.contains(segment), "{name}: message leaks the token");
            }
        }
        (None, _) => {}
    }
}

/// One host's answers to the functions the cases exercise, as JSON; the
/// case is passed where the host parses its custom cloud itself.
pub trait Host {
    /// `resolve-scope`, with the case's custom cloud.
    fn resolve_scope(&self, reference: &str, case: &Value) -> Value;
    /// `parse-cloud-environment`.
    fn parse_cloud_environment(&self, json: &str) -> Value;
    /// `build-exchange-request`, with the case's custom cloud.
    fn build_exchange_request(&self, reference: &str, token: &str, tenant: Option<&str>, case: &Value) -> Value;
    /// `build-token-request`.
    fn build_token_request(&self, reference: &str, token: &str, scopes: &[String]) -> Value;
    /// `parse-challenge`.
    fn parse_challenge(&self, header: &str) -> Value;
    /// `parse-refresh-token`, the token included.
    fn parse_refresh_token(&self, status: u16, body: &[u8], sent: &[String]) -> Value;
    /// `parse-access-token`, the token included.
    fn parse_access_token(&self, status: u16, body: &[u8], sent: &[String]) -> Value;
    /// `build-entra-token-request` for the case's identity, scope and custom cloud.
    fn build_entra_token_request(&self, case: &Value) -> Value;
    /// `parse-entra-token-response`, the token included.
    fn parse_entra_token_response(&self, status: u16, body: &[u8], now: u64, sent: &[String]) -> Value;
}

/// `host`'s answer to a case of the case file `file`.
pub fn answer(host: &impl Host, file: &str, case: &Value) -> Value {
    match file {
        "scope" => host.resolve_scope(&input(case, "reference").expect("a reference"), case),
        "cloud-environment" => host.parse_cloud_environment(&input(case, "json").expect("a json input")),
        "exchange-request" => {
            let (reference, token, tenant) = exchange_inputs(case);
            host.build_exchange_request(&reference, &token, tenant.as_deref(), case)
        }
        "token-request" => {
            let (reference, token, scopes) = token_request_inputs(case);
            host.build_token_request(&reference, &token, &scopes)
        }
        "challenge" => host.parse_challenge(&input(case, "header").expect("a header")),
        "refresh-token" => host.parse_refresh_token(status(case), &response_body(case).0, &sent(case)),
        "access-token" => host.parse_access_token(status(case), &response_body(case).0, &sent(case)),
        "entra-token-request" => host.build_entra_token_request(case),
        "entra-token-response" => {
            let (status, body, now) = entra_response_inputs(case);
            host.parse_entra_token_response(status, body.as_bytes(), now, &sent(case))
        }
        other => panic!("no function answers {other}.json"),
    }
}

/// The secrets a response case's request carried (`sent`), which no error
/// text may repeat; none when the case names none.
pub fn sent(case: &Value) -> Vec<String> {
    case["sent"]
        .as_array()
        .map(|sent| sent.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Checks that `host` resolves the login server it answered for each
/// resolvable scope case to the same answer again: a resolved login server is
/// in normal form.
pub fn check_resolving_again(host: &impl Host) {
    for case in cases("scope").iter().filter(|c| c.get("expect").is_some()) {
        let first = answer(host, "scope", case);
        let login_server = first["login_server"].as_str().expect("a login server");
        assert_eq!(host.resolve_scope(login_server, case), first, "{}", case["name"]);
    }
}

/// The native library, as a [`Host`].
pub struct Native;

impl Host for Native {
    fn resolve_scope(&self, reference: &str, case: &Value) -> Value {
        scope_native(reference, custom_cloud(case).as_ref())
    }

    fn parse_cloud_environment(&self, json: &str) -> Value {
        cloud_environment_native(json)
    }

    fn build_exchange_request(&self, reference: &str, token: &str, tenant: Option<&str>, case: &Value) -> Value {
        exchange_native(reference, token, tenant, custom_cloud(case).as_ref())
    }

    fn build_token_request(&self, reference: &str, token: &str, scopes: &[String]) -> Value {
        token_request_native(reference, token, scopes)
    }

    fn parse_challenge(&self, header: &str) -> Value {
        challenge_native(header)
    }

    fn parse_refresh_token(&self, status: u16, body: &[u8], sent: &[String]) -> Value {
        refresh_native(status, body, sent)
    }

    fn parse_access_token(&self, status: u16, body: &[u8], sent: &[String]) -> Value {
        access_native(status, body, sent)
    }

    fn build_entra_token_request(&self, case: &Value) -> Value {
        entra_request_native(case)
    }

    fn parse_entra_token_response(&self, status: u16, body: &[u8], now: u64, sent: &[String]) -> Value {
        entra_response_native(status, body, now, sent)
    }
}

/// A case's custom cloud (`cloud_environment`), as JSON text.
pub fn cloud_environment_text(case: &Value) -> Option<String> {
    case.get("cloud_environment")
        .filter(|env| !env.is_null())
        .map(Value::to_string)
}

/// A case's custom cloud, parsed by the native library.
pub fn custom_cloud(case: &Value) -> Option<acr_auth::CloudEnvironment> {
    cloud_environment_text(case)
        .map(|text| acr_auth::parse_cloud_environment(&text).expect("the case's environment parses natively"))
}

/// A resolved scope as JSON. The native and the generated types have the
/// same fields, so every host's answer goes through this one function.
pub fn scope_json(login_server: &str, cloud: &str, scope: &str, audience: &str, authority: &str) -> Value {
    json!({
        "login_server": login_server,
        "cloud": cloud,
        "scope": scope,
        "audience": audience,
        "authority_host": authority,
    })
}

/// `resolve-scope` through the native library.
pub fn scope_native(reference: &str, env: Option<&acr_auth::CloudEnvironment>) -> Value {
    match acr_auth::resolve_scope(reference, env) {
        Ok(r) => scope_json(
            &r.login_server,
            cloud_name(r.cloud),
            &r.scope,
            audience_name(r.audience),
            &r.authority_host,
        ),
        Err(e) => error_json(e.kind().as_str().to_owned(), acr_auth::full_message(&e)),
    }
}

/// A cloud environment as JSON: its name, the registry suffix, the Resource
/// Manager and Entra endpoints, and the ACR audience.
pub fn cloud_environment_json(
    name: Option<&str>,
    suffix: &str,
    resource_manager: &str,
    active_directory: &str,
    acr_audience: Option<&str>,
) -> Value {
    json!({
        "name": name,
        "container_registry_dns_suffix": suffix,
        "resource_manager_endpoint": resource_manager,
        "active_directory_endpoint": active_directory,
        "acr_audience": acr_audience,
    })
}

/// `parse-cloud-environment` through the native library.
pub fn cloud_environment_native(json: &str) -> Value {
    match acr_auth::parse_cloud_environment(json) {
        Ok(env) => cloud_environment_json(
            env.name(),
            env.container_registry_dns_suffix(),
            env.resource_manager_endpoint(),
            env.active_directory_endpoint(),
            env.acr_audience(),
        ),
        Err(e) => cloud_environment_error_native(&e),
    }
}

/// A native cloud environment error as JSON: its kind, field and message.
pub fn cloud_environment_error_native(e: &acr_auth::CloudEnvironmentError) -> Value {
    json!({ "error": e.kind().as_str(), "field": e.field(), "message": acr_auth::full_message(e) })
}

/// A request as JSON, its body as text (the CLI's `exchange-request` shape).
pub fn request_json<'h>(
    method: &str,
    url: &str,
    headers: impl IntoIterator<Item = (&'h str, &'h str)>,
    body: &[u8],
) -> Value {
    let headers: Vec<[&str; 2]> = headers.into_iter().map(|(name, value)| [name, value]).collect();
    json!({
        "method": method,
        "url": url,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    })
}

/// A request the native library built, as JSON.
fn native_request_json(r: &acr_auth::Request) -> Value {
    request_json(
        r.method,
        &r.url,
        r.headers.iter().map(|(name, value)| (*name, value.as_str())),
        r.body.expose(),
    )
}

/// A native request-building result as JSON.
fn request_native(result: Result<acr_auth::Request, acr_auth::RequestError>) -> Value {
    match result {
        Ok(r) => native_request_json(&r),
        Err(acr_auth::RequestError::Reference(e)) => {
            error_json(format!("reference:{}", e.kind().as_str()), acr_auth::full_message(&e))
        }
        Err(acr_auth::RequestError::Input(e)) => {
            error_json(format!("input:{}", e.kind().as_str()), acr_auth::full_message(&e))
        }
        Err(other) => panic!("unexpected error variant {other:?}"),
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

/// `build-token-request` through the native library.
pub fn token_request_native(reference: &str, token: &str, scopes: &[String]) -> Value {
    request_native(acr_auth::build_token_request(reference, token, scopes, None))
}

/// A challenge as JSON.
pub fn challenge_json(realm: &str, service: &str, scopes: &[String], login_server: &str, exchange_url: &str) -> Value {
    json!({
        "realm": realm,
        "service": service,
        "scopes": scopes,
        "login_server": login_server,
        "exchange_url": exchange_url,
    })
}

/// `parse-challenge` through the native library.
pub fn challenge_native(header: &str) -> Value {
    match acr_auth::parse_challenge(header, None) {
        Ok(c) => challenge_json(&c.realm, &c.service, &c.scopes, &c.login_server, &c.exchange_url),
        Err(e) => error_json(e.kind().as_str().to_owned(), acr_auth::full_message(&e)),
    }
}

/// A registry's refusal as JSON: the status, the ACR errors of its body (code
/// and message) and the message for people.
pub fn refusal_json<'e>(status: u16, errors: impl IntoIterator<Item = (&'e str, &'e str)>, message: String) -> Value {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(code, message)| json!({ "code": code, "message": message }))
        .collect();
    json!({ "error": "refused", "status": status, "errors": errors, "message": message })
}

/// A native response error as JSON.
fn response_error_native(error: acr_auth::ResponseError) -> Value {
    match error {
        acr_auth::ResponseError::Refused(r) => refusal_json(
            r.status,
            r.errors.iter().map(|e| (e.code.as_str(), e.message.as_str())),
            r.to_string(),
        ),
        acr_auth::ResponseError::Malformed(m) => {
            error_json(format!("malformed:{}", m.kind().as_str()), acr_auth::full_message(&m))
        }
        other => panic!("unexpected error variant {other:?}"),
    }
}

/// A repository access token as JSON, the token included.
pub fn access_token_json(token: &str, expires_at: u64, issued_at: Option<u64>, audience: &[String]) -> Value {
    json!({
        "token": token,
        "expires_at": expires_at,
        "issued_at": issued_at,
        "audience": audience,
    })
}

/// The texts of `strings`, as the library takes secrets.
fn borrowed(strings: &[String]) -> Vec<&str> {
    strings.iter().map(String::as_str).collect()
}

/// `parse-access-token` through the native library, token included.
pub fn access_native(status: u16, body: &[u8], sent: &[String]) -> Value {
    match acr_auth::parse_access_token(status, body, &borrowed(sent)) {
        Ok(a) => access_token_json(a.token.expose(), a.expires_at, a.issued_at, &a.audience),
        Err(e) => response_error_native(e),
    }
}

/// A refresh-token credential as JSON; the password is included so that
/// tests can check it is the token the server sent.
pub fn credential_json(
    username: &str,
    password: &str,
    expires_at: u64,
    issued_at: Option<u64>,
    audience: &[String],
    tenant: Option<&str>,
    abac: bool,
) -> Value {
    json!({
        "username": username,
        "password": password,
        "expires_at": expires_at,
        "issued_at": issued_at,
        "audience": audience,
        "tenant": tenant,
        "abac": abac,
    })
}

/// `parse-refresh-token` through the native library.
pub fn refresh_native(status: u16, body: &[u8], sent: &[String]) -> Value {
    match acr_auth::parse_refresh_token(status, body, &borrowed(sent)) {
        Ok(c) => credential_json(
            c.username,
            c.password.expose(),
            c.expires_at,
            c.issued_at,
            &c.audience,
            c.tenant.as_deref(),
            c.abac,
        ),
        Err(e) => response_error_native(e),
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
        let managed = &identity["managed_identity"];
        // `{"id": ..., "source": ...}`, or the ID object alone for the metadata service.
        let (id, source) = match managed.get("source") {
            Some(source) => (&managed["id"], source),
            None => (managed, &Value::Null),
        };
        acr_auth::Identity::ManagedIdentity {
            id: [
                ("client_id", acr_auth::ManagedIdentityId::ClientId as fn(String) -> _),
                ("object_id", acr_auth::ManagedIdentityId::ObjectId),
                ("resource_id", acr_auth::ManagedIdentityId::ResourceId),
            ]
            .into_iter()
            .find_map(|(key, make)| text(id, key).map(make)),
            source: managed_identity_source(source),
        }
    }
}

/// A managed identity's source as a case writes it: absent or null for the
/// metadata service, else one of `app_service` (`endpoint`, `header`),
/// `azure_arc` or `cloud_shell` (each its endpoint).
pub fn managed_identity_source(source: &Value) -> acr_auth::ManagedIdentitySource {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    if let Some(app) = source.get("app_service") {
        acr_auth::ManagedIdentitySource::AppService {
            endpoint: text(&app["endpoint"]).expect("an endpoint"),
            header: acr_auth::Secret::new(text(&app["header"]).expect("a header")),
        }
    } else if let Some(endpoint) = source.get("azure_arc").and_then(text) {
        acr_auth::ManagedIdentitySource::AzureArc { endpoint }
    } else if let Some(endpoint) = source.get("cloud_shell").and_then(text) {
        acr_auth::ManagedIdentitySource::CloudShell { endpoint }
    } else {
        acr_auth::ManagedIdentitySource::Imds
    }
}

/// `build-entra-token-request` for a case, through the native library.
pub fn entra_request_native(case: &Value) -> Value {
    let env = custom_cloud(case);
    let scope = input(case, "scope").expect("a scope");
    match acr_auth::build_entra_token_request(&identity_native(case), &scope, env.as_ref()) {
        Ok(r) => native_request_json(&r),
        Err(e) => error_json(e.kind().as_str().to_owned(), acr_auth::full_message(&e)),
    }
}

/// An Entra token as JSON, the token included.
pub fn entra_token_json(access_token: &str, expires_at: u64) -> Value {
    json!({ "access_token": access_token, "expires_at": expires_at })
}

/// Entra's refusal as JSON: the message for people, the HTTP status, the
/// OAuth error and its description, the AADSTS code, and the trace and
/// correlation IDs.
pub fn entra_refusal_json(
    message: String,
    status: u16,
    error: &str,
    description: &str,
    code: Option<u32>,
    trace_id: &str,
    correlation_id: &str,
) -> Value {
    json!({
        "error": "refused",
        "message": message,
        "status": status,
        "error_code": error,
        "description": description,
        "code": code,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
    })
}

/// `parse-entra-token-response` through the native library.
pub fn entra_response_native(status: u16, body: &[u8], now: u64, sent: &[String]) -> Value {
    match acr_auth::parse_entra_token_response(status, body, now, &borrowed(sent)) {
        Ok(t) => entra_token_json(t.access_token.expose(), t.expires_at),
        Err(acr_auth::EntraResponseError::Refused(r)) => entra_refusal_json(
            r.to_string(),
            r.status,
            &r.error,
            &r.description,
            r.code,
            &r.trace_id,
            &r.correlation_id,
        ),
        Err(acr_auth::EntraResponseError::Malformed(m)) => {
            error_json(format!("malformed:{}", m.kind().as_str()), acr_auth::full_message(&m))
        }
        Err(other) => panic!("unexpected error variant {other:?}"),
    }
}
