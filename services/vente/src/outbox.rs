//! The outbox relay: publishes committed events to a Redis Stream in order,
//! at least once (each carries a unique `evenement_id` for consumers to
//! deduplicate). One replica relays at a time (a MySQL named lock held on a
//! dedicated connection); the others take over if it dies.

use std::time::Duration;

use sqlx::{Connection, MySqlConnection};

use crate::AppState;

const BATCH: i64 = 200;

pub async fn run(state: AppState) {
    let mut conn: Option<MySqlConnection> = None;
    let mut leader = false;
    let mut backoff = Duration::from_millis(100);
    loop {
        if !leader || conn.is_none() {
            tokio::select! {
                _ = state.outbox_wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        }
        if conn.is_none() {
            leader = false;
            conn = state.platform.pool.acquire().await.ok().map(|c| c.detach());
        }
        let Some(c) = conn.as_mut() else { continue };
        if !leader {
            match sqlx::query_scalar::<_, Option<i64>>("SELECT GET_LOCK(CONCAT(DATABASE(), '.outbox'), 0)")
                .fetch_one(&mut *c)
                .await
            {
                Ok(Some(1)) => leader = true,
                Ok(_) => continue,
                Err(_) => {
                    conn = None;
                    continue;
                }
            }
        }
        match relay(&state, c).await {
            Ok(n) => {
                backoff = Duration::from_millis(100);
                if n < BATCH {
                    tokio::select! {
                        _ = state.outbox_wake.notified() => {}
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "publication des événements reportée");
                if e.downcast_ref::<sqlx::Error>().is_some() {
                    if let Some(c) = conn.take() {
                        let _ = c.close().await;
                    }
                } else if let Some(c) = conn.as_mut() {
                    // This replica cannot reach Redis: hand the relay to one
                    // that may, rather than holding the lock while stalled.
                    let _ = sqlx::query("SELECT RELEASE_LOCK(CONCAT(DATABASE(), '.outbox'))").execute(&mut *c).await;
                }
                leader = false;
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        }
    }
}

/// Publishes one batch; returns how many events went out.
async fn relay(state: &AppState, conn: &mut MySqlConnection) -> anyhow::Result<i64> {
    let (backlog, lag_us): (i64, Option<i64>) = sqlx::query_as(
        "SELECT COUNT(*), TIMESTAMPDIFF(MICROSECOND, MIN(cree_le), CURRENT_TIMESTAMP(3)) FROM outbox WHERE publie_le IS NULL",
    )
    .fetch_one(&mut *conn)
    .await?;
    state.metrics.outbox_backlog.set(backlog as f64);
    state.metrics.outbox_lag.set(lag_us.unwrap_or(0) as f64 / 1e6);
    if backlog == 0 {
        return Ok(0);
    }
    let rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT id, evenement_id, type, charge FROM outbox WHERE publie_le IS NULL ORDER BY id LIMIT ?")
            .bind(BATCH)
            .fetch_all(&mut *conn)
            .await?;
    let mut redis = state.redis.conn().await.ok_or_else(|| anyhow::anyhow!("Redis injoignable"))?;
    let stream = state.redis.key(&state.config.stream);
    let mut pipe = redis::pipe();
    for (_, event_id, kind, payload) in &rows {
        // Trimmed (approximately) to the last million events: consumers keep up
        // in seconds; a stream must not grow without bound in Redis memory.
        pipe.cmd("XADD")
            .arg(&stream)
            .arg("MAXLEN")
            .arg("~")
            .arg(1_000_000)
            .arg("*")
            .arg("evenement_id")
            .arg(event_id)
            .arg("type")
            .arg(kind)
            .arg("charge")
            .arg(payload);
    }
    let _: Vec<String> = tokio::time::timeout(Duration::from_secs(2), pipe.query_async(&mut redis)).await??;
    // Exactly the rows sent: a lower id committed meanwhile is not one of them.
    let marks = vec!["?"; rows.len()].join(", ");
    let sql = format!("UPDATE outbox SET publie_le = CURRENT_TIMESTAMP(3) WHERE id IN ({marks})");
    let mut update = sqlx::query(&sql);
    for (id, _, _, _) in &rows {
        update = update.bind(id);
    }
    update.execute(&mut *conn).await?;
    for (_, _, kind, _) in &rows {
        state.metrics.outbox_published.with_label_values(&[kind]).inc();
    }
    Ok(i64::try_from(rows.len()).unwrap_or_default())
}
