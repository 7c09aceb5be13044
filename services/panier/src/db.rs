//! All SQL of the panier schema: carts and their lines. A cart's status
//! moves only by the guarded update in [`close`].

use caisse_common::ApiResult;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
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
    at: DateTime<Utc>,
) -> ApiResult<i64> {
    let res = sqlx::query(
        "INSERT INTO paniers (magasin_id, caissier_id, caisse_id, session_id, statut, cle_idempotence, cree_le, modifie_le) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
    )
    .bind(magasin_id)
    .bind(caissier_id)
    .bind(till.caisse_id)
    .bind(till.session_id)
    .bind(StatutPanier::Ouvert)
    .bind(cle)
    .bind(at)
    .bind(at)
    .execute(ex)
    .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

pub async fn get(pool: &MySqlPool, id: i64) -> ApiResult<Option<Cart>> {
    Ok(sqlx::query_as(&format!("SELECT {COLS} FROM paniers WHERE id = ?")).bind(id).fetch_optional(pool).await?)
}

/// A cart and its lines in the order they were scanned, in one statement.
pub async fn get_with_lines<'e, E: sqlx::MySqlExecutor<'e>>(ex: E, id: i64) -> ApiResult<Option<(Cart, Vec<Line>)>> {
    use sqlx::{FromRow, Row};
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let cols = |table: &str, list: &str| list.split(", ").map(|c| format!("{table}.{c}")).collect::<Vec<_>>();
        format!(
            "SELECT {}, {} FROM paniers p LEFT JOIN panier_lignes l ON l.panier_id = p.id \
             WHERE p.id = ? ORDER BY l.ajoute_le, l.produit_id",
            cols("p", COLS).join(", "),
            cols("l", LINE_COLS).join(", ")
        )
    });
    let rows = sqlx::query(SQL.as_str()).bind(id).fetch_all(ex).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let cart = Cart::from_row(first)?;
    let mut lines = Vec::with_capacity(rows.len());
    for row in &rows {
        // An empty cart is one row with no line.
        if row.try_get::<Option<i64>, _>("produit_id")?.is_some() {
            lines.push(Line::from_row(row)?);
        }
    }
    Ok(Some((cart, lines)))
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

/// A line as stored: its quantity and what the register showed at its scan
/// (`None` on lines scanned before prices were kept at scan).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Line {
    pub produit_id: i64,
    pub quantite: i32,
    pub nom: Option<String>,
    pub code_barres: Option<String>,
    pub prix_unitaire: Option<Decimal>,
    pub ajoute_le: DateTime<Utc>,
}

impl Line {
    /// What the register showed for it, if kept.
    pub fn shown(&self) -> Option<Shown> {
        Some(Shown { nom: self.nom.clone()?, code_barres: self.code_barres.clone(), prix: self.prix_unitaire? })
    }
}

/// The product as the register showed it at the scan.
#[derive(Debug, Clone)]
pub struct Shown {
    pub nom: String,
    pub code_barres: Option<String>,
    pub prix: Decimal,
}

const LINE_COLS: &str = "produit_id, quantite, nom, code_barres, prix_unitaire, ajoute_le";

/// A cart's lines in the order they were scanned.
pub async fn lines<'e, E: sqlx::MySqlExecutor<'e>>(ex: E, id: i64) -> ApiResult<Vec<Line>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LINE_COLS} FROM panier_lignes WHERE panier_id = ? ORDER BY ajoute_le, produit_id"
    ))
    .bind(id)
    .fetch_all(ex)
    .await?)
}

/// Sets a line's quantity and what the register showed for it; a new line
/// is added `at` (its place in the cart), an existing one keeps its place.
pub async fn set_line(
    tx: &mut Transaction<'_, MySql>,
    id: i64,
    produit_id: i64,
    quantite: i32,
    shown: Option<&Shown>,
    at: DateTime<Utc>,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO panier_lignes (panier_id, produit_id, quantite, nom, code_barres, prix_unitaire, ajoute_le) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE quantite = VALUES(quantite), nom = VALUES(nom), \
         code_barres = VALUES(code_barres), prix_unitaire = VALUES(prix_unitaire)",
    )
    .bind(id)
    .bind(produit_id)
    .bind(quantite)
    .bind(shown.map(|s| s.nom.as_str()))
    .bind(shown.and_then(|s| s.code_barres.as_deref()))
    .bind(shown.map(|s| s.prix))
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Orders lines as [`lines`] reads them: by when they were added, then product.
pub fn sort_lines(lines: &mut [Line]) {
    lines.sort_by_key(|l| (l.ajoute_le, l.produit_id));
}

pub async fn remove_line(tx: &mut Transaction<'_, MySql>, id: i64, produit_id: Option<i64>) -> ApiResult<()> {
    sqlx::query("DELETE FROM panier_lignes WHERE panier_id = ? AND (? IS NULL OR produit_id = ?)")
        .bind(id)
        .bind(produit_id)
        .bind(produit_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records a change of a cart: the next version, changed at `at`. The
/// update locks the row for the rest of the transaction.
pub async fn touch(tx: &mut Transaction<'_, MySql>, id: i64, at: DateTime<Utc>) -> ApiResult<()> {
    sqlx::query("UPDATE paniers SET version = version + 1, modifie_le = ? WHERE id = ?")
        .bind(at)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Closes an open cart for `vente_id` (only at `version` when given: the
/// one statement that closes a cart nothing was scanned into since its sale
/// priced it); false when it was not open (at that version).
pub async fn close<'e, E: sqlx::MySqlExecutor<'e>>(
    ex: E,
    id: i64,
    vente_id: &str,
    version: Option<i32>,
) -> ApiResult<bool> {
    let (from, to) = StatutPanier::CLOSE;
    let res = sqlx::query(
        "UPDATE paniers SET statut = ?, vente_id = ?, version = version + 1 \
         WHERE id = ? AND statut = ? AND (? IS NULL OR version = ?)",
    )
    .bind(to)
    .bind(vente_id)
    .bind(id)
    .bind(from)
    .bind(version)
    .bind(version)
    .execute(ex)
    .await?;
    Ok(res.rows_affected() == 1)
}
