//! A login from a refresh token kept by the caller (a token cache): only the
//! `/oauth2/token` request, checked against the protocol's form (the ACR
//! OAuth documentation's `grant_type=refresh_token` request).

use acr_auth::{Credentials, Event, LoginErrorKind, LoginFlow, LoginOptions, Response, Stage, Step};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const REGISTRY: &str = "myregistry.azurecr.io";

/// A JWT whose payload is `claims`, as ACR's tokens are shaped (signature not checked).
fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims),
        URL_SAFE_NO_PAD.encode(b"signature")
    )
}

/// The credential an earlier exchange returned.
fn cached_credential(claims: &str) -> acr_auth::Credential {
    let body = serde_json::json!({ "refresh_token": jwt(claims) }).to_string();
    acr_auth::parse_refresh_token(200, body.as_bytes(), &[]).expect("a refresh token")
}

fn options(scopes: &[&str]) -> LoginOptions {
    LoginOptions {
        repository_scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        ..LoginOptions::default()
    }
}

#[test]
fn a_cached_refresh_token_asks_only_for_the_access_token() {
    let credential = cached_credential(r#"{"exp":1767232800,"aud":"myregistry.azurecr.io"}"#);
    let refresh_token = credential.password.expose().clone();
    let mut flow = LoginFlow::new(
        REGISTRY,
        Credentials::RefreshToken(credential.clone()),
        options(&["repository:team/app:pull"]),
    );
    let Step::Send(outgoing) = flow.step(1_000, Event::Start) else {
        panic!("the first step sends the token request");
    };
    assert_eq!(outgoing.request.method, "POST");
    assert_eq!(outgoing.request.url, "https://myregistry.azurecr.io/oauth2/token");
    let form: Vec<(String, String)> = form_urlencoded::parse(outgoing.request.body.expose())
        .into_owned()
        .collect();
    let expected = [
        ("grant_type", "refresh_token"),
        ("service", REGISTRY),
        ("scope", "repository:team/app:pull"),
        ("refresh_token", refresh_token.as_str()),
    ];
    let expected: Vec<(String, String)> = expected.iter().map(|(n, v)| ((*n).into(), (*v).into())).collect();
    assert_eq!(form, expected);

    let access = jwt(r#"{"exp":1767229200}"#);
    let body = serde_json::json!({ "access_token": access }).to_string().into_bytes();
    let response = Response {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body,
    };
    let Step::Done(result) = flow.step(2_000, Event::Response(response)) else {
        panic!("the login is done after the token request");
    };
    assert_eq!(result.login_server, REGISTRY);
    assert_eq!(
        result.credential, credential,
        "the cached credential comes back unchanged"
    );
    let token = result.access_token.expect("an access token");
    assert_eq!(token.token.expose(), &access);
    assert_eq!(token.expires_at, 1_767_229_200);
}

#[test]
fn a_refresh_token_without_scopes_fails_before_any_request() {
    let credential = cached_credential(r#"{"exp":1767232800}"#);
    let secret = credential.password.expose().clone();
    let mut flow = LoginFlow::new(REGISTRY, Credentials::RefreshToken(credential), options(&[]));
    let Step::Failed(error) = flow.step(1_000, Event::Start) else {
        panic!("no request without a scope");
    };
    assert_eq!(error.kind(), LoginErrorKind::InvalidInput);
    assert!(
        !format!("{error} {error:?}").contains(&secret),
        "the error shows no token"
    );
}

#[test]
fn a_refused_refresh_token_is_a_token_stage_error_without_the_token() {
    let credential = cached_credential(r#"{"exp":1767232800}"#);
    let secret = credential.password.expose().clone();
    let mut flow = LoginFlow::new(
        REGISTRY,
        Credentials::RefreshToken(credential),
        options(&["repository:team/app:pull"]),
    );
    assert!(matches!(flow.step(1_000, Event::Start), Step::Send(_)));
    let echo = format!(r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"bad token {secret}"}}]}}"#);
    let response = Response {
        status: 401,
        headers: Vec::new(),
        body: echo.into_bytes(),
    };
    let Step::Failed(error) = flow.step(2_000, Event::Response(response)) else {
        panic!("a 401 ends the login");
    };
    assert_eq!(
        (error.kind(), error.stage(), error.status()),
        (LoginErrorKind::Refused, Stage::Token, Some(401))
    );
    assert!(!error.message().contains(&secret), "{}", error.message());
}
