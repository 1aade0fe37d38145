//! The docker credential helper's refresh-token cache, against the local
//! test ACR (which also answers Entra): a second `get` sends no request at
//! all; a token within five minutes of its expiry, an entry for another
//! registry or identity, and a file that cannot be trusted (corrupt, open to
//! others, someone else's, not a regular file, a symbolic link) are never
//! used and are replaced; `erase` removes the entry; a symbolic link never
//! leads a write elsewhere. Each test has a home of its own, so the user's
//! cache is never touched.

use std::fs::Permissions;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

use acr_auth_test_support::acr_server::{TestAcr, TestApp};
use acr_auth_test_support::cli::{docker_helper, empty_home, run_helper, temp_file};
use acr_auth_test_support::inputs::unsigned_jwt;
use serde_json::{Value, json};

const HOST: &str = "cacheregistry.azurecr.io";
const OTHER_HOST: &str = "othercacheregistry.azurecr.io";
const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT_ID: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
const CLIENT_SECRET: &str = "Kq8~cache.helper-secret_0123456789abcdefgh";
const REFRESH_TOKEN_USERNAME: &str = "00000000-0000-0000-0000-000000000000";

fn app() -> TestApp {
    TestApp {
        tenant: TENANT.into(),
        client_id: CLIENT_ID.into(),
        credential: CLIENT_SECRET.into(),
    }
}

fn server(host: &str) -> TestAcr {
    TestAcr::builder(host).entra_app(app()).start()
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs()
}

/// The helper binary and the home it runs with.
struct Helper {
    path: PathBuf,
    home: PathBuf,
}

impl Helper {
    fn new(name: &str) -> Self {
        Self {
            path: docker_helper(name),
            home: empty_home(name),
        }
    }

    /// The cache directory the helper must use: `$XDG_CACHE_HOME/acr-auth`.
    fn cache(&self) -> PathBuf {
        self.home.join(".cache/acr-auth")
    }

    fn run(&self, acr: &TestAcr, action: &str, stdin: &str) -> Output {
        run_helper(&self.path, acr, &app(), &self.home, action, stdin)
    }

    /// `get` for `server`, which must succeed; returns the secret.
    fn get(&self, acr: &TestAcr, server: &str) -> String {
        let out = self.run(acr, "get", server);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
        let answer: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        assert_eq!(answer["ServerURL"], server);
        assert_eq!(answer["Username"], REFRESH_TOKEN_USERNAME);
        answer["Secret"].as_str().expect("a secret").to_owned()
    }

    /// Everything in the cache directory, sorted.
    fn entries(&self) -> Vec<PathBuf> {
        let mut entries: Vec<_> = std::fs::read_dir(self.cache())
            .map(|dir| dir.map(|e| e.expect("an entry").path()).collect())
            .unwrap_or_default();
        entries.sort();
        entries
    }

    /// The one entry in the cache directory.
    fn entry(&self) -> PathBuf {
        let entries = self.entries();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries[0].clone()
    }
}

/// The newest refresh token `acr` issued, and how many it issued.
fn newest(acr: &TestAcr) -> (String, usize) {
    let issued = acr.issued_refresh_tokens();
    (issued.last().expect("a token").token.clone(), issued.len())
}

/// The entry at `path` as JSON.
fn read_entry(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("the entry")).expect("the entry is JSON")
}

/// Rewrites the entry at `path` with `change` (keeping its mode).
fn rewrite(path: &Path, change: impl FnOnce(&mut Value)) {
    let mut entry = read_entry(path);
    change(&mut entry);
    std::fs::write(path, entry.to_string()).expect("rewriting the entry");
}

/// Asserts that `path` is a regular file, mode 0600, owned by the user
/// that owns `home`, holding `token` for `host`.
fn assert_private_entry(path: &Path, home: &Path, host: &str, token: &str) {
    let meta = std::fs::symlink_metadata(path).expect("the entry");
    assert!(meta.file_type().is_file(), "{path:?} is not a regular file");
    assert_eq!(meta.mode() & 0o7777, 0o600, "{path:?}");
    assert_eq!(meta.uid(), std::fs::metadata(home).expect("home").uid());
    let entry = read_entry(path);
    assert_eq!(
        (entry["login_server"].as_str(), entry["refresh_token"].as_str()),
        (Some(host), Some(token))
    );
}

#[test]
fn a_cached_get_sends_no_request_until_five_minutes_before_expiry_and_erase_forgets_it() {
    let acr = server(HOST);
    let helper = Helper::new("cache-hit");
    let secret = helper.get(&acr, &format!("https://{HOST}"));
    let (issued, count) = newest(&acr);
    assert_eq!((secret.as_str(), count), (issued.as_str(), 1));
    let paths: Vec<String> = acr.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [format!("/{TENANT}/oauth2/v2.0/token"), "/oauth2/exchange".to_owned()]
    );

    // The same login server however docker names it.
    for server in [HOST.to_owned(), format!("https://{HOST}"), format!("{HOST}:443")] {
        assert_eq!(helper.get(&acr, &server), issued, "{server}");
    }
    assert_eq!(
        acr.requests().len(),
        2,
        "a cached get sent a request to the registry or Entra"
    );

    let dir = std::fs::symlink_metadata(helper.cache()).expect("the cache directory");
    assert!(dir.file_type().is_dir());
    assert_eq!(dir.mode() & 0o7777, 0o700);
    let entry = helper.entry();
    assert_private_entry(&entry, &helper.home, HOST, &issued);
    let name = entry.file_name().expect("a name").to_string_lossy().into_owned();
    let hash = name.strip_suffix(".json").expect("a .json file");
    assert!(
        hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()),
        "{name}"
    );
    let text = std::fs::read_to_string(&entry).expect("the entry");
    assert!(!text.contains(CLIENT_SECRET) && !name.contains(CLIENT_SECRET), "{text}");

    // Tokens the registry might have issued, ten and four minutes from expiry.
    let expiring = |secs: u64| unsigned_jwt(&json!({ "aud": HOST, "exp": unix_now() + secs, "tenant": TENANT }));
    let later = expiring(10 * 60);
    rewrite(&entry, |e| e["refresh_token"] = later.clone().into());
    assert_eq!(helper.get(&acr, HOST), later);
    assert_eq!(
        acr.requests().len(),
        2,
        "a token ten minutes from expiry is used without a request"
    );
    let soon = expiring(4 * 60);
    rewrite(&entry, |e| e["refresh_token"] = soon.clone().into());
    let secret = helper.get(&acr, HOST);
    let (issued, count) = newest(&acr);
    assert_eq!(
        (secret.as_str(), count),
        (issued.as_str(), 2),
        "four minutes from expiry: logged in again"
    );
    assert_private_entry(&entry, &helper.home, HOST, &issued);

    for server in ["registry-1.docker.io", &format!("https://{HOST}")] {
        let erase = helper.run(&acr, "erase", server);
        assert_eq!(
            (erase.status.code(), erase.stdout.as_slice()),
            (Some(0), &b""[..]),
            "{server}"
        );
    }
    assert_eq!(helper.entries(), Vec::<PathBuf>::new(), "erase left the entry");
}

#[test]
fn an_entry_for_another_registry_or_identity_is_not_used() {
    let (acr, other) = (server(HOST), server(OTHER_HOST));
    let helper = Helper::new("cache-foreign");
    let first = helper.get(&acr, HOST);
    helper.get(&other, OTHER_HOST);
    let entries = helper.entries();
    assert_eq!(entries.len(), 2);
    let [ours, theirs] = [HOST, OTHER_HOST].map(|host| {
        entries
            .iter()
            .find(|path| read_entry(path)["login_server"] == host)
            .expect("an entry per registry")
            .clone()
    });

    // The other registry's entry holds this registry's token.
    std::fs::copy(&ours, &theirs).expect("copying the entry");
    let secret = helper.get(&other, OTHER_HOST);
    let (issued, count) = newest(&other);
    assert_eq!((secret.as_str(), count), (issued.as_str(), 2));
    assert_ne!(secret, first);
    assert_private_entry(&theirs, &helper.home, OTHER_HOST, &issued);

    // Its entry says another identity signed in.
    rewrite(&theirs, |e| {
        e["identity"] = json!(["client-secret", TENANT, "6b1c2f4a-3d5e-4f60-8a7b-9c0d1e2f3a4b", null]);
    });
    let secret = helper.get(&other, OTHER_HOST);
    let (issued, count) = newest(&other);
    assert_eq!((secret.as_str(), count), (issued.as_str(), 3));
    assert_eq!(acr.issued_refresh_tokens().len(), 1);
}

#[test]
fn an_entry_that_cannot_be_trusted_is_ignored_and_replaced() {
    let acr = server(HOST);
    let helper = Helper::new("cache-untrusted");
    helper.get(&acr, HOST);
    let entry = helper.entry();
    let valid = std::fs::read(&entry).expect("the entry");
    // A valid entry outside the cache, which a link must not lead to.
    let outside = temp_file("cache-untrusted-outside.json", &valid);
    let as_root = std::fs::metadata(&helper.home).expect("home").uid() == 0;

    type Tamper<'a> = Box<dyn Fn(&Path) + 'a>;
    let mut cases: Vec<(&str, Tamper)> = vec![
        (
            "corrupt",
            Box::new(|path| std::fs::write(path, b"{\"login_server\": ").expect("write")),
        ),
        (
            "readable by the group",
            Box::new(|path| std::fs::set_permissions(path, Permissions::from_mode(0o640)).expect("chmod")),
        ),
        (
            "a FIFO",
            Box::new(|path| {
                std::fs::remove_file(path).expect("remove");
                let made = Command::new("mkfifo").arg(path).status().expect("mkfifo runs");
                assert!(made.success());
            }),
        ),
        (
            "a symbolic link to a valid entry",
            Box::new(|path| {
                std::fs::remove_file(path).expect("remove");
                symlink(&outside, path).expect("symlink");
            }),
        ),
    ];
    if as_root {
        // Only root can give a file to someone else.
        cases.push((
            "owned by another user",
            Box::new(|path| std::os::unix::fs::chown(path, Some(65534), Some(65534)).expect("chown")),
        ));
    }
    for (case, tamper) in cases {
        let before = acr.issued_refresh_tokens().len();
        tamper(&entry);
        let secret = helper.get(&acr, HOST);
        let (issued, count) = newest(&acr);
        assert_eq!(
            (secret.as_str(), count),
            (issued.as_str(), before + 1),
            "{case}: not logged in again"
        );
        assert_private_entry(&entry, &helper.home, HOST, &issued);
        assert_eq!(helper.entries(), std::slice::from_ref(&entry), "{case}");
    }
    assert_eq!(
        std::fs::read(&outside).expect("outside"),
        valid,
        "written through the link"
    );
}

#[test]
fn a_linked_cache_directory_is_neither_used_nor_written_through() {
    let acr = server(HOST);
    let helper = Helper::new("cache-linked-dir");
    let outside = temp_file("cache-linked-dir-target", b"").with_extension("dir");
    let _ = std::fs::remove_dir_all(&outside);
    std::fs::create_dir(&outside).expect("a directory");
    symlink(&outside, helper.cache()).expect("symlink");
    for logins in 1..=2 {
        assert_eq!(helper.get(&acr, HOST), newest(&acr).0);
        assert_eq!(acr.issued_refresh_tokens().len(), logins, "nothing was cached");
    }
    let erase = helper.run(&acr, "erase", HOST);
    assert!(erase.status.success());
    assert_eq!(
        std::fs::read_dir(&outside).expect("outside").count(),
        0,
        "written through the link"
    );
    assert!(
        std::fs::symlink_metadata(helper.cache())
            .expect("the link")
            .file_type()
            .is_symlink()
    );
}
