//! A long-running host in miniature: one [`Embedder`], then a stream of
//! calls, each in a fresh store under the default limits. Prints each
//! request's answer and, at the end, the per-call latency of `resolve-scope`.
//!
//! `cargo run --release -p acr-auth-host --example serve [COMPONENT] [CALLS]`
//! (the component defaults to `target/components/acr_auth.wasm`).

use std::time::Instant;

use acr_auth_host::{Embedder, Limits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| "target/components/acr_auth.wasm".to_owned());
    let calls: u32 = args.next().map_or(Ok(20_000), |n| n.parse())?;
    let embedder = Embedder::new(&std::fs::read(&path)?, Limits::default())?;

    for reference in [
        "MyRegistry.azurecr.io/team/app:1.2",
        "http://myregistry.azurecr.io",
        "x.azurecr.io.evil.com",
    ] {
        match embedder.resolve_scope(reference, None)? {
            Ok(scope) => println!("{reference}: {} for {}", scope.scope, scope.login_server),
            Err(refused) => println!("{reference}: refused: {}", refused.message),
        }
    }

    for _ in 0..1_000 {
        embedder.resolve_scope("myregistry.azurecr.io/team/app:1.2", None)?.ok();
    }
    let start = Instant::now();
    for _ in 0..calls {
        embedder.resolve_scope("myregistry.azurecr.io/team/app:1.2", None)?.ok();
    }
    let per_call = start.elapsed().as_secs_f64() * 1e6 / f64::from(calls);
    println!("resolve-scope, fresh store per call: {per_call:.2} µs per call ({calls} calls)");
    Ok(())
}
