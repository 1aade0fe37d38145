//! Reading the registry's answers: the refresh or access token and when it
//! expires.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

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

/// URL-safe base64 as JWTs use it (RFC 7515), accepting padded and unpadded
/// segments alike.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

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
        let claims = jwt_claims(token)?;
        Ok(Self {
            expires_at: numeric_date(&claims, "exp")?.ok_or(Malformed::MissingExpiry)?,
            issued_at: numeric_date(&claims, "iat")?,
            audience: audience(&claims)?,
            tenant: string_claim(&claims, "tenant")?,
        })
    }
}

/// The string field `field` of a 200 response's JSON object body.
fn token_field(status: u16, body: &[u8], field: &'static str) -> Result<String, ResponseError> {
    if status != 200 {
        return Err(ResponseError::Refused(refusal(status, body)));
    }
    if body.len() > MAX_RESPONSE_BODY_LEN {
        return Err(Malformed::TooLarge.into());
    }
    let Ok(Json::Object(mut object)) = serde_json::from_slice(body) else {
        return Err(Malformed::NotJson.into());
    };
    match object.remove(field) {
        None => Err(Malformed::MissingToken { field }.into()),
        Some(Json::String(token)) => Ok(token),
        Some(_) => Err(Malformed::TokenNotString { field }.into()),
    }
}

/// The refusal for a non-200 response, with the ACR errors its body holds.
fn refusal(status: u16, body: &[u8]) -> Refusal {
    #[derive(serde::Deserialize)]
    struct ErrorBody {
        errors: Vec<ErrorEntry>,
    }
    #[derive(serde::Deserialize)]
    struct ErrorEntry {
        #[serde(default)]
        code: Option<String>,
        #[serde(default)]
        message: Option<String>,
    }
    let parsed = (body.len() <= MAX_RESPONSE_BODY_LEN)
        .then(|| serde_json::from_slice::<ErrorBody>(body).ok())
        .flatten();
    let errors = parsed
        .map(|b| {
            b.errors
                .into_iter()
                .take(MAX_ERRORS)
                .map(|e| AcrError {
                    code: printable(e.code.as_deref().unwrap_or_default()),
                    message: printable(e.message.as_deref().unwrap_or_default()),
                })
                .collect()
        })
        .unwrap_or_default();
    Refusal { status, errors }
}

/// Server text made safe to show: bounded, control characters replaced.
fn printable(text: &str) -> String {
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

/// The claims of a JWT, after checking that it is three base64url segments
/// with JSON-object header and payload.
fn jwt_claims(token: &str) -> Result<Object, Malformed> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Malformed::NotAJwt {
            segments: token.split('.').count(),
        });
    };
    json_segment(header, JwtPart::Header)?;
    BASE64URL.decode(signature).map_err(|_| Malformed::BadBase64 {
        part: JwtPart::Signature,
    })?;
    json_segment(payload, JwtPart::Payload)
}

/// A base64url segment holding a JSON object.
fn json_segment(segment: &str, part: JwtPart) -> Result<Object, Malformed> {
    let bytes = BASE64URL.decode(segment).map_err(|_| Malformed::BadBase64 { part })?;
    match serde_json::from_slice(&bytes) {
        Ok(Json::Object(object)) => Ok(object),
        _ => Err(Malformed::ClaimsNotJson { part }),
    }
}

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
        Some(n) if n.is_number() => match (n.as_u64(), n.as_f64()) {
            (Some(secs), _) => Ok(Some(secs)),
            // u64::MAX as f64 rounds up to 2^64, so `<` keeps the cast exact.
            (None, Some(secs)) if secs >= 0.0 && secs < u64::MAX as f64 => Ok(Some(secs.floor() as u64)),
            _ => Err(invalid()),
        },
        Some(_) => Err(invalid()),
    }
}

/// An optional string claim.
fn string_claim(claims: &Object, claim: &'static str) -> Result<Option<String>, Malformed> {
    match claims.get(claim) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Malformed::InvalidClaim { claim }),
    }
}

/// The `aud` claim: a string, or an array holding exactly one string (RFC 7519).
fn audience(claims: &Object) -> Result<Option<String>, Malformed> {
    match claims.get("aud") {
        Some(Json::Array(values)) => match values.as_slice() {
            [Json::String(aud)] => Ok(Some(aud.clone())),
            _ => Err(Malformed::InvalidClaim { claim: "aud" }),
        },
        _ => string_claim(claims, "aud"),
    }
}
