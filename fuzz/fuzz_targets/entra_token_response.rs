//! `parse_entra_token_response` on any status, time and body.
//!
//! Input: two bytes of status and eight of `now` (big-endian), then the body.
//! A token is the body's `access_token`, its `Debug` text does not show it,
//! and its expiry is `expires_on`, or `now` plus `expires_in`; an error's
//! texts show no JWT-like `access_token` of the body.

#![no_main]

use acr_auth::parse_entra_token_response;
use acr_auth_fuzz::{check_response, response_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, rest)) = response_input(data) else {
        return;
    };
    let Some((now, body)) = rest.split_first_chunk::<8>() else {
        return;
    };
    let now = u64::from_be_bytes(*now);
    let result = parse_entra_token_response(status, body, now, &[]);
    if let Ok(token) = &result {
        assert!(
            token.expires_at >= now || body_has(body, "expires_on"),
            "an expiry before now without expires_on"
        );
    }
    check_response(&result, body, "access_token", |t| t.access_token.expose());
});

/// Whether the body's JSON object has `field`. Members are read as raw
/// text, as the library reads them: a number out of `f64`'s range elsewhere
/// in the body must not hide `field`.
fn body_has(body: &[u8], field: &str) -> bool {
    serde_json::from_slice::<std::collections::BTreeMap<String, &serde_json::value::RawValue>>(body)
        .is_ok_and(|members| members.contains_key(field))
}
