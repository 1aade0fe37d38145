//! `cargo xtask bench [--quick]`: builds the components, then builds the
//! benchmark (`bench/`, package `acr-auth-bench`) and the `acr-auth` CLI in
//! release, and runs the benchmark. It prints a table and writes
//! `target/bench/results.json`; BENCHMARKS.md explains the numbers.
//!
//! `--quick` takes far fewer samples and builds the hosts with the
//! `quick-bench` profile (no LTO): a smoke test for CI that still exercises
//! every measurement. `--baseline DIR` also measures the components in DIR
//! (another build's `target/components`) beside this build's, in the same run.

use anyhow::Result;

use super::{build, cargo, run, with_components};

/// Builds what the benchmark measures and runs it with `args`
/// (`--quick`, `--baseline DIR`).
pub fn bench(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let components = build()?;
    let profile = if quick { "quick-bench" } else { "release" };
    // One invocation, so that the CLI and the benchmark share their
    // dependencies' build (the benchmark measures the CLI as a process, from
    // the same directory as itself).
    let mut build_both = cargo();
    build_both.args([
        "build",
        "--profile",
        profile,
        "--package",
        "acr-auth-bench",
        "--package",
        "acr-auth-cli",
    ]);
    run(with_components(&mut build_both, &components))?;
    let mut bench = cargo();
    bench.args(["run", "--profile", profile, "--package", "acr-auth-bench", "--"]);
    bench.args(args);
    run(with_components(&mut bench, &components))
}
