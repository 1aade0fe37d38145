//! Reading the registry's answers: the refresh or access token and when it
//! expires.

use crate::prelude::*;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::Deserialize;

use crate::document::{Json, Member};
use crate::error::JwtPart;
use crate::redact::Secrets;
use crate::{AcrError, Malformed, Refusal, ResponseError, Secret};

/// The largest response body read, in bytes. A refresh token is about two
/// kilobytes; anything far larger is refused before parsing.
pub const MAX_RESPONSE_BODY_LEN: usize = 64 * 1024;

/// The user name that goes with an ACR refresh token (`docker login -u`).
pub const REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

/// The longest ACR error code or message kept from an error body, in bytes.
const MAX_ERROR_TEXT_LEN: usize = 512;
/// The most ACR errors kept from an error body.
const MAX_ERRORS: usize = 8;

/// A registry credential from `/oauth2/exchange`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Always [`REFRESH_TOKEN_USERNAME`].
    pub username: &'static str,
    /// The ACR refresh token.
    pub password: Secret<String>,
    /// The JWT `exp`: unix seconds, a fraction rounded down.
    pub expires_at: u64,
    /// The JWT `iat`, when present.
    pub issued_at: Option<u64>,
    /// The JWT `aud`: whom the token is for (the login server), one or
    /// more (RFC 7519 allows an array); empty when absent.
    pub audience: Vec<String>,
    /// The JWT `tenant` claim, when present.
    pub tenant: Option<String>,
    /// Whether the registry grants access per repository (its role
    /// assignments use repository permissions, ABAC): the token has an
    /// `aad_identity` claim, as Azure/acr-cli reads it. Such a registry
    /// refuses wildcard `repository:*:...` scopes.
    pub abac: bool,
}

/// Reads an `/oauth2/exchange` response into a credential.
///
/// The JWT's signature is not verified (the registry signs it for itself);
/// its claims are read only to know when to refresh. A status other than 200
/// is a [`ResponseError::Refused`] carrying the ACR errors of the body, with
/// every secret in `sent` (what the request carried: the Entra token) and any
/// token the body holds blanked from their text, whole or in part, before
/// the text is cut to its length cap.
pub fn parse_refresh_token(status: u16, body: &[u8], sent: &[&str]) -> Result<Credential, ResponseError> {
    read_refresh_token(status, body, &Secrets::new(sent))
}

/// [`parse_refresh_token`] with the secrets gathered already.
pub(crate) fn read_refresh_token(status: u16, body: &[u8], sent: &Secrets) -> Result<Credential, ResponseError> {
    let token = token_field(status, body, "refresh_token", sent)?;
    let claims = Claims::read(&token)?;
    Ok(Credential {
        username: REFRESH_TOKEN_USERNAME,
        expires_at: claims.expires_at,
        issued_at: claims.issued_at,
        audience: claims.audience,
        tenant: claims.tenant,
        abac: claims.abac,
        password: Secret::new(token),
    })
}

/// A repository-scoped access token from `/oauth2/token`, sent as
/// `Authorization: Bearer <token>` to the registry API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    /// The access token.
    pub token: Secret<String>,
    /// The JWT `exp`: unix seconds, a fraction rounded down.
    pub expires_at: u64,
    /// The JWT `iat`, when present.
    pub issued_at: Option<u64>,
    /// The JWT `aud`: whom the token is for, one or more; empty when absent.
    pub audience: Vec<String>,
}

/// Reads an `/oauth2/token` response into an access token, as
/// [`parse_refresh_token`] reads an exchange response; `sent` holds the
/// refresh token the request carried.
pub fn parse_access_token(status: u16, body: &[u8], sent: &[&str]) -> Result<AccessToken, ResponseError> {
    read_access_token(status, body, &Secrets::new(sent))
}

/// [`parse_access_token`] with the secrets gathered already.
pub(crate) fn read_access_token(status: u16, body: &[u8], sent: &Secrets) -> Result<AccessToken, ResponseError> {
    let token = token_field(status, body, "access_token", sent)?;
    let claims = Claims::read(&token)?;
    Ok(AccessToken {
        expires_at: claims.expires_at,
        issued_at: claims.issued_at,
        audience: claims.audience,
        token: Secret::new(token),
    })
}

/// The claims a client reads from an ACR token.
struct Claims {
    expires_at: u64,
    issued_at: Option<u64>,
    audience: Vec<String>,
    tenant: Option<String>,
    abac: bool,
}

/// A JWT payload's members that are read.
#[derive(Deserialize)]
struct ClaimsDocument<'a> {
    #[serde(borrow, default)]
    exp: Member<'a>,
    #[serde(borrow, default)]
    iat: Member<'a>,
    #[serde(borrow, default)]
    aud: Member<'a>,
    #[serde(borrow, default)]
    tenant: Member<'a>,
    #[serde(borrow, default)]
    aad_identity: Member<'a>,
}

/// A JWT header: any JSON object.
#[derive(Deserialize)]
struct HeaderDocument {}

impl Claims {
    /// Reads the claims of a JWT without verifying its signature.
    fn read(token: &str) -> Result<Self, Malformed> {
        let claims = jwt_payload(token)?;
        let document: ClaimsDocument<'_> =
            crate::document::object(&claims).map_err(|_| Malformed::ClaimsNotJson { part: JwtPart::Payload })?;
        Ok(Self {
            expires_at: numeric_date(document.exp, "exp")?.ok_or(Malformed::MissingExpiry)?,
            issued_at: numeric_date(document.iat, "iat")?,
            audience: audience(document.aud)?,
            tenant: document
                .tenant
                .text()
                .map_err(|_| Malformed::InvalidClaim { claim: "tenant" })?,
            abac: !matches!(document.aad_identity.value(), Json::Absent),
        })
    }
}

/// The members of a registry's answer that are read: the token of a 200
/// answer, the errors of a refusal.
#[derive(Deserialize)]
struct AnswerDocument<'a> {
    #[serde(borrow, default)]
    refresh_token: Member<'a>,
    #[serde(borrow, default)]
    access_token: Member<'a>,
    #[serde(borrow, default)]
    errors: Member<'a>,
}

impl<'a> AnswerDocument<'a> {
    /// The member named `field`: one of the two token fields.
    fn token(&self, field: &str) -> Member<'a> {
        if field == "refresh_token" {
            self.refresh_token
        } else {
            self.access_token
        }
    }
}

/// The string field `field` of a 200 response's JSON object body.
fn token_field(status: u16, body: &[u8], field: &'static str, sent: &Secrets) -> Result<String, ResponseError> {
    if status != 200 {
        return Err(ResponseError::Refused(refusal(status, body, field, sent)));
    }
    if body.len() > MAX_RESPONSE_BODY_LEN {
        return Err(Malformed::TooLarge.into());
    }
    let answer: AnswerDocument<'_> = crate::document::object(body).map_err(|_| Malformed::NotJson)?;
    match answer.token(field).value() {
        Json::Absent => Err(Malformed::MissingToken { field }.into()),
        Json::String(token) => Ok(token),
        _ => Err(Malformed::TokenNotString { field }.into()),
    }
}

/// The refusal for a non-200 response, with the ACR errors its body holds.
fn refusal(status: u16, body: &[u8], token_field: &str, sent: &Secrets) -> Refusal {
    let errors = (body.len() <= MAX_RESPONSE_BODY_LEN)
        .then(|| acr_errors(body, token_field, sent))
        .flatten()
        .unwrap_or_default();
    Refusal { status, errors }
}

/// One entry of an ACR error body.
#[derive(Deserialize)]
struct ErrorDocument<'a> {
    #[serde(borrow, default)]
    code: Member<'a>,
    #[serde(borrow, default)]
    message: Member<'a>,
}

/// The entries of an ACR error body, `{"errors": [{"code": .., "message": ..}]}`
/// (other fields ignored; `code` and `message` may be missing or null), with
/// the secrets in `sent`, and the token the body carries in `token_field` if
/// it carries one anyway, blanked from their text. None when the body does
/// not have that shape.
fn acr_errors(body: &[u8], token_field: &str, sent: &Secrets) -> Option<Vec<AcrError>> {
    let answer: AnswerDocument<'_> = crate::document::object(body).ok()?;
    let body_token = match answer.token(token_field).value() {
        Json::String(token) => Some(token),
        _ => None,
    };
    let mut secrets = sent.clone();
    if let Some(token) = &body_token {
        secrets.add(token);
    }
    let entries = answer.errors.array().ok()??;
    let text = |member: Member<'_>| {
        member
            .text()
            .map(|text| text.map(|text| printable(&secrets.redact(&text))).unwrap_or_default())
    };
    let mut errors = Vec::with_capacity(entries.len().min(MAX_ERRORS));
    for entry in entries {
        let entry: ErrorDocument<'_> = entry.object().ok()??;
        let error = AcrError {
            code: text(entry.code).ok()?,
            message: text(entry.message).ok()?,
        };
        if errors.len() < MAX_ERRORS {
            errors.push(error);
        }
    }
    Some(errors)
}

/// Server text made safe to show: bounded, control characters replaced.
/// Blank secrets first ([`Secrets::redact`]): the cut keeps the start.
pub(crate) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_ERROR_TEXT_LEN));
    for c in text.chars() {
        if out.len() + c.len_utf8() > MAX_ERROR_TEXT_LEN {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{fffd}' } else { c });
    }
    out
}

/// The decoded payload of a JWT, after checking that it is three base64url
/// segments with a JSON-object header.
fn jwt_payload(token: &str) -> Result<Vec<u8>, Malformed> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed::NotAJwt {
            segments: token.split('.').count(),
        });
    };
    let header = base64url(header).ok_or(Malformed::BadBase64 { part: JwtPart::Header })?;
    crate::document::object::<HeaderDocument>(&header)
        .map_err(|_| Malformed::ClaimsNotJson { part: JwtPart::Header })?;
    base64url(signature).ok_or(Malformed::BadBase64 {
        part: JwtPart::Signature,
    })?;
    base64url(payload).ok_or(Malformed::BadBase64 { part: JwtPart::Payload })
}

/// base64url (RFC 4648 section 5) without padding, as JWTs write it.
const UNPADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// base64url with exactly the padding RFC 4648 gives.
const PADDED: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes a base64url segment (RFC 4648 section 5) as JWTs write it (RFC
/// 7515): without padding, or with exactly the padding RFC 4648 gives; the
/// standard alphabet's `+` and `/` are refused, and the bits after the last
/// whole byte must be zero, so every byte string has one accepted spelling
/// per padding style.
pub(crate) fn base64url(segment: &str) -> Option<Vec<u8>> {
    let engine = if segment.ends_with('=') { &PADDED } else { &UNPADDED };
    engine.decode(segment).ok()
}

/// A NumericDate claim (RFC 7519): non-negative seconds, fraction rounded down.
fn numeric_date(member: Member<'_>, claim: &'static str) -> Result<Option<u64>, Malformed> {
    let invalid = || {
        if claim == "exp" {
            Malformed::InvalidExpiry
        } else {
            Malformed::InvalidClaim { claim }
        }
    };
    match member.value() {
        Json::Absent => Ok(None),
        Json::Number(n) => n.floor_u64().map(Some).ok_or_else(invalid),
        _ => Err(invalid()),
    }
}

/// The `aud` claim: a string, or an array of strings (RFC 7519 section 4.1.3).
fn audience(member: Member<'_>) -> Result<Vec<String>, Malformed> {
    let invalid = || Malformed::InvalidClaim { claim: "aud" };
    if let Json::Array(_) = member.value() {
        let values = member.array().map_err(|_| invalid())?.unwrap_or_default();
        return values
            .into_iter()
            .map(|value| match value.value() {
                Json::String(aud) => Ok(aud),
                _ => Err(invalid()),
            })
            .collect();
    }
    Ok(member.text().map_err(|_| invalid())?.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::base64url;
    use crate::prelude::*;
    use crate::{ResponseError, parse_access_token, parse_refresh_token};

    #[test]
    fn base64url_decodes_rfc_4648_vectors() {
        // RFC 4648 section 10, with and without padding.
        for (encoded, decoded) in [
            ("", ""),
            ("Zg", "f"),
            ("Zg==", "f"),
            ("Zm8", "fo"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(base64url(encoded).as_deref(), Some(decoded.as_bytes()), "{encoded}");
        }
        assert_eq!(base64url("-_8").as_deref(), Some(&[0xfb, 0xff][..]));
    }

    #[test]
    fn base64url_refuses_what_rfc_7515_refuses() {
        for bad in [
            "+/8", "Z", "Zg=", "Zg===", "Zm9v=", "Zm9v====", "Zh", "Zm9=", "Zg==Zg==", "Z g", "=", "====",
        ] {
            assert_eq!(base64url(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_refusal_does_not_repeat_the_token_its_body_carries() {
        // Failed the refresh_token and access_token fuzz targets' properties:
        // a refused response that carries a token and echoes it in its errors.
        for field in ["refresh_token", "access_token"] {
            let body = format!(
                r#"{{"{field}":"aaaa.bbbb.cccc","errors":[{{"code":"aaaa.bbbb.cccc","message":"token aaaa.bbbb.cccc refused"}}]}}"#
            );
            let result = match field {
                "refresh_token" => parse_refresh_token(401, body.as_bytes(), &[]).map(drop),
                _ => parse_access_token(401, body.as_bytes(), &[]).map(drop),
            };
            let Err(ResponseError::Refused(refusal)) = result else {
                panic!("{field}: not a refusal");
            };
            assert_eq!(
                refusal.to_string(),
                "the registry refused with HTTP 401: [redacted]: token [redacted] refused",
                "{field}"
            );
        }
    }

    #[test]
    fn an_echoed_token_is_blanked_before_the_text_is_cut() {
        // A 3 KB token echoed at the start of a message: cutting the message
        // to 512 bytes first kept its first ~500 bytes.
        let token: String = (0..3000)
            .map(|i| char::from(b"abcdefghij0123456789-_."[i % 23]))
            .collect();
        for echo in [format!("{token} is not valid"), format!("x{}y", &token[700..2300])] {
            let body = format!(r#"{{"errors":[{{"code":"UNAUTHORIZED","message":"{echo}"}}]}}"#);
            let Err(ResponseError::Refused(refusal)) = parse_refresh_token(401, body.as_bytes(), &[&token]) else {
                panic!("not a refusal");
            };
            let text = refusal.to_string();
            for window in token.as_bytes().windows(crate::redact::MIN_FRAGMENT) {
                let window = core::str::from_utf8(window).expect("ASCII");
                assert!(!text.contains(window), "{text}");
            }
            assert!(text.contains("[redacted]"), "{text}");
        }
    }
}
