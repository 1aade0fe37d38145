//! Measures a whole login (`/oauth2/exchange`, optionally `/v2/` discovery
//! and `/oauth2/token`) through the client component against the local test
//! ACR over TLS on 127.0.0.1, and prints the median, p10 and p90.
//!
//! `cargo run --release -p acr-auth-host-tests --example login_roundtrip [N]`
//!
//! Each login opens new TLS connections (the host keeps no pool), so the
//! numbers include TCP and TLS handshakes on loopback.

use std::time::{Duration, Instant};

use acr_auth_host::client::ClientRuntime;
use acr_auth_host::client::wit::flow::{Credentials, LoginOptions};
use acr_auth_host::network::{Network, connect_to_rule};
use acr_auth_test_support::acr_server::{DEFAULT_ENTRA_TOKEN, TestAcr};

const HOST: &str = "benchregistry.azurecr.io";

fn main() {
    let samples: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(200);
    let acr = TestAcr::builder(HOST).start();
    let network =
        Network::new(Some(acr.ca_pem().as_bytes()), vec![connect_to_rule(HOST, acr.addr())]).expect("network");
    let compile = Instant::now();
    let client = ClientRuntime::new(network).expect("client component");
    println!(
        "compile the client component: {:.1} ms",
        compile.elapsed().as_secs_f64() * 1e3
    );

    for (name, discover, scopes) in [
        ("exchange only", false, vec![]),
        (
            "discovery + exchange + token",
            true,
            vec!["repository:team/app:pull".to_owned()],
        ),
    ] {
        let options = LoginOptions {
            tenant: None,
            repository_scopes: scopes,
            discover,
            custom_cloud: None,
            connect_timeout_ms: None,
            first_byte_timeout_ms: None,
            between_bytes_timeout_ms: None,
            retry: None,
        };
        let credentials = Credentials::EntraToken(DEFAULT_ENTRA_TOKEN.to_owned());
        let mut times: Vec<Duration> = (0..samples + 10)
            .map(|_| {
                let start = Instant::now();
                client
                    .login(HOST, &credentials, &options)
                    .expect("no trap")
                    .expect("login succeeds");
                start.elapsed()
            })
            .skip(10)
            .collect();
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
        println!(
            "login, {name}: median {:.2} ms, p10 {:.2} ms, p90 {:.2} ms ({samples} samples)",
            at(0.5),
            at(0.1),
            at(0.9)
        );
    }
}
