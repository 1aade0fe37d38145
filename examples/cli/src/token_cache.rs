//! The docker credential helper's cache of ACR refresh tokens on disk, as
//! the ECR credential helper keeps its tokens: docker, podman and skopeo ask
//! the helper at every pull, and without it each `get` would sign in to
//! Entra and trade the token at the registry afresh.
//!
//! One file per registry and identity, in `$XDG_CACHE_HOME/acr-auth` (else
//! `~/.cache/acr-auth`), named by the SHA-256 of the registry and the
//! identity's description: its kind, tenant, client ID and Entra authority,
//! or a managed identity's selector and endpoint, never a secret. The file
//! holds that description, the login server and the refresh token; a token
//! is used until [`CACHE_SKEW_SECS`] before its `exp`.
//!
//! Nothing found on disk is trusted: the directory must be a directory the
//! user owns (never a symbolic link; its mode is set to 0700), an entry a
//! regular file the user owns that no one else may read or write (0600),
//! opened without following a link, and naming this registry and identity.
//! Anything else is ignored and replaced. Entries are written to a fresh
//! file in the same directory and renamed over the old one, so a reader
//! sees a whole entry or none. A cache that cannot be used never fails a
//! `get`: the helper logs in instead.

use std::fs::{DirBuilder, File};
use std::io::{self, Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use acr_auth_host::wit::entra::{EnvironmentIdentity, Identity, ManagedIdentityId, ManagedIdentitySource};
use acr_auth_host::wit::token::Credential;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::credentials::{CACHE_SKEW_SECS, Environment};

/// The cache's directory under the user's cache directory.
pub const CACHE_DIR_NAME: &str = "acr-auth";

/// The variable that turns the cache off (`off`) or names its directory (an
/// absolute path).
pub const CACHE_VARIABLE: &str = "ACR_AUTH_TOKEN_CACHE";

/// The most bytes read from an entry: a refresh token is at most 32 KiB
/// (the component's cap), so a larger file is not an entry.
const MAX_ENTRY_LEN: u64 = 64 * 1024;

/// What an entry is kept under: the registry's login server and who signed
/// in to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    login_server: String,
    identity: Value,
}

impl CacheKey {
    /// The key for `login_server` (as `resolve-scope` names it) and the
    /// identity the environment describes.
    pub fn new(login_server: &str, identity: &EnvironmentIdentity) -> Self {
        Self {
            login_server: login_server.to_owned(),
            identity: identity_description(identity),
        }
    }

    /// The entry's file name: the SHA-256 of the key, in hex, and `.json`.
    pub fn file_name(&self) -> String {
        let key = json!([self.login_server, self.identity]).to_string();
        let digest = Sha256::digest(key.as_bytes());
        let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
        format!("{hex}.json")
    }

    /// The entry holding `refresh_token` under this key.
    pub fn entry(&self, refresh_token: &str) -> Vec<u8> {
        json!({
            "login_server": self.login_server,
            "identity": self.identity,
            "refresh_token": refresh_token,
        })
        .to_string()
        .into_bytes()
    }
}

/// Who the identity is, without its secrets: the kind, then the tenant,
/// client ID and Entra authority of an app; a managed identity's selector
/// (client, object or resource ID, or `system`) and where its tokens come
/// from (the endpoint, never App Service's header).
fn identity_description(identity: &EnvironmentIdentity) -> Value {
    let app = |kind: &str, tenant: &str, client_id: &str, authority: &Option<String>| {
        json!([kind, tenant, client_id, authority])
    };
    match identity {
        EnvironmentIdentity::Ready(Identity::ClientSecret(app_secret)) => app(
            "client-secret",
            &app_secret.tenant,
            &app_secret.client_id,
            &app_secret.authority_host,
        ),
        EnvironmentIdentity::Ready(Identity::FederatedToken(token)) => app(
            "federated-token",
            &token.tenant,
            &token.client_id,
            &token.authority_host,
        ),
        EnvironmentIdentity::ClientCertificate(file) => app(
            "client-certificate",
            &file.tenant,
            &file.client_id,
            &file.authority_host,
        ),
        EnvironmentIdentity::WorkloadIdentity(file) => {
            app("workload-identity", &file.tenant, &file.client_id, &file.authority_host)
        }
        EnvironmentIdentity::Ready(Identity::ManagedIdentity(managed)) => {
            let selector = match &managed.id {
                None => json!("system"),
                Some(ManagedIdentityId::ClientId(id)) => json!(["client-id", id]),
                Some(ManagedIdentityId::ObjectId(id)) => json!(["object-id", id]),
                Some(ManagedIdentityId::ResourceId(id)) => json!(["resource-id", id]),
            };
            let source = match &managed.source {
                ManagedIdentitySource::Imds => json!("imds"),
                ManagedIdentitySource::AppService(app_service) => json!(["app-service", app_service.endpoint]),
                ManagedIdentitySource::AzureArc(endpoint) => json!(["azure-arc", endpoint]),
                ManagedIdentitySource::CloudShell(endpoint) => json!(["cloud-shell", endpoint]),
            };
            json!(["managed-identity", selector, source])
        }
    }
}

/// Whether a token expiring at `expires_at` may still be handed out at
/// `now` (unix seconds): until [`CACHE_SKEW_SECS`] before it expires.
pub fn fresh(expires_at: u64, now: u64) -> bool {
    now < expires_at.saturating_sub(CACHE_SKEW_SECS)
}

/// The credential an entry's `bytes` hold for `key`, if they are an entry
/// for exactly this key and its token, as `parse` reads it (the library's
/// refresh-token parsing), is for this registry and [`fresh`] at `now`.
pub fn cached_credential(
    bytes: &[u8],
    key: &CacheKey,
    now: u64,
    parse: impl FnOnce(&str) -> Option<Credential>,
) -> Option<Credential> {
    let entry: Value = serde_json::from_slice(bytes).ok()?;
    if entry.get("login_server")?.as_str()? != key.login_server || entry.get("identity")? != &key.identity {
        return None;
    }
    let credential = parse(entry.get("refresh_token")?.as_str()?)?;
    let for_registry = credential.audience.is_empty() || credential.audience.contains(&key.login_server);
    (for_registry && fresh(credential.expires_at, now)).then_some(credential)
}

/// Where the cache lives for `env`: the absolute directory
/// [`CACHE_VARIABLE`] names, else `$XDG_CACHE_HOME/acr-auth`, else
/// `$HOME/.cache/acr-auth` (relative paths are ignored, as the XDG base
/// directory specification says); `None` when [`CACHE_VARIABLE`] is `off`
/// or no directory is named.
pub fn cache_dir(env: &dyn Environment) -> Option<PathBuf> {
    let absolute = |path: &String| Path::new(path).is_absolute();
    match env.var(CACHE_VARIABLE) {
        Some(off) if off == "off" => return None,
        Some(dir) if absolute(&dir) => return Some(PathBuf::from(dir)),
        _ => {}
    }
    let base = env
        .var("XDG_CACHE_HOME")
        .filter(absolute)
        .map(PathBuf::from)
        .or_else(|| {
            env.var("HOME")
                .filter(absolute)
                .map(|home| Path::new(&home).join(".cache"))
        })?;
    Some(base.join(CACHE_DIR_NAME))
}

/// The cache directory, opened (see the [module documentation](self)).
pub struct TokenCache {
    dir: OwnedFd,
}

impl TokenCache {
    /// Opens the cache directory `dir`. Refused when it is missing, a
    /// symbolic link, not a directory, or someone else's; its mode is set
    /// to 0700 if it was looser.
    pub fn open(dir: &Path) -> io::Result<Self> {
        Self::open_in(dir, false)
    }

    /// Like [`TokenCache::open`], but creates `dir` (mode 0700) and its
    /// parents when missing.
    pub fn create(dir: &Path) -> io::Result<Self> {
        Self::open_in(dir, true)
    }

    fn open_in(dir: &Path, create: bool) -> io::Result<Self> {
        let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
            return Err(io::ErrorKind::InvalidInput.into());
        };
        if create {
            DirBuilder::new().recursive(true).mode(0o700).create(parent)?;
        }
        let parent = rustix::fs::open(
            parent,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        if create {
            match rustix::fs::mkdirat(&parent, name, Mode::RWXU) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let dir = rustix::fs::openat(
            &parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let stat = rustix::fs::fstat(&dir)?;
        if !owned_by_user(&stat, FileType::Directory) {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        if stat.st_mode & 0o077 != 0 {
            rustix::fs::fchmod(&dir, Mode::RWXU)?;
        }
        Ok(Self { dir })
    }

    /// The bytes of `key`'s entry: a regular file (never through a link)
    /// that the user owns and no one else may read or write, of at most
    /// [`MAX_ENTRY_LEN`] bytes.
    pub fn load(&self, key: &CacheKey) -> io::Result<Vec<u8>> {
        // Non-blocking: opening a FIFO planted there returns at once.
        let file = rustix::fs::openat(
            &self.dir,
            key.file_name(),
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let stat = rustix::fs::fstat(&file)?;
        if !owned_by_user(&stat, FileType::RegularFile) || stat.st_mode & 0o077 != 0 {
            return Err(io::ErrorKind::PermissionDenied.into());
        }
        let mut bytes = Vec::new();
        File::from(file).take(MAX_ENTRY_LEN + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_ENTRY_LEN {
            return Err(io::ErrorKind::InvalidData.into());
        }
        Ok(bytes)
    }

    /// Writes `entry` as `key`'s entry, mode 0600: to a new file in the
    /// directory, then renamed over whatever held the name (a link is
    /// replaced, not followed; an empty directory is removed first).
    pub fn store(&self, key: &CacheKey, entry: &[u8]) -> io::Result<()> {
        let name = key.file_name();
        let temporary = format!(".{name}.{}.tmp", std::process::id());
        // Left by a process of the same ID that died while writing.
        let _ = rustix::fs::unlinkat(&self.dir, &temporary, AtFlags::empty());
        let file = rustix::fs::openat(
            &self.dir,
            &temporary,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::RUSR | Mode::WUSR,
        )?;
        let written = File::from(file).write_all(entry).and_then(|()| {
            match rustix::fs::renameat(&self.dir, &temporary, &self.dir, &name) {
                Err(Errno::ISDIR | Errno::NOTEMPTY | Errno::EXIST) => {
                    rustix::fs::unlinkat(&self.dir, &name, AtFlags::REMOVEDIR)?;
                    rustix::fs::renameat(&self.dir, &temporary, &self.dir, &name)?;
                }
                other => other?,
            }
            Ok(())
        });
        if written.is_err() {
            let _ = rustix::fs::unlinkat(&self.dir, &temporary, AtFlags::empty());
        }
        written
    }

    /// Removes `key`'s entry, if there is one.
    pub fn remove(&self, key: &CacheKey) -> io::Result<()> {
        match rustix::fs::unlinkat(&self.dir, key.file_name(), AtFlags::empty()) {
            Ok(()) | Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// Whether `stat` describes a `kind` of file owned by this process's user.
fn owned_by_user(stat: &Stat, kind: FileType) -> bool {
    FileType::from_raw_mode(stat.st_mode) == kind && stat.st_uid == rustix::process::geteuid().as_raw()
}

#[cfg(test)]
mod tests {
    use acr_auth_host::wit::entra::{AppService, ClientSecret, FederatedTokenFile, ManagedIdentity};

    use super::*;

    const REGISTRY: &str = "myregistry.azurecr.io";
    const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const CLIENT: &str = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";
    const SECRET: &str = "Xq8~client.secret-value_0123456789abcdefgh";
    const NOW: u64 = 1_767_222_000;

    fn client_secret(secret: &str) -> EnvironmentIdentity {
        EnvironmentIdentity::Ready(Identity::ClientSecret(ClientSecret {
            tenant: TENANT.into(),
            client_id: CLIENT.into(),
            secret: secret.into(),
            authority_host: None,
        }))
    }

    fn app_service(header: &str) -> EnvironmentIdentity {
        EnvironmentIdentity::Ready(Identity::ManagedIdentity(ManagedIdentity {
            id: Some(ManagedIdentityId::ClientId(CLIENT.into())),
            source: ManagedIdentitySource::AppService(AppService {
                endpoint: "http://127.0.0.1:41741/msi/token".into(),
                header: header.into(),
            }),
        }))
    }

    fn credential(expires_at: u64, audience: &[&str]) -> Credential {
        Credential {
            username: "00000000-0000-0000-0000-000000000000".into(),
            password: "refresh.token.value".into(),
            expires_at,
            issued_at: None,
            audience: audience.iter().map(|a| (*a).to_owned()).collect(),
            tenant: None,
            abac: false,
        }
    }

    #[test]
    fn the_file_name_is_the_sha256_of_the_registry_and_identity() {
        // sha256 of ["myregistry.azurecr.io",["client-secret","<tenant>","<client>",null]],
        // computed with Python's hashlib.
        assert_eq!(
            CacheKey::new(REGISTRY, &client_secret(SECRET)).file_name(),
            "95a26e910418b8dac3b4fbace98a7e9a011d5c176ab9c8a9d249bf60c8ccb991.json"
        );
    }

    #[test]
    fn no_secret_reaches_the_name_or_the_entry() {
        let key = CacheKey::new(REGISTRY, &client_secret(SECRET));
        let entry = String::from_utf8(key.entry("refresh.token.value")).expect("UTF-8");
        assert!(!entry.contains(SECRET) && !key.file_name().contains(SECRET), "{entry}");
        // Another secret of the same app is the same identity.
        assert_eq!(key, CacheKey::new(REGISTRY, &client_secret("another-secret")));
        let header = "identity-header-secret-0123456789";
        let managed = CacheKey::new(REGISTRY, &app_service(header));
        assert!(!String::from_utf8(managed.entry("t")).expect("UTF-8").contains(header));
        assert_eq!(managed, CacheKey::new(REGISTRY, &app_service("rotated-header")));
    }

    #[test]
    fn each_registry_and_identity_has_its_own_entry() {
        let workload = EnvironmentIdentity::WorkloadIdentity(FederatedTokenFile {
            tenant: TENANT.into(),
            client_id: CLIENT.into(),
            path: "/var/run/secrets/azure/tokens/azure-identity-token".into(),
            authority_host: None,
        });
        let sovereign = EnvironmentIdentity::Ready(Identity::ClientSecret(ClientSecret {
            authority_host: Some("https://login.microsoftonline.us/".into()),
            ..match client_secret(SECRET) {
                EnvironmentIdentity::Ready(Identity::ClientSecret(app)) => app,
                _ => unreachable!("a client secret"),
            }
        }));
        let names = [
            CacheKey::new(REGISTRY, &client_secret(SECRET)),
            CacheKey::new("other.azurecr.io", &client_secret(SECRET)),
            CacheKey::new(REGISTRY, &workload),
            CacheKey::new(REGISTRY, &sovereign),
            CacheKey::new(REGISTRY, &app_service("h")),
        ]
        .map(|key| key.file_name());
        for (i, name) in names.iter().enumerate() {
            assert!(!names[..i].contains(name), "{name} twice");
        }
    }

    #[test]
    fn a_token_is_used_until_five_minutes_before_it_expires() {
        let exp = NOW + 3 * 3600;
        assert!(fresh(exp, NOW));
        assert!(fresh(exp, exp - 301));
        assert!(!fresh(exp, exp - 300));
        assert!(!fresh(exp, exp + 10));
        assert!(!fresh(100, 0));
    }

    #[test]
    fn only_a_fresh_entry_for_this_key_is_used() {
        let key = CacheKey::new(REGISTRY, &client_secret(SECRET));
        let entry = key.entry("refresh.token.value");
        let read = |bytes: &[u8], credential: Credential| {
            cached_credential(bytes, &key, NOW, |token| {
                assert_eq!(token, "refresh.token.value");
                Some(credential)
            })
        };
        let good = read(&entry, credential(NOW + 3600, &[REGISTRY])).expect("used");
        assert_eq!(good.expires_at, NOW + 3600);
        assert!(
            read(&entry, credential(NOW + 3600, &[])).is_some(),
            "no audience to check"
        );
        assert!(
            read(&entry, credential(NOW + 299, &[REGISTRY])).is_none(),
            "near expiry"
        );
        assert!(read(&entry, credential(NOW + 3600, &["other.azurecr.io"])).is_none());
        let other_registry = CacheKey::new("other.azurecr.io", &client_secret(SECRET)).entry("refresh.token.value");
        let other_identity = CacheKey::new(REGISTRY, &app_service("h")).entry("refresh.token.value");
        for bad in [
            &other_registry[..],
            &other_identity,
            b"",
            b"{\"login_server\":",
            b"[]",
            &entry[..entry.len() - 1],
        ] {
            let unparsed = cached_credential(bad, &key, NOW, |_| panic!("not an entry for this key"));
            assert!(unparsed.is_none(), "{}", String::from_utf8_lossy(bad));
        }
        assert!(
            cached_credential(&entry, &key, NOW, |_| None).is_none(),
            "an unreadable token"
        );
    }

    /// Variables given by the test.
    struct Vars(&'static [(&'static str, &'static str)]);

    impl Environment for Vars {
        fn vars(&self) -> Vec<(String, String)> {
            self.0.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
        }

        fn read_file(&self, _: &str) -> anyhow::Result<String> {
            anyhow::bail!("no files")
        }
    }

    #[test]
    fn the_cache_lives_in_the_users_cache_directory() {
        let dir = |vars| cache_dir(&Vars(vars));
        assert_eq!(
            dir(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "/xdg")]),
            Some(PathBuf::from("/xdg/acr-auth"))
        );
        assert_eq!(
            dir(&[("HOME", "/home/u")]),
            Some(PathBuf::from("/home/u/.cache/acr-auth"))
        );
        assert_eq!(
            dir(&[("HOME", "/home/u"), ("XDG_CACHE_HOME", "relative")]),
            Some(PathBuf::from("/home/u/.cache/acr-auth"))
        );
        assert_eq!(dir(&[("HOME", "/home/u"), ("ACR_AUTH_TOKEN_CACHE", "off")]), None);
        assert_eq!(
            dir(&[("HOME", "/home/u"), ("ACR_AUTH_TOKEN_CACHE", "/run/acr")]),
            Some(PathBuf::from("/run/acr"))
        );
        assert_eq!(
            dir(&[("HOME", "/home/u"), ("ACR_AUTH_TOKEN_CACHE", "relative")]),
            Some(PathBuf::from("/home/u/.cache/acr-auth"))
        );
        assert_eq!(dir(&[]), None);
    }

    /// A directory of this test's own under the system's temporary
    /// directory, empty.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("acr-auth-token-cache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a scratch directory");
        dir
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::symlink_metadata(path).expect("metadata").mode() & 0o7777
    }

    fn set_mode(path: &Path, mode: u32) {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn entries_are_private_files_replaced_whole() {
        let root = scratch("store");
        let dir = root.join("cache/acr-auth");
        assert!(TokenCache::open(&dir).is_err() && !dir.exists(), "open creates nothing");
        let cache = TokenCache::create(&dir).expect("created");
        assert_eq!(mode(&dir), 0o700);
        let key = CacheKey::new(REGISTRY, &client_secret(SECRET));
        cache.store(&key, b"first").expect("stored");
        cache.store(&key, b"second").expect("stored again");
        assert_eq!(cache.load(&key).expect("loaded"), b"second");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .expect("the directory")
            .map(|e| e.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [key.file_name()], "no temporary file is left");
        assert_eq!(mode(&dir.join(key.file_name())), 0o600);
        cache.remove(&key).expect("removed");
        cache.remove(&key).expect("removing nothing is no error");
        assert!(cache.load(&key).is_err());
        set_mode(&dir, 0o755);
        TokenCache::open(&dir).expect("still the user's");
        assert_eq!(mode(&dir), 0o700, "a looser directory is made private");
        std::fs::remove_dir_all(&root).expect("cleaned up");
    }

    #[test]
    fn nothing_untrusted_is_read_and_links_are_never_followed() {
        let root = scratch("untrusted");
        let dir = root.join("acr-auth");
        let cache = TokenCache::create(&dir).expect("created");
        let key = CacheKey::new(REGISTRY, &client_secret(SECRET));
        let path = dir.join(key.file_name());
        let outside = root.join("outside.json");
        std::fs::write(&outside, key.entry("outside.token")).expect("a file outside");
        set_mode(&outside, 0o600);
        type Plant<'a> = &'a dyn Fn(&Path);
        let cases: [(&str, Plant); 6] = [
            ("readable by the group", &|p| {
                std::fs::write(p, key.entry("t")).expect("write");
                set_mode(p, 0o640);
            }),
            ("writable by others", &|p| {
                std::fs::write(p, key.entry("t")).expect("write");
                set_mode(p, 0o602);
            }),
            ("a link to a private file", &|p| {
                std::os::unix::fs::symlink(&outside, p).expect("symlink");
            }),
            ("a FIFO", &|p| {
                let made = std::process::Command::new("mkfifo")
                    .arg(p)
                    .status()
                    .expect("mkfifo runs");
                assert!(made.success());
            }),
            ("a directory", &|p| std::fs::create_dir(p).expect("mkdir")),
            ("too large", &|p| {
                std::fs::write(p, vec![b' '; MAX_ENTRY_LEN as usize + 1]).expect("write");
                set_mode(p, 0o600);
            }),
        ];
        for (case, plant) in cases {
            let _ = std::fs::remove_file(&path);
            plant(&path);
            assert!(cache.load(&key).is_err(), "{case}: read");
            cache.store(&key, b"entry").expect(case);
            assert_eq!(cache.load(&key).expect(case), b"entry", "{case}");
            assert!(
                std::fs::symlink_metadata(&path).expect(case).file_type().is_file(),
                "{case}"
            );
        }
        assert_eq!(std::fs::read(&outside).expect("outside"), key.entry("outside.token"));

        let linked = root.join("linked");
        std::os::unix::fs::symlink(&dir, &linked).expect("symlink");
        assert!(TokenCache::open(&linked).is_err() && TokenCache::create(&linked).is_err());
        std::fs::remove_dir_all(&root).expect("cleaned up");
    }
}
