//! The local test ACR as a process, for hosts that are not Rust (Node, Python).
//!
//! `test-acr <HOST> <PORT> <CA-FILE> [--tenant ID] [--entra-app TENANT:CLIENT-ID:SECRET]
//! [--image-digests FILE]` writes the test CA's PEM to CA-FILE (and, with `--image-digests`,
//! the digests of the image every repository holds to FILE, one `<role> <digest>` a line:
//! `index`, `manifest`, `config`, `layer`, `layer`), prints one line `ready <host> <port>` on stdout,
//! and serves until its standard input closes or 10 minutes pass, whichever comes first,
//! so it never outlives the test that started it. With `--entra-app` it also answers
//! Entra's token endpoint for that app, as login.microsoftonline.com.

use std::io::Read as _;
use std::time::Duration;

use acr_auth_test_support::acr_server::{TestAcr, TestApp, TestImage};

/// The longest a test server may live.
const LIFETIME: Duration = Duration::from_secs(600);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port, ca_file) = match args.as_slice() {
        [host, port, ca_file, ..] => (host, port.parse().expect("a port number"), ca_file),
        _ => {
            eprintln!(
                "usage: test-acr <HOST> <PORT> <CA-FILE> [--tenant ID] [--entra-app TENANT:CLIENT-ID:SECRET] \
                 [--image-digests FILE]"
            );
            std::process::exit(2);
        }
    };
    let option = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1));
    let mut builder = TestAcr::builder(host)
        .port(port)
        .tenant(option("--tenant").map(String::as_str));
    if let Some(app) = option("--entra-app") {
        let [tenant, client_id, credential] = app.splitn(3, ':').collect::<Vec<_>>()[..] else {
            eprintln!("--entra-app takes TENANT:CLIENT-ID:SECRET");
            std::process::exit(2);
        };
        builder = builder.entra_app(TestApp {
            tenant: tenant.into(),
            client_id: client_id.into(),
            credential: credential.into(),
        });
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
    println!("ready {} {}", acr.host(), acr.port());

    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done.send(());
    });
    let _ = wait.recv_timeout(LIFETIME);
    drop(acr);
}
