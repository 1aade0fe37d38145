//! The local test ACR as a process, for hosts that are not Rust (Node, Python).
//!
//! `test-acr <HOST> <PORT> <CA-FILE> [--tenant ID] [--entra-app TENANT:CLIENT-ID:SECRET]
//! [--platform PLATFORM] [--print-requests] [--image-digests FILE]`
//! writes the test CA's PEM to CA-FILE, prints one line `ready <host> <port>` on stdout,
//! and serves until its standard input closes or 10 minutes pass, whichever comes first,
//! so it never outlives the test that started it. With `--entra-app` it also answers
//! Entra's token endpoint for that app, as login.microsoftonline.com.
//!
//! With `--platform` it also serves that platform's managed-identity endpoint over plain
//! HTTP on another loopback port, and prints `identity-endpoint <url>` (the value of
//! `IDENTITY_ENDPOINT` or `MSI_ENDPOINT`) before the ready line. PLATFORM is one of
//! `app-service:<IDENTITY_HEADER>[:<client-id>]` (the client ID a user-assigned identity
//! must send), `arc:<key-file-name>:<key>` or `cloud-shell`. With `--print-requests`,
//! once its standard input closes it prints every request it received, oldest first,
//! one line each: `request ` and a JSON object with `method`, `path`, `query` (null
//! without one), `headers` (`[name, value]` pairs in the order received, names in lower
//! case) and `body` (as UTF-8, lossily). With `--image-digests` it writes the digests of
//! the image every repository holds to FILE before the ready line, one `<role> <digest>` a
//! line: `index`, `manifest`, `config`, `layer`, `layer`.

use std::io::Read as _;
use std::time::Duration;

use acr_auth_test_support::acr_server::{Platform, TestAcr, TestApp, TestImage};
use serde_json::json;

/// The longest a test server may live.
const LIFETIME: Duration = Duration::from_secs(600);

const USAGE: &str = "usage: test-acr <HOST> <PORT> <CA-FILE> [--tenant ID] \
                     [--entra-app TENANT:CLIENT-ID:SECRET] [--platform PLATFORM] [--print-requests] \
                     [--image-digests FILE]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port, ca_file) = match args.as_slice() {
        [host, port, ca_file, ..] => (
            host,
            port.parse().unwrap_or_else(|_| refuse("PORT is a port number")),
            ca_file,
        ),
        _ => refuse(USAGE),
    };
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let mut builder = TestAcr::builder(host)
        .port(port)
        .tenant(option("--tenant").map(String::as_str));
    if let Some(app) = option("--entra-app") {
        let [tenant, client_id, credential] = app.splitn(3, ':').collect::<Vec<_>>()[..] else {
            refuse("--entra-app takes TENANT:CLIENT-ID:SECRET");
        };
        builder = builder.entra_app(TestApp {
            tenant: tenant.into(),
            client_id: client_id.into(),
            credential: credential.into(),
        });
    }
    let platform = option("--platform").map(String::as_str).map(platform);
    if let Some(platform) = &platform {
        builder = builder.platform(platform.clone());
    }
    let acr = builder.start();
    std::fs::write(ca_file, acr.ca_pem()).expect("writing the CA file");
    if let Some(file) = option("--image-digests") {
        let image = TestImage::new();
        let roles = [
            ("index", &image.index),
            ("manifest", &image.manifest),
            ("config", &image.config),
        ]
        .into_iter()
        .chain(image.layers.iter().map(|layer| ("layer", layer)));
        let lines: String = roles.map(|(role, blob)| format!("{role} {}\n", blob.digest)).collect();
        std::fs::write(file, lines).expect("writing the image digests");
    }
    if let (Some(platform), Some(addr)) = (&platform, acr.metadata_addr()) {
        println!("identity-endpoint {}", platform.endpoint(addr));
    }
    println!("ready {} {}", acr.host(), acr.port());

    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done.send(());
    });
    let _ = wait.recv_timeout(LIFETIME);
    if args.iter().any(|a| a == "--print-requests") {
        for request in acr.requests() {
            let line = json!({
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": request.headers,
                "body": String::from_utf8_lossy(&request.body),
            });
            println!("request {line}");
        }
    }
    drop(acr);
}

/// The platform `spec` (`--platform`'s value) names.
fn platform(spec: &str) -> Platform {
    match spec.split(':').collect::<Vec<_>>()[..] {
        ["app-service", header] => Platform::AppService {
            header: header.into(),
            client_id: None,
        },
        ["app-service", header, client_id] => Platform::AppService {
            header: header.into(),
            client_id: Some(client_id.into()),
        },
        ["arc", key_name, key] => Platform::AzureArc {
            key_name: key_name.into(),
            key: key.into(),
        },
        ["cloud-shell"] => Platform::CloudShell,
        _ => refuse(
            "--platform takes app-service:<IDENTITY_HEADER>[:<client-id>], arc:<key-file-name>:<key> or cloud-shell",
        ),
    }
}

/// Ends the process with `message` and the usage error status.
fn refuse(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}
