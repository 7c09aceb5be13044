//! Adjustments made under an idempotency key: the key (case-sensitive, up
//! to the 100 characters the header allows) bound to the fingerprint of
//! the request it came with. The ledger refers to an adjustment by its id.

use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::TypeAjustement;

/// The id and request fingerprint recorded under `key`, if any.
pub async fn find_by_key(pool: &MySqlPool, key: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, empreinte FROM ajustements WHERE cle_idempotence = ?")
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// One adjustment to record.
#[derive(Debug, Clone, Copy)]
pub struct NewAdjustment<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub type_ajustement: TypeAjustement,
    pub magasin_id: i64,
    pub produit_id: i64,
    pub delta: i64,
    pub auteur: &'a str,
}

/// Records an adjustment and returns its id. A concurrent request with the
/// same key waits on the unique key, then fails with a duplicate entry once
/// this one commits (or goes ahead if it rolls back).
pub async fn insert(tx: &mut Transaction<'static, MySql>, a: NewAdjustment<'_>) -> Result<i64, sqlx::Error> {
    let res = sqlx::query(
        "INSERT INTO ajustements (cle_idempotence, empreinte, type, magasin_id, produit_id, delta, auteur) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(a.key)
    .bind(a.fingerprint)
    .bind(a.type_ajustement.type_mouvement())
    .bind(a.magasin_id)
    .bind(a.produit_id)
    .bind(a.delta)
    .bind(a.auteur)
    .execute(&mut **tx)
    .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}
