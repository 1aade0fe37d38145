//! Every case of every case file in `tests/cases/` through the native
//! library, one test per file: each answer must match the case, and satisfy
//! what every answer to its file must (see `conformance::check_answer`). The
//! components answer the same cases in `host-tests`, and must agree with these
//! answers.

mod conformance;

use conformance::{CASE_FILES, Native, answer, cases, check_answer, check_resolving_again};

/// Every case of `file` through the native library.
fn run(file: &str) {
    for case in &cases(file) {
        check_answer(file, case, &answer(&Native, file, case));
    }
}

test_each_case_file!(run);

/// The case files of another shape, each with its own runner: scripted
/// logins (`tests/login_flow.rs`) and hand-built custom cloud records
/// (`tests/custom_cloud_record.rs`).
pub const OTHER_CASE_FILES: [&str; 2] = ["custom-cloud-record", "login-flow"];

#[test]
fn every_case_file_is_listed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .expect("the case directory")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| path.file_stem().expect("a name").to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<&str> = CASE_FILES
        .iter()
        .map(|(name, ..)| *name)
        .chain(OTHER_CASE_FILES)
        .collect();
    listed.sort_unstable();
    assert_eq!(on_disk, listed, "tests/cases/ and conformance::CASE_FILES differ");
}

#[test]
fn resolving_a_login_server_again_changes_nothing() {
    check_resolving_again(&Native);
}
