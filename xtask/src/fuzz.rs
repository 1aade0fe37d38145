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
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{build, cargo, root, run, with_components};

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
            "scope" => text_seeds("scope", "reference")?,
            "cloud_environment" => text_seeds("cloud-environment", "json")?,
            "challenge" => text_seeds("challenge", "header")?,
            "exchange_request" => field_seeds("exchange-request", |case| {
                vec![input(case, "reference"), input(case, "token"), input(case, "tenant")]
            })?,
            "token_request" => field_seeds("token-request", |case| {
                let mut fields = vec![input(case, "reference"), input(case, "token")];
                fields.extend(list_input(case, "scopes"));
                fields
            })?,
            "refresh_token" => response_seeds("refresh-token")?,
            "access_token" => response_seeds("access-token")?,
            "entra_token_request" => entra_request_seeds()?,
            "entra_token_response" => cases("entra-token-response")?
                .iter()
                .map(|case| {
                    let number = |key| case.get(key).and_then(Value::as_u64).unwrap_or_default();
                    let status = u16::try_from(number("status")).unwrap_or_default();
                    [
                        &status.to_be_bytes()[..],
                        &number("now").to_be_bytes(),
                        input(case, "body").as_bytes(),
                    ]
                    .concat()
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

/// The cases of `tests/cases/<file>.json`.
fn cases(file: &str) -> Result<Vec<Value>> {
    let path = root().join("tests/cases").join(format!("{file}.json"));
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// A case's string input `key` as the conformance tests read it: a string,
/// or `{"repeat", "times", "prefix"?, "suffix"?}`; empty when absent or null.
fn input(case: &Value, key: &str) -> String {
    match case.get(key) {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => {
            let part = |k| o.get(k).and_then(Value::as_str).unwrap_or_default();
            let times = o.get("times").and_then(Value::as_u64).unwrap_or_default();
            format!(
                "{}{}{}",
                part("prefix"),
                part("repeat").repeat(times as usize),
                part("suffix")
            )
        }
        Some(other) => other.to_string(),
    }
}

/// A case's list input `key`: an array of strings, or `{"repeat", "times"}`.
fn list_input(case: &Value, key: &str) -> Vec<String> {
    match case.get(key) {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_owned).collect(),
        Some(Value::Object(o)) => {
            let text = o.get("repeat").and_then(Value::as_str).unwrap_or_default();
            vec![text.to_owned(); o.get("times").and_then(Value::as_u64).unwrap_or_default() as usize]
        }
        _ => Vec::new(),
    }
}

/// One seed per case: its `key` as the whole input.
fn text_seeds(file: &str, key: &str) -> Result<Vec<Vec<u8>>> {
    Ok(cases(file)?.iter().map(|case| input(case, key).into_bytes()).collect())
}

/// One seed per case: the fields `fields` gives, joined by NUL bytes; a
/// case whose field holds a NUL has no seed (it cannot be written).
fn field_seeds(file: &str, fields: impl Fn(&Value) -> Vec<String>) -> Result<Vec<Vec<u8>>> {
    Ok(cases(file)?
        .iter()
        .map(fields)
        .filter(|fields| !fields.iter().any(|f| f.contains('\0')))
        .map(|fields| fields.join("\0").into_bytes())
        .collect())
}

/// One seed per case of `entra-token-request.json`: the identity's selector
/// byte (as the target reads it), then tenant, client or managed identity
/// ID, credential, authority host and scope.
fn entra_request_seeds() -> Result<Vec<Vec<u8>>> {
    Ok(cases("entra-token-request")?
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
            let text = |key: &str| input(app, key);
            let id = [text("client_id"), text("object_id"), text("resource_id")].concat();
            let credential = [text("assertion"), text("secret")].concat();
            let fields = [
                text("tenant"),
                id,
                credential,
                text("authority_host"),
                input(case, "scope"),
            ];
            (!fields.iter().any(|f| f.contains('\0')))
                .then(|| [vec![selector], fields.join("\0").into_bytes()].concat())
        })
        .collect())
}

/// One seed per case of a response-parsing file: the status, big-endian,
/// then the body.
fn response_seeds(file: &str) -> Result<Vec<Vec<u8>>> {
    cases(file)?
        .iter()
        .map(|case| {
            let status = case
                .get("status")
                .and_then(Value::as_u64)
                .context("a case without a status")?;
            let status = u16::try_from(status).context("a status over 65535")?;
            Ok([&status.to_be_bytes()[..], &response_body(case)].concat())
        })
        .collect()
}

/// A response case's body, built as `response_body` in
/// `tests/conformance/mod.rs` builds it: `body` as text, or a token
/// field (`token_field`, by default `refresh_token`) holding
/// `token_segments` joined with dots or the `jwt` encoded here.
fn response_body(case: &Value) -> Vec<u8> {
    let token = if let Some(segments) = case.get("token_segments").and_then(Value::as_array) {
        segments.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(".")
    } else if let Some(jwt) = case.get("jwt") {
        let flag = |key| jwt.get(key).and_then(Value::as_bool).unwrap_or(false);
        let engine = match (flag("standard_alphabet"), flag("padded")) {
            (false, false) => &URL_SAFE_NO_PAD,
            (false, true) => &URL_SAFE,
            (true, false) => &STANDARD_NO_PAD,
            (true, true) => &STANDARD,
        };
        let signature = jwt.get("signature").and_then(Value::as_str).unwrap_or_default();
        format!(
            "{}.{}.{}",
            engine.encode(jwt["header"].to_string()),
            engine.encode(jwt["payload"].to_string()),
            engine.encode(signature)
        )
    } else {
        return input(case, "body").into_bytes();
    };
    let field = case
        .get("token_field")
        .and_then(Value::as_str)
        .unwrap_or("refresh_token");
    json!({ field: token }).to_string().into_bytes()
}
