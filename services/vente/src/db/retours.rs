//! SQL of returns: the return row and its lines, the quantities returned
//! on the sale lines, and the return's completion.

use caisse_common::ApiResult;
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::Totaux;

/// A return as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReturnRow {
    pub id: i64,
    pub vente_id: String,
    pub statut: String,
    pub sous_total: Decimal,
    pub tps: Decimal,
    pub tvq: Decimal,
    pub total: Decimal,
    pub rembourse: Decimal,
}

/// The return recorded for `(vente_id, key)`, with its request fingerprint.
pub async fn by_key(tx: &mut Transaction<'_, MySql>, vente_id: &str, key: &str) -> ApiResult<Option<(i64, String)>> {
    Ok(sqlx::query_as("SELECT id, empreinte FROM retours WHERE vente_id = ? AND cle_idempotence = ?")
        .bind(vente_id)
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?)
}

/// What a new return records.
pub struct NewReturn<'a> {
    pub vente_id: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub montant: Totaux,
    pub rembourse: Decimal,
    pub by: &'a str,
    /// `(produit_id, quantite)`.
    pub lines: &'a [(i64, i64)],
}

/// Records a return `en_cours` and counts its quantities as returned on the
/// sale lines, in the caller's transaction (which holds the sale's lock).
pub async fn insert(tx: &mut Transaction<'_, MySql>, r: &NewReturn<'_>) -> ApiResult<i64> {
    let res = sqlx::query(
        "INSERT INTO retours (vente_id, cle_idempotence, empreinte, statut, sous_total, tps, tvq, total, rembourse, par) \
         VALUES (?, ?, ?, 'en_cours', ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.vente_id)
    .bind(r.key)
    .bind(r.fingerprint)
    .bind(r.montant.sous_total)
    .bind(r.montant.tps)
    .bind(r.montant.tvq)
    .bind(r.montant.total)
    .bind(r.rembourse)
    .bind(r.by)
    .execute(&mut **tx)
    .await?;
    let retour_id = i64::try_from(res.last_insert_id()).unwrap_or_default();
    for &(produit_id, quantite) in r.lines {
        sqlx::query("INSERT INTO retour_lignes (retour_id, produit_id, quantite) VALUES (?, ?, ?)")
            .bind(retour_id)
            .bind(produit_id)
            .bind(quantite)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "UPDATE vente_lignes SET quantite_retournee = quantite_retournee + ? WHERE vente_id = ? AND produit_id = ?",
        )
        .bind(quantite)
        .bind(r.vente_id)
        .bind(produit_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(retour_id)
}

/// `en_cours` → `termine`; `true` if this call made the move.
pub async fn finish(tx: &mut Transaction<'_, MySql>, retour_id: i64) -> ApiResult<bool> {
    let res = sqlx::query(
        "UPDATE retours SET statut = 'termine', termine_le = CURRENT_TIMESTAMP(3) WHERE id = ? AND statut = 'en_cours'",
    )
    .bind(retour_id)
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

pub async fn get(pool: &MySqlPool, retour_id: i64) -> ApiResult<Option<ReturnRow>> {
    Ok(sqlx::query_as("SELECT id, vente_id, statut, sous_total, tps, tvq, total, rembourse FROM retours WHERE id = ?")
        .bind(retour_id)
        .fetch_optional(pool)
        .await?)
}

/// `(produit_id, quantite)` of a return, by product.
pub async fn lines(pool: &MySqlPool, retour_id: i64) -> ApiResult<Vec<(i64, i32)>> {
    Ok(sqlx::query_as("SELECT produit_id, quantite FROM retour_lignes WHERE retour_id = ? ORDER BY produit_id")
        .bind(retour_id)
        .fetch_all(pool)
        .await?)
}

/// Ids of the returns of a sale, oldest first.
pub async fn of_sale(pool: &MySqlPool, vente_id: &str) -> ApiResult<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM retours WHERE vente_id = ? ORDER BY id")
        .bind(vente_id)
        .fetch_all(pool)
        .await?)
}

/// Returns left `en_cours` past the grace period, least recently tried first.
pub async fn stale(pool: &MySqlPool, grace_us: i64, limit: i64) -> ApiResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM retours WHERE statut = 'en_cours' AND cree_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND \
         AND (tentative_le IS NULL OR tentative_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND) \
         ORDER BY COALESCE(tentative_le, cree_le) LIMIT ?",
    )
    .bind(grace_us)
    .bind(grace_us)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
