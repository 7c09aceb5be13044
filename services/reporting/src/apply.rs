//! Applies one event to the read model, in the same transaction as the
//! producer's cursor moves: an event at or below the cursor changes nothing
//! (a redelivery); one beyond `cursor + 1` is a gap, left for the caller to
//! backfill from the producer's feed.

use caisse_common::events::{DecodeError, Envelope, Payload};
use sqlx::MySqlPool;

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
    let mut tx = pool.begin().await?;
    let last = p::lock_cursor(&mut tx, env.producteur).await?;
    let outcome = if env.id <= last {
        Outcome::Duplicate
    } else if env.id != last + 1 && !jump {
        Outcome::Gap { expected: last + 1 }
    } else {
        let at = env.survenu_le;
        let applied = match env.decode() {
            Ok(Payload::SaleCompleted(s)) => p::sale_completed(&mut tx, at, &s).await.map(|()| true)?,
            Ok(Payload::SaleReturned(r)) => p::sale_returned(&mut tx, at, &r).await?,
            Ok(Payload::SaleCancelled(c)) => p::sale_cancelled(&mut tx, at, &c).await?,
            Ok(Payload::StockChanged(s)) => p::stock_changed(&mut tx, at, &s).await.map(|()| true)?,
            Ok(Payload::StockThresholdsChanged(s)) => p::thresholds_changed(&mut tx, at, &s).await.map(|()| true)?,
            Ok(Payload::ProductChanged(c)) => p::product_changed(&mut tx, &c).await.map(|()| true)?,
            Err(e @ DecodeError::Unknown(..)) => {
                tracing::warn!(producteur = env.producteur.as_str(), id = env.id, error = %e, "événement ignoré");
                false
            }
            Err(e @ DecodeError::Malformed(..)) => {
                tracing::error!(producteur = env.producteur.as_str(), id = env.id, error = %e, "événement ignoré");
                false
            }
        };
        p::advance_cursor(&mut tx, env.producteur, env.id, at).await?;
        if applied { Outcome::Applied } else { Outcome::Ignored }
    };
    if matches!(outcome, Outcome::Applied | Outcome::Ignored) {
        tx.commit().await?;
        m.applied(env, outcome);
    } else {
        tx.rollback().await?;
        m.count(env, outcome);
    }
    Ok(outcome)
}
