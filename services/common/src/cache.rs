//! Redis read-through cache with generation-based invalidation.
//!
//! A namespace (`produits`, `stock:magasin:3`) has a generation counter; values
//! are stored under `{prefix}{ns}:v{gen}:{key}`. A write commits to MySQL, then
//! bumps the generation, so every replica's next read misses at once. A reader
//! that loaded old rows before the bump writes them under the old generation,
//! where nobody looks any more: no stale-set race. TTLs are only a safety net
//! for a bump lost while Redis was down.
//!
//! Generations never repeat, even when Redis loses the counter but not the
//! entries (eviction, restart from an older snapshot): a generation is the
//! Redis clock in microseconds at the latest bump, or one more than the
//! previous one if that is larger, and a missing counter starts from the
//! clock. A counter restarting at 0 would serve entries written under 0, 1,
//! ... again until their TTL.
//!
//! Redis down never fails a request: reads fall back to the loader and count
//! `cache_operations_total{result="error"}`.
//!
//! A bump is never dropped: right after Redis comes back a replica's
//! connection may still be reconnecting, and a lost bump would let the other
//! replicas serve what they cached before the write. So a bump that fails on
//! the shared connection is tried at once on a connection of its own, a write
//! retries its bump briefly before answering, and a bump that still fails is kept and
//! retried in the background until Redis takes it (without the in-request
//! wait while bumps are already pending: Redis is known to be down).

use std::{
    collections::{HashMap, HashSet},
    future::Future,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use redis::{AsyncCommands, Script, aio::ConnectionManager};
use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::RwLock;

use crate::{error::ApiError, metrics::Metrics};

const OP_TIMEOUT: Duration = Duration::from_millis(300);

/// The clock of the Redis server in microseconds, as a decimal string
/// (Lua numbers are doubles: exact up to 2^53, years away).
const NOW_MICROS: &str = "
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
";

/// Reads the generation (starting a missing one from the clock) and the
/// value in one round trip.
const GET_SCRIPT: &str = "
local g = redis.call('GET', KEYS[1])
if not g then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[1], t[1] .. string.format('%06d', tonumber(t[2])), 'NX')
  g = redis.call('GET', KEYS[1])
end
return {g, redis.call('GET', ARGV[1] .. g .. ARGV[2])}
";

/// Moves the generation to max(previous + 1, clock).
const BUMP_SCRIPT: &str = "
local g = tonumber(redis.call('GET', KEYS[1]) or '0')
local next = math.max(g + 1, now)
redis.call('SET', KEYS[1], string.format('%.0f', next))
return string.format('%.0f', next)
";

/// A shared Redis connection that reconnects in the background.
#[derive(Clone)]
pub struct Redis {
    conn: Arc<RwLock<Option<ConnectionManager>>>,
    // Shared, not copied: the service state holding this is cloned for
    // every request.
    client: Arc<redis::Client>,
    pub prefix: Arc<str>,
}

impl Redis {
    /// Connects, or keeps trying in the background when Redis is down at start.
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("REDIS_URL={url:?} invalide : {e}"))?;
        let me = Self { conn: Arc::new(RwLock::new(None)), client: Arc::new(client.clone()), prefix: prefix.into() };
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_millis(500))
            .set_response_timeout(OP_TIMEOUT)
            .set_number_of_retries(1);
        let slot = me.conn.clone();
        let attempt = {
            let client = client.clone();
            let config = config.clone();
            async move { ConnectionManager::new_with_config(client, config).await }
        };
        match tokio::time::timeout(Duration::from_secs(2), attempt).await {
            Ok(Ok(c)) => *slot.write().await = Some(c),
            _ => {
                tracing::warn!(
                    url,
                    "Redis injoignable au démarrage : service en mode dégradé, nouvel essai en arrière-plan"
                );
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        if let Ok(c) = ConnectionManager::new_with_config(client.clone(), config.clone()).await {
                            *slot.write().await = Some(c);
                            tracing::info!("Redis de nouveau joignable");
                            break;
                        }
                    }
                });
            }
        }
        Ok(me)
    }

    /// The connection, if Redis has been reached.
    pub async fn conn(&self) -> Option<ConnectionManager> {
        self.conn.read().await.clone()
    }

    /// A connection of its own, opened now (within the operation timeout):
    /// reaches a Redis that is back while the shared one still reconnects.
    async fn fresh(&self) -> Option<redis::aio::MultiplexedConnection> {
        tokio::time::timeout(OP_TIMEOUT, self.client.get_multiplexed_async_connection()).await.ok()?.ok()
    }

    pub fn key(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.prefix)
    }

    /// `PING` within the operation timeout.
    pub async fn ping(&self) -> bool {
        let Some(mut c) = self.conn().await else {
            return false;
        };
        matches!(tokio::time::timeout(OP_TIMEOUT, redis::cmd("PING").query_async::<String>(&mut c)).await, Ok(Ok(_)))
    }
}

/// Read-through cache over [`Redis`].
#[derive(Clone)]
pub struct Cache {
    redis: Redis,
    metrics: Metrics,
    script: Arc<Script>,
    bump: Arc<Script>,
    /// Namespaces whose bump failed, retried in the background.
    pending: Arc<Mutex<HashSet<String>>>,
    /// Values this replica read lately, with their generation (see [`Local`]).
    local: Arc<Mutex<HashMap<String, Local>>>,
}

/// A value kept in the replica's memory in front of Redis. It is served only
/// while its namespace's generation in Redis is still the one it was read
/// under (one plain `GET` of a few bytes, instead of the script returning
/// the whole value), so a write on any replica is seen at once exactly as
/// with Redis alone; and no longer than the Redis entry's TTL, the safety
/// net for a bump lost while Redis was down.
struct Local {
    generation: String,
    raw: Arc<str>,
    until: Instant,
}

/// At most this many values per replica; past it the memory layer starts
/// over (the values stay in Redis).
const LOCAL_MAX: usize = 512;

/// Waits between a write's attempts to bump (about 0.6 s in all).
const BUMP_BACKOFF_MS: [u64; 4] = [50, 100, 150, 300];
/// Period of the background retry of failed bumps.
const PENDING_RETRY: Duration = Duration::from_millis(100);

impl Cache {
    pub fn new(redis: Redis, metrics: Metrics) -> Self {
        Self {
            redis,
            metrics,
            script: Arc::new(Script::new(GET_SCRIPT)),
            bump: Arc::new(Script::new(&format!("{NOW_MICROS}{BUMP_SCRIPT}"))),
            pending: Arc::new(Mutex::new(HashSet::new())),
            local: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    pub fn redis(&self) -> &Redis {
        &self.redis
    }

    fn gen_key(&self, ns: &str) -> String {
        self.redis.key(&format!("{ns}:gen"))
    }

    /// Returns the cached value of `key` in `ns`, or loads, stores and returns it.
    pub async fn get_or_load<T, F, Fut>(&self, ns: &str, key: &str, ttl_secs: u64, load: F) -> Result<T, ApiError>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let raw = self.get_or_load_json(ns, key, ttl_secs, load).await?;
        serde_json::from_str(&raw.0)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("cache {ns}/{key} illisible : {e}")))
    }

    /// Like [`Cache::get_or_load`], but hands back the JSON text as stored, so
    /// a hit is sent to the client without being parsed and re-serialised.
    pub async fn get_or_load_json<T, F, Fut>(
        &self,
        ns: &str,
        key: &str,
        ttl_secs: u64,
        load: F,
    ) -> Result<RawJson, ApiError>
    where
        T: Serialize,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, ApiError>>,
    {
        let label = ns.split(':').next().unwrap_or(ns);
        let prefix = self.redis.key(&format!("{ns}:v"));
        let suffix = format!(":{key}");
        let local_key = format!("{ns}{suffix}");
        let mut generation = None;
        if let Some(mut conn) = self.redis.conn().await {
            // The replica's memory first, if the generation still holds.
            if let Some((held, raw)) = self.local_get(&local_key) {
                let current = conn.get::<_, Option<String>>(self.gen_key(ns));
                if let Ok(Ok(Some(g))) = tokio::time::timeout(OP_TIMEOUT, current).await
                    && g == held
                {
                    self.metrics.cache_result(label, "hit");
                    return Ok(RawJson(raw.to_string()));
                }
            }
            let mut invocation = self.script.key(self.gen_key(ns));
            invocation.arg(&prefix).arg(&suffix);
            let call = invocation.invoke_async::<(String, Option<String>)>(&mut conn);
            match tokio::time::timeout(OP_TIMEOUT, call).await {
                Ok(Ok((g, Some(raw)))) => {
                    self.metrics.cache_result(label, "hit");
                    self.local_put(local_key, g, &raw, ttl_secs);
                    return Ok(RawJson(raw));
                }
                Ok(Ok((g, None))) => generation = Some(g),
                Ok(Err(e)) => tracing::warn!(error = %e, "lecture du cache impossible"),
                Err(_) => tracing::warn!("lecture du cache trop lente"),
            }
        }
        let value = load().await?;
        let raw = serde_json::to_string(&value).map_err(|e| ApiError::Internal(e.into()))?;
        let Some(generation) = generation else {
            self.metrics.cache_result(label, "error");
            return Ok(RawJson(raw));
        };
        self.metrics.cache_result(label, "miss");
        if let Some(mut conn) = self.redis.conn().await {
            let full = format!("{prefix}{generation}{suffix}");
            let set = conn.set_ex::<_, _, ()>(full, &raw, ttl_secs);
            if matches!(tokio::time::timeout(OP_TIMEOUT, set).await, Ok(Ok(()))) {
                self.local_put(local_key, generation, &raw, ttl_secs);
            } else {
                self.metrics.cache_result(label, "error");
            }
        }
        Ok(RawJson(raw))
    }

    /// The value kept in memory for `key` and its generation, unless expired.
    fn local_get(&self, key: &str) -> Option<(String, Arc<str>)> {
        let local = self.local.lock().ok()?;
        let entry = local.get(key).filter(|e| e.until > Instant::now())?;
        Some((entry.generation.clone(), entry.raw.clone()))
    }

    fn local_put(&self, key: String, generation: String, raw: &str, ttl_secs: u64) {
        if let Ok(mut local) = self.local.lock() {
            if local.len() >= LOCAL_MAX && !local.contains_key(&key) {
                local.clear();
            }
            let until = Instant::now() + Duration::from_secs(ttl_secs);
            local.insert(key, Local { generation, raw: raw.into(), until });
        }
    }

    /// Makes every cached value of `ns` unreachable. Call after the commit.
    pub async fn invalidate(&self, ns: &str) {
        if self.try_bump(ns).await {
            return;
        }
        if !self.has_pending() {
            for wait in BUMP_BACKOFF_MS {
                tokio::time::sleep(Duration::from_millis(wait)).await;
                if self.try_bump(ns).await {
                    return;
                }
            }
        }
        let label = ns.split(':').next().unwrap_or(ns);
        self.metrics.cache_result(label, "error");
        tracing::warn!(ns, "invalidation reportée : Redis injoignable, nouvel essai en arrière-plan");
        self.defer(ns);
    }

    async fn try_bump(&self, ns: &str) -> bool {
        let invocation = self.bump.key(self.gen_key(ns));
        if let Some(mut conn) = self.redis.conn().await
            && matches!(tokio::time::timeout(OP_TIMEOUT, invocation.invoke_async::<String>(&mut conn)).await, Ok(Ok(_)))
        {
            return true;
        }
        // The shared connection may still be reconnecting after Redis came
        // back, while another replica's already reads (and caches) again:
        // a connection of its own tells a Redis that is back (the bump lands
        // before the write answers) from one still away (refused at once).
        let Some(mut fresh) = self.redis.fresh().await else {
            return false;
        };
        matches!(tokio::time::timeout(OP_TIMEOUT, invocation.invoke_async::<String>(&mut fresh)).await, Ok(Ok(_)))
    }

    fn has_pending(&self) -> bool {
        self.pending.lock().map(|p| !p.is_empty()).unwrap_or(false)
    }

    /// Keeps `ns`'s bump for the background retrier, starting it if idle.
    /// The retrier exits only while holding the lock and seeing the set
    /// empty, so an insert either finds it running or starts a new one.
    fn defer(&self, ns: &str) {
        let start = match self.pending.lock() {
            Ok(mut p) => {
                let idle = p.is_empty();
                p.insert(ns.to_owned());
                idle
            }
            Err(_) => false,
        };
        if !start {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PENDING_RETRY).await;
                let todo: Vec<String> = match me.pending.lock() {
                    Ok(p) => p.iter().cloned().collect(),
                    Err(_) => return,
                };
                for ns in todo {
                    if me.try_bump(&ns).await
                        && let Ok(mut p) = me.pending.lock()
                    {
                        p.remove(&ns);
                    }
                }
                match me.pending.lock() {
                    Ok(p) if p.is_empty() => {
                        tracing::info!("invalidations reportées appliquées");
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
    }
}

/// A JSON document already serialised (a cache hit), sent as is.
#[derive(Debug, Clone)]
pub struct RawJson(pub String);

impl axum::response::IntoResponse for RawJson {
    fn into_response(self) -> axum::response::Response {
        ([(axum::http::header::CONTENT_TYPE, "application/json")], self.0).into_response()
    }
}
