//! The local test ACR as a process, for hosts that are not Rust (Node, Python).
//!
//! `test-acr <HOST> <PORT> <CA-FILE> [--tenant ID]` writes the test CA's PEM to
//! CA-FILE, prints one line `ready <host> <port>` on stdout, and serves until its
//! standard input closes or 10 minutes pass, whichever comes first, so it
//! never outlives the test that started it.

use std::io::Read as _;
use std::time::Duration;

use acr_auth_host_tests::acr_server::TestAcr;

/// The longest a test server may live.
const LIFETIME: Duration = Duration::from_secs(600);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port, ca_file) = match args.as_slice() {
        [host, port, ca_file, ..] => (host, port.parse().expect("a port number"), ca_file),
        _ => {
            eprintln!("usage: test-acr <HOST> <PORT> <CA-FILE> [--tenant ID]");
            std::process::exit(2);
        }
    };
    let tenant = args.iter().position(|a| a == "--tenant").and_then(|i| args.get(i + 1));
    let acr = TestAcr::builder(host)
        .port(port)
        .tenant(tenant.map(String::as_str))
        .start();
    std::fs::write(ca_file, acr.ca_pem()).expect("writing the CA file");
    println!("ready {} {}", acr.host(), acr.port());

    let (done, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        let _ = done.send(());
    });
    let _ = wait.recv_timeout(LIFETIME);
    drop(acr);
}
