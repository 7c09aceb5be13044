//! The `panier_ferme` marks of sold sales, written in batches off the
//! checkout's path: one `UPDATE` for every sale whose cart panier closed
//! since the previous one, instead of a commit per sale.
//!
//! The mark only tells the recovery loop that a cart needs no closing. A
//! mark lost (a crash before its batch is written) costs a second close:
//! recovery closes the carts of sold sales still unmarked past the grace
//! period, and panier answers a close by the same sale as done.

use sqlx::MySqlPool;
use tokio::sync::mpsc;

use crate::db;

/// At most this many sales per `UPDATE … WHERE id IN (…)`.
const BATCH: usize = 500;

#[derive(Clone)]
pub struct ClosedCarts {
    tx: mpsc::UnboundedSender<String>,
}

impl ClosedCarts {
    /// Starts the writer: it takes every mark queued while the previous
    /// batch was written, so batches grow with the load and no mark waits
    /// on a timer.
    pub fn start(pool: MySqlPool) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut ids = vec![first];
                while ids.len() < BATCH {
                    match rx.try_recv() {
                        Ok(id) => ids.push(id),
                        Err(_) => break,
                    }
                }
                if let Err(e) = db::mark_carts_closed(&pool, &ids).await {
                    tracing::warn!(ventes = ids.len(), error = %e, "fermetures de panier non notées : la récupération les refera");
                }
            }
        });
        Self { tx }
    }

    /// Queues the mark of `id`'s closed cart.
    pub fn mark(&self, id: &str) {
        // The writer lives as long as the process: a send cannot fail
        // before shutdown, and a mark lost then is redone by recovery.
        let _ = self.tx.send(id.to_owned());
    }
}
