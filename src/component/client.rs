//! The `client` world: [`crate::LoginFlow`] driven by [`crate::login`] over
//! imported `wasi:http` ([`crate::wasi_http::WasiHttp`]), with `wasi:clocks`
//! telling the time and sleeping through the waits the flow asks for, and
//! `wasi:filesystem` reading the one file a login may need: the Azure Arc
//! agent's key, from the directory the host preopened for it.

use crate::prelude::*;

use super::Component;
use super::wit::{flow, login};
use crate::wasi_http::WasiHttp;
use wasi::filesystem::preopens;
use wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};

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

/// Reads the file at `path` (the Arc agent's key file the flow names) from
/// the preopened directory that is its parent, and only from there: a host
/// that preopens nothing gives the component no file to read. At most
/// `max_len` bytes; a longer file is refused.
fn read_file(path: &str, max_len: usize) -> Result<String, String> {
    let (dir, name) = preopens::get_directories()
        .into_iter()
        .find_map(|(dir, guest)| {
            let rest = path.strip_prefix(guest.trim_end_matches(['/', '\\']))?;
            let name = rest.strip_prefix(['/', '\\'])?;
            (!name.is_empty() && !name.contains(['/', '\\'])).then(|| (dir, name.to_owned()))
        })
        .ok_or_else(|| format!("the host gave no access to the directory of {path}"))?;
    let file = dir
        .open_at(PathFlags::empty(), &name, OpenFlags::empty(), DescriptorFlags::READ)
        .map_err(|e| format!("cannot open {path}: {e:?}"))?;
    let mut bytes = Vec::new();
    loop {
        let (chunk, end) = file
            .read((max_len + 1 - bytes.len()) as u64, bytes.len() as u64)
            .map_err(|e| format!("cannot read {path}: {e:?}"))?;
        bytes.extend_from_slice(&chunk);
        if bytes.len() > max_len {
            return Err(format!("{path} is larger than {max_len} bytes"));
        }
        if end || chunk.is_empty() {
            break;
        }
    }
    String::from_utf8(bytes).map_err(|_| format!("{path} is not UTF-8 text"))
}
