//! Reading a registry's `WWW-Authenticate` challenge (RFC 7235) to find
//! where to exchange tokens.
//!
//! `GET https://<host>/v2/` without credentials answers 401 with
//! `WWW-Authenticate: Bearer realm="https://<host>/oauth2/token",service="<host>"`.
//! The exchange URL is the realm's scheme and authority plus `/oauth2/exchange`.

use crate::prelude::*;

use crate::{ChallengeError, CloudEnvironment, ReferenceError};

/// The longest header accepted, in bytes.
pub const MAX_CHALLENGE_LEN: usize = 8 * 1024;

/// A Bearer challenge naming an ACR login server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The `realm` parameter: the registry's token endpoint.
    pub realm: String,
    /// The `service` parameter: the `service` form field to send.
    pub service: String,
    /// The `scope` parameter split on spaces; empty when absent.
    pub scopes: Vec<String>,
    /// The login server the realm names, lower-case.
    pub login_server: String,
    /// `https://<login-server>/oauth2/exchange`.
    pub exchange_url: String,
}

/// Parses a `WWW-Authenticate` header value and returns its Bearer challenge.
///
/// Follows RFC 7235: several challenges in one header, spaces around commas
/// and `=`, quoted values with commas and escaped quotes, case-insensitive
/// scheme and parameter names, `token68` challenges of other schemes. The
/// realm must be an `https://` URL on a recognised ACR login server (see
/// [`crate::resolve_scope`]; `custom_cloud` adds a suffix).
pub fn parse_challenge(header: &str, custom_cloud: Option<&CloudEnvironment>) -> Result<Challenge, ChallengeError> {
    if header.len() > MAX_CHALLENGE_LEN {
        return Err(ChallengeError::TooLong);
    }
    let params = Parser {
        input: header.as_bytes(),
        pos: 0,
    }
    .bearer_params()?
    .ok_or(ChallengeError::NoBearer)?;
    let mut realm = None;
    let mut service = None;
    let mut scope = None;
    for (name, value) in params {
        let slot = match name.to_ascii_lowercase().as_str() {
            "realm" => &mut realm,
            "service" => &mut service,
            "scope" => &mut scope,
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return Err(ChallengeError::DuplicateParameter {
                name: name.to_ascii_lowercase(),
            });
        }
    }
    let realm = realm.ok_or(ChallengeError::MissingParameter { name: "realm" })?;
    let service = service.ok_or(ChallengeError::MissingParameter { name: "service" })?;
    let (_, host) = crate::endpoint::https_url(&realm).map_err(|e| match e {
        ReferenceError::UnsupportedScheme { .. } => ChallengeError::InsecureRealm,
        e => ChallengeError::Realm(e),
    })?;
    let (login_server, _) = crate::scope::login_server(&host, custom_cloud).map_err(ChallengeError::Realm)?;
    Ok(Challenge {
        scopes: scope
            .map(|s| s.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default(),
        exchange_url: crate::endpoint::login_server_url(&login_server, "/oauth2/exchange")
            .map_err(ChallengeError::Realm)?,
        login_server,
        realm,
        service,
    })
}

/// A cursor over a header value.
struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

/// `tchar` of RFC 7230.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Characters of `token68` (RFC 7235) before its trailing `=`.
fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    /// Skips whitespace and empty list elements (RFC 7230 `#rule`).
    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }

    fn syntax(&self, reason: &'static str) -> ChallengeError {
        ChallengeError::Syntax {
            reason,
            offset: self.pos,
        }
    }

    fn token(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        // tchar is ASCII, so the slice is valid UTF-8.
        core::str::from_utf8(&self.input[start..self.pos]).unwrap_or_default()
    }

    fn quoted_string(&mut self) -> Result<String, ChallengeError> {
        self.pos += 1; // the opening quote
        let mut value = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.syntax("unterminated quoted string")),
                Some(b'"') => {
                    self.pos += 1;
                    return String::from_utf8(value).map_err(|_| self.syntax("quoted string is not UTF-8"));
                }
                Some(b'\\') => {
                    let escaped = self.input.get(self.pos + 1).copied();
                    match escaped {
                        Some(b) if b == b'\t' || (b >= b' ' && b != 0x7f) => value.push(b),
                        _ => return Err(self.syntax("bad escape in quoted string")),
                    }
                    self.pos += 2;
                }
                Some(b) if b == b'\t' || (b >= b' ' && b != 0x7f) => {
                    value.push(b);
                    self.pos += 1;
                }
                Some(_) => return Err(self.syntax("control character in quoted string")),
            }
        }
    }

    /// Whether an `auth-param` (`token BWS "="`) starts here, without moving.
    fn at_param(&self) -> bool {
        let mut i = self.pos;
        while self.input.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        if i == self.pos {
            return false;
        }
        while matches!(self.input.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if self.input.get(i) != Some(&b'=') {
            return false;
        }
        // `token68` may end in `=`: a parameter's `=` is followed by a value.
        i += 1;
        while matches!(self.input.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        self.input.get(i).is_some_and(|&b| b == b'"' || is_tchar(b))
    }

    /// The parameters of one challenge, after its scheme.
    fn params(&mut self) -> Result<Vec<(String, String)>, ChallengeError> {
        let mut params = Vec::new();
        self.skip_whitespace();
        if !self.at_param() && self.peek().is_some_and(is_token68_char) {
            while self.peek().is_some_and(is_token68_char) {
                self.pos += 1;
            }
            while self.peek() == Some(b'=') {
                self.pos += 1;
            }
            return Ok(params);
        }
        while self.at_param() {
            let name = self.token().to_owned();
            self.skip_whitespace();
            self.pos += 1; // the `=` that `at_param` saw
            self.skip_whitespace();
            let value = if self.peek() == Some(b'"') {
                self.quoted_string()?
            } else {
                self.token().to_owned()
            };
            params.push((name, value));
            self.skip_whitespace();
            match self.peek() {
                None => break,
                Some(b',') => {
                    self.skip_separators();
                }
                Some(_) => return Err(self.syntax("expected a comma after a parameter")),
            }
        }
        Ok(params)
    }

    /// The parameters of the first Bearer challenge, if there is one.
    fn bearer_params(&mut self) -> Result<Option<Vec<(String, String)>>, ChallengeError> {
        let mut bearer = None;
        self.skip_separators();
        while self.peek().is_some() {
            let scheme = self.token().to_owned();
            if scheme.is_empty() {
                return Err(self.syntax("expected an authentication scheme"));
            }
            if !matches!(self.peek(), None | Some(b' ' | b'\t' | b',')) {
                return Err(self.syntax("unexpected character after the scheme"));
            }
            let params = self.params()?;
            if bearer.is_none() && scheme.eq_ignore_ascii_case("bearer") {
                bearer = Some(params);
            }
            self.skip_separators();
        }
        Ok(bearer)
    }
}
