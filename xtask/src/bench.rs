//! `cargo xtask bench [--quick]`: builds the components, then builds the
//! benchmark (`bench/`, package `acr-auth-bench`) and the `acr-auth` CLI in
//! release, and runs the benchmark. It prints a table and writes
//! `target/bench/results.json`; BENCHMARKS.md explains the numbers.
//!
//! `--quick` takes far fewer samples and builds the hosts with the
//! `quick-bench` profile (no LTO): numbers in minutes that still exercise
//! every measurement. `--baseline DIR` also measures the components in DIR
//! (another build's `target/components`) beside this build's, in the same run.
//! `cargo xtask test` runs the benchmark with `--quick` as a smoke test on the
//! debug build its tests use ([`smoke`]).

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use super::{build, cargo, run, target_dir, with_components};

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

/// `cargo xtask test`'s smoke run: the benchmark with `--quick`, on the debug
/// build of the workspace that the tests use, and the debug CLI beside it.
/// It must work; its numbers, from unoptimised code, are not judged, and
/// building no other profile keeps a cold test run from building wasmtime
/// twice.
pub fn smoke(components: &[PathBuf]) -> Result<()> {
    let bench = target_dir().join("debug/acr-auth-bench");
    run(with_components(Command::new(bench).arg("--quick"), components))
}
