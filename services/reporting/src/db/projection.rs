//! Writes of the read model: one function per event type, each run inside
//! the transaction that moves the producer's cursor (see `apply`).

use caisse_common::{
    calendar::store_day,
    events::{
        DEFAULT_SEUIL_ALERTE, DEFAULT_SEUIL_SURSTOCK, LineQuantity, PaymentMode, Producer, ProductChanged,
        SaleCancelled, SaleCompleted, SaleReturned, StockChanged, StockThresholdsChanged,
    },
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{MySql, Transaction};

type Tx<'a> = Transaction<'a, MySql>;

/// The producer's cursor, locked for the transaction.
pub async fn lock_cursor(tx: &mut Tx<'_>, producer: Producer) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT dernier_id FROM curseurs WHERE producteur = ? FOR UPDATE")
        .bind(producer)
        .fetch_one(&mut **tx)
        .await
}

pub async fn advance_cursor(
    tx: &mut Tx<'_>,
    producer: Producer,
    id: i64,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE curseurs SET dernier_id = ?, survenu_le = ? WHERE producteur = ?")
        .bind(id)
        .bind(at)
        .bind(producer)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Which column pair of `ventes_jour` an event adds to.
#[derive(Clone, Copy)]
enum Column {
    Sales,
    Returns,
    Cancellations,
}

async fn add_day(
    tx: &mut Tx<'_>,
    magasin_id: i64,
    at: DateTime<Utc>,
    mode: PaymentMode,
    column: Column,
    amount: Decimal,
) -> Result<(), sqlx::Error> {
    let (count, sum) = match column {
        Column::Sales => ("nb_ventes", "brut"),
        Column::Returns => ("nb_retours", "retours"),
        Column::Cancellations => ("nb_annulations", "annulations"),
    };
    sqlx::query(&format!(
        "INSERT INTO ventes_jour (magasin_id, jour, mode_paiement, {count}, {sum}) VALUES (?, ?, ?, 1, ?) \
         ON DUPLICATE KEY UPDATE {count} = {count} + 1, {sum} = {sum} + VALUES({sum})"
    ))
    .bind(magasin_id)
    .bind(store_day(at))
    .bind(mode)
    .bind(amount)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Adds (or, negative, removes) quantities and amounts of products on a day.
async fn add_products(
    tx: &mut Tx<'_>,
    magasin_id: i64,
    at: DateTime<Utc>,
    lines: &[(i64, i32, Decimal)],
) -> Result<(), sqlx::Error> {
    if lines.is_empty() {
        return Ok(());
    }
    let rows = vec!["(?, ?, ?, ?, ?)"; lines.len()].join(", ");
    let sql = format!(
        "INSERT INTO produits_jour (magasin_id, jour, produit_id, quantite, montant) VALUES {rows} \
         ON DUPLICATE KEY UPDATE quantite = quantite + VALUES(quantite), montant = montant + VALUES(montant)"
    );
    let mut q = sqlx::query(&sql);
    let day = store_day(at);
    for (produit_id, quantite, montant) in lines {
        q = q.bind(magasin_id).bind(day).bind(produit_id).bind(quantite).bind(montant);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

pub async fn sale_completed(tx: &mut Tx<'_>, at: DateTime<Utc>, s: &SaleCompleted) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO ventes (vente_id, magasin_id, jour, mode_paiement, total) VALUES (?, ?, ?, ?, ?)")
        .bind(&s.vente_id)
        .bind(s.magasin_id)
        .bind(store_day(at))
        .bind(s.mode_paiement)
        .bind(s.total)
        .execute(&mut **tx)
        .await?;
    if !s.lignes.is_empty() {
        let rows = vec!["(?, ?, ?, ?)"; s.lignes.len()].join(", ");
        let sql = format!("INSERT INTO vente_lignes (vente_id, produit_id, quantite, prix_unitaire) VALUES {rows}");
        let mut q = sqlx::query(&sql);
        for l in &s.lignes {
            q = q.bind(&s.vente_id).bind(l.produit_id).bind(l.quantite).bind(l.prix_unitaire);
        }
        q.execute(&mut **tx).await?;
    }
    add_day(tx, s.magasin_id, at, s.mode_paiement, Column::Sales, s.total).await?;
    let lines: Vec<_> = s.lignes.iter().map(|l| (l.produit_id, l.quantite, l.total_ligne)).collect();
    add_products(tx, s.magasin_id, at, &lines).await
}

/// Takes back lines of a known sale; `false` when the sale is unknown here
/// (older than the producer's retention).
async fn take_back(
    tx: &mut Tx<'_>,
    vente_id: &str,
    magasin_id: i64,
    at: DateTime<Utc>,
    lignes: &[LineQuantity],
    column: Column,
    amount: Decimal,
) -> Result<bool, sqlx::Error> {
    let Some(mode) = sqlx::query_scalar::<_, PaymentMode>("SELECT mode_paiement FROM ventes WHERE vente_id = ?")
        .bind(vente_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(false);
    };
    let prices: Vec<(i64, Decimal)> =
        sqlx::query_as("SELECT produit_id, prix_unitaire FROM vente_lignes WHERE vente_id = ?")
            .bind(vente_id)
            .fetch_all(&mut **tx)
            .await?;
    let lines: Vec<_> = lignes
        .iter()
        .map(|l| {
            let price = prices.iter().find(|(p, _)| *p == l.produit_id).map(|(_, p)| *p).unwrap_or_default();
            (l.produit_id, -l.quantite, -(price * Decimal::from(l.quantite)))
        })
        .collect();
    add_day(tx, magasin_id, at, mode, column, amount).await?;
    add_products(tx, magasin_id, at, &lines).await?;
    Ok(true)
}

pub async fn sale_returned(tx: &mut Tx<'_>, at: DateTime<Utc>, r: &SaleReturned) -> Result<bool, sqlx::Error> {
    take_back(tx, &r.vente_id, r.magasin_id, at, &r.lignes, Column::Returns, r.montant.total).await
}

pub async fn sale_cancelled(tx: &mut Tx<'_>, at: DateTime<Utc>, c: &SaleCancelled) -> Result<bool, sqlx::Error> {
    take_back(tx, &c.vente_id, c.magasin_id, at, &c.lignes, Column::Cancellations, c.montant.total).await
}

pub async fn stock_changed(tx: &mut Tx<'_>, at: DateTime<Utc>, s: &StockChanged) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stocks (magasin_id, produit_id, quantite, seuil_alerte, seuil_surstock, modifie_le) \
         VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE quantite = VALUES(quantite), modifie_le = VALUES(modifie_le)",
    )
    .bind(s.magasin_id)
    .bind(s.produit_id)
    .bind(s.quantite)
    .bind(DEFAULT_SEUIL_ALERTE)
    .bind(DEFAULT_SEUIL_SURSTOCK)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn thresholds_changed(
    tx: &mut Tx<'_>,
    at: DateTime<Utc>,
    s: &StockThresholdsChanged,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO stocks (magasin_id, produit_id, quantite, seuil_alerte, seuil_surstock, modifie_le) \
         VALUES (?, ?, 0, ?, ?, ?) ON DUPLICATE KEY UPDATE seuil_alerte = VALUES(seuil_alerte), \
         seuil_surstock = VALUES(seuil_surstock)",
    )
    .bind(s.magasin_id)
    .bind(s.produit_id)
    .bind(s.seuil_alerte)
    .bind(s.seuil_surstock)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn product_changed(tx: &mut Tx<'_>, p: &ProductChanged) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO produits (produit_id, nom, actif) VALUES (?, ?, ?) \
         ON DUPLICATE KEY UPDATE nom = VALUES(nom), actif = VALUES(actif)",
    )
    .bind(p.produit_id)
    .bind(&p.apres.nom)
    .bind(p.apres.actif)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Empties the read model and rewinds every cursor (rebuild).
pub async fn reset(pool: &sqlx::MySqlPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for table in ["ventes", "vente_lignes", "ventes_jour", "produits_jour", "produits", "stocks"] {
        sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE curseurs SET dernier_id = 0, survenu_le = NULL").execute(&mut *tx).await?;
    tx.commit().await
}
