//! Stock entries: reads and thresholds (quantities change only through
//! [`super::ledger::apply`]).

use caisse_common::{ApiResult, pagination::Page};
use sqlx::MySqlPool;

use crate::domain::Stock;

const STOCK_COLS: &str = "magasin_id, produit_id, quantite, seuil_alerte, seuil_surstock, niveau_cible, modifie_le";

pub async fn list_for_magasin(pool: &MySqlPool, magasin_id: i64, page: Page) -> ApiResult<Vec<Stock>> {
    let sql =
        format!("SELECT {STOCK_COLS} FROM stocks WHERE magasin_id = ? AND produit_id > ? ORDER BY produit_id LIMIT ?");
    Ok(sqlx::query_as(&sql).bind(magasin_id).bind(page.apres).bind(page.fetch()).fetch_all(pool).await?)
}

pub async fn get(pool: &MySqlPool, magasin_id: i64, produit_id: i64) -> ApiResult<Option<Stock>> {
    let sql = format!("SELECT {STOCK_COLS} FROM stocks WHERE magasin_id = ? AND produit_id = ?");
    Ok(sqlx::query_as(&sql).bind(magasin_id).bind(produit_id).fetch_optional(pool).await?)
}

/// Entries out of stock, at or below their alert threshold, or overstocked.
pub async fn alerts(pool: &MySqlPool, magasin_id: Option<i64>, limit: i64) -> ApiResult<Vec<Stock>> {
    let sql = format!(
        "SELECT {STOCK_COLS} FROM stocks WHERE (? IS NULL OR magasin_id = ?) \
         AND (quantite <= seuil_alerte OR quantite > seuil_surstock) ORDER BY magasin_id, produit_id LIMIT ?"
    );
    Ok(sqlx::query_as(&sql).bind(magasin_id).bind(magasin_id).bind(limit).fetch_all(pool).await?)
}

/// Changes an entry's thresholds and reports it on `evenements:stocks`, in
/// one transaction; `false` when the entry does not exist.
pub async fn set_thresholds(
    pool: &MySqlPool,
    magasin_id: i64,
    produit_id: i64,
    alerte: i32,
    surstock: i32,
    cible: Option<i32>,
    par: &str,
) -> ApiResult<bool> {
    let mut tx = pool.begin().await?;
    let res = sqlx::query(
        "UPDATE stocks SET seuil_alerte = ?, seuil_surstock = ?, niveau_cible = ?, version = version + 1 \
         WHERE magasin_id = ? AND produit_id = ?",
    )
    .bind(alerte)
    .bind(surstock)
    .bind(cible)
    .bind(magasin_id)
    .bind(produit_id)
    .execute(&mut *tx)
    .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    let event = caisse_common::events::StockThresholdsChanged {
        magasin_id,
        produit_id,
        seuil_alerte: alerte,
        seuil_surstock: surstock,
        par: par.to_owned(),
    };
    caisse_common::outbox::append(&mut tx, &event).await?;
    tx.commit().await?;
    Ok(true)
}

/// Whether stock holds any entry for `magasin_id` (then caisse knew it).
pub async fn magasin_known(pool: &MySqlPool, magasin_id: i64) -> ApiResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT magasin_id FROM stocks WHERE magasin_id = ? LIMIT 1")
        .bind(magasin_id)
        .fetch_optional(pool)
        .await?;
    Ok(found.is_some())
}
