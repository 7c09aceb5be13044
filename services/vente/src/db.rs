//! SQL of the vente schema.

use caisse_common::ApiResult;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlPool, Transaction};
use utoipa::ToSchema;

use crate::domain::{Mode, Totaux};

/// A sale row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Sale {
    pub id: String,
    pub numero: i64,
    pub cle_idempotence: String,
    pub empreinte: String,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caissier_login: String,
    pub panier_id: i64,
    pub statut: String,
    pub sous_total: Option<Decimal>,
    pub tps: Option<Decimal>,
    pub tvq: Option<Decimal>,
    pub total: Option<Decimal>,
    pub mode_paiement: Mode,
    pub montant_recu: Option<Decimal>,
    pub reponse_statut: Option<i32>,
    pub reponse: Option<String>,
    pub panier_ferme: bool,
    pub cree_le: DateTime<Utc>,
    pub terminee_le: Option<DateTime<Utc>>,
    pub annulee_le: Option<DateTime<Utc>>,
    pub annulee_par: Option<String>,
}

const SALE_COLS: &str = "id, numero, cle_idempotence, empreinte, magasin_id, caissier_id, caissier_login, panier_id, \
    statut, sous_total, tps, tvq, total, mode_paiement, montant_recu, reponse_statut, reponse, panier_ferme, cree_le, \
    terminee_le, annulee_le, annulee_par";

/// A snapshotted line of a sale.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct SaleLine {
    pub produit_id: i64,
    pub nom: String,
    pub code_barres: Option<String>,
    #[schema(value_type = String)]
    pub prix_unitaire: Decimal,
    pub quantite: i32,
    #[schema(value_type = String)]
    pub total_ligne: Decimal,
    pub quantite_retournee: i32,
}

pub struct NewSale<'a> {
    pub id: &'a str,
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caissier_login: &'a str,
    pub panier_id: i64,
    pub mode: Mode,
    pub montant_recu: Option<Decimal>,
}

/// Records the sale as pending with its snapshot (lines, totals) in one
/// transaction, before stock is touched. A unique-key error means the key or
/// the cart is already taken.
pub async fn insert_pending(
    pool: &MySqlPool,
    s: &NewSale<'_>,
    lines: &[SaleLine],
    t: &Totaux,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO ventes (id, cle_idempotence, empreinte, magasin_id, caissier_id, caissier_login, panier_id, \
         panier_verrou, statut, mode_paiement, montant_recu, sous_total, tps, tvq, total) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'en_cours', ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id)
    .bind(s.key)
    .bind(s.fingerprint)
    .bind(s.magasin_id)
    .bind(s.caissier_id)
    .bind(s.caissier_login)
    .bind(s.panier_id)
    .bind(s.panier_id)
    .bind(s.mode)
    .bind(s.montant_recu)
    .bind(t.sous_total)
    .bind(t.tps)
    .bind(t.tvq)
    .bind(t.total)
    .execute(&mut *tx)
    .await?;
    let rows = vec!["(?, ?, ?, ?, ?, ?, ?)"; lines.len()].join(", ");
    let sql = format!(
        "INSERT INTO vente_lignes (vente_id, produit_id, nom, code_barres, prix_unitaire, quantite, total_ligne) VALUES {rows}"
    );
    let mut insert = sqlx::query(&sql);
    for l in lines {
        insert = insert
            .bind(s.id)
            .bind(l.produit_id)
            .bind(&l.nom)
            .bind(&l.code_barres)
            .bind(l.prix_unitaire)
            .bind(l.quantite)
            .bind(l.total_ligne);
    }
    insert.execute(&mut *tx).await?;
    tx.commit().await
}

pub async fn get(pool: &MySqlPool, id: &str) -> ApiResult<Option<Sale>> {
    Ok(sqlx::query_as(&format!("SELECT {SALE_COLS} FROM ventes WHERE id = ?")).bind(id).fetch_optional(pool).await?)
}

pub async fn by_key(pool: &MySqlPool, key: &str) -> ApiResult<Option<Sale>> {
    Ok(sqlx::query_as(&format!("SELECT {SALE_COLS} FROM ventes WHERE cle_idempotence = ?"))
        .bind(key)
        .fetch_optional(pool)
        .await?)
}

pub async fn lock(tx: &mut Transaction<'_, MySql>, id: &str) -> ApiResult<Option<Sale>> {
    Ok(sqlx::query_as(&format!("SELECT {SALE_COLS} FROM ventes WHERE id = ? FOR UPDATE"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?)
}

pub async fn lines(pool: &MySqlPool, id: &str) -> ApiResult<Vec<SaleLine>> {
    Ok(sqlx::query_as(
        "SELECT produit_id, nom, code_barres, prix_unitaire, quantite, total_ligne, quantite_retournee \
         FROM vente_lignes WHERE vente_id = ? ORDER BY produit_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?)
}

/// Records a rejection and its answer (replayed for the same key), freeing the cart.
pub async fn reject(pool: &MySqlPool, id: &str, status: u16, body: &serde_json::Value) -> ApiResult<()> {
    sqlx::query(
        "UPDATE ventes SET statut = 'rejetee', panier_verrou = NULL, reponse_statut = ?, reponse = ? \
         WHERE id = ? AND statut = 'en_cours'",
    )
    .bind(i32::from(status))
    .bind(body.to_string())
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Forgets a sale that never touched stock (a transient failure): the
/// client's key becomes usable again.
pub async fn forget(pool: &MySqlPool, id: &str) -> ApiResult<()> {
    sqlx::query("DELETE FROM ventes WHERE id = ? AND statut IN ('en_cours', 'compensation')")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn mark_cart_closed(pool: &MySqlPool, id: &str) -> ApiResult<()> {
    sqlx::query("UPDATE ventes SET panier_ferme = TRUE WHERE id = ?").bind(id).execute(pool).await?;
    Ok(())
}

/// Appends an event to the outbox, inside the caller's transaction.
pub async fn outbox(
    tx: &mut Transaction<'_, MySql>,
    kind: &str,
    vente_id: &str,
    payload: &serde_json::Value,
) -> ApiResult<()> {
    let event_id = uuid::Uuid::new_v4().to_string();
    let mut payload = payload.clone();
    if let Some(o) = payload.as_object_mut() {
        o.insert("evenement_id".into(), serde_json::Value::String(event_id.clone()));
        o.insert("type".into(), serde_json::Value::String(kind.into()));
        o.insert("survenu_le".into(), serde_json::Value::String(Utc::now().to_rfc3339()));
    }
    sqlx::query("INSERT INTO outbox (evenement_id, type, vente_id, charge) VALUES (?, ?, ?, ?)")
        .bind(event_id)
        .bind(kind)
        .bind(vente_id)
        .bind(payload.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sales of a magasin (or all), completed or cancelled, newest first.
pub async fn list(
    pool: &MySqlPool,
    magasin_id: Option<i64>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    before: Option<i64>,
    limit: i64,
) -> ApiResult<Vec<Sale>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {SALE_COLS} FROM ventes WHERE statut IN ('terminee', 'annulation', 'annulee') \
         AND (? IS NULL OR magasin_id = ?) AND (? IS NULL OR cree_le >= ?) AND (? IS NULL OR cree_le < ?) \
         AND (? IS NULL OR numero < ?) ORDER BY numero DESC LIMIT ?"
    ))
    .bind(magasin_id)
    .bind(magasin_id)
    .bind(from)
    .bind(from)
    .bind(to)
    .bind(to)
    .bind(before)
    .bind(before)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
