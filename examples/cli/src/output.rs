//! What the CLI prints: the component's results as JSON on stdout, and its
//! errors as one line for stderr.

use acr_auth_host::client::wit::flow;
use acr_auth_host::wit::{challenge, exchange, http, scope, token};
use serde_json::{Value, json};

/// The name of a cloud as the CLI prints it.
pub fn cloud_name(cloud: scope::Cloud) -> &'static str {
    match cloud {
        scope::Cloud::Public => "public",
        scope::Cloud::China => "china",
        scope::Cloud::UsGovernment => "us-government",
        scope::Cloud::Custom => "custom",
    }
}

/// The name of an audience as the CLI prints it.
pub fn audience_name(audience: scope::Audience) -> &'static str {
    match audience {
        scope::Audience::Acr => "acr",
        scope::Audience::Arm => "arm",
    }
}

/// `acr-auth scope` output.
pub fn scope_json(resolved: &scope::ResolvedScope) -> Value {
    json!({
        "login_server": resolved.login_server,
        "cloud": cloud_name(resolved.cloud),
        "scope": resolved.scope,
        "audience": audience_name(resolved.audience),
        "authority_host": resolved.authority_host,
    })
}

/// `acr-auth exchange-request` output. Includes the body, token and all:
/// showing the request is that command's purpose.
pub fn request_json(request: &http::Request) -> Value {
    let headers: Vec<[&str; 2]> = request
        .headers
        .iter()
        .map(|h| [h.name.as_str(), h.value.as_str()])
        .collect();
    json!({
        "method": request.method,
        "url": request.url,
        "headers": headers,
        "body": String::from_utf8_lossy(&request.body),
    })
}

/// `acr-auth parse-refresh-token` output: everything but the token.
pub fn credential_json(credential: &token::Credential) -> Value {
    json!({
        "username": credential.username,
        "expires_at": credential.expires_at,
        "issued_at": credential.issued_at,
        "audience": credential.audience,
        "tenant": credential.tenant,
        "abac": credential.abac,
    })
}

/// `acr-auth parse-challenge` output.
pub fn challenge_json(c: &challenge::Challenge) -> Value {
    json!({
        "realm": c.realm,
        "service": c.service,
        "scopes": c.scopes,
        "login_server": c.login_server,
        "exchange_url": c.exchange_url,
    })
}

/// `acr-auth login` output: the credential, token included, for a
/// credential helper or `docker login --password-stdin` to consume.
pub fn login_json(result: &flow::LoginResult) -> Value {
    let mut out = json!({
        "login_server": result.login_server,
        "username": result.credential.username,
        "password": result.credential.password,
        "expires_at": result.credential.expires_at,
        "abac": result.credential.abac,
    });
    if let Some(access) = &result.access_token {
        out["access_token"] = json!(access.token);
        out["access_token_expires_at"] = json!(access.expires_at);
    }
    out
}

/// A login error as one line: stage, message, status and correlation id.
pub fn login_error_message(e: &flow::LoginError) -> String {
    use flow::Stage;
    let stage = match e.stage {
        Stage::Input => "checking the arguments",
        Stage::Entra => "Entra token request",
        Stage::Discovery => "challenge discovery (GET /v2/)",
        Stage::Exchange => "token exchange (POST /oauth2/exchange)",
        Stage::Token => "access token (POST /oauth2/token)",
    };
    let mut message = format!("{stage} failed: {}", e.message);
    if let Some(id) = &e.correlation_id {
        message.push_str(&format!(" (correlation id {id})"));
    }
    message
}

/// The message of a request error.
pub fn request_error_message(e: &exchange::RequestError) -> &str {
    match e {
        exchange::RequestError::Reference(e) => &e.message,
        exchange::RequestError::Input(e) => &e.message,
    }
}

/// The message of a response error.
pub fn response_error_message(e: &token::ResponseError) -> &str {
    match e {
        token::ResponseError::Refused(r) => &r.message,
        token::ResponseError::Malformed(m) => &m.message,
    }
}
