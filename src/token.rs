//! Reading the registry's answers: the refresh or access token and when it
//! expires.

use crate::prelude::*;

use crate::error::JwtPart;
use crate::json::{Json, Object};
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
    /// The JWT `aud`: the login server the token is for, when present.
    pub login_server: Option<String>,
    /// The JWT `tenant` claim, when present.
    pub tenant: Option<String>,
}

/// Reads an `/oauth2/exchange` response into a credential.
///
/// The JWT's signature is not verified (the registry signs it for itself);
/// its claims are read only to know when to refresh. A status other than 200
/// is a [`ResponseError::Refused`] carrying the ACR errors of the body.
pub fn parse_refresh_token(status: u16, body: &[u8]) -> Result<Credential, ResponseError> {
    let token = token_field(status, body, "refresh_token")?;
    let claims = Claims::read(&token)?;
    Ok(Credential {
        username: REFRESH_TOKEN_USERNAME,
        expires_at: claims.expires_at,
        issued_at: claims.issued_at,
        login_server: claims.audience,
        tenant: claims.tenant,
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
    /// The JWT `aud`: the login server the token is for, when present.
    pub login_server: Option<String>,
}

/// Reads an `/oauth2/token` response into an access token, as
/// [`parse_refresh_token`] reads an exchange response.
pub fn parse_access_token(status: u16, body: &[u8]) -> Result<AccessToken, ResponseError> {
    let token = token_field(status, body, "access_token")?;
    let claims = Claims::read(&token)?;
    Ok(AccessToken {
        expires_at: claims.expires_at,
        issued_at: claims.issued_at,
        login_server: claims.audience,
        token: Secret::new(token),
    })
}

/// The claims a client reads from an ACR token.
struct Claims {
    expires_at: u64,
    issued_at: Option<u64>,
    audience: Option<String>,
    tenant: Option<String>,
}

impl Claims {
    /// Reads the claims of a JWT without verifying its signature.
    fn read(token: &str) -> Result<Self, Malformed> {
        jwt_claims(token, |claims| {
            Ok(Self {
                expires_at: numeric_date(claims, "exp")?.ok_or(Malformed::MissingExpiry)?,
                issued_at: numeric_date(claims, "iat")?,
                audience: audience(claims)?,
                tenant: string_claim(claims, "tenant")?,
            })
        })
    }
}

/// The string field `field` of a 200 response's JSON object body.
fn token_field(status: u16, body: &[u8], field: &'static str) -> Result<String, ResponseError> {
    if status != 200 {
        return Err(ResponseError::Refused(refusal(status, body, field)));
    }
    if body.len() > MAX_RESPONSE_BODY_LEN {
        return Err(Malformed::TooLarge.into());
    }
    let Ok(Json::Object(mut object)) = crate::json::parse(body) else {
        return Err(Malformed::NotJson.into());
    };
    match object.remove(field) {
        None => Err(Malformed::MissingToken { field }.into()),
        Some(Json::String(token)) => Ok(token.into_owned()),
        Some(_) => Err(Malformed::TokenNotString { field }.into()),
    }
}

/// The refusal for a non-200 response, with the ACR errors its body holds.
fn refusal(status: u16, body: &[u8], token_field: &str) -> Refusal {
    let errors = (body.len() <= MAX_RESPONSE_BODY_LEN)
        .then(|| acr_errors(body, token_field))
        .flatten()
        .unwrap_or_default();
    Refusal { status, errors }
}

/// The entries of an ACR error body, `{"errors": [{"code": .., "message": ..}]}`
/// (other fields ignored; `code` and `message` may be missing or null). None
/// when the body does not have that shape, or when it carries a token in
/// `token_field` anyway: the errors' text could repeat that token, and no
/// error message may contain a token. (Looking for the token in the text
/// instead would cost the `pure` component about 700 bytes, for a body no
/// registry sends.)
fn acr_errors(body: &[u8], token_field: &str) -> Option<Vec<AcrError>> {
    let Ok(Json::Object(mut root)) = crate::json::parse(body) else {
        return None;
    };
    let Some(Json::Array(entries)) = root.remove("errors") else {
        return None;
    };
    if let Some(Json::String(_)) = root.get(token_field) {
        return None;
    }
    let text = |entry: &Object, key| match entry.get(key) {
        None | Some(Json::Null) => Some(String::new()),
        Some(Json::String(s)) => Some(printable(s)),
        Some(_) => None,
    };
    entries
        .into_iter()
        .map(|entry| match entry {
            Json::Object(entry) => Some(AcrError {
                code: text(&entry, "code")?,
                message: text(&entry, "message")?,
            }),
            _ => None,
        })
        .collect::<Option<Vec<_>>>()
        .map(|mut errors| {
            errors.truncate(MAX_ERRORS);
            errors
        })
}

/// Server text made safe to show: bounded, control characters replaced.
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

/// Reads the claims of a JWT with `read`, after checking that it is three
/// base64url segments with JSON-object header and payload.
fn jwt_claims<R>(token: &str, read: impl FnOnce(&Object<'_>) -> Result<R, Malformed>) -> Result<R, Malformed> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed::NotAJwt {
            segments: token.split('.').count(),
        });
    };
    json_segment(header, JwtPart::Header, |_| Ok(()))?;
    base64url(signature).ok_or(Malformed::BadBase64 {
        part: JwtPart::Signature,
    })?;
    json_segment(payload, JwtPart::Payload, read)
}

/// Reads a base64url segment holding a JSON object with `read`.
fn json_segment<R>(
    segment: &str,
    part: JwtPart,
    read: impl FnOnce(&Object<'_>) -> Result<R, Malformed>,
) -> Result<R, Malformed> {
    let bytes = base64url(segment).ok_or(Malformed::BadBase64 { part })?;
    match crate::json::parse(&bytes) {
        Ok(Json::Object(object)) => read(&object),
        _ => Err(Malformed::ClaimsNotJson { part }),
    }
}

/// Decodes a base64url segment (RFC 4648 section 5) as JWTs write it (RFC
/// 7515): without padding, or with exactly the padding RFC 4648 gives; bits
/// after the last whole byte must be zero, so every byte string has one
/// accepted spelling per padding style. (The base64 crate's "indifferent"
/// padding mode, used before, also took short padding such as `QQ=`.) Hand-written: the base64 crate's
/// engine cost the `pure` core module 4,456 bytes (see the README's "Size"), and
/// the tests compare this with it.
pub(crate) fn base64url(segment: &str) -> Option<Vec<u8>> {
    let data = segment.trim_end_matches('=');
    let padding = segment.len() - data.len();
    if padding > 0 && (segment.len() % 4 != 0 || padding > 2 || data.len() % 4 == 0) || data.len() % 4 == 1 {
        return None;
    }
    // Four characters make three bytes. A character's value is 6 bits, so
    // bit 6 or 7 (`INVALID`) marks a character outside the alphabet. Plain
    // loops: the component is built for size, where closures per character
    // would not be inlined.
    let data = data.as_bytes();
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let (mut bits, mut seen, mut count) = (0u32, 0u8, 0usize);
    for &c in data {
        let value = BASE64URL_VALUES[usize::from(c)];
        seen |= value;
        bits = (bits << 6) | u32::from(value & 0x3f);
        count += 1;
        if count == 4 {
            out.extend_from_slice(&bits.to_be_bytes()[1..]);
            (bits, count) = (0, 0);
        }
    }
    let bytes = (bits << (6 * (4 - count) % 24)).to_be_bytes();
    let whole = count.saturating_sub(1);
    // The bits after the last whole byte must be zero.
    if seen & 0xc0 != 0 || bytes[1 + whole..].iter().any(|&b| b != 0) {
        return None;
    }
    out.extend_from_slice(&bytes[1..1 + whole]);
    Some(out)
}

/// Each byte's value in the base64url alphabet, or `INVALID`.
const BASE64URL_VALUES: [u8; 256] = {
    const INVALID: u8 = 0xff;
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < alphabet.len() {
        values[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    values
};

/// A NumericDate claim (RFC 7519): non-negative seconds, fraction rounded down.
fn numeric_date(claims: &Object, claim: &'static str) -> Result<Option<u64>, Malformed> {
    let invalid = || {
        if claim == "exp" {
            Malformed::InvalidExpiry
        } else {
            Malformed::InvalidClaim { claim }
        }
    };
    match claims.get(claim) {
        None => Ok(None),
        Some(Json::Number(n)) => n.floor_u64().map(Some).ok_or_else(invalid),
        Some(_) => Err(invalid()),
    }
}

/// An optional string claim.
fn string_claim(claims: &Object, claim: &'static str) -> Result<Option<String>, Malformed> {
    match claims.get(claim) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(String::from(&**s))),
        Some(_) => Err(Malformed::InvalidClaim { claim }),
    }
}

/// The `aud` claim: a string, or an array holding exactly one string (RFC 7519).
fn audience(claims: &Object) -> Result<Option<String>, Malformed> {
    match claims.get("aud") {
        Some(Json::Array(values)) => match values.as_slice() {
            [Json::String(aud)] => Ok(Some(String::from(&**aud))),
            _ => Err(Malformed::InvalidClaim { claim: "aud" }),
        },
        _ => string_claim(claims, "aud"),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

    use super::base64url;
    use crate::prelude::*;
    use crate::{ResponseError, parse_access_token, parse_refresh_token};

    /// The base64 crate configured as RFC 7515 reads segments.
    const REFERENCE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

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
    fn base64url_agrees_with_the_base64_crate() {
        let alphabet = ["A", "Q", "g", "w", "_", "-", "=", "+", "0", "9"];
        let mut texts = vec![String::new()];
        for _ in 0..5 {
            let longer: Vec<String> = texts
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        texts.sort();
        texts.dedup();
        for text in &texts {
            let reference = REFERENCE.decode(text).ok();
            if text.contains('=') {
                // The crate also takes some short padding ("QQ="); exact
                // padding must decode alike.
                if let Some(ours) = base64url(text) {
                    assert_eq!(Some(ours), reference, "{text:?}");
                }
            } else {
                assert_eq!(base64url(text), reference, "{text:?}");
            }
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
                "refresh_token" => parse_refresh_token(401, body.as_bytes()).map(drop),
                _ => parse_access_token(401, body.as_bytes()).map(drop),
            };
            let Err(ResponseError::Refused(refusal)) = result else {
                panic!("{field}: not a refusal");
            };
            assert_eq!(refusal.errors, [], "{field}");
            assert_eq!(refusal.to_string(), "the registry refused with HTTP 401", "{field}");
        }
    }
}
