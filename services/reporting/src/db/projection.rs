//! Writes of the read model, inside the transaction that moves the
//! producer's cursor (see `apply`): sales and stock levels a group of
//! consecutive events at a time, with multi-row statements; the other
//! events one at a time.

use caisse_common::{
    calendar::store_day,
    events::{
        DEFAULT_SEUIL_ALERTE, DEFAULT_SEUIL_SURSTOCK, LineQuantity, PaymentMode, Producer, ProductChanged,
        SaleCancelled, SaleCompleted, SaleReturned, SoldLine, StockChanged, StockThresholdsChanged,
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

/// MariaDB refuses a statement with more placeholders than this.
const MAX_PLACEHOLDERS: usize = 65_535;

type Query<'q> = sqlx::query::Query<'q, MySql, sqlx::mysql::MySqlArguments>;

/// `INSERT INTO {into} VALUES {row}, {row}, … {then}` with a `row` per item,
/// in their order (MariaDB applies the rows of one statement in turn, so an
/// upsert's later row sees the earlier ones), in as few statements as the
/// placeholder limit allows.
async fn insert_rows<T>(
    tx: &mut Tx<'_>,
    into: &str,
    row: &str,
    then: &str,
    items: &[T],
    bind: impl for<'q> Fn(Query<'q>, &'q T) -> Query<'q>,
) -> Result<(), sqlx::Error> {
    let per_statement = MAX_PLACEHOLDERS / row.matches('?').count().max(1);
    for chunk in items.chunks(per_statement) {
        let sql = format!("INSERT INTO {into} VALUES {} {then}", vec![row; chunk.len()].join(", "));
        let mut q = sqlx::query(&sql);
        for item in chunk {
            q = bind(q, item);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Which column pair of `ventes_jour` an event adds to.
#[derive(Clone, Copy)]
enum Column {
    Sales,
    Returns,
    Cancellations,
}

/// What an event adds to a store's day for a payment mode.
struct DayAmount {
    magasin_id: i64,
    at: DateTime<Utc>,
    mode: PaymentMode,
    amount: Decimal,
}

/// Adds one event per row to `column` (rows of one key add up in turn).
async fn add_days(tx: &mut Tx<'_>, column: Column, rows: &[DayAmount]) -> Result<(), sqlx::Error> {
    let (count, sum) = match column {
        Column::Sales => ("nb_ventes", "brut"),
        Column::Returns => ("nb_retours", "retours"),
        Column::Cancellations => ("nb_annulations", "annulations"),
    };
    let into = format!("ventes_jour (magasin_id, jour, mode_paiement, {count}, {sum})");
    let then = format!("ON DUPLICATE KEY UPDATE {count} = {count} + 1, {sum} = {sum} + VALUES({sum})");
    insert_rows(tx, &into, "(?, ?, ?, 1, ?)", &then, rows, |q, r| {
        q.bind(r.magasin_id).bind(store_day(r.at)).bind(r.mode).bind(r.amount)
    })
    .await
}

/// Quantity and amount (negative to take back) of a product on a store's day.
struct ProductAmount {
    magasin_id: i64,
    at: DateTime<Utc>,
    produit_id: i64,
    quantite: i32,
    montant: Decimal,
}

async fn add_products(tx: &mut Tx<'_>, rows: &[ProductAmount]) -> Result<(), sqlx::Error> {
    insert_rows(
        tx,
        "produits_jour (magasin_id, jour, produit_id, quantite, montant)",
        "(?, ?, ?, ?, ?)",
        "ON DUPLICATE KEY UPDATE quantite = quantite + VALUES(quantite), montant = montant + VALUES(montant)",
        rows,
        |q, r| q.bind(r.magasin_id).bind(store_day(r.at)).bind(r.produit_id).bind(r.quantite).bind(r.montant),
    )
    .await
}

/// Sales as sold, with what they add to their days: one statement per table
/// for the group (more past the placeholder limit); a single sale is a
/// group of one.
pub async fn sales_completed(tx: &mut Tx<'_>, sales: &[(DateTime<Utc>, SaleCompleted)]) -> Result<(), sqlx::Error> {
    insert_rows(
        tx,
        "ventes (vente_id, magasin_id, jour, mode_paiement, total)",
        "(?, ?, ?, ?, ?)",
        "",
        sales,
        |q, (at, s)| q.bind(&s.vente_id).bind(s.magasin_id).bind(store_day(*at)).bind(s.mode_paiement).bind(s.total),
    )
    .await?;
    let lines: Vec<(&str, &SoldLine)> =
        sales.iter().flat_map(|(_, s)| s.lignes.iter().map(|l| (s.vente_id.as_str(), l))).collect();
    insert_rows(
        tx,
        "vente_lignes (vente_id, produit_id, quantite, prix_unitaire)",
        "(?, ?, ?, ?)",
        "",
        &lines,
        |q, (id, l)| q.bind(*id).bind(l.produit_id).bind(l.quantite).bind(l.prix_unitaire),
    )
    .await?;
    let days: Vec<_> = sales
        .iter()
        .map(|(at, s)| DayAmount { magasin_id: s.magasin_id, at: *at, mode: s.mode_paiement, amount: s.total })
        .collect();
    add_days(tx, Column::Sales, &days).await?;
    let products: Vec<_> = sales
        .iter()
        .flat_map(|(at, s)| {
            s.lignes.iter().map(|l| ProductAmount {
                magasin_id: s.magasin_id,
                at: *at,
                produit_id: l.produit_id,
                quantite: l.quantite,
                montant: l.total_ligne,
            })
        })
        .collect();
    add_products(tx, &products).await
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
            ProductAmount {
                magasin_id,
                at,
                produit_id: l.produit_id,
                quantite: -l.quantite,
                montant: -(price * Decimal::from(l.quantite)),
            }
        })
        .collect();
    add_days(tx, column, &[DayAmount { magasin_id, at, mode, amount }]).await?;
    add_products(tx, &lines).await?;
    Ok(true)
}

pub async fn sale_returned(tx: &mut Tx<'_>, at: DateTime<Utc>, r: &SaleReturned) -> Result<bool, sqlx::Error> {
    take_back(tx, &r.vente_id, r.magasin_id, at, &r.lignes, Column::Returns, r.montant.total).await
}

pub async fn sale_cancelled(tx: &mut Tx<'_>, at: DateTime<Utc>, c: &SaleCancelled) -> Result<bool, sqlx::Error> {
    take_back(tx, &c.vente_id, c.magasin_id, at, &c.lignes, Column::Cancellations, c.montant.total).await
}

/// Stock levels in event order: the last one of an entry wins.
pub async fn stocks_changed(tx: &mut Tx<'_>, changes: &[(DateTime<Utc>, StockChanged)]) -> Result<(), sqlx::Error> {
    insert_rows(
        tx,
        "stocks (magasin_id, produit_id, quantite, seuil_alerte, seuil_surstock, modifie_le)",
        "(?, ?, ?, ?, ?, ?)",
        "ON DUPLICATE KEY UPDATE quantite = VALUES(quantite), modifie_le = VALUES(modifie_le)",
        changes,
        |q, (at, s)| {
            q.bind(s.magasin_id)
                .bind(s.produit_id)
                .bind(s.quantite)
                .bind(DEFAULT_SEUIL_ALERTE)
                .bind(DEFAULT_SEUIL_SURSTOCK)
                .bind(*at)
        },
    )
    .await
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
