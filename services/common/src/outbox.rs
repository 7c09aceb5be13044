//! The transactional outbox every producer uses: [`append`] (or
//! [`append_many`], one statement for several) writes typed events in the
//! caller's transaction; the relay ([`Outbox::start`]) numbers committed
//! rows, publishes them to the producer's Redis stream and prunes published
//! rows past the retention window; [`feed_page`] serves them to
//! consumers that lost some (`GET /api/<service>/evenements?apres=<id>`).

mod relay;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::{
    ApiError, ApiResult, Claims, Role,
    cache::Redis,
    events::{Envelope, Event, Producer},
    metrics::Metrics,
};

/// The table's DDL; each producer's migrations carry an identical copy.
pub const MIGRATION: &str = include_str!("../migrations/outbox.sql");

/// Appends `event` to the outbox inside the caller's transaction: it is
/// published if and only if the transaction commits.
pub async fn append<E: Event>(tx: &mut Transaction<'_, MySql>, event: &E) -> Result<(), sqlx::Error> {
    append_at(tx, event, None).await
}

/// Like [`append`], with the time the change happened when it is not now
/// (demo history written with its events).
pub async fn append_at<E: Event>(
    tx: &mut Transaction<'_, MySql>,
    event: &E,
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    append_many_at(tx, std::slice::from_ref(event), at).await
}

/// Appends `events` in one statement, in this order (the relay numbers rows
/// by id, and a multi-row insert gives its rows increasing ids in the order
/// of its values), inside the caller's transaction.
pub async fn append_many<E: Event>(tx: &mut Transaction<'_, MySql>, events: &[E]) -> Result<(), sqlx::Error> {
    append_many_at(tx, events, None).await
}

/// Like [`append_many`], dated `at` when the changes did not happen now.
pub async fn append_many_at<E: Event>(
    tx: &mut Transaction<'_, MySql>,
    events: &[E],
    at: Option<DateTime<Utc>>,
) -> Result<(), sqlx::Error> {
    if events.is_empty() {
        return Ok(());
    }
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let charge = serde_json::to_string(event).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        rows.push((event.key(), charge));
    }
    let sql = format!(
        "INSERT INTO outbox (type, version, cle, charge, survenu_le) VALUES {}",
        vec!["(?, ?, ?, ?, COALESCE(?, CURRENT_TIMESTAMP(3)))"; rows.len()].join(", ")
    );
    let mut q = sqlx::query(&sql);
    for (cle, charge) in rows {
        q = q.bind(E::TYPE).bind(E::VERSION).bind(cle).bind(charge).bind(at);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Query of a feed: events after `apres`, at most `limit` (1–1000, default 100).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams)]
pub struct FeedParams {
    /// The last event id the caller has (0 for the start).
    pub apres: Option<i64>,
    pub limit: Option<u32>,
}

/// A page of a producer's feed.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FeedPage {
    pub evenements: Vec<Envelope>,
    /// The id to ask `apres` next (the last one returned), absent when the page is empty.
    pub suivant: Option<i64>,
    /// The highest event id numbered so far (0 when none).
    pub dernier: i64,
    /// The lowest id still retained (0 when none): older ones were pruned.
    pub premier: i64,
    /// Events not yet published to the stream.
    pub en_attente: i64,
    /// How long the oldest of them has been waiting (seconds).
    pub attente_max_secondes: f64,
}

pub const FEED_MAX_LIMIT: u32 = 1000;

/// Serves one page of `producer`'s feed to an admin or a service.
pub async fn feed_page(pool: &MySqlPool, producer: Producer, auth: &Claims, p: FeedParams) -> ApiResult<FeedPage> {
    auth.require_role(&[Role::Admin, Role::Service])?;
    let apres = p.apres.unwrap_or(0);
    if apres < 0 {
        return Err(ApiError::field("apres", "un identifiant d'événement, 0 ou plus"));
    }
    let limit = p.limit.unwrap_or(100);
    if !(1..=FEED_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field("limit", format!("entre 1 et {FEED_MAX_LIMIT}")));
    }
    let (premier, dernier): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT MIN(numero), MAX(numero) FROM outbox").fetch_one(pool).await?;
    let (en_attente, attente_us): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, MIN(survenu_le), CURRENT_TIMESTAMP(3)) FROM outbox WHERE publie_le IS NULL",
    )
    .fetch_one(pool)
    .await?;
    let rows: Vec<(i64, String, i16, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT numero, type, version, charge, survenu_le FROM outbox WHERE numero > ? ORDER BY numero LIMIT ?",
    )
    .bind(apres)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let mut evenements = Vec::with_capacity(rows.len());
    for (id, kind, version, charge, survenu_le) in rows {
        let charge = serde_json::from_str(&charge)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("outbox {id} illisible : {e}")))?;
        let version = u16::try_from(version).unwrap_or_default();
        evenements.push(Envelope { producteur: producer, id, kind, version, survenu_le, charge });
    }
    Ok(FeedPage {
        suivant: evenements.last().map(|e| e.id),
        evenements,
        dernier: dernier.unwrap_or(0),
        premier: premier.unwrap_or(0),
        en_attente,
        attente_max_secondes: attente_us.unwrap_or(0).max(0) as f64 / 1e6,
    })
}

/// Relay settings.
#[derive(Debug, Clone, Copy)]
pub struct RelayConfig {
    /// Published rows older than this are deleted.
    pub retention: Duration,
    /// How often the leader looks for new rows when nobody woke it.
    pub poll: Duration,
    /// How often the leader prunes.
    pub prune_every: Duration,
}

impl RelayConfig {
    pub fn new(common: &crate::config::CommonConfig) -> Self {
        Self {
            retention: common.outbox_retention,
            poll: Duration::from_millis(250),
            prune_every: Duration::from_secs(60),
        }
    }
}

/// A producer's handle on its outbox relay.
#[derive(Clone)]
pub struct Outbox {
    inner: Arc<relay::Relay>,
}

impl Outbox {
    /// Starts the relay of `producer`'s outbox in this process. Every replica
    /// runs one; a MySQL named lock makes one of them the leader.
    pub fn start(producer: Producer, pool: MySqlPool, redis: Redis, metrics: &Metrics, config: RelayConfig) -> Self {
        let inner = Arc::new(relay::Relay::new(producer, pool, redis, metrics, config));
        tokio::spawn(relay::run(inner.clone()));
        Self { inner }
    }

    /// Wakes the relay after a commit that appended events.
    pub fn notify(&self) {
        self.inner.wake.notify_one();
    }
}
