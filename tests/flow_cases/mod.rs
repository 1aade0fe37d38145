//! Reading `tests/cases/login-flow.json`: its secrets and `${...}`
//! references resolved, and each case's credentials, options and scripted
//! answers as the library types them. Shared by the native runner
//! (`tests/login_flow.rs`) and the component's (`host-tests`), which include
//! this file, so that both read the file alike.

use std::collections::BTreeMap;

use acr_auth::{
    Credentials, Identity, LoginOptions, ManagedIdentityId, ManagedIdentitySource, Response, Secret, TransportError,
    TransportErrorKind,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The cases of the file at `path`, and its secrets by name.
pub fn cases(path: &str) -> (Vec<Value>, BTreeMap<String, String>) {
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("the case file")).expect("JSON");
    let mut secrets = BTreeMap::new();
    for (name, spec) in file["secrets"].as_object().expect("secrets") {
        let value = resolve(spec, &secrets);
        secrets.insert(name.clone(), value.as_str().expect("a secret is text").to_owned());
    }
    (file["cases"].as_array().expect("cases").clone(), secrets)
}

/// `value` with `${name}` / `${name:from:to}` replaced by secrets and
/// `{"jwt": claims}` by a JWT.
pub fn resolve(value: &Value, secrets: &BTreeMap<String, String>) -> Value {
    match value {
        Value::String(text) => Value::String(substitute(text, secrets)),
        Value::Array(items) => Value::Array(items.iter().map(|item| resolve(item, secrets)).collect()),
        Value::Object(object) => match object.get("jwt") {
            Some(claims) if object.len() == 1 => {
                let claims = resolve(claims, secrets);
                Value::String(format!(
                    "{}.{}.{}",
                    URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
                    URL_SAFE_NO_PAD.encode(claims.to_string()),
                    URL_SAFE_NO_PAD.encode(b"sig"),
                ))
            }
            _ => Value::Object(object.iter().map(|(k, v)| (k.clone(), resolve(v, secrets))).collect()),
        },
        other => other.clone(),
    }
}

/// `text` with its `${...}` references replaced.
pub fn substitute(text: &str, secrets: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closing brace") + start;
        let reference = &rest[start + 2..end];
        let mut parts = reference.split(':');
        let name = parts.next().expect("a name");
        let secret = secrets.get(name).unwrap_or_else(|| panic!("no secret {name}"));
        match (parts.next(), parts.next()) {
            (Some(from), Some(to)) => out.push_str(&secret[from.parse().expect("from")..to.parse().expect("to")]),
            _ => out.push_str(secret),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

pub fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// The case's credentials.
pub fn credentials(case: &Value) -> Credentials {
    let given = &case["credentials"];
    if let Some(token) = text(given, "entra_token") {
        return Credentials::EntraToken(Secret::new(token));
    }
    let identity = &given["identity"];
    let identity = if let Some(secret) = identity.get("client_secret") {
        Identity::ClientSecret {
            tenant: text(secret, "tenant").expect("tenant"),
            client_id: text(secret, "client_id").expect("client_id"),
            secret: Secret::new(text(secret, "secret").expect("secret")),
            authority_host: text(secret, "authority_host"),
        }
    } else if let Some(federated) = identity.get("federated_token") {
        Identity::FederatedToken {
            tenant: text(federated, "tenant").expect("tenant"),
            client_id: text(federated, "client_id").expect("client_id"),
            assertion: Secret::new(text(federated, "assertion").expect("assertion")),
            authority_host: text(federated, "authority_host"),
        }
    } else {
        let managed = &identity["managed_identity"];
        let source = &managed["source"];
        let source = if let Some(app) = source.get("app_service") {
            ManagedIdentitySource::AppService {
                endpoint: text(app, "endpoint").expect("endpoint"),
                header: Secret::new(text(app, "header").expect("header")),
            }
        } else if let Some(endpoint) = text(source, "azure_arc") {
            ManagedIdentitySource::AzureArc { endpoint }
        } else if let Some(endpoint) = text(source, "cloud_shell") {
            ManagedIdentitySource::CloudShell { endpoint }
        } else {
            ManagedIdentitySource::Imds
        };
        Identity::ManagedIdentity {
            id: managed["id"]
                .as_object()
                .and_then(|id| id.get("client_id"))
                .and_then(Value::as_str)
                .map(|id| ManagedIdentityId::ClientId(id.to_owned())),
            source,
        }
    };
    Credentials::Identity(identity)
}

/// The case's options.
pub fn options(case: &Value) -> LoginOptions {
    let given = &case["options"];
    LoginOptions {
        tenant: text(given, "tenant"),
        repository_scopes: given["repository_scopes"]
            .as_array()
            .map(|scopes| scopes.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        discover: given["discover"].as_bool().unwrap_or(false),
        ..LoginOptions::default()
    }
}

/// What a script item feeds back: a response or a transport failure.
pub fn outcome(item: &Value) -> Result<Response, TransportError> {
    if let Some(fail) = item.get("fail") {
        let kind = match fail["kind"].as_str().expect("a kind") {
            "connect" => TransportErrorKind::Connect,
            "tls" => TransportErrorKind::Tls,
            "timeout" => TransportErrorKind::Timeout,
            "too-large" => TransportErrorKind::TooLarge,
            _ => TransportErrorKind::Protocol,
        };
        return Err(TransportError {
            kind,
            message: text(fail, "message").unwrap_or_default(),
        });
    }
    let respond = &item["respond"];
    let body = match (respond.get("json"), respond.get("text")) {
        (Some(json), _) => json.to_string().into_bytes(),
        (None, Some(text)) => text.as_str().expect("text").as_bytes().to_vec(),
        (None, None) => Vec::new(),
    };
    let headers = respond["headers"]
        .as_array()
        .map(|headers| {
            headers
                .iter()
                .map(|h| {
                    (
                        h[0].as_str().expect("name").to_owned(),
                        h[1].as_str().expect("value").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Response {
        status: u16::try_from(respond["status"].as_u64().expect("a status")).expect("a u16"),
        headers,
        body,
    })
}

/// What a `read_file` item answers.
pub fn file_outcome(item: &Value) -> Result<String, String> {
    match text(item, "contents") {
        Some(contents) => Ok(contents),
        None => Err(text(item, "read_failed").expect("contents or read_failed")),
    }
}
