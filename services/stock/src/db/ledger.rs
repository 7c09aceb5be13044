//! The ledger: the only way quantities change (inside a transaction, a
//! guarded update of `stocks` and the movement that explains it, both or
//! neither; several moves batched into one insert of movements and one of
//! events), its reads, and the balance check the tests run.

use caisse_common::{ApiError, ApiResult, events::StockChanged, pagination::Page};
use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::{
    domain::{Mouvement, TypeMouvement},
    tx::TxError,
};

/// One movement to apply.
#[derive(Debug, Clone, Copy)]
pub struct Move<'a> {
    pub magasin_id: i64,
    pub produit_id: i64,
    pub delta: i64,
    pub type_mouvement: TypeMouvement,
    pub reference: &'a str,
    pub motif: &'a str,
    pub auteur: &'a str,
}

/// Outcome of a decrement that the stock could not cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Short {
    pub produit_id: i64,
    pub demande: i64,
    pub disponible: i64,
}

/// Applies `m`. A decrement succeeds only if the quantity covers it (a
/// conditional update: it can never go below zero, whatever runs alongside);
/// otherwise returns the shortage and changes nothing.
pub async fn apply(tx: &mut Transaction<'_, MySql>, m: Move<'_>) -> Result<Result<i32, Short>, TxError> {
    apply_at(tx, m, None).await
}

/// Like [`apply`], dated `at` when the movement did not happen now (the
/// demo history): the movement and its event carry that time.
pub async fn apply_at(
    tx: &mut Transaction<'_, MySql>,
    m: Move<'_>,
    at: Option<DateTime<Utc>>,
) -> Result<Result<i32, Short>, TxError> {
    Ok(match apply_batch_at(tx, &[m], at).await? {
        Ok(after) => Ok(only(after)?),
        Err(shorts) => Err(only(shorts)?),
    })
}

/// Applies `moves` in their order: one guarded update per move (as
/// [`apply`]), then all their movements in one insert and all their events in
/// another. Returns the quantity after each move, or every short decrement;
/// then no movement is written but the other moves' updates are, so the
/// caller must roll the transaction back (returning the error out of
/// `with_tx` does).
pub async fn apply_batch(
    tx: &mut Transaction<'_, MySql>,
    moves: &[Move<'_>],
) -> Result<Result<Vec<i32>, Vec<Short>>, TxError> {
    apply_batch_at(tx, moves, None).await
}

async fn apply_batch_at(
    tx: &mut Transaction<'_, MySql>,
    moves: &[Move<'_>],
    at: Option<DateTime<Utc>>,
) -> Result<Result<Vec<i32>, Vec<Short>>, TxError> {
    let deltas = moves
        .iter()
        .map(|m| i32::try_from(m.delta))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::field("quantite", "hors limites"))?;
    let (mut afters, mut shorts) = (Vec::with_capacity(moves.len()), vec![]);
    for (m, &delta) in moves.iter().zip(&deltas) {
        match update(tx, m, delta).await? {
            Ok(after) => afters.push(after),
            Err(s) => shorts.push(s),
        }
    }
    if !shorts.is_empty() {
        return Ok(Err(shorts));
    }
    if moves.is_empty() {
        return Ok(Ok(afters));
    }
    let ids = insert_movements(tx, moves, &deltas, &afters, at).await?;
    // Every movement is an event on `evenements:stocks`, in its transaction.
    let events: Vec<StockChanged> = moves
        .iter()
        .zip(deltas.iter().zip(&afters).zip(ids))
        .map(|(m, ((&delta, &after), mouvement_id))| StockChanged {
            mouvement_id,
            magasin_id: m.magasin_id,
            produit_id: m.produit_id,
            delta,
            quantite: after,
            type_mouvement: m.type_mouvement.as_str().to_owned(),
            reference: m.reference.to_owned(),
            motif: m.motif.to_owned(),
            auteur: m.auteur.to_owned(),
        })
        .collect();
    caisse_common::outbox::append_many_at(tx, &events, at).await?;
    Ok(Ok(afters))
}

/// The one element of what a batch of one returned.
fn only<T>(v: Vec<T>) -> Result<T, TxError> {
    let mut v = v.into_iter();
    match (v.next(), v.next()) {
        (Some(x), None) => Ok(x),
        _ => Err(TxError::Api(ApiError::Internal(anyhow::anyhow!("registre : un mouvement attendu")))),
    }
}

/// The guarded update of one move's entry: the quantity after it, or the
/// shortage of a decrement the quantity does not cover.
async fn update(tx: &mut Transaction<'_, MySql>, m: &Move<'_>, delta: i32) -> Result<Result<i32, Short>, TxError> {
    // LAST_INSERT_ID(expr) hands the new quantity back in the OK packet,
    // saving a SELECT per line.
    let after: i64;
    if delta < 0 {
        let res = sqlx::query(
            "UPDATE stocks SET quantite = LAST_INSERT_ID(quantite + ?), version = version + 1 \
             WHERE magasin_id = ? AND produit_id = ? AND quantite >= ?",
        )
        .bind(delta)
        .bind(m.magasin_id)
        .bind(m.produit_id)
        .bind(-delta)
        .execute(&mut **tx)
        .await?;
        if res.rows_affected() == 0 {
            let disponible: Option<i32> =
                sqlx::query_scalar("SELECT quantite FROM stocks WHERE magasin_id = ? AND produit_id = ? FOR UPDATE")
                    .bind(m.magasin_id)
                    .bind(m.produit_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            return Ok(Err(Short {
                produit_id: m.produit_id,
                demande: -m.delta,
                disponible: i64::from(disponible.unwrap_or(0)),
            }));
        }
        after = i64::try_from(res.last_insert_id()).unwrap_or_default();
    } else {
        let res = sqlx::query(
            "INSERT INTO stocks (magasin_id, produit_id, quantite) VALUES (?, ?, ?) \
             ON DUPLICATE KEY UPDATE quantite = LAST_INSERT_ID(quantite + VALUES(quantite)), version = version + 1",
        )
        .bind(m.magasin_id)
        .bind(m.produit_id)
        .bind(delta)
        .execute(&mut **tx)
        .await?;
        // 1 row: a new entry holding exactly `delta`; 2: an update.
        after = if res.rows_affected() == 1 {
            i64::from(delta)
        } else {
            i64::try_from(res.last_insert_id()).unwrap_or_default()
        };
    }
    Ok(Ok(i32::try_from(after).map_err(|_| ApiError::field("quantite", "hors limites"))?))
}

/// Writes the movements of `moves` in one statement; their ids, in order.
///
/// The ids come back with the rows (`INSERT … RETURNING`, MariaDB 10.5+)
/// rather than as `LAST_INSERT_ID()` and the ones after it: a multi-row
/// insert's ids are consecutive only while `innodb_autoinc_lock_mode` is
/// below 2 and `auto_increment_increment` is 1 (a Galera cluster changes
/// both), and reading them back with a SELECT would cost the statement the
/// batch saves. Each returned row is checked against its move by the unique
/// cause key (type, reference, magasin, produit), so rows returned in another
/// order than the values fail loudly instead of giving an event the id of
/// another line's movement.
async fn insert_movements(
    tx: &mut Transaction<'_, MySql>,
    moves: &[Move<'_>],
    deltas: &[i32],
    afters: &[i32],
    at: Option<DateTime<Utc>>,
) -> Result<Vec<i64>, TxError> {
    let sql = format!(
        "INSERT INTO mouvements (magasin_id, produit_id, delta, quantite_apres, type, reference, motif, auteur, cree_le) \
         VALUES {} RETURNING id, type, reference, magasin_id, produit_id",
        vec!["(?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, CURRENT_TIMESTAMP(3)))"; moves.len()].join(", ")
    );
    let mut insert = sqlx::query_as::<_, (i64, TypeMouvement, String, i64, i64)>(&sql);
    for ((m, delta), after) in moves.iter().zip(deltas).zip(afters) {
        insert = insert
            .bind(m.magasin_id)
            .bind(m.produit_id)
            .bind(delta)
            .bind(after)
            .bind(m.type_mouvement)
            .bind(m.reference)
            .bind(m.motif)
            .bind(m.auteur)
            .bind(at);
    }
    let rows = insert.fetch_all(&mut **tx).await?;
    let in_order = rows.len() == moves.len()
        && rows.iter().zip(moves).all(|((_, kind, reference, magasin_id, produit_id), m)| {
            (*kind, reference.as_str(), *magasin_id, *produit_id)
                == (m.type_mouvement, m.reference, m.magasin_id, m.produit_id)
        });
    if !in_order {
        return Err(TxError::Api(ApiError::Internal(anyhow::anyhow!(
            "registre : les mouvements insérés ne reviennent pas dans l'ordre des lignes"
        ))));
    }
    Ok(rows.into_iter().map(|(id, ..)| id).collect())
}

/// Entries whose quantity the ledger does not explain: negative, not equal
/// to the sum of their movements, or not equal to the `quantite_apres` of
/// their latest movement. Zero at all times; the invariant tests check it.
pub async fn unexplained_quantities(pool: &sqlx::MySqlPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM stocks s \
         LEFT JOIN (SELECT magasin_id, produit_id, SUM(delta) AS total, MAX(id) AS dernier \
                    FROM mouvements GROUP BY magasin_id, produit_id) m USING (magasin_id, produit_id) \
         LEFT JOIN mouvements d ON d.id = m.dernier \
         WHERE s.quantite < 0 OR s.quantite <> COALESCE(m.total, 0) OR s.quantite <> COALESCE(d.quantite_apres, 0)",
    )
    .fetch_one(pool)
    .await
}

/// Ledger filters.
#[derive(Debug, Default, Clone)]
pub struct LedgerFilter {
    pub magasin_id: Option<i64>,
    pub produit_id: Option<i64>,
    pub reference: Option<String>,
}

pub async fn movements(pool: &MySqlPool, f: &LedgerFilter, page: Page) -> ApiResult<Vec<Mouvement>> {
    Ok(sqlx::query_as(
        "SELECT id, magasin_id, produit_id, delta, quantite_apres, type, reference, motif, auteur, cree_le \
         FROM mouvements WHERE id > ? AND (? IS NULL OR magasin_id = ?) AND (? IS NULL OR produit_id = ?) \
         AND (? IS NULL OR reference = ?) ORDER BY id LIMIT ?",
    )
    .bind(page.apres)
    .bind(f.magasin_id)
    .bind(f.magasin_id)
    .bind(f.produit_id)
    .bind(f.produit_id)
    .bind(f.reference.as_deref())
    .bind(f.reference.as_deref())
    .bind(page.fetch())
    .fetch_all(pool)
    .await?)
}

/// Whether a movement of this kind and cause exists (for any line, or for
/// one magasin and product).
pub async fn has_cause<'e, E: sqlx::MySqlExecutor<'e>>(
    ex: E,
    type_mouvement: TypeMouvement,
    reference: &str,
    line: Option<(i64, i64)>,
) -> Result<bool, sqlx::Error> {
    let (magasin_id, produit_id) = line.unzip();
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM mouvements WHERE type = ? AND reference = ? \
         AND (? IS NULL OR magasin_id = ?) AND (? IS NULL OR produit_id = ?) LIMIT 1",
    )
    .bind(type_mouvement)
    .bind(reference)
    .bind(magasin_id)
    .bind(magasin_id)
    .bind(produit_id)
    .bind(produit_id)
    .fetch_optional(ex)
    .await?;
    Ok(found.is_some())
}
