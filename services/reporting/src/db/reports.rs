//! Read queries of the reports, over the read model only.

use caisse_common::events::{PaymentMode, Producer};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::MySqlPool;

pub async fn cursor(pool: &MySqlPool, producer: Producer) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT dernier_id FROM curseurs WHERE producteur = ?").bind(producer).fetch_one(pool).await
}

/// Every producer's cursor.
pub async fn cursors(pool: &MySqlPool) -> Result<Vec<(Producer, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT producteur, dernier_id FROM curseurs ORDER BY producteur").fetch_all(pool).await
}

/// Sales figures of a store (and payment mode) over a period.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct SalesRow {
    pub magasin_id: i64,
    pub mode_paiement: Option<PaymentMode>,
    pub nb_ventes: i64,
    pub brut: Decimal,
    pub nb_retours: i64,
    pub retours: Decimal,
    pub nb_annulations: i64,
    pub annulations: Decimal,
}

const SUMS: &str = "CAST(SUM(nb_ventes) AS SIGNED) AS nb_ventes, SUM(brut) AS brut, \
    CAST(SUM(nb_retours) AS SIGNED) AS nb_retours, SUM(retours) AS retours, \
    CAST(SUM(nb_annulations) AS SIGNED) AS nb_annulations, SUM(annulations) AS annulations";

/// Per store and payment mode, between two store days inclusive.
pub async fn sales(
    pool: &MySqlPool,
    magasin_id: Option<i64>,
    du: NaiveDate,
    au: NaiveDate,
) -> Result<Vec<SalesRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT magasin_id, mode_paiement, {SUMS} FROM ventes_jour \
         WHERE jour BETWEEN ? AND ? AND (? IS NULL OR magasin_id = ?) \
         GROUP BY magasin_id, mode_paiement ORDER BY magasin_id, mode_paiement"
    ))
    .bind(du)
    .bind(au)
    .bind(magasin_id)
    .bind(magasin_id)
    .fetch_all(pool)
    .await
}

/// A day of a store.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DayRow {
    pub jour: NaiveDate,
    pub magasin_id: i64,
    pub nb_ventes: i64,
    pub brut: Decimal,
    pub nb_retours: i64,
    pub retours: Decimal,
    pub nb_annulations: i64,
    pub annulations: Decimal,
}

pub async fn days(
    pool: &MySqlPool,
    magasin_id: Option<i64>,
    du: NaiveDate,
    au: NaiveDate,
) -> Result<Vec<DayRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT jour, magasin_id, {SUMS} FROM ventes_jour \
         WHERE jour BETWEEN ? AND ? AND (? IS NULL OR magasin_id = ?) \
         GROUP BY jour, magasin_id ORDER BY jour, magasin_id"
    ))
    .bind(du)
    .bind(au)
    .bind(magasin_id)
    .bind(magasin_id)
    .fetch_all(pool)
    .await
}

/// How to rank products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    Quantity,
    Amount,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProductRow {
    pub produit_id: i64,
    pub nom: Option<String>,
    pub quantite: i64,
    pub montant: Decimal,
}

pub async fn top_products(
    pool: &MySqlPool,
    magasin_id: Option<i64>,
    du: NaiveDate,
    au: NaiveDate,
    rank: Rank,
    limit: u32,
) -> Result<Vec<ProductRow>, sqlx::Error> {
    let order = match rank {
        Rank::Quantity => "quantite DESC, montant DESC",
        Rank::Amount => "montant DESC, quantite DESC",
    };
    sqlx::query_as(&format!(
        "SELECT t.produit_id, p.nom, t.quantite, t.montant FROM ( \
           SELECT produit_id, CAST(SUM(quantite) AS SIGNED) AS quantite, SUM(montant) AS montant FROM produits_jour \
           WHERE jour BETWEEN ? AND ? AND (? IS NULL OR magasin_id = ?) GROUP BY produit_id) t \
         LEFT JOIN produits p ON p.produit_id = t.produit_id \
         WHERE t.quantite > 0 ORDER BY {order}, t.produit_id LIMIT ?"
    ))
    .bind(du)
    .bind(au)
    .bind(magasin_id)
    .bind(magasin_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StockRow {
    pub magasin_id: i64,
    pub produit_id: i64,
    pub nom: Option<String>,
    pub quantite: i32,
    pub seuil_alerte: i32,
    pub seuil_surstock: i32,
}

/// Stock entries of a store (or all), only those in alert when asked.
pub async fn stocks(
    pool: &MySqlPool,
    magasin_id: Option<i64>,
    alerts_only: bool,
    limit: u32,
) -> Result<Vec<StockRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.magasin_id, s.produit_id, p.nom, s.quantite, s.seuil_alerte, s.seuil_surstock \
         FROM stocks s LEFT JOIN produits p ON p.produit_id = s.produit_id \
         WHERE (? IS NULL OR s.magasin_id = ?) \
         AND (NOT ? OR s.quantite <= s.seuil_alerte OR s.quantite > s.seuil_surstock) \
         ORDER BY s.magasin_id, s.produit_id LIMIT ?",
    )
    .bind(magasin_id)
    .bind(magasin_id)
    .bind(alerts_only)
    .bind(limit)
    .fetch_all(pool)
    .await
}
