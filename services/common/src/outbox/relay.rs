//! The outbox relay loop. One replica per producer leads at a time (a MySQL
//! named lock held on a dedicated connection; it dies with the process or the
//! connection). The leader numbers committed rows in id order (MySQL only,
//! so the feed stays complete while Redis is down), publishes numbered rows
//! to the stream in number order, at least once, and prunes old published
//! rows. When it cannot reach Redis it releases the lock, so that a replica
//! that can takes over.

use std::time::{Duration, Instant};

use prometheus::{Gauge, IntCounterVec, Opts};
use sqlx::{Connection, MySqlConnection, MySqlPool};
use tokio::sync::Notify;

use super::RelayConfig;
use crate::{cache::Redis, events::Producer, metrics::Metrics};

const BATCH: usize = 200;
const NUMBER_BATCH: i64 = 500;

pub(super) struct Relay {
    producer: Producer,
    pool: MySqlPool,
    redis: Redis,
    config: RelayConfig,
    pub(super) wake: Notify,
    backlog: Gauge,
    lag: Gauge,
    published: IntCounterVec,
}

impl Relay {
    pub(super) fn new(producer: Producer, pool: MySqlPool, redis: Redis, m: &Metrics, config: RelayConfig) -> Self {
        let gauge = |name: &str, help: &str| {
            let g = Gauge::with_opts(Opts::new(name, help).const_label("service", m.service()))
                .unwrap_or_else(|e| panic!("métrique : {e}"));
            m.register(g)
        };
        Self {
            producer,
            pool,
            redis,
            config,
            wake: Notify::new(),
            backlog: gauge("outbox_backlog", "Événements de l'outbox pas encore publiés"),
            lag: gauge("outbox_lag_seconds", "Âge du plus ancien événement non publié (secondes)"),
            published: m.counter_vec(
                "outbox_published_total",
                "Événements publiés sur le flux Redis, par type",
                &["type"],
            ),
        }
    }

    fn lock_sql(&self, take: bool) -> String {
        let name = format!("CONCAT(DATABASE(), '.outbox.{}')", self.producer.as_str());
        if take { format!("SELECT GET_LOCK({name}, 0)") } else { format!("SELECT RELEASE_LOCK({name})") }
    }
}

/// Why a round stopped.
enum Stop {
    Mysql(sqlx::Error),
    Redis(String),
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Self {
        Stop::Mysql(e)
    }
}

pub(super) async fn run(relay: std::sync::Arc<Relay>) {
    let mut conn: Option<MySqlConnection> = None;
    let mut leader = false;
    let mut backoff = Duration::from_millis(100);
    let mut pruned: Option<Instant> = None;
    loop {
        if conn.is_none() {
            leader = false;
            conn = relay.pool.acquire().await.ok().map(|c| c.detach());
        }
        let Some(c) = conn.as_mut() else {
            tokio::time::sleep(Duration::from_millis(500)).await;
            continue;
        };
        if !leader {
            match sqlx::query_scalar::<_, Option<i64>>(&relay.lock_sql(true)).fetch_one(&mut *c).await {
                Ok(Some(1)) => leader = true,
                Ok(_) => {
                    tokio::time::sleep(relay.config.poll * 4).await;
                    continue;
                }
                Err(_) => {
                    conn = None;
                    continue;
                }
            }
        }
        if pruned.is_none_or(|t| t.elapsed() >= relay.config.prune_every) {
            pruned = Some(Instant::now());
            if let Err(e) = prune(&relay, c).await {
                tracing::warn!(error = %e, "purge de l'outbox reportée");
            }
        }
        match round(&relay, c).await {
            Ok(n) => {
                backoff = Duration::from_millis(100);
                if n < BATCH {
                    tokio::select! {
                        _ = relay.wake.notified() => {}
                        _ = tokio::time::sleep(relay.config.poll) => {}
                    }
                }
            }
            Err(Stop::Mysql(e)) => {
                tracing::warn!(error = %e, "publication des événements reportée (MySQL)");
                if let Some(c) = conn.take() {
                    let _ = c.close().await;
                }
                leader = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
            Err(Stop::Redis(e)) => {
                // This replica cannot reach Redis: hand the relay to one that
                // may, rather than holding the lock while stalled.
                tracing::warn!(error = %e, "publication des événements reportée (Redis)");
                let _ = sqlx::query(&relay.lock_sql(false)).execute(&mut *c).await;
                leader = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Numbers new rows, then publishes one batch; returns how many went out.
async fn round(relay: &Relay, conn: &mut MySqlConnection) -> Result<usize, Stop> {
    number(conn).await?;
    let (backlog, lag_us): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, MIN(survenu_le), CURRENT_TIMESTAMP(3)) \
         FROM outbox WHERE publie_le IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    relay.backlog.set(backlog as f64);
    relay.lag.set(lag_us.unwrap_or(0).max(0) as f64 / 1e6);
    if backlog == 0 {
        return Ok(0);
    }
    let rows: Vec<(i64, String, i16, String, chrono::DateTime<chrono::Utc>)> = sqlx::query_as(
        "SELECT numero, type, version, charge, survenu_le FROM outbox \
         WHERE publie_le IS NULL AND numero IS NOT NULL ORDER BY numero LIMIT ?",
    )
    .bind(i64::try_from(BATCH).unwrap_or(200))
    .fetch_all(&mut *conn)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut redis = relay.redis.conn().await.ok_or_else(|| Stop::Redis("Redis injoignable".into()))?;
    let stream = relay.redis.key(relay.producer.stream());
    let mut pipe = redis::pipe();
    for (numero, kind, version, charge, survenu_le) in &rows {
        // Trimmed (approximately) to the last million events: consumers keep
        // up in seconds and backfill older ones from the feed.
        pipe.cmd("XADD")
            .arg(&stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(1_000_000)
            .arg("*")
            .arg("producteur")
            .arg(relay.producer.as_str())
            .arg("id")
            .arg(numero)
            .arg("type")
            .arg(kind)
            .arg("version")
            .arg(version)
            .arg("survenu_le")
            .arg(survenu_le.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .arg("charge")
            .arg(charge);
    }
    match tokio::time::timeout(Duration::from_secs(2), pipe.query_async::<Vec<String>>(&mut redis)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(Stop::Redis(e.to_string())),
        Err(_) => return Err(Stop::Redis("XADD trop lent".into())),
    }
    let (first, last) = (rows[0].0, rows[rows.len() - 1].0);
    // Numbers are dense and these are the lowest unpublished ones: the range is exactly the rows sent.
    sqlx::query(
        "UPDATE outbox SET publie_le = CURRENT_TIMESTAMP(3) WHERE numero BETWEEN ? AND ? AND publie_le IS NULL",
    )
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    for (_, kind, _, _, _) in &rows {
        relay.published.with_label_values(&[kind]).inc();
    }
    Ok(rows.len())
}

/// Gives committed, unnumbered rows the next numbers, in id order. Only the
/// leader numbers, and the unique key on `numero` would refuse a second one.
async fn number(conn: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE numero IS NULL ORDER BY id LIMIT ?")
        .bind(NUMBER_BATCH)
        .fetch_all(&mut *conn)
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = conn.begin().await?;
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(numero) FROM outbox").fetch_one(&mut *tx).await?;
    let mut sql = String::from("UPDATE outbox SET numero = CASE id");
    for _ in &ids {
        sql.push_str(" WHEN ? THEN ?");
    }
    sql.push_str(" END WHERE id IN (");
    sql.push_str(&vec!["?"; ids.len()].join(", "));
    sql.push(')');
    let mut q = sqlx::query(&sql);
    let base = last.unwrap_or(0);
    for (i, id) in ids.iter().enumerate() {
        q = q.bind(id).bind(base + 1 + i64::try_from(i).unwrap_or_default());
    }
    for id in &ids {
        q = q.bind(id);
    }
    q.execute(&mut *tx).await?;
    tx.commit().await
}

/// Deletes published rows past the retention window, always keeping the
/// highest number (it is where numbering continues).
async fn prune(relay: &Relay, conn: &mut MySqlConnection) -> Result<(), sqlx::Error> {
    let Some(last) =
        sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(numero) FROM outbox").fetch_one(&mut *conn).await?
    else {
        return Ok(());
    };
    let secs = i64::try_from(relay.config.retention.as_secs()).unwrap_or(i64::MAX);
    loop {
        let res = sqlx::query(
            "DELETE FROM outbox WHERE publie_le IS NOT NULL AND numero < ? \
             AND survenu_le < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND ORDER BY numero LIMIT 1000",
        )
        .bind(last)
        .bind(secs)
        .execute(&mut *conn)
        .await?;
        if res.rows_affected() < 1000 {
            return Ok(());
        }
    }
}
