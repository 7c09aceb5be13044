//! SQL of the produit schema.

use caisse_common::{ApiResult, pagination::Page};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::{Checked, Produit};

const COLS: &str = "id, nom, description, prix, code_barres, actif, version, modifie_le";

/// Escapes LIKE wildcards so `q` matches literally.
pub fn like_pattern(q: &str) -> String {
    let mut s = String::with_capacity(q.len() + 2);
    s.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            s.push('\\');
        }
        s.push(c);
    }
    s.push('%');
    s
}

/// `q` matches a name substring, the exact id or the exact barcode.
pub async fn search(pool: &MySqlPool, q: &str, include_inactive: bool, page: Page) -> ApiResult<Vec<Produit>> {
    let id: i64 = q.parse().unwrap_or(-1);
    let sql = format!(
        "SELECT {COLS} FROM produits WHERE id > ? AND (actif OR ?) \
         AND (? = '' OR nom LIKE ? OR code_barres = ? OR id = ?) ORDER BY id LIMIT ?"
    );
    Ok(sqlx::query_as(&sql)
        .bind(page.apres)
        .bind(include_inactive)
        .bind(q)
        .bind(like_pattern(q))
        .bind(q)
        .bind(id)
        .bind(page.fetch())
        .fetch_all(pool)
        .await?)
}

pub async fn by_ids(pool: &MySqlPool, ids: &[i64]) -> ApiResult<Vec<Produit>> {
    let marks = vec!["?"; ids.len()].join(", ");
    let sql = format!("SELECT {COLS} FROM produits WHERE id IN ({marks}) ORDER BY id");
    let mut q = sqlx::query_as(&sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(pool).await?)
}

pub async fn get(pool: &MySqlPool, id: i64) -> ApiResult<Option<Produit>> {
    Ok(sqlx::query_as(&format!("SELECT {COLS} FROM produits WHERE id = ?")).bind(id).fetch_optional(pool).await?)
}

/// The product, locked until the end of the transaction (the state an edit starts from).
pub async fn lock(tx: &mut Transaction<'_, MySql>, id: i64) -> ApiResult<Option<Produit>> {
    Ok(sqlx::query_as(&format!("SELECT {COLS} FROM produits WHERE id = ? FOR UPDATE"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn insert(tx: &mut Transaction<'_, MySql>, p: &Checked) -> ApiResult<i64> {
    let res = sqlx::query("INSERT INTO produits (nom, description, prix, code_barres) VALUES (?, ?, ?, ?)")
        .bind(p.nom.as_deref().unwrap_or_default())
        .bind(p.description.as_deref().unwrap_or_default())
        .bind(p.prix.map(|p| p.value()).unwrap_or_default())
        .bind(p.code_barres.as_ref().map(|c| c.as_str()))
        .execute(&mut **tx)
        .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

/// Applies the given fields if `version` is current; `false` when stale.
pub async fn update(tx: &mut Transaction<'_, MySql>, id: i64, version: i32, p: &Checked) -> ApiResult<bool> {
    let res = sqlx::query(
        "UPDATE produits SET nom = COALESCE(?, nom), description = COALESCE(?, description), \
         prix = COALESCE(?, prix), code_barres = COALESCE(?, code_barres), version = version + 1 \
         WHERE id = ? AND version = ?",
    )
    .bind(p.nom.as_deref())
    .bind(p.description.as_deref())
    .bind(p.prix.map(|p| p.value()))
    .bind(p.code_barres.as_ref().map(|c| c.as_str()))
    .bind(id)
    .bind(version)
    .execute(&mut **tx)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Deactivates (soft delete); `false` when `version` is stale.
pub async fn deactivate(tx: &mut Transaction<'_, MySql>, id: i64, version: i32) -> ApiResult<bool> {
    let res = sqlx::query("UPDATE produits SET actif = FALSE, version = version + 1 WHERE id = ? AND version = ?")
        .bind(id)
        .bind(version)
        .execute(&mut **tx)
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Inserts a demo product with a fixed id unless that id exists; true when
/// this call inserted it.
pub async fn seed_insert(
    tx: &mut Transaction<'_, MySql>,
    id: i64,
    nom: &str,
    description: &str,
    prix: rust_decimal::Decimal,
    code_barres: &str,
) -> ApiResult<bool> {
    let res =
        sqlx::query("INSERT IGNORE INTO produits (id, nom, description, prix, code_barres) VALUES (?, ?, ?, ?, ?)")
            .bind(id)
            .bind(nom)
            .bind(description)
            .bind(prix)
            .bind(code_barres)
            .execute(&mut **tx)
            .await?;
    Ok(res.rows_affected() == 1)
}

#[cfg(test)]
mod tests {
    #[test]
    fn like_wildcards_are_escaped() {
        assert_eq!(super::like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
