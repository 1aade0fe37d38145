//! A whole login against the local test ACR ([`TestAcr`], HTTPS on
//! 127.0.0.1): the `client` component in [`ClientRuntime`], and the native
//! library's [`acr_auth::login_async`] over `acr-auth-hyper`'s
//! [`HyperTransport`], which sends the same requests the same way (hyper,
//! rustls, a connection per host kept across logins).

use acr_auth::{Credentials, Secret};
use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::flow::{Credentials as ComponentCredentials, LoginOptions as ComponentLoginOptions};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_hyper::HyperTransport;
use acr_auth_test_support::acr_server::{DEFAULT_ENTRA_TOKEN, TestAcr};
use anyhow::{Context as _, Result, ensure};

use crate::stats::{Plan, Stat, measure};

/// The registry name the test ACR's certificate carries.
const HOST: &str = "benchregistry.azurecr.io";

/// The repository scope the full flow asks an access token for.
const SCOPE: &str = "repository:team/app:pull";

/// Measures both logins, exchange only and with discovery and an access
/// token, against one test ACR.
pub fn round_trips(plan: &Plan) -> Result<Vec<Stat>> {
    let acr = TestAcr::builder(HOST).start();
    let ca = acr.ca_pem();
    let network = Network::new(Some(ca.as_bytes()), vec![connect_to_rule(HOST, acr.addr())])?;
    let client = ClientRuntime::new(network)?;
    let mut native = HyperTransport::with_ca_pem(ca.as_bytes())?.connect_to(acr.addr());
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut rows = Vec::new();
    for (flow, discover, scopes) in [
        ("exchange only", false, vec![]),
        ("discovery + exchange + token", true, vec![SCOPE.to_owned()]),
    ] {
        let component_options = ComponentLoginOptions {
            tenant: None,
            repository_scopes: scopes.clone(),
            discover,
            custom_cloud: None,
            connect_timeout_ms: None,
            first_byte_timeout_ms: None,
            between_bytes_timeout_ms: None,
            retry: None,
        };
        let native_options = acr_auth::LoginOptions {
            repository_scopes: scopes,
            discover,
            ..Default::default()
        };
        let native_credentials = Credentials::EntraToken(Secret::new(DEFAULT_ENTRA_TOKEN.to_owned()));
        let component_credentials = ComponentCredentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned());
        let mut native_login = || {
            runtime.block_on(acr_auth::login_async(
                &mut native,
                HOST,
                native_credentials.clone(),
                native_options.clone(),
            ))
        };
        let component_login = || client.login(HOST, &component_credentials, &component_options);
        let native_result = native_login().context("native login")?;
        let component_result = component_login()?.map_err(|e| anyhow::anyhow!("component login: {}", e.message))?;
        ensure!(
            native_result.access_token.is_some() == discover,
            "native login: unexpected access token"
        );
        ensure!(
            component_result.access_token.is_some() == discover,
            "component login: unexpected access token"
        );

        let native_stat = measure(
            format!("login {flow}: native (acr_auth::login_async, hyper)"),
            plan,
            || native_login().expect("native login succeeds"),
        );
        let component_stat = measure(format!("login {flow}: client component (ClientRuntime)"), plan, || {
            component_login().expect("no trap").expect("component login succeeds")
        });
        let component_stat = component_stat.versus(&native_stat);
        rows.extend([native_stat, component_stat]);
    }
    Ok(rows)
}

/// A way of logging in, named for its rows.
type Way<'a> = (&'static str, Box<dyn Fn() + 'a>);

/// The delay the test ACR adds to each new connection: the round trips of a
/// TCP and a TLS handshake to a registry some distance away.
const CONNECTION_DELAY: std::time::Duration = std::time::Duration::from_millis(20);

/// A login with discovery and a repository's access token (three requests)
/// through the `client` component against a test ACR that answers each new
/// connection [`CONNECTION_DELAY`] late: with a connection per request (as
/// before the host kept connections), with a fresh host per login (one
/// connection per host), and with one host kept across logins. Each with its
/// connections per login, counted by the server.
pub fn connection_reuse(plan: &Plan) -> Result<Vec<Stat>> {
    let acr = TestAcr::builder(HOST).connection_delay(CONNECTION_DELAY).start();
    let ca = acr.ca_pem();
    let network = || Network::new(Some(ca.as_bytes()), vec![connect_to_rule(HOST, acr.addr())]);
    let compiled = ClientRuntime::new(network()?)?;
    let options = ComponentLoginOptions {
        tenant: None,
        repository_scopes: vec![SCOPE.to_owned()],
        discover: true,
        custom_cloud: None,
        connect_timeout_ms: None,
        first_byte_timeout_ms: None,
        between_bytes_timeout_ms: None,
        retry: None,
    };
    let credentials = ComponentCredentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned());
    let login = |client: &ClientRuntime| {
        let result = client.login(HOST, &credentials, &options).expect("no trap");
        assert!(result.expect("the login succeeds").access_token.is_some());
    };
    let kept = compiled.with_network(network()?);
    let ways: [Way; 3] = [
        (
            "a connection per request",
            Box::new(|| login(&compiled.with_network(network().expect("network").without_connection_reuse()))),
        ),
        (
            "connections kept within the login (a fresh host per login)",
            Box::new(|| login(&compiled.with_network(network().expect("network")))),
        ),
        ("connections kept across logins (one host)", Box::new(|| login(&kept))),
    ];
    let mut rows = Vec::new();
    for (way, run) in ways {
        let before = acr.handshakes().len();
        const COUNTED: usize = 5;
        for _ in 0..COUNTED {
            run();
        }
        let per_login = (acr.handshakes().len() - before) as f64 / COUNTED as f64;
        rows.push(measure(
            format!(
                "login, discovery + exchange + token, {} ms per new connection: {way}",
                CONNECTION_DELAY.as_millis()
            ),
            plan,
            &*run,
        ));
        rows.push(Stat::single(
            format!("connections per login: {way}"),
            "connections",
            per_login,
        ));
    }
    let first = rows[0].clone();
    for row in rows.iter_mut().skip(2).step_by(2) {
        *row = row.clone().versus(&first);
    }
    Ok(rows)
}
