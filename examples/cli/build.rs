//! Points `include_bytes!` at the component `cargo xtask build` wrote.

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-env-changed=ACR_AUTH_COMPONENT");
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_DIR");
    let path = match std::env::var_os("ACR_AUTH_COMPONENT") {
        Some(path) => PathBuf::from(path),
        None => {
            let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map_or_else(|| manifest_dir.join("../../target"), PathBuf::from);
            target.join("components/acr_auth.wasm")
        }
    };
    if !path.exists() {
        panic!(
            "{} does not exist: run `cargo xtask build` first (or set ACR_AUTH_COMPONENT)",
            path.display()
        );
    }
    let path = path.canonicalize().unwrap_or(path);
    println!("cargo::rerun-if-changed={}", path.display());
    println!("cargo::rustc-env=ACR_AUTH_COMPONENT={}", path.display());
}
