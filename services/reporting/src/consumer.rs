//! Reads each producer's events. Per producer, one replica leads at a time
//! (a MySQL named lock): events must be applied in id order, so two readers
//! would only wait on each other. The leader reads the stream through the
//! `reporting` consumer group (XREADGROUP, XACK after the commit, XAUTOCLAIM
//! of what a dead leader had read but not acknowledged), and reads the
//! producer's feed when it sees a gap and every `feed_poll` (a Redis flush
//! without new events, Redis down, a reporting that was stopped).

use std::time::{Duration, Instant};

use caisse_common::{
    client::CallCtx,
    events::{Envelope, Producer},
    outbox::FeedPage,
};
use redis::aio::MultiplexedConnection;
use sqlx::{Connection, MySqlConnection};

use crate::{
    AppState,
    apply::{Outcome, apply_all},
};

const GROUP: &str = "reporting";
const COUNT: usize = 200;
/// Events of a feed page applied per transaction.
const APPLY_RUN: usize = 250;

/// Runs the consumer of `producer` for the life of the process.
pub async fn run(state: AppState, producer: Producer) {
    let me = format!("reporting-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    loop {
        match lock(&state, producer).await {
            Ok(Some(held)) => {
                tracing::info!(producteur = producer.as_str(), consommateur = %me, "lecture des événements");
                lead(&state, producer, &me, held).await;
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "verrou de consommation indisponible"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn lock_name(producer: Producer) -> String {
    format!("CONCAT(DATABASE(), '.consommateur.{}')", producer.as_str())
}

/// A dedicated connection holding the producer's lock, or `None` when
/// another replica holds it.
async fn lock(state: &AppState, producer: Producer) -> anyhow::Result<Option<MySqlConnection>> {
    let mut conn = state.platform.pool.acquire().await?.detach();
    let got: Option<i64> =
        sqlx::query_scalar(&format!("SELECT GET_LOCK({}, 0)", lock_name(producer))).fetch_one(&mut conn).await?;
    if got == Some(1) {
        Ok(Some(conn))
    } else {
        let _ = conn.close().await;
        Ok(None)
    }
}

/// Leads until the lock's connection is lost.
async fn lead(state: &AppState, producer: Producer, me: &str, mut held: MySqlConnection) {
    let stream = state.redis_prefix.clone() + producer.stream();
    let mut redis: Option<MultiplexedConnection> = None;
    let mut claimed = false;
    let mut polled: Option<Instant> = None;
    loop {
        if polled.is_none_or(|t| t.elapsed() >= state.config.feed_poll) {
            if sqlx::query("SELECT 1").execute(&mut held).await.is_err() {
                tracing::warn!(producteur = producer.as_str(), "verrou de consommation perdu");
                return;
            }
            if let Err(e) = catch_up(state, producer).await {
                tracing::warn!(producteur = producer.as_str(), error = %e, "lecture du flux HTTP reportée");
            }
            polled = Some(Instant::now());
        }
        if redis.is_none() {
            redis = state.redis_client.get_multiplexed_async_connection().await.ok();
            claimed = false;
        }
        let Some(conn) = redis.as_mut() else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let read = if claimed { read_new(conn, &stream, me).await } else { claim(conn, &stream, me).await };
        match read {
            Ok(entries) => {
                claimed = true;
                if let Err(e) = handle(state, producer, conn, &stream, entries).await {
                    tracing::warn!(producteur = producer.as_str(), error = %e, "événements à reprendre");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    claimed = false;
                }
            }
            Err(e) if e.code() == Some("NOGROUP") => {
                // A fresh stream (first start, or Redis lost its data): the
                // group reads it from the start; the feed fills what is gone.
                let created: redis::RedisResult<()> = redis::cmd("XGROUP")
                    .arg("CREATE")
                    .arg(&stream)
                    .arg(GROUP)
                    .arg("0")
                    .arg("MKSTREAM")
                    .query_async(conn)
                    .await;
                if let Err(e) = created
                    && e.code() != Some("BUSYGROUP")
                {
                    tracing::warn!(error = %e, "groupe de consommateurs non créé");
                }
                polled = None;
            }
            Err(e) => {
                tracing::warn!(producteur = producer.as_str(), error = %e, "flux Redis illisible");
                redis = None;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

type Entry = (String, Vec<(String, String)>);

/// New entries for this consumer (waits up to a second).
async fn read_new(conn: &mut MultiplexedConnection, stream: &str, me: &str) -> redis::RedisResult<Vec<Entry>> {
    let reply: Option<Vec<(String, Vec<Entry>)>> = redis::cmd("XREADGROUP")
        .arg("GROUP")
        .arg(GROUP)
        .arg(me)
        .arg("COUNT")
        .arg(COUNT)
        .arg("BLOCK")
        .arg(1000)
        .arg("STREAMS")
        .arg(stream)
        .arg(">")
        .query_async(conn)
        .await?;
    Ok(reply.into_iter().flatten().flat_map(|(_, entries)| entries).collect())
}

/// Entries read but never acknowledged by a leader that died. Only the
/// leader reads, so whatever is pending now is orphaned.
async fn claim(conn: &mut MultiplexedConnection, stream: &str, me: &str) -> redis::RedisResult<Vec<Entry>> {
    let (_, entries, _): (String, Vec<Entry>, Vec<String>) = redis::cmd("XAUTOCLAIM")
        .arg(stream)
        .arg(GROUP)
        .arg(me)
        .arg(0)
        .arg("0-0")
        .arg("COUNT")
        .arg(COUNT * 5)
        .query_async(conn)
        .await?;
    Ok(entries)
}

fn envelope(fields: &[(String, String)]) -> Option<Envelope> {
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.as_str());
    Some(Envelope {
        producteur: get("producteur")?.parse().ok()?,
        id: get("id")?.parse().ok()?,
        kind: get("type")?.to_owned(),
        version: get("version")?.parse().ok()?,
        survenu_le: get("survenu_le")?.parse().ok()?,
        charge: serde_json::from_str(get("charge")?).ok()?,
    })
}

/// Applies entries in order, in one transaction, and acknowledges them once
/// committed.
async fn handle(
    state: &AppState,
    producer: Producer,
    conn: &mut MultiplexedConnection,
    stream: &str,
    entries: Vec<Entry>,
) -> anyhow::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let mut envs = Vec::with_capacity(entries.len());
    for (entry_id, fields) in &entries {
        match envelope(fields) {
            Some(env) if env.producteur == producer => envs.push(env),
            _ => tracing::error!(flux = stream, entree = %entry_id, "entrée de flux illisible, ignorée"),
        }
    }
    let outcomes = apply_all(&state.platform.pool, &envs, false, &state.metrics).await?;
    if outcomes.iter().any(Outcome::moved) {
        state.read_model.changed();
    }
    if let Some((env, Outcome::Gap { expected })) = envs.iter().zip(&outcomes).next_back() {
        tracing::info!(producteur = producer.as_str(), attendu = expected, recu = env.id, "trou : relecture");
        // The feed has the missing events and those after them.
        catch_up(state, producer).await?;
    }
    let mut ack = redis::cmd("XACK");
    ack.arg(stream).arg(GROUP);
    for (entry_id, _) in &entries {
        ack.arg(entry_id);
    }
    let _: i64 = ack.query_async(conn).await?;
    Ok(())
}

/// Applies everything the producer's feed has beyond our cursor.
pub async fn catch_up(state: &AppState, producer: Producer) -> anyhow::Result<u64> {
    let mut applied = 0;
    loop {
        let last = crate::db::reports::cursor(&state.platform.pool, producer).await?;
        let page = fetch(state, producer, last).await?;
        state.metrics.behind(producer.as_str(), page.dernier - last);
        if page.evenements.is_empty() {
            return Ok(applied);
        }
        // The producer pruned what lies between: nothing left to wait for.
        let jump = page.premier > last + 1;
        if jump {
            tracing::warn!(producteur = producer.as_str(), de = last + 1, a = page.premier - 1, "événements expirés");
        }
        let mut progress = false;
        'page: for (n, chunk) in page.evenements.chunks(APPLY_RUN).enumerate() {
            let outcomes = apply_all(&state.platform.pool, chunk, jump && n == 0, &state.metrics).await?;
            if outcomes.iter().any(Outcome::moved) {
                state.read_model.changed();
            }
            for outcome in outcomes {
                match outcome {
                    Outcome::Applied | Outcome::Ignored => {
                        applied += 1;
                        progress = true;
                        state.metrics.backfilled.with_label_values(&[producer.as_str()]).inc();
                    }
                    Outcome::Duplicate => progress = true,
                    Outcome::Gap { expected } => {
                        anyhow::ensure!(
                            progress,
                            "flux de {} incomplet : l'événement {expected} manque",
                            producer.as_str()
                        );
                        break 'page;
                    }
                }
            }
        }
    }
}

async fn fetch(state: &AppState, producer: Producer, after: i64) -> anyhow::Result<FeedPage> {
    let base = state.config.producer_url(producer);
    let path = format!("{}?apres={after}&limit=500", producer.feed_path());
    let bearer = state.platform.keys.service_bearer("reporting")?;
    let ctx = CallCtx { bearer: &bearer, request_id: "" };
    match state.platform.client.get_json::<FeedPage>(producer.as_str(), base, &path, ctx).await? {
        Ok(page) => Ok(page),
        Err(up) => anyhow::bail!("flux de {} : {} {}", producer.as_str(), up.status, up.body),
    }
}
