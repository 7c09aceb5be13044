//! Transfers: the record keyed by its idempotency key, and its lines.

use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::{Ligne, Transfert};

/// The id and request fingerprint recorded under `key`, if any.
pub async fn find_by_key(pool: &MySqlPool, key: &str) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as("SELECT id, empreinte FROM transferts WHERE cle_idempotence = ?")
        .bind(key)
        .fetch_optional(pool)
        .await
}

/// Records a transfer; a second one with the same key fails on the unique key.
pub async fn insert(
    tx: &mut Transaction<'static, MySql>,
    key: &str,
    fingerprint: &str,
    source: i64,
    destination: i64,
    auteur: &str,
) -> Result<i64, sqlx::Error> {
    let res = sqlx::query(
        "INSERT INTO transferts (cle_idempotence, empreinte, source_id, destination_id, auteur) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(key)
    .bind(fingerprint)
    .bind(source)
    .bind(destination)
    .bind(auteur)
    .execute(&mut **tx)
    .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

pub async fn insert_line(tx: &mut Transaction<'static, MySql>, id: i64, l: &Ligne) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO transfert_lignes (transfert_id, produit_id, quantite) VALUES (?, ?, ?)")
        .bind(id)
        .bind(l.produit_id)
        .bind(l.quantite)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn load(pool: &MySqlPool, id: i64) -> Result<Option<Transfert>, sqlx::Error> {
    let head: Option<(i64, i64, i64, String, DateTime<Utc>)> =
        sqlx::query_as("SELECT id, source_id, destination_id, auteur, cree_le FROM transferts WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    let Some((id, source_id, destination_id, auteur, cree_le)) = head else {
        return Ok(None);
    };
    let lignes: Vec<(i64, i32)> =
        sqlx::query_as("SELECT produit_id, quantite FROM transfert_lignes WHERE transfert_id = ? ORDER BY produit_id")
            .bind(id)
            .fetch_all(pool)
            .await?;
    let lignes = lignes.into_iter().map(|(produit_id, q)| Ligne { produit_id, quantite: i64::from(q) }).collect();
    Ok(Some(Transfert { id, source_id, destination_id, lignes, auteur, cree_le }))
}
