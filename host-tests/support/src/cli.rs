//! Running the `acr-auth` binary as a user does. `cargo xtask test` builds
//! it and names it in `ACR_AUTH_CLI`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::acr_server::{ENTRA_HOST, TestAcr, TestApp};

/// A command running the CLI binary: `ACR_AUTH_CLI`, or the workspace's
/// debug build.
pub fn command() -> Command {
    let path = std::env::var_os("ACR_AUTH_CLI").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/debug/acr-auth"),
        PathBuf::from,
    );
    assert!(path.exists(), "{} missing: run `cargo xtask test`", path.display());
    Command::new(path)
}

/// The CLI under the docker credential helper's name, in a directory of its
/// own for the test `name`: a symbolic link, as a package would install it
/// (the CLI acts by the name it runs as). Not a copy: a binary still open for
/// writing cannot be run, and a child that another test forks meanwhile
/// holds the copy open ("Text file busy").
pub fn docker_helper(name: &str) -> PathBuf {
    let dir = temp_file(&format!("{name}-helper-bin"), b"").with_extension("dir");
    std::fs::create_dir_all(&dir).expect("a directory");
    let helper = dir.join("docker-credential-acr-auth");
    let _ = std::fs::remove_file(&helper);
    std::os::unix::fs::symlink(command().get_program(), &helper).expect("linking the binary");
    helper
}

/// Runs the CLI with `stdin` and returns its output.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    let mut pipe = child.stdin.take().expect("stdin");
    let input = stdin.to_vec();
    // The CLI stops reading at its input cap, so a broken pipe is expected
    // for oversize input; the writer runs beside the reader to avoid a deadlock.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let out = child.wait_with_output().expect("the CLI finishes");
    writer.join().expect("the writer thread finishes");
    out
}

/// `cmd` without the identity variables of the test's own environment (the
/// Azure SDKs' `AZURE_*` and the platforms' managed-identity endpoints), so
/// that only what a test sets chooses the identity.
pub fn without_identity(mut cmd: Command) -> Command {
    for (name, _) in std::env::vars_os() {
        let text = name.to_string_lossy();
        if ["AZURE_", "IDENTITY_", "IMDS_", "MSI_"]
            .iter()
            .any(|prefix| text.starts_with(prefix))
        {
            cmd.env_remove(&name);
        }
    }
    cmd
}

/// Runs `cmd` (any program: the CLI, the docker helper, `unshare`) without
/// the test's identity variables, with `stdin`, and returns its output.
pub fn run_command(cmd: Command, stdin: &str) -> Output {
    let mut child = without_identity(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the program starts");
    let written = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
    // A program may end without reading its input (the helper's `store`
    // reads none), closing the pipe first.
    if let Err(e) = written {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "writing stdin: {e}");
    }
    child.wait_with_output().expect("the program finishes")
}

/// Runs the CLI expecting success and returns its JSON output.
pub fn success(args: &[&str], stdin: &[u8]) -> Value {
    let out = run(args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "{args:?} wrote to stderr");
    serde_json::from_slice(&out.stdout).expect("stdout is JSON")
}

/// Runs the CLI expecting failure and returns its one-line error.
pub fn failure(args: &[&str], stdin: &[u8], code: i32) -> String {
    let out = run(args, stdin);
    assert_eq!(out.status.code(), Some(code), "{args:?}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout on failure");
    let stderr = String::from_utf8(out.stderr).expect("stderr is UTF-8");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr:?}");
    stderr
}

/// A file in a directory of this test process under the target directory's
/// `tmp/` (where cargo keeps test scratch files), so that nothing is left
/// behind outside the build tree.
pub fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join(format!("tmp/acr-auth-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("temp file");
    path
}

/// The arguments of `acr-auth login <reference>` with `entra_token` in a token file, aimed at
/// `acr`: its CA as `--cacert` (the sixth argument), its registry host sent to its address.
/// `name` keeps this test's files apart from other tests'.
pub fn login_args(acr: &TestAcr, reference: &str, entra_token: &str, name: &str) -> Vec<String> {
    let token = temp_file(&format!("{name}-token"), format!("{entra_token}\n").as_bytes());
    let ca = temp_file(&format!("{name}-ca.pem"), acr.ca_pem().as_bytes());
    vec![
        "login".into(),
        reference.into(),
        "--entra-token-file".into(),
        token.display().to_string(),
        "--cacert".into(),
        ca.display().to_string(),
        "--connect-to".into(),
        format!("{}:443:127.0.0.1:{}", acr.host(), acr.port()),
    ]
}

/// A home directory of its own for the test `name`, empty but for
/// `.cache/wasmtime`, a link to a compiled-code cache this test process
/// shares (so that only its first CLI run compiles the component): a helper
/// run with it as `HOME` and `XDG_CACHE_HOME=$HOME/.cache` keeps its token
/// cache there, never in the user's.
pub fn empty_home(name: &str) -> PathBuf {
    let home = temp_file(&format!("{name}-home"), b"").with_extension("dir");
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".cache")).expect("a home directory");
    let compiled = temp_file("compiled-code", b"").with_extension("dir");
    std::fs::create_dir_all(&compiled).expect("a compiled-code cache");
    std::os::unix::fs::symlink(&compiled, home.join(".cache/wasmtime")).expect("linking the compiled-code cache");
    home
}

/// Runs the docker helper at `path` with `action` and `stdin`, signing in as
/// `app` with its client secret, against `acr`'s registry and Entra (its CA
/// in `ACR_AUTH_CACERT`, both hosts sent to its port), with `home` as its
/// home and cache directory. Its stdout is returned without the trailing
/// newline.
pub fn run_helper(path: &Path, acr: &TestAcr, app: &TestApp, home: &Path, action: &str, stdin: &str) -> Output {
    let ca = temp_file(&format!("helper-ca-{}.pem", acr.port()), acr.ca_pem().as_bytes());
    let rules = [acr.host(), ENTRA_HOST].map(|host| format!("{host}:443:127.0.0.1:{}", acr.port()));
    let mut cmd = Command::new(path);
    cmd.arg(action)
        .env("ACR_AUTH_CACERT", &ca)
        .env("ACR_AUTH_CONNECT_TO", rules.join(","))
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .envs([
            ("AZURE_CLIENT_ID", &app.client_id),
            ("AZURE_TENANT_ID", &app.tenant),
            ("AZURE_CLIENT_SECRET", &app.credential),
        ]);
    let mut out = run_command(cmd, stdin);
    out.stdout = String::from_utf8(out.stdout).expect("UTF-8").trim_end().into();
    out
}
