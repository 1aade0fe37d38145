//! `cargo xtask fuzz [--seconds N]`: builds the components, installs
//! cargo-fuzz if it is missing, writes every fuzz target's seed corpus from
//! the case files (`tests/cases/`), then runs each target of `fuzz/`
//! for N seconds (default 60) with `cargo +nightly fuzz run` and prints how
//! many inputs each ran. A crash fails the command; libFuzzer leaves the
//! input under `fuzz/artifacts/<target>/`.
//!
//! `cargo xtask test` runs every target but `differential` for a few seconds
//! ([`smoke`]): that one runs the component in wasmtime, whose build with
//! sanitizer instrumentation would take longer than the whole smoke run, and
//! the host tests already run every case through the native library and the
//! component side by side.
//!
//! The seeds follow the input format of `fuzz/README.md`: fields separated
//! by NUL bytes, a big-endian status before a response body, and for the
//! differential target a byte choosing the function.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use serde_json::Value;

use super::{build, cargo, root, run, with_components};

/// Reading the case files, as the conformance tests read them.
#[path = "../../tests/conformance/case.rs"]
mod case;

/// The fuzz targets, in the order they run.
const TARGETS: [&str; 10] = [
    "scope",
    "cloud_environment",
    "exchange_request",
    "token_request",
    "refresh_token",
    "access_token",
    "challenge",
    "entra_token_request",
    "entra_token_response",
    "differential",
];

/// The targets whose inputs the differential target's selector bytes 0 to 7
/// choose (`Function` in `fuzz/src/lib.rs`): scope resolution comes twice,
/// without and with the custom cloud.
const DIFFERENTIAL_FUNCTIONS: [&str; 8] = [
    "scope",
    "scope",
    "cloud_environment",
    "exchange_request",
    "token_request",
    "challenge",
    "refresh_token",
    "access_token",
];

/// How long each target runs unless `--seconds` says otherwise.
const DEFAULT_SECONDS: u64 = 60;

/// How long `cargo xtask test` runs each target.
const SMOKE_SECONDS: u64 = 20;

/// What one target's run did.
struct Outcome {
    target: &'static str,
    executions: Option<u64>,
    seconds: f64,
    corpus_before: usize,
    corpus_after: usize,
    /// The input libFuzzer saved, when the run failed.
    failure: Option<String>,
}

/// The target that runs the component beside the native library: the only
/// one that builds wasmtime, behind the fuzz crate's feature of the same name.
const DIFFERENTIAL: &str = "differential";

/// Builds, installs cargo-fuzz if needed, writes the seeds and runs every
/// target for `seconds`; fails if any target crashed.
pub fn fuzz(seconds: u64) -> Result<()> {
    let components = build()?;
    clippy(&[DIFFERENTIAL], &components)?;
    run_targets(&TARGETS, seconds, &components)
}

/// Lints the fuzz crate, a workspace of its own, with `features` (the
/// [`DIFFERENTIAL`] target is linted only with its feature), failing on any
/// warning.
pub fn clippy(features: &[&str], components: &[PathBuf]) -> Result<()> {
    let mut command = cargo();
    command.args(["clippy", "--manifest-path", "fuzz/Cargo.toml", "--all-targets"]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    run(with_components(command.args(["--", "-D", "warnings"]), components))
}

/// Installs cargo-fuzz if needed, writes the seeds and runs `targets` for
/// `seconds` each; fails if any target crashed.
fn run_targets(targets: &[&'static str], seconds: u64, components: &[PathBuf]) -> Result<()> {
    install_cargo_fuzz()?;
    write_seeds()?;
    let outcomes = targets
        .iter()
        .map(|target| run_target(target, seconds, components))
        .collect::<Result<Vec<_>>>()?;
    println!(
        "\n{:<18} {:>12} {:>8} {:>16}",
        "target", "executions", "seconds", "corpus (new)"
    );
    for o in &outcomes {
        let executions = o.executions.map_or_else(|| "-".to_owned(), |n| n.to_string());
        let corpus = format!(
            "{} (+{})",
            o.corpus_after,
            o.corpus_after.saturating_sub(o.corpus_before)
        );
        println!("{:<18} {executions:>12} {:>8.0} {corpus:>16}", o.target, o.seconds);
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter_map(|o| Some(format!("{}: {}", o.target, o.failure.as_ref()?)))
        .collect();
    if !failed.is_empty() {
        bail!("fuzzing failed:\n{}", failed.join("\n"));
    }
    Ok(())
}

/// The seconds per target that `cargo xtask fuzz`'s arguments ask for:
/// `--seconds N`, or [`DEFAULT_SECONDS`].
pub fn seconds(args: &[String]) -> Result<u64> {
    match args {
        [] => Ok(DEFAULT_SECONDS),
        [flag, n] if flag == "--seconds" => n.parse().with_context(|| format!("--seconds {n:?} is not a number")),
        _ => bail!("usage: cargo xtask fuzz [--seconds N]"),
    }
}

/// `cargo xtask test`'s smoke run: every target but [`DIFFERENTIAL`] for a
/// few seconds, when a nightly toolchain is installed (cargo-fuzz needs one).
pub fn smoke(components: &[PathBuf]) -> Result<()> {
    let toolchains = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .context("running rustup toolchain list")?;
    if !String::from_utf8_lossy(&toolchains.stdout)
        .lines()
        .any(|line| line.starts_with("nightly"))
    {
        println!("note: no nightly toolchain installed (rustup toolchain list): skipping the fuzz smoke run");
        return Ok(());
    }
    let targets: Vec<&'static str> = TARGETS.into_iter().filter(|t| *t != DIFFERENTIAL).collect();
    run_targets(&targets, SMOKE_SECONDS, components)
}

/// Installs cargo-fuzz unless `cargo fuzz` already runs.
fn install_cargo_fuzz() -> Result<()> {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))
}

/// A target's corpus directory, cargo-fuzz's default.
fn corpus_dir(target: &str) -> PathBuf {
    root().join("fuzz/corpus").join(target)
}

/// How many inputs a corpus directory holds.
fn corpus_size(dir: &Path) -> Result<usize> {
    match std::fs::read_dir(dir) {
        Ok(entries) => Ok(entries.count()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e).with_context(|| format!("reading {}", dir.display())),
    }
}

/// Runs one target for `seconds`, echoing libFuzzer's output, and reads how
/// many inputs it ran from its last lines.
fn run_target(target: &'static str, seconds: u64, components: &[PathBuf]) -> Result<Outcome> {
    let corpus = corpus_dir(target);
    let corpus_before = corpus_size(&corpus)?;
    println!("\n# fuzzing {target} for {seconds} s");
    let mut command = Command::new("cargo");
    command.args(["+nightly", "fuzz", "run", target]);
    if target == DIFFERENTIAL {
        command.args(["--features", DIFFERENTIAL]);
    }
    command
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-rss_limit_mb=2048")
        .current_dir(root())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = with_components(&mut command, components)
        .spawn()
        .with_context(|| format!("starting cargo fuzz run {target}"))?;
    let (mut executions, mut done_seconds, mut artifact) = (None, None, None);
    let stderr = child.stderr.take().context("no stderr")?;
    for line in BufReader::new(stderr).lines() {
        let line = line?;
        eprintln!("{line}");
        if let Some(n) = line.strip_prefix("stat::number_of_executed_units:") {
            executions = n.trim().parse().ok();
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // "Done 123456 runs in 61 second(s)"
            let words: Vec<&str> = rest.split_whitespace().collect();
            if let [runs, "runs", "in", secs, ..] = words[..] {
                executions = executions.or(runs.parse().ok());
                done_seconds = secs.parse().ok();
            }
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            artifact = Some(path.trim().to_owned());
        }
    }
    let status = child.wait()?;
    let failure = (!status.success()).then(|| artifact.unwrap_or_else(|| format!("exited with {status}")));
    Ok(Outcome {
        target,
        executions,
        seconds: done_seconds.unwrap_or_else(|| started.elapsed().as_secs_f64()),
        corpus_before,
        corpus_after: corpus_size(&corpus)?,
        failure,
    })
}

/// Writes `fuzz/corpus/<target>/seed-<n>` for every target from the case
/// files, replacing the seeds of earlier runs and keeping the inputs
/// libFuzzer added.
fn write_seeds() -> Result<()> {
    let seeds_of = |target: &str| -> Result<Vec<Vec<u8>>> {
        Ok(match target {
            "scope" => text_seeds("scope", "reference"),
            "cloud_environment" => text_seeds("cloud-environment", "json"),
            "challenge" => text_seeds("challenge", "header"),
            "exchange_request" => field_seeds("exchange-request", |case| {
                let (reference, token, tenant) = case::exchange_inputs(case);
                vec![reference, token, tenant.unwrap_or_default()]
            }),
            "token_request" => field_seeds("token-request", |case| {
                let (reference, token, scopes) = case::token_request_inputs(case);
                [vec![reference, token], scopes].concat()
            }),
            "refresh_token" => response_seeds("refresh-token"),
            "access_token" => response_seeds("access-token"),
            "entra_token_request" => entra_request_seeds(),
            "entra_token_response" => case::cases("entra-token-response")
                .iter()
                .map(|case| {
                    let (status, body, now) = case::entra_response_inputs(case);
                    [&status.to_be_bytes()[..], &now.to_be_bytes(), body.as_bytes()].concat()
                })
                .collect(),
            other => bail!("no seeds for {other}"),
        })
    };
    for target in TARGETS {
        let seeds = if target == "differential" {
            let mut seeds = Vec::new();
            for (selector, function) in (0u8..).zip(DIFFERENTIAL_FUNCTIONS) {
                seeds.extend(
                    seeds_of(function)?
                        .into_iter()
                        .map(|seed| [vec![selector], seed].concat()),
                );
            }
            seeds
        } else {
            seeds_of(target)?
        };
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path
                .file_name()
                .is_some_and(|name| name.to_string_lossy().starts_with("seed-"))
            {
                std::fs::remove_file(&path)?;
            }
        }
        for (n, seed) in seeds.iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{n}")), seed)?;
        }
        println!("wrote {} seeds to {}", seeds.len(), dir.display());
    }
    Ok(())
}

/// A case's string input `key` as the conformance tests build it; empty
/// when absent.
fn text(case: &Value, key: &str) -> String {
    case::input(case, key).unwrap_or_default()
}

/// One seed per case: its `key` as the whole input.
fn text_seeds(file: &str, key: &str) -> Vec<Vec<u8>> {
    case::cases(file)
        .iter()
        .map(|case| text(case, key).into_bytes())
        .collect()
}

/// One seed per case: the fields `fields` gives, joined by NUL bytes; a
/// case whose field holds a NUL has no seed (it cannot be written).
fn field_seeds(file: &str, fields: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<u8>> {
    case::cases(file)
        .iter()
        .map(fields)
        .filter(|fields| !fields.iter().any(|f| f.contains('\0')))
        .map(|fields| fields.join("\0").into_bytes())
        .collect()
}

/// One seed per case of `entra-token-request.json`: the identity's selector
/// byte (as the target reads it), then tenant, client or managed identity
/// ID, credential, authority host and scope.
fn entra_request_seeds() -> Vec<Vec<u8>> {
    case::cases("entra-token-request")
        .iter()
        .filter_map(|case| {
            let identity = &case["identity"];
            let (selector, app) = if let Some(app) = identity.get("federated_token") {
                (0u8, app)
            } else if let Some(app) = identity.get("client_secret") {
                (1, app)
            } else {
                let id = &identity["managed_identity"];
                let selector = ["client_id", "object_id", "resource_id"]
                    .iter()
                    .position(|key| id.get(key).is_some())
                    .map_or(2, |i| 3 + i as u8);
                (selector, id)
            };
            let of_app = |key: &str| text(app, key);
            let id = [of_app("client_id"), of_app("object_id"), of_app("resource_id")].concat();
            let credential = [of_app("assertion"), of_app("secret")].concat();
            let fields = [
                of_app("tenant"),
                id,
                credential,
                of_app("authority_host"),
                text(case, "scope"),
            ];
            (!fields.iter().any(|f| f.contains('\0')))
                .then(|| [vec![selector], fields.join("\0").into_bytes()].concat())
        })
        .collect()
}

/// One seed per case of a response-parsing file: the status, big-endian,
/// then the body.
fn response_seeds(file: &str) -> Vec<Vec<u8>> {
    case::cases(file)
        .iter()
        .map(|case| [&case::status(case).to_be_bytes()[..], &case::response_body(case).0].concat())
        .collect()
}
