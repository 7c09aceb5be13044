//! Applies one event to the read model, in the same transaction as the
//! producer's cursor moves: an event at or below the cursor changes nothing
//! (a redelivery); one beyond `cursor + 1` is a gap, left for the caller to
//! backfill from the producer's feed. A run of events is applied in one
//! transaction ([`apply_all`]), its consecutive sales (or stock levels)
//! written together.

use caisse_common::events::{DecodeError, Envelope, Payload, SaleCompleted, StockChanged};
use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::{db::projection as p, telemetry::ReportMetrics};

/// What became of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Already applied (delivered again).
    Duplicate,
    /// Events are missing before this one: `expected` is the next id due.
    Gap {
        expected: i64,
    },
    /// A type or version this build does not know, or a return of a sale
    /// older than the retention window: the cursor moves on, the model does not.
    Ignored,
}

impl Outcome {
    /// The event moved its producer's cursor (the read model's version).
    pub fn moved(&self) -> bool {
        matches!(self, Outcome::Applied | Outcome::Ignored)
    }

    pub fn label(self) -> &'static str {
        match self {
            Outcome::Applied => "applique",
            Outcome::Duplicate => "doublon",
            Outcome::Gap { .. } => "trou",
            Outcome::Ignored => "ignore",
        }
    }
}

/// Applies `env` if it is the next event of its producer (or, with
/// `jump`, any later one: the feed no longer holds the ones between).
pub async fn apply(pool: &MySqlPool, env: &Envelope, jump: bool, m: &ReportMetrics) -> Result<Outcome, sqlx::Error> {
    let outcomes = apply_all(pool, std::slice::from_ref(env), jump, m).await?;
    Ok(outcomes.first().copied().unwrap_or(Outcome::Duplicate))
}

/// Applies a run of one producer's events, in id order, in one transaction
/// (one commit for the run: a backlog of thousands catches up in seconds),
/// stopping at the first gap. `jump` lets the first event follow a gap (the
/// feed no longer holds the ones between). Returns the outcome of each
/// event looked at, a gap last.
pub async fn apply_all(
    pool: &MySqlPool,
    envs: &[Envelope],
    jump: bool,
    m: &ReportMetrics,
) -> Result<Vec<Outcome>, sqlx::Error> {
    let Some(producer) = envs.first().map(|e| e.producteur) else {
        return Ok(vec![]);
    };
    let mut tx = pool.begin().await?;
    let mut last = p::lock_cursor(&mut tx, producer).await?;
    let mut moved = None;
    let mut pending = Pending::default();
    let mut outcomes = Vec::with_capacity(envs.len());
    for (i, env) in envs.iter().enumerate() {
        let outcome = if env.producteur != producer || env.id <= last {
            Outcome::Duplicate
        } else if env.id != last + 1 && !(jump && i == 0) {
            Outcome::Gap { expected: last + 1 }
        } else {
            let applied = project(&mut tx, env, &mut pending).await?;
            last = env.id;
            moved = Some(env.survenu_le);
            if applied { Outcome::Applied } else { Outcome::Ignored }
        };
        outcomes.push(outcome);
        if matches!(outcome, Outcome::Gap { .. }) {
            break;
        }
    }
    match moved {
        Some(at) => {
            pending.write(&mut tx).await?;
            p::advance_cursor(&mut tx, producer, last, at).await?;
            tx.commit().await?;
        }
        None => tx.rollback().await?,
    }
    for (env, outcome) in envs.iter().zip(&outcomes) {
        match outcome {
            Outcome::Applied | Outcome::Ignored => m.applied(env, *outcome),
            _ => m.count(env, *outcome),
        }
    }
    Ok(outcomes)
}

type Tx<'a> = Transaction<'a, MySql>;

/// Sales or stock levels of a run not written yet: consecutive events of
/// one of these kinds are written together (one statement per table), and
/// before an event of any other kind, so that the model still takes the
/// events in id order (a return reads its sale, a level follows the
/// thresholds set before it). At most one of the two is not empty.
#[derive(Default)]
struct Pending {
    sales: Vec<(DateTime<Utc>, SaleCompleted)>,
    stocks: Vec<(DateTime<Utc>, StockChanged)>,
}

impl Pending {
    async fn write(&mut self, tx: &mut Tx<'_>) -> Result<(), sqlx::Error> {
        if !self.sales.is_empty() {
            p::sales_completed(tx, &std::mem::take(&mut self.sales)).await?;
        }
        if !self.stocks.is_empty() {
            p::stocks_changed(tx, &std::mem::take(&mut self.stocks)).await?;
        }
        Ok(())
    }
}

/// Writes one event into the read model, or holds it back in `pending`;
/// `false` when it changes nothing.
async fn project(tx: &mut Tx<'_>, env: &Envelope, pending: &mut Pending) -> Result<bool, sqlx::Error> {
    let at = env.survenu_le;
    let payload = env.decode();
    let joins = match &payload {
        Ok(Payload::SaleCompleted(_)) => pending.stocks.is_empty(),
        Ok(Payload::StockChanged(_)) => pending.sales.is_empty(),
        _ => false,
    };
    if !joins {
        pending.write(tx).await?;
    }
    Ok(match payload {
        Ok(Payload::SaleCompleted(s)) => {
            pending.sales.push((at, s));
            true
        }
        Ok(Payload::StockChanged(s)) => {
            pending.stocks.push((at, s));
            true
        }
        Ok(Payload::SaleReturned(r)) => p::sale_returned(tx, at, &r).await?,
        Ok(Payload::SaleCancelled(c)) => p::sale_cancelled(tx, at, &c).await?,
        Ok(Payload::StockThresholdsChanged(s)) => p::thresholds_changed(tx, at, &s).await.map(|()| true)?,
        Ok(Payload::ProductChanged(c)) => p::product_changed(tx, &c).await.map(|()| true)?,
        Err(e @ DecodeError::Unknown(..)) => {
            tracing::warn!(producteur = env.producteur.as_str(), id = env.id, error = %e, "événement ignoré");
            false
        }
        Err(e @ DecodeError::Malformed(..)) => {
            tracing::error!(producteur = env.producteur.as_str(), id = env.id, error = %e, "événement ignoré");
            false
        }
    })
}
