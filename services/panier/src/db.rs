//! All SQL of the panier schema: carts and their lines. A cart's status
//! moves only by the guarded update in [`close`].

use caisse_common::ApiResult;
use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::StatutPanier;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Cart {
    pub id: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
    pub statut: StatutPanier,
    pub vente_id: Option<String>,
    pub version: i32,
    pub modifie_le: DateTime<Utc>,
}

/// The register and cash session a cart is rung up on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Till {
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
}

const COLS: &str = "id, magasin_id, caissier_id, caisse_id, session_id, statut, vente_id, version, modifie_le";

impl Cart {
    pub fn till(&self) -> Till {
        Till { caisse_id: self.caisse_id, session_id: self.session_id }
    }
}

/// Opens a cart (`ouvert`) and returns its id. With an idempotency key, the
/// cart this cashier already opened with that key is returned instead (one
/// statement, so concurrent retries agree on one cart).
pub async fn insert<'e, E: sqlx::MySqlExecutor<'e>>(
    ex: E,
    magasin_id: i64,
    caissier_id: i64,
    till: Till,
    cle: Option<&str>,
) -> ApiResult<i64> {
    let res = sqlx::query(
        "INSERT INTO paniers (magasin_id, caissier_id, caisse_id, session_id, statut, cle_idempotence) \
         VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
    )
    .bind(magasin_id)
    .bind(caissier_id)
    .bind(till.caisse_id)
    .bind(till.session_id)
    .bind(StatutPanier::Ouvert)
    .bind(cle)
    .execute(ex)
    .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

pub async fn get(pool: &MySqlPool, id: i64) -> ApiResult<Option<Cart>> {
    Ok(sqlx::query_as(&format!("SELECT {COLS} FROM paniers WHERE id = ?")).bind(id).fetch_optional(pool).await?)
}

/// Locks the cart row for a change.
pub async fn lock(tx: &mut Transaction<'_, MySql>, id: i64) -> ApiResult<Option<Cart>> {
    Ok(sqlx::query_as(&format!("SELECT {COLS} FROM paniers WHERE id = ? FOR UPDATE"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn list_open(pool: &MySqlPool, caissier_id: i64, magasin_id: i64) -> ApiResult<Vec<Cart>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLS} FROM paniers WHERE caissier_id = ? AND magasin_id = ? AND statut = ? ORDER BY id DESC LIMIT 20"
    ))
    .bind(caissier_id)
    .bind(magasin_id)
    .bind(StatutPanier::Ouvert)
    .fetch_all(pool)
    .await?)
}

pub async fn lines(pool: &MySqlPool, id: i64) -> ApiResult<Vec<(i64, i32)>> {
    Ok(sqlx::query_as(
        "SELECT produit_id, quantite FROM panier_lignes WHERE panier_id = ? ORDER BY ajoute_le, produit_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// The lines of a locked cart, as they stand in the transaction.
pub async fn locked_lines(tx: &mut Transaction<'_, MySql>, id: i64) -> ApiResult<Vec<(i64, i32)>> {
    Ok(sqlx::query_as("SELECT produit_id, quantite FROM panier_lignes WHERE panier_id = ?")
        .bind(id)
        .fetch_all(&mut **tx)
        .await?)
}

/// The quantity of one product in a locked cart, if it is there.
pub async fn line_quantity(tx: &mut Transaction<'_, MySql>, id: i64, produit_id: i64) -> ApiResult<Option<i32>> {
    Ok(sqlx::query_scalar("SELECT quantite FROM panier_lignes WHERE panier_id = ? AND produit_id = ?")
        .bind(id)
        .bind(produit_id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn count_lines(tx: &mut Transaction<'_, MySql>, id: i64) -> ApiResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM panier_lignes WHERE panier_id = ?")
        .bind(id)
        .fetch_one(&mut **tx)
        .await?)
}

pub async fn set_line(tx: &mut Transaction<'_, MySql>, id: i64, produit_id: i64, quantite: i32) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO panier_lignes (panier_id, produit_id, quantite) VALUES (?, ?, ?) \
         ON DUPLICATE KEY UPDATE quantite = VALUES(quantite)",
    )
    .bind(id)
    .bind(produit_id)
    .bind(quantite)
    .execute(&mut **tx)
    .await?;
    touch(tx, id).await
}

pub async fn remove_line(tx: &mut Transaction<'_, MySql>, id: i64, produit_id: Option<i64>) -> ApiResult<()> {
    sqlx::query("DELETE FROM panier_lignes WHERE panier_id = ? AND (? IS NULL OR produit_id = ?)")
        .bind(id)
        .bind(produit_id)
        .bind(produit_id)
        .execute(&mut **tx)
        .await?;
    touch(tx, id).await
}

async fn touch(tx: &mut Transaction<'_, MySql>, id: i64) -> ApiResult<()> {
    sqlx::query("UPDATE paniers SET version = version + 1 WHERE id = ?").bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// Closes an open cart for `vente_id`; false when it was not open.
pub async fn close(tx: &mut Transaction<'_, MySql>, id: i64, vente_id: &str) -> ApiResult<bool> {
    let (from, to) = StatutPanier::CLOSE;
    let res =
        sqlx::query("UPDATE paniers SET statut = ?, vente_id = ?, version = version + 1 WHERE id = ? AND statut = ?")
            .bind(to)
            .bind(vente_id)
            .bind(id)
            .bind(from)
            .execute(&mut **tx)
            .await?;
    Ok(res.rows_affected() == 1)
}
