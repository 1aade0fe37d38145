//! Repository access tokens, cached in the host's `wasi:keyvalue` store
//! (the bucket named `""`, the host's default) so that a login serves every
//! pull until its token nears expiry, and so that proxies sharing a store
//! (Redis) share tokens.
//!
//! Keys, each under `acr-auth/v1/<registry>/<identity>/`, where `<identity>`
//! is the identity's kind, tenant and client ID (never its secret):
//!
//! | key | value |
//! |---|---|
//! | `refresh` | the ACR refresh token and its claims, JSON |
//! | `access/<repository>` | the access token for `repository:<repository>:pull` and its `exp`, JSON |
//! | `lock/<repository>` | a counter: whoever raises it from 0 logs in for that repository |
//!
//! A token is used until `margin` seconds before its `exp`; after that the
//! next pull logs in again, ahead of expiry. A login from a cached refresh
//! token asks the registry only for the access token (the flow's
//! `Credentials::RefreshToken`). Concurrent pulls of one repository share
//! one login: the first to take the lock (`wasi:keyvalue/atomics.increment`
//! from 0 to 1) logs in; the others poll for its token. A holder that
//! vanishes without releasing the lock delays the others by at most
//! [`LOCK_WAIT_MS`], after which each logs in by itself.

use acr_auth::wasi_http::{self, WasiHttp};
use acr_auth::{AccessToken, Credential, Credentials, LoginError, LoginOptions, REFRESH_TOKEN_USERNAME, Secret};
use serde_json::{Value, json};

use crate::bindings::wasi::keyvalue::{atomics, store};
use crate::settings::Settings;

/// How long a pull waits for another's login before it logs in itself.
pub const LOCK_WAIT_MS: u64 = 30_000;
/// How often a waiting pull looks for the token another is getting.
const POLL_MS: u64 = 20;

/// Why no access token could be had.
pub enum CacheError {
    /// The login failed; its message holds no token.
    Login(LoginError),
    /// The key-value store failed.
    Store(String),
}

impl From<store::Error> for CacheError {
    fn from(error: store::Error) -> Self {
        Self::Store(match error {
            store::Error::NoSuchStore => "the key-value store has no default bucket".to_owned(),
            store::Error::AccessDenied => "the key-value store denied access".to_owned(),
            store::Error::Other(message) => format!("the key-value store failed: {message}"),
        })
    }
}

/// The token cache of one registry and identity.
pub struct TokenCache<'s> {
    settings: &'s Settings,
    bucket: store::Bucket,
    prefix: String,
}

impl<'s> TokenCache<'s> {
    /// Opens the host's default bucket for `settings`' registry and identity.
    pub fn open(settings: &'s Settings) -> Result<Self, CacheError> {
        let prefix = format!(
            "acr-auth/v1/{}/{}/",
            settings.registry.to_ascii_lowercase(),
            settings.identity_key
        );
        Ok(Self {
            settings,
            bucket: store::open("")?,
            prefix,
        })
    }

    /// An access token for `repository:<repository>:pull` valid beyond the
    /// margin: the cached one, the one a concurrent login gets, or a new one.
    pub fn access_token(&self, repository: &str) -> Result<Secret<String>, CacheError> {
        let access_key = format!("{}access/{repository}", self.prefix);
        let lock_key = format!("{}lock/{repository}", self.prefix);
        let deadline = wasi_http::now().saturating_add(LOCK_WAIT_MS);
        loop {
            if let Some(token) = self.cached_access(&access_key)? {
                return Ok(token);
            }
            let free = !self.bucket.exists(&lock_key)?;
            if free && atomics::increment(&self.bucket, &lock_key, 1)? == 1 {
                // Another login may have ended between the look and the lock.
                let token = match self.cached_access(&access_key)? {
                    Some(token) => Ok(token),
                    None => self.login(repository, &access_key),
                };
                self.bucket.delete(&lock_key)?;
                return token;
            }
            if wasi_http::now() >= deadline {
                return self.login(repository, &access_key);
            }
            wasi_http::sleep_for(POLL_MS);
        }
    }

    /// Forgets the access token of `repository`, which the registry refused.
    pub fn forget(&self, repository: &str) -> Result<(), CacheError> {
        Ok(self.bucket.delete(&format!("{}access/{repository}", self.prefix))?)
    }

    /// Whether a token expiring at `expires_at` (unix seconds) is still used.
    fn fresh(&self, expires_at: u64) -> bool {
        wasi_http::now() / 1000 + self.settings.margin < expires_at
    }

    /// The cached access token at `key`, if fresh.
    fn cached_access(&self, key: &str) -> Result<Option<Secret<String>>, CacheError> {
        let Some(value) = self.read(key)? else {
            return Ok(None);
        };
        let token = value["token"].as_str();
        let expires_at = value["exp"].as_u64().unwrap_or(0);
        Ok(token
            .filter(|_| self.fresh(expires_at))
            .map(|token| Secret::new(token.to_owned())))
    }

    /// The cached refresh-token credential, if fresh.
    fn cached_refresh(&self) -> Result<Option<Credential>, CacheError> {
        let Some(value) = self.read(&format!("{}refresh", self.prefix))? else {
            return Ok(None);
        };
        let expires_at = value["exp"].as_u64().unwrap_or(0);
        let Some(token) = value["token"].as_str().filter(|_| self.fresh(expires_at)) else {
            return Ok(None);
        };
        Ok(Some(Credential {
            username: REFRESH_TOKEN_USERNAME,
            password: Secret::new(token.to_owned()),
            expires_at,
            issued_at: value["iat"].as_u64(),
            audience: Vec::new(),
            tenant: value["tenant"].as_str().map(str::to_owned),
            abac: value["abac"].as_bool().unwrap_or(false),
        }))
    }

    /// Logs in for `repository` (from the cached refresh token if there is a
    /// fresh one, else with the identity) and caches what the login got.
    fn login(&self, repository: &str, access_key: &str) -> Result<Secret<String>, CacheError> {
        let scope = format!("repository:{repository}:pull");
        let result = match self.cached_refresh()? {
            // A refresh token the registry no longer honours (revoked, or
            // the identity lost its role) is dropped for a whole login.
            Some(credential) => self
                .run(Credentials::RefreshToken(credential), &scope)
                .or_else(|_| self.run(Credentials::Identity(self.settings.identity.clone()), &scope)),
            None => self.run(Credentials::Identity(self.settings.identity.clone()), &scope),
        }
        .map_err(CacheError::Login)?;
        let credential = &result.credential;
        let refresh = json!({
            "token": credential.password.expose(),
            "exp": credential.expires_at,
            "iat": credential.issued_at,
            "tenant": credential.tenant,
            "abac": credential.abac,
        });
        self.write(&format!("{}refresh", self.prefix), &refresh)?;
        let Some(AccessToken { token, expires_at, .. }) = result.access_token else {
            // The flow returns an access token whenever scopes are given.
            return Err(CacheError::Store("the login returned no access token".to_owned()));
        };
        self.write(access_key, &json!({ "token": token.expose(), "exp": expires_at }))?;
        Ok(token)
    }

    /// One login flow, driven over `wasi:http`.
    fn run(&self, credentials: Credentials, scope: &str) -> Result<acr_auth::LoginResult, LoginError> {
        let options = LoginOptions {
            repository_scopes: vec![scope.to_owned()],
            ..LoginOptions::default()
        };
        acr_auth::login(
            &mut WasiHttp::new(read_no_file),
            &self.settings.registry,
            credentials,
            options,
        )
    }

    fn read(&self, key: &str) -> Result<Option<Value>, CacheError> {
        // An unreadable value (another version's, or damaged) is a miss.
        Ok(self
            .bucket
            .get(key)?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
    }

    fn write(&self, key: &str, value: &Value) -> Result<(), CacheError> {
        Ok(self.bucket.set(key, value.to_string().as_bytes())?)
    }
}

/// The proxy reads no files: it has no file system, and the only file a
/// login may ask for is Azure Arc's key, whose identity settings refuse.
fn read_no_file(path: &str, _max_len: usize) -> Result<String, String> {
    Err(format!("the proxy cannot read files such as {path}"))
}
