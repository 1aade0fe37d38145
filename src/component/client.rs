//! The `client` world: [`crate::LoginFlow`] driven by [`crate::login`] over
//! imported `wasi:http` ([`crate::wasi_http::WasiHttp`]), with `wasi:clocks`
//! telling the time and sleeping through the waits the flow asks for.

use crate::prelude::*;

use super::Component;
use super::wit::{flow, login};
use crate::wasi_http::WasiHttp;

impl login::Guest for Component {
    fn login(
        reference: String,
        credentials: flow::Credentials,
        options: flow::LoginOptions,
    ) -> Result<flow::LoginResult, flow::LoginError> {
        let options = super::flow::login_options(options)?;
        let result = crate::login(&mut WasiHttp::new(read_file), &reference, credentials.into(), options)?;
        Ok(result.into())
    }
}

/// The component has no file system: a login whose managed identity is
/// Azure Arc's needs a host that drives the flow itself (the `flow`
/// interface) and reads the key file.
fn read_file(path: &str, _max_len: usize) -> Result<String, String> {
    Err(format!("the client component reads no files, so not {path}"))
}
