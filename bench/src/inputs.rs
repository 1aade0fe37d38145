//! Realistic inputs: references as users type them, and tokens the size ACR
//! and Entra issue (about 1.5 KB each), so that decoding and copying costs
//! are those of production.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// A bare login server.
pub const SHORT_REFERENCE: &str = "myregistry.azurecr.io";

/// The reference the Node and Python examples time, for comparing hosts.
pub const EXAMPLE_REFERENCE: &str = "myregistry.azurecr.io/team/app:1.2";

/// The tenant sent with the exchange.
pub const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";

/// The `WWW-Authenticate` header ACR answers `/v2/` requests with.
pub const CHALLENGE: &str = "Bearer realm=\"https://myregistry.azurecr.io/oauth2/token\",\
    service=\"myregistry.azurecr.io\",scope=\"repository:team/app:pull\"";

/// The size tokens are padded to: what ACR refresh tokens and Entra access
/// tokens with a few roles measure.
const TOKEN_LEN: usize = 1500;

/// A full reference: scheme, mixed case, port, repository and digest.
pub fn full_reference() -> String {
    format!(
        "oci://MyRegistry.azurecr.io:443/team/app@sha256:{}",
        "0123456789abcdef".repeat(4)
    )
}

/// An `/oauth2/exchange` response body holding an ACR-shaped refresh token.
pub fn refresh_token_body() -> Vec<u8> {
    let now = 1_767_222_000u64;
    let claims = json!({
        "jti": "2f7d3e6a-0c2b-4a35-9b7e-3d1f0a9c8b21",
        "sub": "00000000-0000-0000-0000-00000000a11c",
        "nbf": now,
        "exp": now + 3 * 60 * 60,
        "iat": now,
        "iss": "Azure Container Registry",
        "aud": SHORT_REFERENCE,
        "version": "1.0",
        "rid": "1f0d8a7c3e5b4f2a9c6d0e1b2a3f4c5d",
        "grant_type": "refresh_token",
        "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "tenant": TENANT,
        "permissions": {
            "actions": ["read", "write", "delete", "deleted/read", "deleted/restore/action"],
            "notActions": [],
        },
        "roles": ["AcrPull", "AcrPush"],
    });
    json!({ "refresh_token": jwt(claims) }).to_string().into_bytes()
}

/// An Entra access token for the ACR audience.
pub fn entra_token() -> String {
    let claims = json!({
        "aud": "https://containerregistry.azure.net",
        "iss": format!("https://sts.windows.net/{TENANT}/"),
        "iat": 1_767_222_000u64,
        "nbf": 1_767_222_000u64,
        "exp": 1_767_225_900u64,
        "aio": "E2ZgYJg5ZPzX+4nZ6r1y7c3NQfJnAQA=",
        "appid": "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
        "appidacr": "0",
        "idp": format!("https://sts.windows.net/{TENANT}/"),
        "oid": "6c1d5b2e-8f3a-4d7b-9e0c-1a2b3c4d5e6f",
        "rh": "0.AXoAv4j5cvGGr0GRqy180BHbR0ZIf3kAutdPukPawfj2MBN6AAA.",
        "sub": "6c1d5b2e-8f3a-4d7b-9e0c-1a2b3c4d5e6f",
        "tid": TENANT,
        "uti": "AbCdEfGhIjKlMnOpQrStUv",
        "ver": "1.0",
        "xms_tcdt": 1_289_241_547u64,
    });
    jwt(claims)
}

/// A JWT of `claims` with an RS256-sized (256-byte) made-up signature,
/// padded with a `pad` claim to [`TOKEN_LEN`] characters.
fn jwt(mut claims: Value) -> String {
    let segment = |value: &Value| URL_SAFE_NO_PAD.encode(value.to_string());
    let header = segment(&json!({ "alg": "RS256", "typ": "JWT", "kid": "L1KfKFI_jnXbwWc22xZxw1sUHH0" }));
    let signature: Vec<u8> = (0..=255u8).collect();
    let signature = URL_SAFE_NO_PAD.encode(signature);
    let unpadded = header.len() + segment(&claims).len() + signature.len() + 2;
    // base64 turns 3 bytes into 4 characters; `,"pad":""` is 9 bytes.
    let pad = (TOKEN_LEN.saturating_sub(unpadded) * 3 / 4).saturating_sub(9);
    claims["pad"] = json!("x".repeat(pad));
    format!("{header}.{}.{signature}", segment(&claims))
}

#[cfg(test)]
mod tests {
    #[test]
    fn tokens_are_real_sized() {
        let token = super::entra_token();
        assert!((1400..=1600).contains(&token.len()), "{}", token.len());
        let body = super::refresh_token_body();
        assert!((1400..=1650).contains(&body.len()), "{}", body.len());
        assert!(acr_auth::parse_refresh_token(200, &body, &[]).is_ok());
    }
}
