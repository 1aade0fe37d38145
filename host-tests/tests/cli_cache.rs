//! The CLI keeps the compiled component in wasmtime's on-disk cache, so only
//! its first run on a machine compiles; without a usable cache directory it
//! compiles every time and still answers.

use std::path::Path;

use acr_auth_test_support::cli::{command, temp_file};

/// Runs `acr-auth scope myregistry.azurecr.io` with `home` as its home and
/// cache directory, returning its stdout; the run must succeed silently.
fn scope_with_home(home: &Path) -> String {
    let out = command()
        .args(["scope", "myregistry.azurecr.io"])
        .env("HOME", home)
        .env("XDG_CACHE_HOME", home.join("cache"))
        .output()
        .expect("the CLI runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// How many files lie below `dir`.
fn files_below(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| if e.path().is_dir() { files_below(&e.path()) } else { 1 })
            .sum()
    })
}

#[test]
fn the_first_run_fills_the_cache_and_the_second_gives_the_same_answer() {
    let home = temp_file("cache-test", b"").with_extension("home");
    std::fs::create_dir_all(&home).expect("a home directory");
    assert_eq!(files_below(&home.join("cache")), 0);
    let first = scope_with_home(&home);
    assert!(files_below(&home.join("cache")) > 0, "nothing was cached");
    assert_eq!(scope_with_home(&home), first);
    assert!(first.contains("\"login_server\": \"myregistry.azurecr.io\""), "{first}");
}

#[test]
fn without_a_usable_cache_directory_it_still_answers() {
    // Below a file, so not even root can create it.
    let out = scope_with_home(Path::new("/dev/null/acr-auth-home"));
    assert!(out.contains("https://containerregistry.azure.net/.default"), "{out}");
}
