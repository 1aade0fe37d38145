//! With the `embed` feature, points `include_bytes!` at the components
//! `cargo xtask build` wrote (or at the files `ACR_AUTH_COMPONENT` and
//! `ACR_AUTH_CLIENT_COMPONENT` name). Without it, nothing: the crate then
//! builds without the components.

use std::path::PathBuf;

fn main() {
    if std::env::var_os("CARGO_FEATURE_EMBED").is_none() {
        return;
    }
    println!("cargo::rerun-if-env-changed=CARGO_TARGET_DIR");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let components = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| manifest_dir.join("../../target"), PathBuf::from)
        .join("components");
    for (var, file) in [
        ("ACR_AUTH_COMPONENT", "acr_auth.wasm"),
        ("ACR_AUTH_CLIENT_COMPONENT", "acr_auth_client.wasm"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        let path = std::env::var_os(var).map_or_else(|| components.join(file), PathBuf::from);
        if !path.exists() {
            panic!(
                "{} does not exist: run `cargo xtask build` first (or set {var})",
                path.display()
            );
        }
        let path = path.canonicalize().unwrap_or(path);
        println!("cargo::rerun-if-changed={}", path.display());
        println!("cargo::rustc-env={var}={}", path.display());
    }
}
