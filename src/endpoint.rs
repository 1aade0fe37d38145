//! The `https://` URLs this crate reads from servers and settings (a
//! challenge's realm, a custom cloud's endpoints, an Entra authority) and
//! builds for its requests, parsed and serialized by the `url` crate.
//!
//! `url` follows the WHATWG URL standard, which repairs what it is given: it
//! drops tabs and newlines, reads `\` as `/`, skips extra slashes after the
//! scheme and percent-decodes the host. None of that may decide where a token
//! goes, so the text is checked first (printable ASCII, no `\`, a host right
//! after `https://`, no `@`, `%` or empty port before the path), and the host
//! `url` hands back is held to the same DNS rules as a registry reference's.

use url::{Host, Url};

use crate::ReferenceError;
use crate::prelude::*;

/// Parses an `https://` URL whose host is a DNS name (not an IP address or
/// `localhost`), without user-info, on the default port; returns it with its
/// host, lower-case.
///
/// Errors say what is wrong in [`ReferenceError`]'s terms, which also describe
/// registry references: a scheme other than `https` is
/// [`ReferenceError::UnsupportedScheme`].
pub(crate) fn https_url(text: &str) -> Result<(Url, String), ReferenceError> {
    if text.len() > crate::MAX_REFERENCE_LEN {
        return Err(ReferenceError::TooLong);
    }
    if !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ReferenceError::NotAscii);
    }
    let not_a_url = ReferenceError::InvalidHost {
        reason: "not an https:// URL with a host",
    };
    let (scheme, rest) = text.split_once("://").ok_or_else(|| not_a_url.clone())?;
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(ReferenceError::UnsupportedScheme {
            scheme: scheme.get(..16).unwrap_or(scheme).to_ascii_lowercase(),
        });
    }
    if text.contains('\\') || rest.starts_with('/') || rest.is_empty() {
        return Err(not_a_url);
    }
    // `url` reads `https://@host/` as a host with an empty user name; any
    // `@` before the path is user-info syntax, refused as a reference's is.
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(ReferenceError::UserInfo);
    }
    // `url` reads `host:` as the default port; a reference with an empty
    // port is refused, so this is too.
    if authority.ends_with(':') {
        return Err(ReferenceError::Port { port: String::new() });
    }
    // `url` percent-decodes a host; a registry's or authority's name never
    // needs it, and a reference may not use it.
    if authority.contains('%') {
        return Err(ReferenceError::InvalidHost {
            reason: "a host name may hold only letters, digits, hyphens and dots",
        });
    }
    let url = Url::parse(text).map_err(|_| not_a_url.clone())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ReferenceError::UserInfo);
    }
    if let Some(port) = url.port() {
        return Err(ReferenceError::Port { port: port.to_string() });
    }
    let host = match url.host() {
        Some(Host::Domain(host)) => host.to_ascii_lowercase(),
        Some(Host::Ipv4(_) | Host::Ipv6(_)) => return Err(ReferenceError::IpAddress),
        None => return Err(not_a_url),
    };
    crate::scope::check_host(&host)?;
    Ok((url, host))
}

/// Whether `url`'s host is this machine's loopback interface: `localhost`,
/// `127.0.0.0/8` or `[::1]`. The one place plain HTTP may go besides the
/// metadata service, when a platform's managed-identity endpoint is there.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// `https://<login-server><path>`, serialized by `url`, for a login server
/// [`crate::scope::login_server`] accepted and one of this crate's paths.
pub(crate) fn login_server_url(login_server: &str, path: &str) -> Result<String, ReferenceError> {
    let invalid = || ReferenceError::InvalidHost {
        reason: "not an https:// URL with a host",
    };
    let mut url = Url::parse("https://login.server.invalid/").map_err(|_| invalid())?;
    url.set_host(Some(login_server)).map_err(|_| invalid())?;
    url.set_path(path);
    Ok(url.into())
}

#[cfg(test)]
mod tests {
    use super::https_url;
    use crate::ReferenceError;

    #[test]
    fn what_whatwg_would_repair_is_refused() {
        for (text, expected) in [
            ("https://myregistry.azurecr.io\t.evil.com/", ReferenceError::NotAscii),
            ("https://myregistry.azurecr.io\n/", ReferenceError::NotAscii),
            (
                "https:\\\\evil.com\\",
                ReferenceError::InvalidHost {
                    reason: "not an https:// URL with a host",
                },
            ),
            (
                "https:///myregistry.azurecr.io/",
                ReferenceError::InvalidHost {
                    reason: "not an https:// URL with a host",
                },
            ),
            (
                "https:myregistry.azurecr.io",
                ReferenceError::InvalidHost {
                    reason: "not an https:// URL with a host",
                },
            ),
            ("https://u:p@login.contoso.private/", ReferenceError::UserInfo),
            // Found by the challenge fuzz target: `url` reads an empty user
            // name, which passed, though a reference with `@` is refused.
            ("https://@myregistry.azurecr.io/oauth2/token", ReferenceError::UserInfo),
            ("https://@myregistry.azurecr.io?oauth2/token", ReferenceError::UserInfo),
            // Found by the same target: `url` reads an empty port as none.
            (
                "https://myregistry.azurecr.io:/oauth2/token",
                ReferenceError::Port { port: "".into() },
            ),
            (
                "https://login.contoso.private:8443/",
                ReferenceError::Port { port: "8443".into() },
            ),
            ("https://10.0.0.1/", ReferenceError::IpAddress),
            ("https://[::1]/", ReferenceError::IpAddress),
            ("https://0x7f.1/", ReferenceError::IpAddress),
            ("https://localhost/", ReferenceError::Localhost),
            (
                "http://login.contoso.private/",
                ReferenceError::UnsupportedScheme { scheme: "http".into() },
            ),
        ] {
            assert_eq!(https_url(text).map(|(_, host)| host), Err(expected), "{text:?}");
        }
    }

    #[test]
    fn hosts_come_back_lower_case_and_checked() {
        let (url, host) = https_url("HTTPS://Login.Contoso.Private:443/ADFS").expect("a URL");
        assert_eq!(host, "login.contoso.private");
        assert_eq!(url.as_str(), "https://login.contoso.private/ADFS");
        // `url` would decode a percent-encoded host (found by the challenge
        // fuzz target: `myreg%4Ery` became `myregNry`); it is refused, as in a
        // reference.
        assert_eq!(
            https_url("https://myregistry%2eazurecr.io/").map(|(_, host)| host),
            Err(ReferenceError::InvalidHost {
                reason: "a host name may hold only letters, digits, hyphens and dots"
            })
        );
        assert!(https_url("https://my_registry.azurecr.io/").is_err());
    }
}
