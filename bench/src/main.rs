//! `acr-auth-bench [--quick]`: measures acr-auth on this machine and writes
//! `target/bench/results.json`.
//!
//! In one process: each pure function natively and through the `pure`
//! component in wasmtime (one reused instance, and the embedder's fresh store
//! per call), the cheapest component call, instantiation with the default and
//! the pooling allocator, linear memory per instance, compile and load times,
//! a login against a local test ACR through the `client` component and
//! through the native library, and the pull proxy in front of that test ACR
//! (pulls per second against the same client straight to it, logins per
//! 1,000 pulls, memory per in-flight request). Then, as other processes: the
//! `acr-auth` CLI, its docker credential helper's `get` with a login and from
//! its token cache, and the Node and Python hosts' examples when they are set
//! up.
//!
//! With `--baseline DIR`, it also measures another build's components beside
//! this build's (see `baseline.rs`).
//!
//! Run it with `cargo xtask bench [--quick]`, which builds the components and
//! the release CLI first. Nothing here asserts on a time: the numbers are for
//! people, and BENCHMARKS.md says how to read them.

mod baseline;
mod component;
mod external;
mod flow;
mod inputs;
mod login;
mod proxy;
mod stats;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use stats::{Plan, Stat};

/// Runs of each Node and Python example: each run is one sample.
const FOREIGN_RUNS_QUICK: usize = 1;
/// Runs of each Node and Python example in a full run.
const FOREIGN_RUNS_FULL: usize = 5;

fn main() -> Result<()> {
    let mut quick = false;
    let mut baseline = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.len()) {
            ("--quick", _) => quick = true,
            ("--baseline", 1..) => baseline = args.next().map(PathBuf::from),
            _ => bail!("usage: acr-auth-bench [--quick] [--baseline DIR]"),
        }
    }
    let plan = if quick { Plan::QUICK } else { Plan::FULL };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let started = Instant::now();

    println!(
        "acr-auth-bench ({}): {}",
        if quick { "quick" } else { "full" },
        machine()
    );
    println!(
        "wasmtime component-model-async: {}",
        if cfg!(feature = "component-model-async") {
            "on"
        } else {
            "off (the workspace's setting)"
        }
    );
    let mut rows = Vec::new();
    let mut notes = Vec::new();

    section("pure functions: native, wasm on a reused instance, wasm through Embedder");
    rows.extend(component::pure_calls(acr_auth_host::COMPONENT, &plan)?);
    section("instantiation");
    rows.extend(component::instantiation(acr_auth_host::COMPONENT, &plan)?);
    section("shadow stack");
    rows.extend(component::stack_needed(acr_auth_host::COMPONENT)?);
    section("compile and load");
    rows.extend(component::compile_and_load(
        acr_auth_host::COMPONENT,
        acr_auth_host::CLIENT_COMPONENT,
        &plan,
    )?);
    if let Some(dir) = &baseline {
        section(&format!(
            "the baseline components in {} beside this build's",
            dir.display()
        ));
        rows.extend(baseline::compare(
            dir,
            acr_auth_host::COMPONENT,
            acr_auth_host::CLIENT_COMPONENT,
            &plan,
        )?);
    }
    section("one login through the flow, canned answers, no network");
    rows.extend(flow::flow_steps(acr_auth_host::COMPONENT, &plan)?);
    section("login round trips against the local test ACR");
    rows.extend(login::round_trips(&plan)?);
    section("connections per login, 20 ms per new connection");
    rows.extend(login::connection_reuse(&plan)?);
    section("the pull proxy against the local test ACR");
    rows.extend(proxy::rows(&plan, quick)?);

    section("the acr-auth CLI as a process");
    // The CLI built with the same profile, beside this binary.
    let cli = std::env::current_exe()?.with_file_name("acr-auth");
    if cli.exists() {
        rows.extend(external::cli(&cli, &target, &plan)?);
        rows.extend(external::docker_helper(&cli, &target, &plan)?);
    } else {
        notes.push(format!(
            "CLI: skipped, no {} (cargo xtask bench builds it)",
            cli.display()
        ));
    }
    section("Node and Python hosts");
    let (foreign, skipped) = external::foreign_hosts(
        &root,
        &target.join("components"),
        if quick { FOREIGN_RUNS_QUICK } else { FOREIGN_RUNS_FULL },
    );
    rows.extend(foreign);
    notes.extend(skipped);

    print_table(&rows);
    for note in &notes {
        println!("note: {note}");
    }
    let out = target.join("bench/results.json");
    write_results(&out, &rows)?;
    println!(
        "wrote {} ({} rows) in {:.0} s",
        out.display(),
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Says what is being measured now.
fn section(name: &str) {
    println!("measuring {name}...");
}

/// The machine, as `nproc`, `/proc/cpuinfo` and `/proc/meminfo` describe it.
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let read = |path: &str, key: &str| {
        std::fs::read_to_string(path).ok().and_then(|text| {
            text.lines()
                .find(|line| line.starts_with(key))
                .and_then(|line| line.split_once(':'))
                .map(|(_, value)| value.trim().to_owned())
        })
    };
    let model = read("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown CPU".to_owned());
    let memory = read("/proc/meminfo", "MemTotal").unwrap_or_else(|| "unknown".to_owned());
    format!("{cpus} CPUs available, {model}, {memory} memory")
}

/// A number with about four significant digits.
fn number(value: f64) -> String {
    match value.abs() {
        v if v >= 1000.0 => format!("{value:.0}"),
        v if v >= 100.0 => format!("{value:.1}"),
        v if v >= 10.0 => format!("{value:.2}"),
        _ => format!("{value:.3}"),
    }
}

/// Prints the rows as a Markdown table.
fn print_table(rows: &[Stat]) {
    let width = rows.iter().map(|row| row.name.chars().count()).max().unwrap_or(0);
    println!();
    println!(
        "| {:width$} | median | p10 | p90 | unit | samples | ratio |",
        "measurement"
    );
    println!("|{}|---:|---:|---:|---|---:|---:|", "-".repeat(width + 2));
    for row in rows {
        let ratio = row
            .versus
            .as_ref()
            .map_or_else(String::new, |(_, ratio)| format!("{}×", number(*ratio)));
        println!(
            "| {:width$} | {} | {} | {} | {} | {} | {ratio} |",
            row.name,
            number(row.median),
            number(row.p10),
            number(row.p90),
            row.unit,
            row.samples,
        );
    }
    println!();
    println!(
        "ratio: this row's median over its baseline's (wasm over native, pooling over default, login component over native, load over compile)"
    );
}

/// Writes the rows as a JSON array to `out`.
fn write_results(out: &Path, rows: &[Stat]) -> Result<()> {
    std::fs::create_dir_all(out.parent().expect("results go in a directory"))?;
    let json = Value::Array(rows.iter().map(Stat::to_json).collect());
    std::fs::write(out, serde_json::to_string_pretty(&json)?).with_context(|| format!("writing {}", out.display()))
}
