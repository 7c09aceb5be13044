//! The ledger: the only way quantities change (inside a transaction, a
//! guarded update of `stocks` and the movement that explains it, both or
//! neither), its reads, and the balance check the tests run.

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
    let delta = i32::try_from(m.delta).map_err(|_| ApiError::field("quantite", "hors limites"))?;
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
    let after = i32::try_from(after).map_err(|_| ApiError::field("quantite", "hors limites"))?;
    let movement = sqlx::query(
        "INSERT INTO mouvements (magasin_id, produit_id, delta, quantite_apres, type, reference, motif, auteur, cree_le) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, CURRENT_TIMESTAMP(3)))",
    )
    .bind(m.magasin_id)
    .bind(m.produit_id)
    .bind(delta)
    .bind(after)
    .bind(m.type_mouvement)
    .bind(m.reference)
    .bind(m.motif)
    .bind(m.auteur)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    // Every movement is an event on `evenements:stocks`, in its transaction.
    let event = StockChanged {
        mouvement_id: i64::try_from(movement.last_insert_id()).unwrap_or_default(),
        magasin_id: m.magasin_id,
        produit_id: m.produit_id,
        delta,
        quantite: after,
        type_mouvement: m.type_mouvement.as_str().to_owned(),
        reference: m.reference.to_owned(),
        motif: m.motif.to_owned(),
        auteur: m.auteur.to_owned(),
    };
    caisse_common::outbox::append_at(tx, &event, at).await?;
    Ok(Ok(after))
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
