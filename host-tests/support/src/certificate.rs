//! Client certificates for tests, made by `openssl` (an implementation
//! independent of the code under test): an RSA key and a self-signed
//! certificate in one PEM file, as `AZURE_CLIENT_CERTIFICATE_PATH` names
//! one, with the public key and SHA-256 thumbprint a test Entra checks
//! assertions against.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A certificate and what an Entra app registration knows of it.
pub struct TestCertificate {
    /// The PEM file: certificate, then its unencrypted private key.
    pub path: PathBuf,
    /// The certificate's public key, PEM (`PUBLIC KEY`).
    pub public_key_pem: String,
    /// The certificate's SHA-256 thumbprint, base64url: `x5t#S256`.
    pub thumbprint: String,
}

/// Runs `openssl` with `args`, returning its standard output.
fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Makes a 2048-bit RSA certificate for `name` in a directory of its own.
pub fn make(name: &str) -> TestCertificate {
    let dir = std::env::temp_dir().join(format!("acr-auth-{}-{name}-certificate", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a directory");
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=acr-auth test app",
        ],
        &dir,
    );
    let fingerprint = String::from_utf8(openssl(
        &["x509", "-in", "cert.pem", "-noout", "-fingerprint", "-sha256"],
        &dir,
    ))
    .expect("ASCII");
    let hex = fingerprint
        .trim()
        .rsplit('=')
        .next()
        .expect("a fingerprint")
        .replace(':', "");
    let digest: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect();
    let public_key_pem =
        String::from_utf8(openssl(&["x509", "-in", "cert.pem", "-noout", "-pubkey"], &dir)).expect("PEM");
    let mut pem = std::fs::read(dir.join("cert.pem")).expect("the certificate");
    pem.extend(std::fs::read(dir.join("key.pem")).expect("the key"));
    let path = dir.join("client.pem");
    std::fs::write(&path, pem).expect("the PEM file");
    TestCertificate {
        path,
        public_key_pem,
        thumbprint: URL_SAFE_NO_PAD.encode(digest),
    }
}
