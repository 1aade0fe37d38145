//! `parse_refresh_token` on any status and body.
//!
//! Input: two bytes of status (big-endian), then the body.
//! A credential carries the body's `refresh_token` and its `Debug` text does
//! not show it; an error's texts show no JWT-like `refresh_token` of the body.

#![no_main]

use acr_auth_fuzz::{check_response, response_input};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((status, body)) = response_input(data) else {
        return;
    };
    let result = acr_auth::parse_refresh_token(status, body, &[]);
    check_response(&result, body, "refresh_token", |c| c.password.expose());
});
