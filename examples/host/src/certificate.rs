//! A service principal's certificate credential: the client assertion
//! (RFC 7523) it signs for Entra, RS256 with the certificate's SHA-256
//! thumbprint (`x5t#S256`) in the header, as Microsoft's identity platform
//! documents for certificate credentials.
//!
//! The claims come from the component (`client-assertion-claims`), so this
//! module only signs: signing needs RSA, which the components do not carry.

use std::fmt;
use std::sync::Arc;

use anyhow::{Context as _, Result, anyhow, bail};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use sha2::{Digest as _, Sha256};

/// The most bytes of a certificate file read: far above any real chain.
pub const MAX_CERTIFICATE_FILE_LEN: usize = 64 * 1024;

/// A certificate and its private key, from a PEM file.
pub struct ClientCertificate {
    key: EncodingKey,
    /// The leaf certificate's SHA-256 thumbprint, base64url.
    thumbprint: String,
    /// The chain, leaf first, each certificate base64 (standard) DER, as
    /// the `x5c` header carries it.
    chain: Vec<String>,
}

impl fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("thumbprint", &self.thumbprint)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl ClientCertificate {
    /// Reads a PEM file holding the certificate (the first `CERTIFICATE`
    /// block is the leaf; more form the chain) and its unencrypted RSA
    /// private key (`PRIVATE KEY` or `RSA PRIVATE KEY`). Errors name what is
    /// missing and never quote the file.
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        if pem.len() > MAX_CERTIFICATE_FILE_LEN {
            bail!("the certificate file is over {MAX_CERTIFICATE_FILE_LEN} bytes");
        }
        let blocks = pem::parse_many(pem).map_err(|_| anyhow!("the certificate file is not PEM"))?;
        let chain: Vec<&[u8]> = blocks
            .iter()
            .filter(|b| b.tag() == "CERTIFICATE")
            .map(pem::Pem::contents)
            .collect();
        let leaf = chain
            .first()
            .context("the certificate file holds no CERTIFICATE block")?;
        if blocks.iter().any(|b| b.tag() == "ENCRYPTED PRIVATE KEY") {
            bail!("the certificate's private key is encrypted: give it unencrypted");
        }
        let key = blocks
            .iter()
            .find(|b| matches!(b.tag(), "PRIVATE KEY" | "RSA PRIVATE KEY"))
            .context("the certificate file holds no PRIVATE KEY or RSA PRIVATE KEY block")?;
        let key = EncodingKey::from_rsa_pem(pem::encode(key).as_bytes())
            .map_err(|_| anyhow!("the certificate's private key is not an RSA key"))?;
        Ok(Self {
            key,
            thumbprint: URL_SAFE_NO_PAD.encode(Sha256::digest(leaf)),
            chain: chain.iter().map(|der| STANDARD.encode(der)).collect(),
        })
    }

    /// The leaf certificate's SHA-256 thumbprint, base64url: the header's
    /// `x5t#S256`.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// Signs `claims` (a JSON object, as `client-assertion-claims` returns
    /// it); with `send_chain`, the header carries the chain as `x5c`.
    pub fn sign(&self, claims: &str, send_chain: bool) -> Result<String> {
        let claims: serde_json::Value = serde_json::from_str(claims).context("the assertion claims are not JSON")?;
        let mut header = Header::new(Algorithm::RS256);
        header.x5t_s256 = Some(self.thumbprint.clone());
        if send_chain {
            header.x5c = Some(self.chain.clone());
        }
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|_| anyhow!("signing the client assertion failed"))
    }
}

/// A random GUID (version 4), for a client assertion's `jti`, from the
/// operating system's secure random source.
pub fn random_guid() -> Result<String> {
    let mut bytes = [0u8; 16];
    Arc::new(rustls::crypto::ring::default_provider())
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| anyhow!("no secure random source"))?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_guids_are_version_4_and_differ() {
        let (a, b) = (random_guid().expect("a GUID"), random_guid().expect("a GUID"));
        assert_ne!(a, b);
        for guid in [a, b] {
            let parts: Vec<&str> = guid.split('-').collect();
            assert_eq!(parts.iter().map(|p| p.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12]);
            assert!(parts[2].starts_with('4'), "{guid}");
            assert!(matches!(&parts[3][..1], "8" | "9" | "a" | "b"), "{guid}");
        }
    }

    #[test]
    fn a_file_without_a_key_or_with_an_encrypted_one_is_refused_without_quoting_it() {
        let certificate = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
        let error = ClientCertificate::from_pem(certificate.as_bytes())
            .expect_err("no key")
            .to_string();
        assert!(error.contains("PRIVATE KEY"), "{error}");
        let encrypted = format!(
            "{certificate}-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq\n-----END ENCRYPTED PRIVATE KEY-----\n"
        );
        let error = ClientCertificate::from_pem(encrypted.as_bytes())
            .expect_err("encrypted")
            .to_string();
        assert!(error.contains("encrypted") && !error.contains("MIIF"), "{error}");
        assert!(ClientCertificate::from_pem(b"not pem").is_err());
    }
}
