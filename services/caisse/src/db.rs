//! All SQL of the caisse schema: stores, staff accounts, demo data.

use caisse_common::{ApiResult, Role, pagination::Page};
use sqlx::{MySqlPool, Row};

use crate::domain::{Employe, Magasin, TypeMagasin};

const MAGASIN_COLS: &str = "id, nom, type, adresse, ville, version, cree_le, modifie_le";

pub async fn list_magasins(pool: &MySqlPool, kind: Option<TypeMagasin>, page: Page) -> ApiResult<Vec<Magasin>> {
    let sql =
        format!("SELECT {MAGASIN_COLS} FROM magasins WHERE id > ? AND (? IS NULL OR type = ?) ORDER BY id LIMIT ?");
    Ok(sqlx::query_as(&sql).bind(page.apres).bind(kind).bind(kind).bind(page.fetch()).fetch_all(pool).await?)
}

pub async fn get_magasin(pool: &MySqlPool, id: i64) -> ApiResult<Option<Magasin>> {
    let sql = format!("SELECT {MAGASIN_COLS} FROM magasins WHERE id = ?");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?)
}

pub async fn insert_magasin(
    pool: &MySqlPool,
    nom: &str,
    kind: TypeMagasin,
    adresse: &str,
    ville: &str,
) -> ApiResult<i64> {
    let res = sqlx::query("INSERT INTO magasins (nom, type, adresse, ville) VALUES (?, ?, ?, ?)")
        .bind(nom)
        .bind(kind)
        .bind(adresse)
        .bind(ville)
        .execute(pool)
        .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

/// Updates when `version` matches; `false` when it is stale.
pub async fn update_magasin(
    pool: &MySqlPool,
    id: i64,
    version: i32,
    nom: &str,
    kind: TypeMagasin,
    adresse: &str,
    ville: &str,
) -> ApiResult<bool> {
    let res = sqlx::query(
        "UPDATE magasins SET nom = ?, type = ?, adresse = ?, ville = ?, version = version + 1 \
         WHERE id = ? AND version = ?",
    )
    .bind(nom)
    .bind(kind)
    .bind(adresse)
    .bind(ville)
    .bind(id)
    .bind(version)
    .execute(pool)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// An active account and its password hash, by login.
pub async fn credentials(pool: &MySqlPool, login: &str) -> ApiResult<Option<(Employe, String)>> {
    let row = sqlx::query(
        "SELECT id, login, nom, role, magasin_id, actif, mot_de_passe_hash FROM employes WHERE login = ? AND actif",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?;
    Ok(match row {
        Some(r) => {
            let hash: String = r.try_get("mot_de_passe_hash")?;
            Some((<Employe as sqlx::FromRow<_>>::from_row(&r)?, hash))
        }
        None => None,
    })
}

pub async fn get_employe(pool: &MySqlPool, id: i64) -> ApiResult<Option<Employe>> {
    Ok(sqlx::query_as("SELECT id, login, nom, role, magasin_id, actif FROM employes WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?)
}

pub async fn list_employes(pool: &MySqlPool, magasin_id: Option<i64>, page: Page) -> ApiResult<Vec<Employe>> {
    Ok(sqlx::query_as(
        "SELECT id, login, nom, role, magasin_id, actif FROM employes \
         WHERE id > ? AND (? IS NULL OR magasin_id = ?) ORDER BY id LIMIT ?",
    )
    .bind(page.apres)
    .bind(magasin_id)
    .bind(magasin_id)
    .bind(page.fetch())
    .fetch_all(pool)
    .await?)
}

pub async fn insert_employe(
    pool: &MySqlPool,
    login: &str,
    nom: &str,
    role: Role,
    magasin_id: Option<i64>,
    hash: &str,
) -> ApiResult<i64> {
    let res =
        sqlx::query("INSERT INTO employes (login, nom, role, magasin_id, mot_de_passe_hash) VALUES (?, ?, ?, ?, ?)")
            .bind(login)
            .bind(nom)
            .bind(role)
            .bind(magasin_id)
            .bind(hash)
            .execute(pool)
            .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

/// Inserts a magasin with a fixed id unless that id exists (demo data).
pub async fn seed_magasin(
    pool: &MySqlPool,
    id: i64,
    nom: &str,
    kind: TypeMagasin,
    adresse: &str,
    ville: &str,
) -> ApiResult<()> {
    sqlx::query("INSERT IGNORE INTO magasins (id, nom, type, adresse, ville) VALUES (?, ?, ?, ?, ?)")
        .bind(id)
        .bind(nom)
        .bind(kind)
        .bind(adresse)
        .bind(ville)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn employe_exists(pool: &MySqlPool, login: &str) -> ApiResult<bool> {
    let id: Option<i64> =
        sqlx::query_scalar("SELECT id FROM employes WHERE login = ?").bind(login).fetch_optional(pool).await?;
    Ok(id.is_some())
}

/// Inserts a demo account unless its login exists (concurrent seeds agree).
pub async fn seed_employe(
    pool: &MySqlPool,
    login: &str,
    nom: &str,
    role: Role,
    magasin_id: Option<i64>,
    hash: &str,
) -> ApiResult<()> {
    sqlx::query("INSERT IGNORE INTO employes (login, nom, role, magasin_id, mot_de_passe_hash) VALUES (?, ?, ?, ?, ?)")
        .bind(login)
        .bind(nom)
        .bind(role)
        .bind(magasin_id)
        .bind(hash)
        .execute(pool)
        .await?;
    Ok(())
}

/// Seconds left on `login`'s lock, if it is locked.
pub async fn login_locked_for(pool: &MySqlPool, login: &str) -> ApiResult<Option<u64>> {
    let left: Option<i64> = sqlx::query_scalar(
        "SELECT CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, NOW(3), bloque_jusqua) / 1000000) AS SIGNED) \
         FROM echecs_connexion WHERE login = ? AND bloque_jusqua > NOW(3)",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?;
    Ok(left.map(|s| s.max(1) as u64))
}

/// Counts a failed login; the `max_failures`-th in a row locks the login for
/// `lock_secs`. A lock that has run out starts the count again. Returns the
/// lock's length when this failure set it.
pub async fn record_login_failure(
    pool: &MySqlPool,
    login: &str,
    max_failures: u32,
    lock_secs: u64,
) -> ApiResult<Option<u64>> {
    // Assignments run left to right: `bloque_jusqua` sees the new count.
    sqlx::query(
        "INSERT INTO echecs_connexion (login, echecs, dernier_echec) VALUES (?, 1, NOW(3)) \
         ON DUPLICATE KEY UPDATE \
           echecs = IF(bloque_jusqua IS NOT NULL AND bloque_jusqua <= NOW(3), 1, echecs + 1), \
           bloque_jusqua = IF(bloque_jusqua IS NOT NULL AND bloque_jusqua <= NOW(3), NULL, bloque_jusqua), \
           dernier_echec = NOW(3)",
    )
    .bind(login)
    .execute(pool)
    .await?;
    let locked = sqlx::query(
        "UPDATE echecs_connexion SET bloque_jusqua = NOW(3) + INTERVAL ? SECOND \
         WHERE login = ? AND echecs >= ? AND bloque_jusqua IS NULL",
    )
    .bind(lock_secs)
    .bind(login)
    .bind(max_failures)
    .execute(pool)
    .await?;
    Ok((locked.rows_affected() == 1).then_some(lock_secs))
}

/// A successful login clears its failures.
pub async fn clear_login_failures(pool: &MySqlPool, login: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM echecs_connexion WHERE login = ?").bind(login).execute(pool).await?;
    Ok(())
}
