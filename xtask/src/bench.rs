//! `cargo xtask bench [--quick]`: builds the components, then builds the
//! benchmark (`bench/`, package `acr-auth-bench`) and the `acr-auth` CLI in
//! release, and runs the benchmark. It prints a table and writes
//! `target/bench/results.json`; BENCHMARKS.md explains the numbers.
//!
//! `--quick` takes far fewer samples and builds the hosts with the
//! `quick-bench` profile (no LTO): a smoke test for CI that still exercises
//! every measurement.

use anyhow::Result;

use super::{build, cargo, run, with_components};

/// Builds what the benchmark measures and runs it, with `--quick` if `quick`.
pub fn bench(quick: bool) -> Result<()> {
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
    if quick {
        bench.arg("--quick");
    }
    run(with_components(&mut bench, &components))
}
