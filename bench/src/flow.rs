//! One whole login as the sans-IO flow, stepped with canned answers and no
//! network: the native [`LoginFlow`] beside the `pure` component's
//! `login-flow` resource in the [`Embedder`] (a store per flow, each step a
//! call). What the flow itself costs per login, apart from sending bytes.

use acr_auth::{Credentials, Event, LoginFlow, LoginOptions, Response, Secret, Step};
use acr_auth_host::wit::{flow, http};
use acr_auth_host::{Embedder, Limits};
use acr_auth_test_support::inputs::unsigned_jwt;
use anyhow::{Result, ensure};
use serde_json::json;

use crate::stats::{Plan, Stat, measure};

/// The registry logged in to.
const REGISTRY: &str = "myregistry.azurecr.io";
/// When the login runs, in unix milliseconds.
const NOW_MS: u64 = 1_767_222_000_000;
/// The repository scope the login asks for.
const SCOPE: &str = "repository:team/app:pull";

/// The two answers of a login with a repository scope: the exchange's
/// refresh token and the token request's access token, real-sized JWTs.
pub fn answers() -> [Vec<u8>; 2] {
    let claims = |exp: u64, pad: usize| {
        json!({"aud": REGISTRY, "exp": exp, "iat": 1_767_222_000u64, "tenant": "72f988bf-86f1-41af-91ab-2d7cd011db47",
               "grant_type": "refresh_token", "permissions": {"actions": ["pull"]}, "pad": "x".repeat(pad)})
    };
    [
        json!({ "refresh_token": unsigned_jwt(&claims(1_767_232_800, 1500)) })
            .to_string()
            .into_bytes(),
        json!({ "access_token": unsigned_jwt(&claims(1_767_225_600, 900)) })
            .to_string()
            .into_bytes(),
    ]
}

/// An Entra access token of a real size (about 2 KB).
pub fn entra_token() -> String {
    unsigned_jwt(&json!({"aud": "https://containerregistry.azure.net", "pad": "y".repeat(1400)}))
}

/// One login through the component's `login-flow` (a store per login),
/// answered with `answers`: its step count and the credential's expiry, or
/// `None` when it ended otherwise.
pub fn component_login(embedder: &Embedder, token: &str, answers: &[Vec<u8>; 2]) -> Result<Option<(usize, u64)>> {
    let options = flow::LoginOptions {
        tenant: None,
        repository_scopes: vec![SCOPE.to_owned()],
        discover: false,
        custom_cloud: None,
        connect_timeout_ms: None,
        first_byte_timeout_ms: None,
        between_bytes_timeout_ms: None,
        retry: None,
    };
    let credentials = flow::Credentials::EntraToken(token.to_owned());
    let mut login = embedder.login_flow(REGISTRY, &credentials, &options)?;
    let (mut event, mut steps) = (flow::Event::Start, 0);
    loop {
        steps += 1;
        match login.step(NOW_MS, &event)? {
            flow::Step::Send(_) => {
                event = flow::Event::Response(http::Response {
                    status: 200,
                    headers: Vec::new(),
                    body: answers[steps - 1].clone(),
                });
            }
            flow::Step::Done(result) => return Ok(Some((steps, result.credential.expires_at))),
            _ => return Ok(None),
        }
    }
}

/// Measures one login (exchange, then token) through each flow, and counts its steps.
pub fn flow_steps(component: &[u8], plan: &Plan) -> Result<Vec<Stat>> {
    let answers = answers();
    let token = entra_token();
    let scopes = vec![SCOPE.to_owned()];
    let native_login = || {
        let options = LoginOptions {
            repository_scopes: scopes.clone(),
            ..LoginOptions::default()
        };
        let mut flow = LoginFlow::new(REGISTRY, Credentials::EntraToken(Secret::new(token.clone())), options);
        let (mut event, mut steps) = (Event::Start, 0);
        loop {
            steps += 1;
            match flow.step(NOW_MS, event) {
                Step::Send(_) => {
                    event = Event::Response(Response {
                        status: 200,
                        headers: Vec::new(),
                        body: answers[steps - 1].clone(),
                    });
                }
                Step::Done(result) => return Some((steps, result.credential.expires_at)),
                _ => return None,
            }
        }
    };
    let embedder = Embedder::new(component, Limits::default()).map_err(anyhow::Error::from)?;
    let component_login = || component_login(&embedder, &token, &answers);
    let native_end = native_login();
    ensure!(
        native_end == Some((3, 1_767_232_800)),
        "the native flow ended as {native_end:?}"
    );
    ensure!(component_login()? == native_end, "the component's flow ended otherwise");

    let native = measure(
        "login flow, exchange + token (3 steps): native LoginFlow",
        plan,
        native_login,
    );
    let wasm = measure(
        "login flow, exchange + token (3 steps): component login-flow, a store per login (Embedder)",
        plan,
        || component_login().expect("no trap"),
    );
    let wasm = wasm.versus(&native);
    Ok(vec![native, wasm])
}
