//! 500 logins at once through one Rust host: one engine and one compiled
//! client component, a fresh store per login, 32 threads, five registries with
//! an Entra token each. Every login must return a refresh token its own
//! registry issued, for that registry, and no token may be returned twice;
//! the process's peak memory must stay bounded.
//!
//! Run with `--nocapture` to see the throughput and memory figures.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use acr_auth_test_support::acr_server::{Handshake, TestAcr};
use acr_auth_test_support::client::{client, login_ok, options};
use acr_auth_test_support::inputs::jwt_claims;

const REGISTRIES: usize = 5;
const LOGINS: usize = 500;
const THREADS: usize = 32;

/// The process's peak resident memory is bounded by this. At most [`THREADS`]
/// stores are alive at once, each limited to 16 MiB of linear memory: 512 MiB
/// if every one reached its limit, which a login never comes near. The rest is
/// the compiled component, five test registries and their logs, and a debug
/// build's allocator slack: tens of MiB. A host that kept stores or response
/// bodies alive after their logins, or buffered without bound, would pass
/// 1 GiB.
const PEAK_RSS_BOUND: u64 = 1 << 30;

/// The registry host of server `i`.
fn host(i: usize) -> String {
    format!("concurrent{i}.azurecr.io")
}

/// The Entra token server `i` accepts, and no other does.
fn entra_token(i: usize) -> String {
    format!("entra-token-for-registry-{i}")
}

/// The process's peak resident set size so far (`VmHWM`), in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kib = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().strip_suffix("kB"))
        .and_then(|value| value.trim().parse::<u64>().ok())
        .expect("VmHWM in kB");
    kib * 1024
}

#[test]
fn five_hundred_concurrent_logins_through_one_host() {
    let servers: Vec<TestAcr> = (0..REGISTRIES)
        .map(|i| TestAcr::builder(&host(i)).entra_token(&entra_token(i)).start())
        .collect();
    let client = client(&servers.iter().collect::<Vec<_>>());
    let rss_before = peak_rss();

    let next = AtomicUsize::new(0);
    let start = Instant::now();
    // (registry, refresh token) of every login.
    let returned: Vec<(usize, String)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let login = next.fetch_add(1, Ordering::Relaxed);
                        if login >= LOGINS {
                            return done;
                        }
                        let registry = login % REGISTRIES;
                        let result = login_ok(&client, &host(registry), &entra_token(registry), &options());
                        assert_eq!(result.login_server, host(registry));
                        done.push((registry, result.credential.password));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().expect("a login thread panicked"))
            .collect()
    });
    let wall = start.elapsed();
    let rss_after = peak_rss();
    println!(
        "{LOGINS} logins on {THREADS} threads: {:.2} s, {:.0} logins/s; peak RSS {:.1} MiB before, {:.1} MiB after",
        wall.as_secs_f64(),
        LOGINS as f64 / wall.as_secs_f64(),
        rss_before as f64 / f64::from(1 << 20),
        rss_after as f64 / f64::from(1 << 20),
    );

    assert_eq!(returned.len(), LOGINS);
    let distinct: HashSet<&str> = returned.iter().map(|(_, token)| token.as_str()).collect();
    assert_eq!(distinct.len(), LOGINS, "a refresh token was returned twice");
    for (registry, token) in &returned {
        assert_eq!(
            jwt_claims(token)["aud"],
            host(*registry),
            "a token for another registry"
        );
    }
    for (i, server) in servers.iter().enumerate() {
        let issued: HashSet<String> = server.issued_refresh_tokens().into_iter().map(|t| t.token).collect();
        let received: HashSet<String> = returned
            .iter()
            .filter(|(registry, _)| *registry == i)
            .map(|(_, token)| token.clone())
            .collect();
        assert_eq!(received, issued, "{}: returned tokens differ from issued ones", host(i));
        let per_server = LOGINS / REGISTRIES;
        assert_eq!(issued.len(), per_server, "{}", host(i));
        let requests = server.requests();
        assert_eq!(requests.len(), per_server, "{}", host(i));
        assert!(
            requests
                .iter()
                .all(|r| r.path == "/oauth2/exchange" && r.field("service") == Some(host(i).as_str())),
            "{}",
            host(i)
        );
        // The host keeps connections: no more are opened than logins ran at once.
        let handshakes = server.handshakes();
        assert!(
            handshakes.iter().all(|h| *h == Handshake::Completed),
            "{}: {handshakes:?}",
            host(i)
        );
        assert!(
            (1..=THREADS).contains(&handshakes.len()),
            "{}: {} connections for {per_server} logins on {THREADS} threads",
            host(i),
            handshakes.len()
        );
    }
    assert!(
        rss_after < PEAK_RSS_BOUND,
        "peak RSS {rss_after} bytes is over {PEAK_RSS_BOUND}"
    );
}
