//! The host side of `wasi:keyvalue/store` and `wasi:keyvalue/atomics`: one
//! bucket, the default (`""`), backed by a [`KeyValue`] store that every
//! request of the process shares (memory), or every process too (Redis).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use wasmtime::component::{HasSelf, Linker, Resource, ResourceTable};

use crate::State;

/// The host bindings of the two interfaces, from the component's WIT.
mod bindings {
    wasmtime::component::bindgen!({
        path: "../filter/wit",
        interfaces: "
            import wasi:keyvalue/store@0.2.0-draft;
            import wasi:keyvalue/atomics@0.2.0-draft;
        ",
        imports: { default: async | trappable },
        with: { "wasi:keyvalue/store.bucket": super::Bucket },
    });
}

use bindings::wasi::keyvalue::{atomics, store};

/// The most entries the in-memory store holds; a new one beyond that
/// empties it first. Each repository pulled takes two.
pub const MAX_MEMORY_ENTRIES: usize = 65_536;

/// How long a Redis command or connection attempt may take: a pull waits
/// for it, so a stalled server fails the pull rather than hanging it.
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the cache's entries live.
#[derive(Clone)]
pub enum KeyValue {
    /// This process's memory: shared by its requests, lost when it ends.
    Memory(Arc<Mutex<HashMap<String, Vec<u8>>>>),
    /// A Redis server: shared by every proxy that uses it (replicas), and
    /// kept across restarts. One multiplexed connection, re-established
    /// when it breaks.
    Redis(ConnectionManager),
}

impl KeyValue {
    /// An empty in-memory store.
    pub fn memory() -> Self {
        Self::Memory(Arc::default())
    }

    /// The Redis server at `url` (`redis://HOST:PORT[/DB]`, or `rediss://`
    /// for TLS), connected now so that a wrong address fails at start.
    pub async fn redis(url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(2);
        let manager = client.get_connection_manager_with_config(config).await?;
        Ok(Self::Redis(manager))
    }

    /// Runs a Redis command; its error names the command, never a value.
    async fn query<T: redis::FromRedisValue>(manager: &ConnectionManager, command: &redis::Cmd) -> Result<T, String> {
        let mut manager = manager.clone();
        command
            .query_async(&mut manager)
            .await
            .map_err(|e| format!("redis: {:?}: {}", e.kind(), e.category()))
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            Self::Memory(map) => Ok(lock(map).get(key).cloned()),
            Self::Redis(manager) => Self::query(manager, redis::cmd("GET").arg(key)).await,
        }
    }

    async fn set(&self, key: String, value: Vec<u8>) -> Result<(), String> {
        match self {
            Self::Memory(map) => {
                let mut map = lock(map);
                if map.len() >= MAX_MEMORY_ENTRIES && !map.contains_key(&key) {
                    // Bounded: a cache refills; requests for ever new
                    // repository names must not grow the process.
                    map.clear();
                }
                map.insert(key, value);
                Ok(())
            }
            Self::Redis(manager) => Self::query(manager, redis::cmd("SET").arg(key).arg(value)).await,
        }
    }

    async fn delete(&self, key: &str) -> Result<(), String> {
        match self {
            Self::Memory(map) => {
                lock(map).remove(key);
                Ok(())
            }
            Self::Redis(manager) => Self::query(manager, redis::cmd("DEL").arg(key)).await,
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, String> {
        match self {
            Self::Memory(map) => Ok(lock(map).contains_key(key)),
            Self::Redis(manager) => Self::query(manager, redis::cmd("EXISTS").arg(key)).await,
        }
    }

    async fn keys(&self) -> Result<Vec<String>, String> {
        match self {
            Self::Memory(map) => Ok(lock(map).keys().cloned().collect()),
            // The cache never lists keys; on a shared server, `KEYS` would
            // block every other client for as long as it scans.
            Self::Redis(_) => Err("listing the keys of a Redis store is not supported".to_owned()),
        }
    }

    /// Adds `delta` to the decimal number at `key` (0 when absent) and
    /// returns the sum, atomically.
    async fn increment(&self, key: &str, delta: u64) -> Result<u64, String> {
        match self {
            Self::Memory(map) => {
                let mut map = lock(map);
                let current = match map.get(key) {
                    Some(value) => std::str::from_utf8(value)
                        .ok()
                        .and_then(|text| text.parse::<u64>().ok())
                        .ok_or_else(|| format!("the value at {key} is not a number"))?,
                    None => 0,
                };
                let sum = current
                    .checked_add(delta)
                    .ok_or_else(|| format!("the value at {key} would overflow"))?;
                map.insert(key.to_owned(), sum.to_string().into_bytes());
                Ok(sum)
            }
            // INCRBY is atomic on the server, whatever number of proxies ask.
            Self::Redis(manager) => Self::query(manager, redis::cmd("INCRBY").arg(key).arg(delta)).await,
        }
    }
}

/// The map, whatever a panicking holder left: every update is one call.
fn lock(map: &Mutex<HashMap<String, Vec<u8>>>) -> std::sync::MutexGuard<'_, HashMap<String, Vec<u8>>> {
    map.lock().unwrap_or_else(PoisonError::into_inner)
}

/// An open bucket (the default one: the only one).
pub struct Bucket;

/// The buckets one request opened, and the store behind them.
pub struct Buckets {
    table: ResourceTable,
    store: KeyValue,
}

impl Buckets {
    /// No bucket open yet, over `store`.
    pub fn new(store: KeyValue) -> Self {
        Self {
            table: ResourceTable::new(),
            store,
        }
    }
}

/// Links both interfaces to each request's [`Buckets`].
pub(crate) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    store::add_to_linker::<State, HasSelf<Buckets>>(linker, |state| &mut state.data.kv)?;
    atomics::add_to_linker::<State, HasSelf<Buckets>>(linker, |state| &mut state.data.kv)?;
    Ok(())
}

/// A store failure as the interface's error.
fn other(message: String) -> store::Error {
    store::Error::Other(message)
}

impl store::Host for Buckets {
    async fn open(&mut self, identifier: String) -> wasmtime::Result<Result<Resource<Bucket>, store::Error>> {
        if !identifier.is_empty() {
            return Ok(Err(store::Error::NoSuchStore));
        }
        Ok(Ok(self.table.push(Bucket)?))
    }
}

impl store::HostBucket for Buckets {
    async fn get(
        &mut self,
        _: Resource<Bucket>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, store::Error>> {
        Ok(self.store.get(&key).await.map_err(other))
    }

    async fn set(
        &mut self,
        _: Resource<Bucket>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(self.store.set(key, value).await.map_err(other))
    }

    async fn delete(&mut self, _: Resource<Bucket>, key: String) -> wasmtime::Result<Result<(), store::Error>> {
        Ok(self.store.delete(&key).await.map_err(other))
    }

    async fn exists(&mut self, _: Resource<Bucket>, key: String) -> wasmtime::Result<Result<bool, store::Error>> {
        Ok(self.store.exists(&key).await.map_err(other))
    }

    async fn list_keys(
        &mut self,
        _: Resource<Bucket>,
        cursor: Option<u64>,
    ) -> wasmtime::Result<Result<store::KeyResponse, store::Error>> {
        // One page: every key. The cache never lists; a cursor past the end is an empty page.
        let keys = match self.store.keys().await {
            Ok(keys) => keys,
            Err(e) => return Ok(Err(other(e))),
        };
        let skip = usize::try_from(cursor.unwrap_or(0)).unwrap_or(usize::MAX);
        Ok(Ok(store::KeyResponse {
            keys: keys.into_iter().skip(skip).collect(),
            cursor: None,
        }))
    }

    async fn drop(&mut self, bucket: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for Buckets {
    async fn increment(
        &mut self,
        _: Resource<Bucket>,
        key: String,
        delta: u64,
    ) -> wasmtime::Result<Result<u64, store::Error>> {
        Ok(self.store.increment(&key, delta).await.map_err(other))
    }
}
