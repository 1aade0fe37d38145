//! Measurements of other processes: the `acr-auth` CLI as a whole, and the
//! Node (jco) and Python (wasmtime-py) hosts' own `resolve-scope` latency,
//! read from what their examples print. A host that is not set up is skipped
//! with a note, never failed.

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use acr_auth_test_support::acr_server::{ENTRA_HOST, TestAcr, TestApp};
use anyhow::{Context as _, Result, bail, ensure};

use crate::stats::{Plan, Stat, measure};

/// Runs `command`, failing unless it exits successfully; returns its output.
fn output(command: &mut Command) -> Result<Output> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting {command:?}"))?;
    ensure!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}

/// Measures `cli scope myregistry.azurecr.io` as a whole process (start, get
/// the compiled component, one call, exit), once compiling the component at
/// every start and once loading it from wasmtime's on-disk cache.
pub fn cli(cli: &Path, target: &Path, plan: &Plan) -> Result<Vec<Stat>> {
    let profile = cli
        .parent()
        .and_then(Path::file_name)
        .map_or_else(String::new, |p| p.to_string_lossy().into_owned());
    // A cache directory of its own, filled by a first run; and one that
    // cannot be created even by root (below a file), so every start
    // compiles the component.
    let cache = target.join("bench/cli-cache");
    let _ = std::fs::remove_dir_all(&cache);
    let mut rows: Vec<Stat> = Vec::new();
    for (label, home) in [
        (
            "component compiled at every start",
            Path::new("/dev/null/acr-auth-bench"),
        ),
        ("compiled component from the on-disk cache", cache.as_path()),
    ] {
        let mut scope = Command::new(cli);
        scope
            .args(["scope", crate::inputs::SHORT_REFERENCE])
            .env("HOME", home)
            .env("XDG_CACHE_HOME", home)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        output(&mut scope)?;
        let row = measure(
            format!("CLI process `acr-auth scope` ({profile} build): {label}"),
            plan,
            || {
                let status = scope.status().expect("the CLI starts");
                assert!(status.success(), "the CLI failed: {status}");
            },
        );
        rows.push(match rows.first() {
            Some(compiled) => row.versus(compiled),
            None => row,
        });
    }
    Ok(rows)
}

/// The registry the docker helper rows log in to: the test ACR's name.
const HELPER_HOST: &str = "helperbenchregistry.azurecr.io";

/// Measures the docker credential helper's `get` (the CLI installed as
/// `docker-credential-acr-auth`) as a whole process against the local test
/// ACR, which also answers Entra: a first `get`, which logs in (a client
/// secret for an Entra token, then the exchange for a refresh token), and
/// a `get` answered from the refresh-token cache, which sends no request.
/// Both find the compiled components where earlier runs left them.
pub fn docker_helper(cli: &Path, target: &Path, plan: &Plan) -> Result<Vec<Stat>> {
    let app = TestApp {
        tenant: "72f988bf-86f1-41af-91ab-2d7cd011db47".into(),
        client_id: "04b07795-8ddb-461a-bbee-02f9e1bf7b46".into(),
        credential: "bench-client-secret".into(),
    };
    let acr = TestAcr::builder(HELPER_HOST).entra_app(app.clone()).start();
    let dir = target.join("bench/docker-helper");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin"))?;
    let helper = dir.join("bin/docker-credential-acr-auth");
    std::fs::copy(cli, &helper).with_context(|| format!("copying {}", cli.display()))?;
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, acr.ca_pem())?;
    let home = dir.join("home");
    let rules = [HELPER_HOST, ENTRA_HOST].map(|host| format!("{host}:443:127.0.0.1:{}", acr.port()));
    let mut get = Command::new(&helper);
    get.arg("get")
        .env("ACR_AUTH_CACERT", &ca)
        .env("ACR_AUTH_CONNECT_TO", rules.join(","))
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .envs([
            ("AZURE_TENANT_ID", &app.tenant),
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_CLIENT_SECRET", &app.credential),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut run = || {
        let mut child = get.spawn().expect("the helper starts");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(HELPER_HOST.as_bytes()).expect("writing the server");
        drop(stdin);
        let status = child.wait().expect("the helper finishes");
        assert!(status.success(), "the helper failed: {status}");
    };
    // Compiles the pure component into the on-disk cache of this home.
    run();
    let profile = cli
        .parent()
        .and_then(Path::file_name)
        .map_or_else(String::new, |p| p.to_string_lossy().into_owned());
    let tokens = home.join(".cache/acr-auth");
    let login = measure(
        format!("docker helper `get` ({profile} build): login, Entra + exchange against the test ACR"),
        plan,
        || {
            let _ = std::fs::remove_dir_all(&tokens);
            run();
        },
    );
    let requests = acr.requests().len();
    let cached = measure(
        format!("docker helper `get` ({profile} build): refresh token from its cache, no request"),
        plan,
        &mut run,
    )
    .versus(&login);
    ensure!(
        acr.requests().len() == requests,
        "a cached `get` sent {} requests",
        acr.requests().len() - requests
    );
    Ok(vec![login, cached])
}

/// A host of another language and how to read its example's output.
struct Foreign {
    /// The row name.
    name: &'static str,
    /// The example's directory under the repository root.
    dir: &'static str,
    /// A file that exists once the host is set up, relative to the root.
    ready: &'static str,
    /// What to do when it is not.
    setup: &'static str,
    /// A command run in `dir` before the example (none when empty).
    prepare: &'static [&'static str],
    /// The program, relative to the root unless it is on `PATH`.
    program: &'static str,
    /// The example script.
    script: &'static str,
    /// The word before the microseconds in the example's timing line.
    before_number: &'static str,
}

/// The Node and Python hosts.
const FOREIGN: [Foreign; 2] = [
    Foreign {
        name: "Node (jco): resolveScope example input, one instance, median of a run",
        dir: "examples/node",
        ready: "examples/node/node_modules/.bin/jco",
        setup: "cd examples/node && npm ci",
        // Transpiles the component this benchmark measures (offline).
        prepare: &["npm", "run", "--silent", "build"],
        program: "node",
        script: "example.js",
        before_number: "median",
    },
    Foreign {
        name: "Python (wasmtime-py): resolve_scope example input, fresh store, mean of a run",
        dir: "examples/python",
        ready: "target/python-venv/bin/python",
        setup: "bash examples/python/test.sh --collect-only -q",
        prepare: &[],
        program: "target/python-venv/bin/python",
        script: "example.py",
        before_number: "resolve_scope:",
    },
];

/// Runs each host's example `runs` times and records its latency per call;
/// returns the rows and a note for each host skipped.
pub fn foreign_hosts(root: &Path, components: &Path, runs: usize) -> (Vec<Stat>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for host in &FOREIGN {
        if !root.join(host.ready).exists() {
            notes.push(format!("{}: skipped, not set up (run `{}`)", host.name, host.setup));
            continue;
        }
        match foreign_host(root, components, host, runs) {
            Ok(row) => rows.push(row),
            Err(e) => notes.push(format!("{}: skipped: {e:#}", host.name)),
        }
    }
    (rows, notes)
}

/// Runs one host's example `runs` times, with the components of this
/// build (`components`, which the hosts read as `ACR_AUTH_COMPONENTS_DIR`).
fn foreign_host(root: &Path, components: &Path, host: &Foreign, runs: usize) -> Result<Stat> {
    let dir = root.join(host.dir);
    let command = |program: &Path| {
        let mut command = Command::new(program);
        command.current_dir(&dir).env("ACR_AUTH_COMPONENTS_DIR", components);
        command
    };
    if let [program, args @ ..] = host.prepare {
        output(command(Path::new(program)).args(args))?;
    }
    let program = if host.program.contains('/') {
        root.join(host.program)
    } else {
        host.program.into()
    };
    let samples = (0..runs)
        .map(|_| {
            let run = output(command(&program).arg(host.script))?;
            microseconds_after(&String::from_utf8_lossy(&run.stdout), host.before_number)
        })
        .collect::<Result<Vec<f64>>>()?;
    Ok(Stat::from_samples(host.name, "µs", samples))
}

/// The number that follows `marker` on the last line holding it and is
/// followed by `µs`.
fn microseconds_after(stdout: &str, marker: &str) -> Result<f64> {
    let Some(line) = stdout
        .lines()
        .rev()
        .find(|line| line.contains(marker) && line.contains("µs"))
    else {
        bail!("no line with {marker:?} and µs in the output:\n{stdout}");
    };
    let after = &line[line.find(marker).expect("found above") + marker.len()..];
    let number = after.split_whitespace().next().unwrap_or_default();
    number
        .parse()
        .with_context(|| format!("reading the latency in {line:?}"))
}

#[cfg(test)]
mod tests {
    use super::microseconds_after;

    #[test]
    fn reads_the_examples_output() {
        let node = "resolveScope latency over 20000 calls: median 1.25 µs, mean 1.50 µs per call";
        assert_eq!(microseconds_after(node, "median").unwrap(), 1.25);
        let python = "credential: x\nresolve_scope:  23.4 µs per call (5000 calls, fresh store each)";
        assert_eq!(microseconds_after(python, "resolve_scope:").unwrap(), 23.4);
    }
}
