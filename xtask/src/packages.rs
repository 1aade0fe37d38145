//! `cargo xtask package` and the test stage "packages": the three packages
//! users install, built from this repository, then installed from those
//! artifacts in clean places outside it and tested there.
//!
//! - npm `acr-auth` (`examples/node`): the wrapper and the transpiled `pure`
//!   component, packed with `npm pack` as `acr-auth-<version>.tgz`;
//! - PyPI `acr-auth` (`examples/python`, import `acr_auth`): a wheel that
//!   carries the `pure` component as package data,
//!   `acr_auth-<version>-py3-none-any.whl`;
//! - crates.io `acr-auth` (the library): `cargo package`'s
//!   `acr-auth-<version>.crate`.
//!
//! All three are written to `target/packages/`. The tests of each run where
//! only the package and the tests are: an empty npm project with the tarball
//! installed, a new virtualenv with the wheel installed, the unpacked crate
//! with a target directory of its own. The Node and Python tests there read a
//! copy of the case files (and, for the type checks, of the WIT description),
//! import the package by its name, and log in to the test ACR under
//! `host-tests/with-test-acr.sh`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, Result, bail, ensure};

use crate::{cargo, root, run, run_in, target_dir};

/// The version of every package: the crate's. xtask's version is the
/// workspace's, which the library's is too; the `.crate` file's name checks
/// that.
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The Python that builds the wheel and makes the test's virtualenv.
const PYTHON: &str = "python3.11";

/// `cargo xtask package [--test]`: builds the components and the packages;
/// with `--test`, also the test ACR, and runs the packages' tests (the test
/// stage "packages" on its own).
pub fn command(args: &[String]) -> Result<()> {
    let test_packages = match args {
        [] => false,
        [flag] if flag == "--test" => true,
        _ => bail!("usage: cargo xtask package [--test]"),
    };
    crate::build()?;
    if !test_packages {
        return package().map(drop);
    }
    run(cargo().args(["build", "-p", "acr-auth-test-support", "--bin", "test-acr"]))?;
    test(&target_dir().join("debug/test-acr"))
}

/// The packages' artifacts, in `target/packages/`.
struct Artifacts {
    /// The npm tarball.
    npm: PathBuf,
    /// The wheel.
    wheel: PathBuf,
    /// The `.crate` file.
    krate: PathBuf,
}

/// Builds the three packages from the components `cargo xtask build` wrote
/// and writes them to `target/packages/`.
fn package() -> Result<Artifacts> {
    let out = target_dir().join("packages");
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)?;
    let artifacts = Artifacts {
        npm: pack_npm(&out)?,
        wheel: build_wheel(&out)?,
        krate: package_crate(&out)?,
    };
    for artifact in [&artifacts.npm, &artifacts.wheel, &artifacts.krate] {
        let len = std::fs::metadata(artifact)?.len();
        println!("packaged {} ({len} bytes)", artifact.display());
    }
    Ok(artifacts)
}

/// Builds the packages and runs each one's tests where it is installed, the
/// Node and Python logins against the test ACR `test_acr` serves.
pub fn test(test_acr: &Path) -> Result<()> {
    let artifacts = timed("building the packages", package)?;
    let work = std::env::temp_dir().join(format!("acr-auth-packages-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let result = timed("the npm package's tests", || {
        test_npm(&artifacts.npm, &work.join("node"), test_acr)
    })
    .and_then(|()| {
        timed("the wheel's tests", || {
            test_wheel(&artifacts.wheel, &work.join("python"), test_acr)
        })
    })
    .and_then(|()| {
        timed("the crate's tests", || {
            test_crate(&artifacts.krate, &work.join("crate"))
        })
    });
    std::fs::remove_dir_all(&work).with_context(|| format!("removing {}", work.display()))?;
    result
}

/// Runs one part of the stage and says how long it took, so that a slow
/// stage says which package its time went to.
fn timed<T>(what: &str, part: impl FnOnce() -> Result<T>) -> Result<T> {
    let began = Instant::now();
    let result = part();
    println!("packages: {what} took {:.1} s", began.elapsed().as_secs_f64());
    result
}

/// Fails unless `manifest` (relative to the root) gives the crate's version
/// in the line that starts with `key`.
fn ensure_version(manifest: &str, key: &str) -> Result<()> {
    let text = std::fs::read_to_string(root().join(manifest)).with_context(|| format!("reading {manifest}"))?;
    let line = text
        .lines()
        .find(|line| line.trim_start().starts_with(key))
        .with_context(|| format!("{manifest} has no {key}"))?;
    ensure!(
        line.contains(&format!("\"{VERSION}\"")),
        "{manifest} says {}, the crate's version is {VERSION}: keep them equal",
        line.trim()
    );
    Ok(())
}

/// The files the npm package ships besides the transpiled component, which
/// is all of `generated/pure/`. npm adds `package.json` and `README.md`
/// itself.
const NPM_FILES: [&str; 4] = ["README.md", "acr-auth.d.ts", "acr-auth.js", "package.json"];

/// Transpiles the `pure` component into `examples/node/generated/pure` with
/// the pinned jco and packs the package into `out`; checks that it ships
/// exactly [`NPM_FILES`] and the transpiled component.
fn pack_npm(out: &Path) -> Result<PathBuf> {
    ensure_version("examples/node/package.json", "\"version\"")?;
    let dir = root().join("examples/node");
    run_in(
        &dir,
        Command::new("npm").args(["ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]),
    )?;
    run_in(
        &dir,
        Command::new("npm")
            .args(["run", "build"])
            .env("ACR_AUTH_COMPONENTS_DIR", target_dir().join("components")),
    )?;
    let listing = Command::new("npm")
        .args(["pack", "--json", "--loglevel=error", "--pack-destination"])
        .arg(out)
        .current_dir(&dir)
        .output()
        .context("starting npm pack")?;
    ensure!(
        listing.status.success(),
        "npm pack failed: {}",
        String::from_utf8_lossy(&listing.stderr)
    );
    let packed: serde_json::Value = serde_json::from_slice(&listing.stdout).context("reading npm pack's JSON")?;
    let files: BTreeSet<&str> = packed[0]["files"]
        .as_array()
        .context("npm pack listed no files")?
        .iter()
        .filter_map(|file| file["path"].as_str())
        .collect();
    let (component, other): (BTreeSet<&str>, BTreeSet<&str>) =
        files.into_iter().partition(|path| path.starts_with("generated/pure/"));
    ensure!(
        other == BTreeSet::from(NPM_FILES),
        "the npm package ships {other:?} besides generated/pure/, not {NPM_FILES:?}"
    );
    ensure!(
        component.contains("generated/pure/acr_auth.js") && component.iter().any(|f| f.ends_with(".core.wasm")),
        "the npm package lacks the transpiled component: {component:?}"
    );
    let tarball = out.join(format!("acr-auth-{VERSION}.tgz"));
    ensure!(tarball.is_file(), "npm pack wrote no {}", tarball.display());
    Ok(tarball)
}

/// Builds the wheel of `examples/python` into `out` with pip (its build
/// backend, hatchling, comes from PyPI into an isolated build environment).
fn build_wheel(out: &Path) -> Result<PathBuf> {
    ensure_version("examples/python/pyproject.toml", "version")?;
    let component = target_dir().join("components/acr_auth.wasm");
    ensure!(
        component == root().join("target/components/acr_auth.wasm"),
        "the wheel takes the component from target/components/ (pyproject.toml), but it is at {}",
        component.display()
    );
    run(Command::new(PYTHON)
        .args([
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--wheel-dir",
        ])
        .arg(out)
        .arg(root().join("examples/python")))?;
    let wheel = out.join(format!("acr_auth-{VERSION}-py3-none-any.whl"));
    ensure!(wheel.is_file(), "pip wrote no {}", wheel.display());
    Ok(wheel)
}

/// Packages the library with `cargo package` (whose build check the tests
/// of the unpacked crate replace) and copies the `.crate` file into `out`.
fn package_crate(out: &Path) -> Result<PathBuf> {
    run(cargo().args(["package", "-p", "acr-auth", "--allow-dirty", "--no-verify", "--quiet"]))?;
    let name = format!("acr-auth-{VERSION}.crate");
    let packaged = target_dir().join("package").join(&name);
    let krate = out.join(name);
    std::fs::copy(&packaged, &krate).with_context(|| format!("copying {}", packaged.display()))?;
    Ok(krate)
}

/// The case files every host runs, copied into `dir`.
fn copy_case_files(dir: &Path) -> Result<PathBuf> {
    let cases = dir.join("cases");
    copy_dir(&root().join("tests/cases"), &cases)?;
    Ok(cases)
}

/// Copies the files of `from` (not its subdirectories) into a new `to`.
fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

/// The version `examples/node/package.json` pins `package` at.
fn pinned_npm_version(package: &str) -> Result<String> {
    let text = std::fs::read_to_string(root().join("examples/node/package.json"))?;
    let manifest: serde_json::Value = serde_json::from_str(&text)?;
    manifest["devDependencies"][package]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("examples/node/package.json pins no {package}"))
}

/// Installs the npm tarball into an empty project at `dir` (with the pinned
/// TypeScript, for the type checks of the shipped declarations) and runs the
/// Node tests there, under the test ACR.
fn test_npm(tarball: &Path, dir: &Path, test_acr: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let manifest = serde_json::json!({
        "name": "acr-auth-package-test",
        "private": true,
        "type": "module",
    });
    std::fs::write(dir.join("package.json"), manifest.to_string())?;
    let typescript = format!("typescript@{}", pinned_npm_version("typescript")?);
    run_in(
        dir,
        Command::new("npm")
            .args([
                "install",
                "--prefer-offline",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .arg(tarball)
            .arg(typescript),
    )?;
    let tests = dir.join("test");
    copy_dir(&root().join("examples/node/test"), &tests)?;
    let cases = copy_case_files(dir)?;
    let wit = dir.join("acr_auth_wit.json");
    std::fs::copy(target_dir().join("components/acr_auth_wit.json"), &wit)?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&tests)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    files.retain(|path| path.to_string_lossy().ends_with(".test.js"));
    files.sort();
    ensure!(!files.is_empty(), "no Node tests in {}", tests.display());
    run_in(
        dir,
        with_test_acr(test_acr)
            .args(["node", "--test"])
            .args(&files)
            .env("ACR_AUTH_CASES_DIR", &cases)
            .env("ACR_AUTH_WIT_JSON", &wit)
            .env_remove("ACR_AUTH_COMPONENTS_DIR"),
    )
}

/// Installs the wheel and the pinned pytest into a new virtualenv at `dir`,
/// checks that the package runs the component it carries, and runs the
/// Python tests there, under the test ACR.
fn test_wheel(wheel: &Path, dir: &Path, test_acr: &Path) -> Result<()> {
    let venv = dir.join("venv");
    run(Command::new(PYTHON).args(["-m", "venv"]).arg(&venv))?;
    let python = venv.join("bin/python");
    let requirements = std::fs::read_to_string(root().join("examples/python/requirements.txt"))?;
    let Some(pytest) = requirements.lines().find(|line| line.starts_with("pytest==")) else {
        bail!("examples/python/requirements.txt pins no pytest");
    };
    run_in(
        dir,
        Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"])
            .arg(wheel)
            .arg(pytest),
    )?;
    // The component is found as package data, with no variable naming it.
    let check = "import pathlib, acr_auth, acr_auth._component as c\n\
                 package = pathlib.Path(acr_auth.__file__).parent\n\
                 assert c.DEFAULT_COMPONENT == package / 'acr_auth.wasm', c.DEFAULT_COMPONENT\n\
                 assert 'site-packages' in package.parts, package\n\
                 assert (package / 'py.typed').is_file()\n\
                 print(acr_auth.resolve_scope('MyRegistry.azurecr.io/team/app:1.2', None).scope)\n";
    run_in(
        dir,
        Command::new(&python)
            .args(["-c", check])
            .env_remove("ACR_AUTH_COMPONENT")
            .env_remove("ACR_AUTH_COMPONENTS_DIR"),
    )?;
    copy_dir(&root().join("examples/python/tests"), &dir.join("tests"))?;
    let cases = copy_case_files(dir)?;
    run_in(
        dir,
        with_test_acr(test_acr)
            .arg(&python)
            .args(["-m", "pytest", "-q", "-rsx", "-p", "no:cacheprovider", "tests"])
            .env("ACR_AUTH_CASES_DIR", &cases)
            .env_remove("ACR_AUTH_COMPONENT")
            .env_remove("ACR_AUTH_COMPONENTS_DIR"),
    )
}

/// Unpacks the `.crate` file into `dir` and runs its tests there, offline
/// (from the registry cache the workspace's build filled), with a target
/// directory of its own that is kept between runs, so that only the crate
/// itself is built again.
///
/// The files are unpacked with the time of unpacking (`tar -m`), not the
/// times the `.crate` file records: the tests name their case files by
/// their path at compile time (`CARGO_MANIFEST_DIR`), which is a new
/// directory each run, and cargo builds them again only if a source file is
/// newer than its last build.
fn test_crate(krate: &Path, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    run_in(dir, Command::new("tar").arg("-xzmf").arg(krate))?;
    let unpacked = dir.join(format!("acr-auth-{VERSION}"));
    run_in(
        &unpacked,
        cargo()
            .args(["test", "--offline", "--locked"])
            .env("CARGO_TARGET_DIR", target_dir().join("packaged-crate"))
            // Unoptimised, the property tests (2,000 cases each) alone took
            // 83 s; at opt-level 1 they took 6 s, and a cold build with the
            // whole run 86 s.
            .env("CARGO_PROFILE_DEV_OPT_LEVEL", "1"),
    )
}

/// `host-tests/with-test-acr.sh` with the test ACR `test_acr`, to which the
/// command to run is added.
fn with_test_acr(test_acr: &Path) -> Command {
    let mut command = Command::new(root().join("host-tests/with-test-acr.sh"));
    command.arg(test_acr);
    command
}
