//! `cargo xtask <command>`: the project's build, demo and test entry points.
//!
//! - `build`: builds the `pure` component to `target/components/acr_auth.wasm`
//!   (it must import nothing and stay within its size budget; core modules go through
//!   `wasm-opt`, installed from `xtask/package.json`) and the `client` component to
//!   `target/components/acr_auth_client.wasm` (it may import only `wasi:http`
//!   and the `wasi:io` and `wasi:clocks` interfaces that needs, and `wasi:filesystem` for the Azure
//!   Arc agent's key file, within its budget), then the pull proxy into
//!   `target/components/acr_auth_proxy.wasm` (it may import only the `wasi:http/proxy` world's
//!   interfaces, `wasi:config` and `wasi:keyvalue`).
//! - `package [--test]`: builds, then the npm, PyPI and crates.io packages into
//!   `target/packages/`; with `--test`, also runs each one's tests where it is installed (see
//!   [`packages`]).
//! - `demo`: builds the `pure` and `client` components and the `acr-auth` and `test-acr`
//!   binaries, then shows the main job against the local test ACR on loopback: a scope, a
//!   login with a workload identity, the kubelet credential provider and the docker credential
//!   helper, each timed (see `demo.rs`).
//! - `test`: checks formatting, builds, runs clippy on the whole workspace (`-D warnings`),
//!   runs the demo on the debug build, then runs every test: the workspace's, the Node and
//!   Python hosts' (`examples/node/test.sh`, `examples/python/test.sh`), the three packages'
//!   tests where each is installed (see [`packages`]), a skopeo pull through the docker
//!   credential helper
//!   (`host-tests/skopeo-pull.sh`) and a skopeo copy of a whole image through the pull proxy
//!   (`host-tests/skopeo-copy.sh`); skopeo, jq and redis-server (the proxy tests' shared cache)
//!   are installed with apt-get first when missing; then the
//!   benchmark with `--quick` on the tests' debug build and, with a nightly toolchain, the fuzz
//!   targets for a few seconds each, as smoke tests. It ends with each stage's time.
//! - `bench [--quick] [--baseline DIR]`: builds, then measures everything (see BENCHMARKS.md).
//!
//! Each command installs the rustup targets it needs itself.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};
use wit_component::{ComponentEncoder, DecodedWasm};

use crate::stages::Stages;

mod bench;
mod demo;
mod fuzz;
mod packages;
mod proxy;
mod stages;
mod wit_types;

/// The core-wasm target the components are built for: no WASI, no imports.
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("build") => build().map(drop),
        Some("demo") => demo(),
        Some("package") => packages::command(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(fuzz::seconds(&args[1..])?),
        _ => bail!(
            "usage: cargo xtask <build|package [--test]|demo|test [-- cargo test args]|bench [--quick] [--baseline DIR]|fuzz [--seconds N]>"
        ),
    }
}

/// The workspace root.
fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    root.canonicalize().unwrap_or(root)
}

/// The cargo target directory.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Runs a command in the workspace root, failing on a non-zero exit.
fn run(cmd: &mut Command) -> Result<()> {
    run_in(&root(), cmd)
}

/// Runs a command in `dir`, failing on a non-zero exit.
fn run_in(dir: &Path, cmd: &mut Command) -> Result<()> {
    let status = cmd
        .current_dir(dir)
        .status()
        .with_context(|| format!("starting {cmd:?}"))?;
    ensure!(status.success(), "{cmd:?} failed: {status}");
    Ok(())
}

/// A `cargo` command using the same cargo that runs xtask.
fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// A component this project builds.
struct Build {
    /// The cargo feature that selects its world.
    feature: &'static str,
    /// The file written under `target/components/`.
    file: &'static str,
    /// Prefixes of the imports it may have; anything else fails the build.
    allowed_imports: &'static [&'static str],
    /// Its largest allowed size in bytes; a larger component fails the build.
    /// Each budget sits a few percent above the size measured when it was
    /// set: it catches a dependency or feature that grows the component by
    /// surprise (every host compiles the component when it loads it, and
    /// compile time grows with size). Growth on purpose moves the budget, in
    /// the same change, with the measured size in docs/size.md.
    budget: usize,
}

/// The `pure` world imports nothing; the `client` world only `wasi:http` and
/// what that needs, and `wasi:filesystem` (the Arc agent's key file).
const BUILDS: [Build; 2] = [
    Build {
        feature: "component",
        file: "acr_auth.wasm",
        allowed_imports: &[],
        // 249,259 bytes when set.
        budget: 252 * 1024,
    },
    Build {
        feature: "client",
        file: "acr_auth_client.wasm",
        allowed_imports: &[
            "wasi:http/",
            "wasi:io/",
            "wasi:clocks/monotonic-clock@",
            "wasi:clocks/wall-clock@",
            "wasi:filesystem/types@",
            "wasi:filesystem/preopens@",
        ],
        // 296,965 bytes when set.
        budget: 300 * 1024,
    },
];

/// Builds the `pure` and `client` components and the proxy, and
/// checks their imports; returns their paths in that order. Also writes the
/// WIT package as a binary, for others to depend on.
fn build() -> Result<Vec<PathBuf>> {
    let mut components = build_components()?;
    components.push(proxy::build_proxy()?);
    build_wit_package()?;
    Ok(components)
}

/// Builds the [`BUILDS`], the `pure` and `client` components, and checks
/// their imports; returns their paths in that order.
fn build_components() -> Result<Vec<PathBuf>> {
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))?;
    install_wasm_opt()?;
    BUILDS.iter().map(build_component).collect()
}

/// Encodes `wit/` as a binary WIT package (`wasm-tools component wit --wasm`
/// style) at `target/components/acr_auth_wit.wasm`, and checks it decodes to
/// the package and worlds this project exports. Also describes its types and
/// functions as JSON beside it ([`wit_types`]), for the hosts' type tests.
fn build_wit_package() -> Result<PathBuf> {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve.push_dir(root().join("wit"))?;
    let description = target_dir().join("components/acr_auth_wit.json");
    let text = serde_json::to_string_pretty(&wit_types::describe(&resolve, package)?)?;
    std::fs::write(&description, text).with_context(|| format!("writing {}", description.display()))?;
    println!("described the WIT package's types in {}", description.display());
    let bytes = wit_component::encode(&resolve, package, true)?;
    let DecodedWasm::WitPackage(decoded, id) = wit_component::decode(&bytes)? else {
        bail!("the WIT package did not decode as a package");
    };
    let name = decoded.packages[id].name.to_string();
    let mut worlds: Vec<&str> = decoded.packages[id].worlds.keys().map(String::as_str).collect();
    worlds.sort_unstable();
    ensure!(
        name == "acr:auth@0.1.0" && worlds == ["client", "pure"],
        "the WIT package decodes as {name} with worlds {worlds:?}"
    );
    let out = target_dir().join("components/acr_auth_wit.wasm");
    std::fs::write(&out, &bytes)?;
    println!(
        "built {} ({} bytes, package {name}, worlds {worlds:?})",
        out.display(),
        bytes.len()
    );
    Ok(out)
}

/// Builds one component from the library crate and checks its imports and
/// its size budget.
fn build_component(build: &Build) -> Result<PathBuf> {
    let (module_len, component) = encode_component("acr-auth", &[build.feature])?;
    let imports = component_imports(&component)?;
    ensure_imports_allowed(build.file, &imports, build.allowed_imports)?;
    ensure!(
        component.len() <= build.budget,
        "{} is {} bytes, over its budget of {} bytes: if the growth is meant, raise the budget \
         (see docs/size.md)",
        build.file,
        component.len(),
        build.budget
    );
    write_component(
        build.file,
        &component,
        &format!("core module {module_len} bytes, budget {} bytes", build.budget),
        &imports,
    )
}

/// The directory whose `package.json` pins Binaryen, for `wasm-opt`.
fn build_tools_dir() -> PathBuf {
    root().join("xtask")
}

/// Installs the pinned `wasm-opt` (Binaryen's npm package) under `xtask/`.
fn install_wasm_opt() -> Result<()> {
    run_in(
        &build_tools_dir(),
        Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]),
    )
}

/// The wasm features rustc enables for [`WASM_TARGET`] and wasmtime runs by
/// default; wasm-opt may use these and no others.
const WASM_FEATURES: [&str; 7] = [
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-mutable-globals",
    "--enable-sign-ext",
    "--enable-nontrapping-float-to-int",
    "--enable-multivalue",
    "--enable-reference-types",
];

/// Runs `wasm-opt -Oz` on a core module, which shrinks it further than
/// rustc's own size optimisation (by 11% for `pure`): less for every host to
/// compile. Custom sections, which the component encoder reads, are kept.
fn wasm_opt(module: &Path) -> Result<Vec<u8>> {
    let out = module.with_extension("opt.wasm");
    run(Command::new(build_tools_dir().join("node_modules/.bin/wasm-opt"))
        .arg("-Oz")
        .args(WASM_FEATURES)
        .arg(module)
        .arg("-o")
        .arg(&out))?;
    std::fs::read(&out).with_context(|| format!("reading {}", out.display()))
}

/// Drops a component's top-level `component-name` custom section: debug
/// names for its instances and functions, which nothing needs to run it.
fn strip_component_names(component: &[u8]) -> Result<Vec<u8>> {
    let mut out = component[..8].to_vec();
    let mut reader = wasmparser::BinaryReader::new(component, 0);
    reader.skip(|r| r.read_bytes(8).map(drop))?;
    while !reader.eof() {
        let start = reader.current_position();
        let id = reader.read_u8()?;
        let len = usize::try_from(reader.read_var_u32()?)?;
        let contents = reader.read_bytes(len)?;
        let is_names = id == 0 && wasmparser::BinaryReader::new(contents, 0).read_string()? == "component-name";
        if !is_names {
            out.extend_from_slice(&component[start..reader.current_position()]);
        }
    }
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&out)
        .context("the component without its names does not validate")?;
    Ok(out)
}

/// The components' shadow stack (Rust's wasm32 default is 1 MiB). Rust
/// links it first in linear memory, below the data, so an overflow runs
/// below address 0 and traps instead of overwriting data
/// (`host-tests/tests/stack.rs`). The deepest case the tests and the
/// benchmark know needs a few KiB (`cargo xtask bench`, "shadow stack
/// needed"); this leaves room for inputs no test has thought of.
pub const STACK_SIZE: usize = 16 * 1024;

/// Builds `package`'s library for [`WASM_TARGET`] as a `cdylib` with
/// `features` and encodes the module as a component; returns the module's
/// size and the component.
fn encode_component(package: &str, features: &[&str]) -> Result<(usize, Vec<u8>)> {
    let mut command = cargo();
    command.args([
        "rustc",
        "--package",
        package,
        "--lib",
        "--release",
        "--target",
        WASM_TARGET,
    ]);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    run(command
        .args(["--crate-type", "cdylib", "--"])
        .arg(format!("-Clink-arg=-zstack-size={STACK_SIZE}")))?;
    let core = target_dir()
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{}.wasm", package.replace('-', "_")));
    let module = wasm_opt(&core)?;
    let component = ComponentEncoder::default()
        .module(&module)?
        .validate(true)
        .encode()
        .with_context(|| format!("encoding {package} as a component"))?;
    Ok((module.len(), strip_component_names(&component)?))
}

/// Fails unless each of `imports` starts with one of `allowed`.
fn ensure_imports_allowed(file: &str, imports: &[String], allowed: &[&str]) -> Result<()> {
    let refused: Vec<&String> = imports
        .iter()
        .filter(|name| !allowed.iter().any(|prefix| name.starts_with(prefix)))
        .collect();
    ensure!(
        refused.is_empty(),
        "{file} may import only {allowed:?}, but imports {refused:?}"
    );
    Ok(())
}

/// Writes `component` to `target/components/<file>` and says so, with its
/// size, `note` and `imports`; returns the path.
fn write_component(file: &str, component: &[u8], note: &str, imports: &[String]) -> Result<PathBuf> {
    let out_dir = target_dir().join("components");
    std::fs::create_dir_all(&out_dir)?;
    let out = out_dir.join(file);
    // Written only when its bytes change: the crates that embed it rebuild
    // whenever the file's modification time does.
    if std::fs::read(&out).ok().as_deref() != Some(component) {
        std::fs::write(&out, component).with_context(|| format!("writing {}", out.display()))?;
    }
    let listed = if imports.is_empty() {
        "none".to_owned()
    } else {
        imports.join(", ")
    };
    println!(
        "built {} ({} bytes, {note}, imports: {listed})",
        out.display(),
        component.len()
    );
    Ok(out)
}

/// The names of a component's top-level imports.
fn component_imports(component: &[u8]) -> Result<Vec<String>> {
    let DecodedWasm::Component(resolve, world) = wit_component::decode(component)? else {
        bail!("the encoded bytes are not a component");
    };
    Ok(resolve.worlds[world]
        .imports
        .keys()
        .map(|key| resolve.name_world_key(key))
        .collect())
}

/// Builds every binary of the workspace (debug) with the freshly built
/// components and returns the CLI's path. Building the whole workspace, not
/// one package, keeps the features of shared dependencies (wasmtime above
/// all) the same as `cargo test --workspace` uses, so nothing is built twice.
fn build_cli(components: &[PathBuf]) -> Result<PathBuf> {
    run(with_components(
        cargo().args(["build", "--workspace", "--bins"]),
        components,
    ))?;
    Ok(target_dir().join("debug/acr-auth"))
}

/// Points builds and tests at the components: `ACR_AUTH_COMPONENT` (pure),
/// `ACR_AUTH_CLIENT_COMPONENT` and `ACR_AUTH_PROXY_COMPONENT`.
fn with_components<'c>(cmd: &'c mut Command, components: &[PathBuf]) -> &'c mut Command {
    let vars = [
        "ACR_AUTH_COMPONENT",
        "ACR_AUTH_CLIENT_COMPONENT",
        "ACR_AUTH_PROXY_COMPONENT",
    ];
    for (var, path) in vars.iter().zip(components) {
        cmd.env(var, path);
    }
    cmd
}

/// Runs every test, stage by stage, and prints how long each stage took,
/// also when one fails.
fn test(extra: &[String]) -> Result<()> {
    let mut stages = Stages::start();
    let result = test_stages(&mut stages, extra);
    stages.print();
    result
}

/// The stages of `cargo xtask test`. One debug build of the workspace serves
/// the tests, the other hosts' tests and the benchmark's smoke run, so
/// wasmtime is built once (and type-checked once more, by clippy).
fn test_stages(stages: &mut Stages, extra: &[String]) -> Result<()> {
    stages.run("format", || {
        run(Command::new("rustup").args(["component", "add", "rustfmt", "clippy"]))?;
        run(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    let components = stages.run("components", build)?;
    stages.run("clippy", || clippy(&components))?;
    let cli = stages.run("debug build", || build_cli(&components))?;
    stages.run("demo", || demo::run(&cli, &test_acr()))?;
    stages.run("Debian packages", install_debian_packages)?;
    stages.run("Rust tests", || {
        run(
            with_components(cargo().args(["test", "--workspace"]).args(extra), &components)
                .env("ACR_AUTH_CLI", &cli)
                .env("ACR_AUTH_PROXY", target_dir().join("debug/acr-auth-proxy")),
        )
    })?;
    stages.run("Node and Python tests", test_other_hosts)?;
    stages.run("packages", || packages::test(&target_dir().join("debug/test-acr")))?;
    stages.run("skopeo pull", || skopeo_pull(&cli))?;
    stages.run("skopeo copy through the proxy", || skopeo_copy(&components))?;
    // The benchmark must work; its numbers, from a debug build, are not judged.
    stages.run("benchmark smoke run", || bench::smoke(&components))?;
    stages.run("fuzz smoke run", || fuzz::smoke(&components))
}

/// Lints every crate of the workspace, tests and examples included, and the
/// fuzz targets, failing on any warning. The components must exist: the host
/// crate embeds them.
fn clippy(components: &[PathBuf]) -> Result<()> {
    run(with_components(
        cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        components,
    ))?;
    fuzz::clippy(&[], components)
}

/// Runs `examples/node/test.sh` and `examples/python/test.sh` under
/// `host-tests/with-test-acr.sh`, which gives them the test ACR at a registry
/// name on port 443 in a network namespace of their own. That namespace has
/// no other network, so the packages are installed first.
fn test_other_hosts() -> Result<()> {
    // Built with the workspace's binaries by `build_cli`.
    let test_acr = test_acr();
    run_in(
        &root().join("examples/node"),
        Command::new("npm").args(["ci", "--no-audit", "--no-fund"]),
    )?;
    // Collecting the tests creates the virtualenv and installs the pinned packages.
    run(Command::new("bash")
        .args(["examples/python/test.sh", "--collect-only", "-q"])
        .env("ACR_AUTH_COMPONENTS_DIR", target_dir().join("components")))?;
    for script in ["examples/node/test.sh", "examples/python/test.sh"] {
        run(Command::new(root().join("host-tests/with-test-acr.sh"))
            .arg(&test_acr)
            .arg("bash")
            .arg(script)
            .env("ACR_AUTH_COMPONENTS_DIR", target_dir().join("components")))?;
    }
    Ok(())
}

/// skopeo, a real registry client, pulls a manifest from the test ACR through
/// `cli` as the docker credential helper (`host-tests/skopeo-pull.sh`).
fn skopeo_pull(cli: &Path) -> Result<()> {
    run(Command::new(root().join("host-tests/with-test-acr.sh"))
        .arg(test_acr())
        .args(["bash", "host-tests/skopeo-pull.sh"])
        .arg(cli))
}

/// skopeo copies a whole multi-platform image from the test ACR through the
/// pull proxy, which logs in with the test app's client secret
/// (`host-tests/skopeo-copy.sh`).
fn skopeo_copy(components: &[PathBuf]) -> Result<()> {
    run(Command::new(root().join("host-tests/with-test-acr.sh"))
        .arg(test_acr())
        .args(["bash", "host-tests/skopeo-copy.sh"])
        .arg(target_dir().join("debug/acr-auth-proxy"))
        .arg(&components[2]))
}

/// The Debian packages the tests use, each with the command that shows it is
/// installed: skopeo (a real registry client), jq (reads skopeo's output in
/// the scripts) and redis-server (the pull proxy's shared cache, which the
/// proxy tests start).
const DEBIAN_PACKAGES: [(&str, &str); 3] = [("skopeo", "skopeo"), ("jq", "jq"), ("redis-server", "redis-server")];

/// Installs the [`DEBIAN_PACKAGES`] that are missing, in one `apt-get` run.
fn install_debian_packages() -> Result<()> {
    let missing: Vec<&str> = DEBIAN_PACKAGES
        .iter()
        .filter(|(_, tool)| {
            !Command::new(tool)
                .arg("--version")
                .output()
                .is_ok_and(|out| out.status.success())
        })
        .map(|(package, _)| *package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    run(Command::new("apt-get").args(["update", "-q"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-q"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// Shows the main job against the local test ACR (see [`demo`]). Builds only
/// what it runs: the `pure` and `client` components, and the `acr-auth` and
/// `test-acr` binaries.
fn demo() -> Result<()> {
    let (cli, test_acr) = build_demo_binaries(&build_components()?)?;
    demo::run(&cli, &test_acr)
}

/// Builds the two binaries the demo runs. The features are the whole
/// workspace's, as in [`build_cli`], so that a later `cargo xtask test`
/// builds nothing of this again.
fn build_demo_binaries(components: &[PathBuf]) -> Result<(PathBuf, PathBuf)> {
    run(with_components(
        cargo().args(["build", "--workspace", "--bin", "acr-auth", "--bin", "test-acr"]),
        components,
    ))?;
    Ok((target_dir().join("debug/acr-auth"), test_acr()))
}

/// The local test ACR's binary (`host-tests/support/src/bin/test-acr.rs`).
fn test_acr() -> PathBuf {
    target_dir().join("debug/test-acr")
}

/// `path` relative to the workspace root when it is under it, for commands
/// a reader can copy.
fn shown(path: &Path) -> std::borrow::Cow<'_, str> {
    path.strip_prefix(root()).unwrap_or(path).to_string_lossy()
}
