//! `cargo xtask demo`: the main job end to end, on this machine only.
//!
//! It starts the local test ACR (`test-acr`, from `host-tests/support`) on an
//! ephemeral 127.0.0.1 port; it answers as the registry and as Entra's token
//! endpoint (`login.microsoftonline.com`) for one app registration, whose
//! credential is a Kubernetes service-account token, as AKS workload identity
//! federates it. Then the `acr-auth` binary resolves a scope, logs in with
//! that workload identity through the `client` component, answers the
//! kubelet as its credential provider and docker as its credential helper.
//! Every connection goes to the test ACR (`--connect-to ::127.0.0.1:PORT`,
//! whose empty host and port match every host), so nothing leaves the
//! machine, not even a DNS query.
//!
//! Each step prints its command and input, its output with every token
//! replaced by its length, and its time; the demo checks each answer (the
//! registry's login server, the zero-GUID user name, a JWT as the password,
//! the service-account token as the Entra assertion), so that the `demo`
//! stage of `cargo xtask test` fails when any of it breaks.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail, ensure};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::{root, shown, target_dir};

/// The registry of the demo; every connection to it goes to the test ACR.
const REGISTRY: &str = "myregistry.azurecr.io";
/// The image the kubelet pulls.
const IMAGE: &str = "myregistry.azurecr.io/team/app:1.2";
/// The workload identity's app registration: its tenant and client ID, as
/// the pod's service account's annotations and AKS's variables name them.
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
/// Entra's authority, as AKS sets `AZURE_AUTHORITY_HOST`.
const AUTHORITY_HOST: &str = "https://login.microsoftonline.com/";
/// The user name of every ACR refresh token.
const REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";
/// The token scope of every registry in the public cloud.
const ACR_SCOPE: &str = "https://containerregistry.azure.net/.default";
/// JSON members whose values are secrets: never printed, whole or in part.
const SECRET_MEMBERS: [&str; 4] = ["password", "access_token", "Secret", "serviceAccountToken"];

/// Runs the demo with the `acr-auth` binary `cli` and the test ACR binary
/// `test_acr`, both already built.
pub fn run(cli: &Path, test_acr: &Path) -> Result<()> {
    let started = Instant::now();
    let dir = target_dir().join("demo");
    std::fs::create_dir_all(&dir)?;
    let token_file = dir.join("service-account-token");
    let service_account_token = service_account_token();
    std::fs::write(&token_file, &service_account_token)?;
    let ca = dir.join("ca.pem");

    println!("# Start the local test ACR: the registry {REGISTRY} and Entra's token endpoint, on 127.0.0.1 only");
    let app = format!("{TENANT}:{CLIENT_ID}:<the service-account token>");
    println!("$ {} {REGISTRY} 0 {} --entra-app {app}", shown(test_acr), shown(&ca));
    let server = TestAcr::start(test_acr, &ca, &format!("{TENANT}:{CLIENT_ID}:{service_account_token}"))?;
    let connect_to = format!("::127.0.0.1:{}", server.port);
    println!(
        "listening on 127.0.0.1:{}; every connection below goes there (--connect-to {connect_to}: an empty \
         HOST:PORT matches every host), trusting only the test CA ({})",
        server.port,
        shown(&ca)
    );

    let cli_shown = shown(cli).into_owned();
    let network = [
        "--cacert".to_owned(),
        shown(&ca).into_owned(),
        "--connect-to".to_owned(),
        connect_to.clone(),
    ];
    // The variables AKS workload identity sets in a pod.
    let workload_identity = [
        ("AZURE_FEDERATED_TOKEN_FILE", shown(&token_file).into_owned()),
        ("AZURE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("AZURE_TENANT_ID", TENANT.to_owned()),
        ("AZURE_AUTHORITY_HOST", AUTHORITY_HOST.to_owned()),
    ];
    let mut times = Vec::new();

    // 1. Which token the image needs.
    let args = vec!["scope".to_owned(), IMAGE.to_owned()];
    let step = Step::new(
        "1. Which Entra token does an image need? (the pure component)",
        &cli_shown,
        &args,
    );
    let (took, scope) = step.run(Command::new(cli), None)?;
    times.push(("scope resolution", took));
    ensure!(
        scope["login_server"] == REGISTRY && scope["scope"] == ACR_SCOPE && scope["audience"] == "acr",
        "the scope of {IMAGE} is not the ACR audience of {REGISTRY}: {scope}"
    );

    // 2. A login with the pod's workload identity, through the client component.
    let mut args = vec![
        "login".to_owned(),
        IMAGE.to_owned(),
        "--scope".to_owned(),
        "repository:team/app:pull".to_owned(),
    ];
    args.extend(network.iter().cloned());
    let step = Step::new(
        "2. Log in with a workload identity (a service-account token file, as AKS projects it): Entra token, \
         ACR refresh token, repository access token (the client component over wasi:http)",
        &cli_shown,
        &args,
    )
    .with_env(&workload_identity);
    let (took, login) = step.run(Command::new(cli), None)?;
    times.push(("login with a workload identity", took));
    ensure!(
        login["login_server"] == REGISTRY
            && login["username"] == REFRESH_TOKEN_USERNAME
            && is_jwt(&login["password"])
            && is_jwt(&login["access_token"]),
        "the login did not return a refresh token and an access token for {REGISTRY}"
    );

    // 3. The kubelet's credential provider, with the pod's token in the request.
    let request = json!({
        "apiVersion": "credentialprovider.kubelet.k8s.io/v1",
        "kind": "CredentialProviderRequest",
        "image": IMAGE,
        "serviceAccountToken": service_account_token,
        "serviceAccountAnnotations": {
            "azure.workload.identity/client-id": CLIENT_ID,
            "azure.workload.identity/tenant-id": TENANT,
        },
    });
    let mut args = vec!["kubelet-credential-provider".to_owned()];
    args.extend(network.iter().cloned());
    let step = Step::new(
        "3. The kubelet asks its credential provider for the pod's image (service-account token image pulls)",
        &cli_shown,
        &args,
    );
    let (took, response) = step.run(Command::new(cli), Some(&request))?;
    times.push(("kubelet credential provider", took));
    let auth = &response["auth"][REGISTRY];
    ensure!(
        response["kind"] == "CredentialProviderResponse"
            && response["cacheKeyType"] == "Registry"
            && auth["username"] == REFRESH_TOKEN_USERNAME
            && is_jwt(&auth["password"]),
        "the credential provider's response has no credentials for {REGISTRY}"
    );

    // 4. docker's credential helper, the same binary under the helper's name.
    let helper = dir.join("bin/docker-credential-acr-auth");
    std::fs::create_dir_all(dir.join("bin"))?;
    let _ = std::fs::remove_file(&helper);
    std::os::unix::fs::symlink(cli.canonicalize()?, &helper).context("linking the docker credential helper")?;
    // A token cache of the demo's own, empty, instead of the user's.
    let token_cache = dir.join("token-cache");
    let _ = std::fs::remove_dir_all(&token_cache);
    let mut helper_env = workload_identity.to_vec();
    helper_env.push(("ACR_AUTH_CACERT", shown(&ca).into_owned()));
    helper_env.push(("ACR_AUTH_CONNECT_TO", connect_to.clone()));
    helper_env.push((
        "ACR_AUTH_TOKEN_CACHE",
        std::path::absolute(&token_cache)?.display().to_string(),
    ));
    let helper_shown = shown(&helper);
    let args = ["get".to_owned()];
    let step = Step::new(
        "4. docker (or skopeo, podman) asks its credential helper, docker-credential-acr-auth (a link to \
         acr-auth), for the registry's credentials",
        &helper_shown,
        &args,
    )
    .with_env(&helper_env);
    let (took, answer) = step.run(Command::new(&helper), Some(&json!(REGISTRY)))?;
    times.push(("docker credential helper get", took));
    ensure!(
        answer["ServerURL"] == REGISTRY && answer["Username"] == REFRESH_TOKEN_USERNAME && is_jwt(&answer["Secret"]),
        "the docker credential helper's answer has no credentials for {REGISTRY}"
    );
    // 5. The next pull: the helper answers from its token cache.
    let step = Step::new(
        "5. the next pull asks the helper again: it answers from its token cache (the refresh token, until \
         five minutes before it expires), with no request",
        &helper_shown,
        &args,
    )
    .with_env(&helper_env);
    let (took, again) = step.run(Command::new(&helper), Some(&json!(REGISTRY)))?;
    times.push(("docker helper get, cached", took));
    ensure!(
        again == answer,
        "the docker credential helper's second answer is not the token it cached"
    );

    let port = server.port;
    let received = server.stop()?;
    println!("\n# What the test ACR received: every request of the demo, on 127.0.0.1:{port}");
    for line in check_requests(&received, &service_account_token)? {
        println!("{line}");
    }

    println!("\n# Times");
    for (what, took) in &times {
        println!("{what:<32} {:>6.2} s", took.as_secs_f64());
    }
    println!("{:<32} {:>6.2} s", "the whole demo", started.elapsed().as_secs_f64());
    println!(
        "The first run on a machine compiles each component, which this debug build does slowly (seconds for \
         the client component); wasmtime's on-disk cache keeps the result for every later run."
    );
    print_next(cli);
    Ok(())
}

/// What to run next.
fn print_next(cli: &Path) {
    let cli = shown(cli);
    println!("\n# Next");
    println!(
        "cargo xtask test    # every test: the components, clippy, Rust, Node, Python, skopeo, benchmark and fuzz smoke runs"
    );
    println!("{cli} --help    # every command; `{cli} login <registry>` signs in with this machine's Azure identity");
    println!(
        "docs/kubelet-and-docker.md    # install the kubelet credential provider and the docker credential helper"
    );
    println!("examples/node/README.md, examples/python/README.md    # the same component from Node and Python");
    println!("docs/wit-api.md    # the WIT API, to embed the component in a host of your own");
}

/// A Kubernetes service-account token as AKS projects it for workload
/// identity (audience `api://AzureADTokenExchange`), about 1 KB. The test
/// Entra compares it with the app's credential; nothing verifies its signature.
fn service_account_token() -> String {
    let claims = json!({
        "aud": ["api://AzureADTokenExchange"],
        "exp": 1_893_456_000,
        "iat": 1_893_452_400,
        "iss": "https://westeurope.oic.prod-aks.azure.com/72f988bf-86f1-41af-91ab-2d7cd011db47/5e1a9b3c-7d2f-4e8a-b6c1-0f3d2a4e5b6c/",
        "kubernetes.io": {
            "namespace": "team",
            "pod": { "name": "app-6d8f9c7b5-x2k4q", "uid": "9a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d" },
            "serviceaccount": { "name": "puller", "uid": "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9" },
        },
        "nbf": 1_893_452_400,
        "sub": "system:serviceaccount:team:puller",
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","kid":"demo-signing-key"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode([0x5a; 256]),
    )
}

/// Whether `value` is a string of three base64url segments, as ACR's tokens are.
fn is_jwt(value: &Value) -> bool {
    value.as_str().is_some_and(|token| {
        let segments: Vec<&str> = token.split('.').collect();
        segments.len() == 3
            && segments.iter().all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            })
    })
}

/// `value` with the value of every [`SECRET_MEMBERS`] member, at any
/// depth, replaced by its length: what the demo may print.
fn redacted(value: &Value) -> Value {
    match value {
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(name, member)| {
                    let shown = match member {
                        Value::String(secret) if SECRET_MEMBERS.contains(&name.as_str()) => {
                            json!(format!("[redacted: {} bytes]", secret.len()))
                        }
                        other => redacted(other),
                    };
                    (name.clone(), shown)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redacted).collect()),
        other => other.clone(),
    }
}

/// One step of the demo: an `acr-auth` command, as shown and as run.
struct Step<'a> {
    title: &'a str,
    program: &'a str,
    args: &'a [String],
    env: Vec<(&'static str, String)>,
}

impl<'a> Step<'a> {
    fn new(title: &'a str, program: &'a str, args: &'a [String]) -> Self {
        Self {
            title,
            program,
            args,
            env: Vec::new(),
        }
    }

    /// Also sets these variables (which are shown: none is a secret).
    fn with_env(mut self, env: &[(&'static str, String)]) -> Self {
        self.env = env.to_vec();
        self
    }

    /// Prints the step, runs `cmd` (the program, with neither this process's
    /// identity variables nor its working directory) with the step's
    /// arguments, variables and `stdin`, and prints its output redacted.
    /// Returns how long the command took and its output as JSON.
    fn run(&self, mut cmd: Command, stdin: Option<&Value>) -> Result<(Duration, Value)> {
        println!("\n# {}", self.title);
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(name, value)| format!("{name}={value} "))
            .collect();
        let stdin_text = stdin.map(|input| match input {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        });
        let shown_stdin = match stdin {
            Some(Value::String(text)) => format!(" <<< {text}"),
            Some(input) => format!(" <<'JSON'\n{:#}\nJSON", redacted(input)),
            None => String::new(),
        };
        println!(
            "$ {}{} {}{shown_stdin}",
            env.concat(),
            self.program,
            self.args.join(" ")
        );
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if ["AZURE_", "IDENTITY_", "IMDS_", "MSI_", "ACR_AUTH_"]
                .iter()
                .any(|prefix| name.starts_with(prefix))
            {
                cmd.env_remove(name.as_ref());
            }
        }
        cmd.current_dir(root())
            .args(self.args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let began = Instant::now();
        let mut child = cmd.spawn().with_context(|| format!("starting {}", self.program))?;
        let mut pipe = child.stdin.take().context("the command's standard input")?;
        if let Some(text) = &stdin_text {
            pipe.write_all(text.as_bytes())?;
        }
        drop(pipe);
        let out = child.wait_with_output()?;
        let took = began.elapsed();
        // A failure's message is on stderr, or on stdout for the docker
        // helper protocol, and names no secret. A success is shown only as
        // JSON, redacted.
        ensure!(
            out.status.success(),
            "{} failed ({}): {}",
            self.program,
            out.status,
            String::from_utf8_lossy(if out.stderr.is_empty() {
                &out.stdout
            } else {
                &out.stderr
            })
            .trim()
        );
        let output: Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("{} succeeded but printed no JSON", self.program))?;
        println!("{:#}", redacted(&output));
        println!("({:.2} s)", took.as_secs_f64());
        Ok((took, output))
    }
}

/// The test ACR, running as a child process until [`TestAcr::stop`] (or
/// until it is dropped: its standard input closes and it exits).
struct TestAcr {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    port: u16,
}

impl TestAcr {
    /// Starts `test-acr` on an ephemeral 127.0.0.1 port, its CA written to
    /// `ca`, answering Entra for `app` (`TENANT:CLIENT-ID:CREDENTIAL`), and
    /// waits for its ready line.
    fn start(test_acr: &Path, ca: &Path, app: &str) -> Result<Self> {
        let mut child = Command::new(test_acr)
            .args([REGISTRY, "0"])
            .arg(ca)
            .args(["--entra-app", app, "--print-requests"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", test_acr.display()))?;
        let mut stdout = BufReader::new(child.stdout.take().context("the test ACR's output")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let port = match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["ready", host, port] if host == REGISTRY => port.parse().ok(),
            _ => None,
        };
        let Some(port) = port else {
            bail!("the test ACR did not start: {line:?}");
        };
        Ok(Self { child, stdout, port })
    }

    /// Stops the server and returns the requests it received.
    fn stop(mut self) -> Result<Vec<Value>> {
        drop(self.child.stdin.take());
        let mut text = String::new();
        self.stdout.read_to_string(&mut text)?;
        let status = self.child.wait()?;
        ensure!(status.success(), "the test ACR failed: {status}");
        text.lines()
            .filter_map(|line| line.strip_prefix("request "))
            .map(serde_json::from_str)
            .collect::<Result<Vec<Value>, _>>()
            .context("reading the test ACR's requests")
    }
}

/// Checks that each login asked Entra with the service-account token as the
/// workload identity's assertion; returns one line per request (method, host
/// and path, which hold no secret).
fn check_requests(received: &[Value], service_account_token: &str) -> Result<Vec<String>> {
    let mut entra = 0;
    let mut lines = Vec::new();
    for request in received {
        let host = request["headers"]
            .as_array()
            .and_then(|headers| headers.iter().find(|h| h[0] == "host"))
            .and_then(|h| h[1].as_str())
            .unwrap_or("(no host header)");
        let (method, path) = (
            request["method"].as_str().unwrap_or("?"),
            request["path"].as_str().unwrap_or("?"),
        );
        let what = match path {
            "/oauth2/exchange" => "the Entra token for an ACR refresh token",
            "/oauth2/token" => "the refresh token for a repository access token",
            _ if path.ends_with("/oauth2/v2.0/token") => {
                let body = request["body"].as_str().unwrap_or_default();
                let fields: Vec<&str> = body.split('&').collect();
                ensure!(
                    fields.contains(&format!("client_assertion={service_account_token}").as_str())
                        && fields.contains(&format!("client_id={CLIENT_ID}").as_str()),
                    "an Entra token request did not carry the service-account token as the workload identity's \
                     assertion"
                );
                entra += 1;
                "the service-account token for an Entra token"
            }
            _ => "",
        };
        lines.push(format!("{method} https://{host}{path}    {what}"));
    }
    // `login`, the kubelet provider and the helper's first `get` each ask
    // Entra; the second `get` asks no one.
    ensure!(
        entra == 3,
        "the test ACR saw {entra} Entra token requests, not one for each of the three logins"
    );
    Ok(lines)
}

impl Drop for TestAcr {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
