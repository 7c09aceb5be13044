//! SQL of the vente schema: sales and their lines, the guarded state
//! moves of `crate::status`, the recovery loop's claims.
//! Returns live in `retours.rs`, the demo history's SQL in `history.rs`.

pub mod history;
pub mod journal;
pub mod retours;
pub mod sessions;

use caisse_common::ApiResult;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlPool, Transaction};
use utoipa::ToSchema;

use crate::{
    domain::{Mode, Totaux},
    status::{SaleStatus, Transition},
};

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
    pub panier_version: Option<i32>,
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
    pub statut: SaleStatus,
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
    panier_version, caisse_id, session_id, statut, sous_total, tps, tvq, total, mode_paiement, montant_recu, reponse_statut, reponse, panier_ferme, cree_le, \
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
    pub panier_version: i32,
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
    pub mode: Mode,
    pub montant_recu: Option<Decimal>,
    /// When it was recorded, to the millisecond the column keeps (so the
    /// receipt built from memory is the stored one).
    pub cree_le: DateTime<Utc>,
}

/// Records the sale as pending with its snapshot (lines, totals) in one
/// transaction, before stock is touched; returns its receipt number. A
/// unique-key error means the key or the cart is already taken.
pub async fn insert_pending(
    pool: &MySqlPool,
    s: &NewSale<'_>,
    lines: &[SaleLine],
    t: &Totaux,
) -> Result<i64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    let res = sqlx::query(
        "INSERT INTO ventes (id, cle_idempotence, cle_verrou, empreinte, magasin_id, caissier_id, caissier_login, \
         panier_id, panier_verrou, panier_version, caisse_id, session_id, statut, mode_paiement, montant_recu, \
         sous_total, tps, tvq, total, cree_le) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'en_cours', ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(s.id)
    .bind(s.key)
    .bind(s.key)
    .bind(s.fingerprint)
    .bind(s.magasin_id)
    .bind(s.caissier_id)
    .bind(s.caissier_login)
    .bind(s.panier_id)
    .bind(s.panier_id)
    .bind(s.panier_version)
    .bind(s.caisse_id)
    .bind(s.session_id)
    .bind(s.mode)
    .bind(s.montant_recu)
    .bind(t.sous_total)
    .bind(t.tps)
    .bind(t.tvq)
    .bind(t.total)
    .bind(s.cree_le)
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
    tx.commit().await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

pub async fn get(pool: &MySqlPool, id: &str) -> ApiResult<Option<Sale>> {
    Ok(sqlx::query_as(&format!("SELECT {SALE_COLS} FROM ventes WHERE id = ?")).bind(id).fetch_optional(pool).await?)
}

/// The sale a key currently answers for (an abandoned attempt frees its key).
pub async fn by_key(pool: &MySqlPool, key: &str) -> ApiResult<Option<Sale>> {
    Ok(sqlx::query_as(&format!("SELECT {SALE_COLS} FROM ventes WHERE cle_verrou = ?"))
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

/// Notes that panier closed the carts of these sold sales (see `crate::closed_carts`).
pub async fn mark_carts_closed(pool: &MySqlPool, ids: &[String]) -> ApiResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!("UPDATE ventes SET panier_ferme = TRUE WHERE id IN ({})", vec!["?"; ids.len()].join(", "));
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    q.execute(pool).await?;
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

/// What a state move records besides the state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Note<'a> {
    /// `Compensate`: the answer to replay once the release is confirmed
    /// (the sale then ends `rejetee`); `None` ends it `abandonnee`.
    pub answer: Option<(u16, &'a str)>,
    /// `RequestCancel`: who cancels.
    pub by: Option<&'a str>,
    /// `Complete`: when (`now_ms`), the time the receipt and the event show.
    pub at: Option<DateTime<Utc>>,
}

/// Moves a sale along `t` if, and only if, it is in `t`'s source state:
/// `true` if this call made the move, `false` if the sale was elsewhere
/// (another party decided first; read it to learn what).
pub async fn advance<'e, E>(exec: E, id: &str, t: Transition, note: Note<'_>) -> ApiResult<bool>
where
    E: sqlx::Executor<'e, Database = MySql>,
{
    let (from, to) = t.edge();
    let set = match t {
        Transition::Complete => "terminee_le = COALESCE(?, CURRENT_TIMESTAMP(3))",
        Transition::Compensate => "reponse_statut = ?, reponse = ?",
        Transition::Reject => "panier_verrou = NULL",
        Transition::Abandon => "panier_verrou = NULL, cle_verrou = NULL",
        Transition::RequestCancel => "annulee_par = ?, tentative_le = CURRENT_TIMESTAMP(3)",
        Transition::FinishCancel => "annulee_le = CURRENT_TIMESTAMP(3)",
    };
    let sql = format!("UPDATE ventes SET statut = ?, {set} WHERE id = ? AND statut = ?");
    let mut q = sqlx::query(&sql).bind(to);
    match t {
        Transition::Compensate => {
            q = q.bind(note.answer.map(|(s, _)| i32::from(s))).bind(note.answer.map(|(_, b)| b));
        }
        Transition::RequestCancel => q = q.bind(note.by),
        Transition::Complete => q = q.bind(note.at),
        _ => {}
    }
    let res = q.bind(id).bind(from).execute(exec).await?;
    Ok(res.rows_affected() == 1)
}

/// `Reject` when the compensation stored an answer, `Abandon` otherwise.
pub async fn settle(pool: &MySqlPool, id: &str) -> ApiResult<()> {
    let stored: Option<Option<i32>> =
        sqlx::query_scalar("SELECT reponse_statut FROM ventes WHERE id = ?").bind(id).fetch_optional(pool).await?;
    let t = if matches!(stored, Some(Some(_))) { Transition::Reject } else { Transition::Abandon };
    advance(pool, id, t, Note::default()).await?;
    Ok(())
}

/// Claims a row of `table` in `statut` for this replica for one grace
/// period; `false` if another replica (or the saga) touched it meanwhile.
pub async fn claim(pool: &MySqlPool, table: Claimable, id: &str, statut: &str, grace_us: i64) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE {} SET tentative_le = CURRENT_TIMESTAMP(3) WHERE id = ? AND statut = ? \
         AND (tentative_le IS NULL OR tentative_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND)",
        table.name()
    );
    let res = sqlx::query(&sql).bind(id).bind(statut).bind(grace_us).execute(pool).await?;
    Ok(res.rows_affected() == 1)
}

/// The tables whose rows the recovery loop claims.
#[derive(Debug, Clone, Copy)]
pub enum Claimable {
    Ventes,
    Retours,
}

impl Claimable {
    fn name(self) -> &'static str {
        match self {
            Claimable::Ventes => "ventes",
            Claimable::Retours => "retours",
        }
    }
}

/// Sales past the grace period that are undecided (`en_cours`,
/// `compensation`) or being cancelled, least recently tried first so that
/// a row that keeps failing cannot starve the others.
pub async fn stale_sales(pool: &MySqlPool, grace_us: i64, limit: i64) -> ApiResult<Vec<(String, SaleStatus)>> {
    Ok(sqlx::query_as(
        "SELECT id, statut FROM ventes WHERE statut IN ('en_cours', 'compensation', 'annulation') \
         AND cree_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND \
         AND (tentative_le IS NULL OR tentative_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND) \
         ORDER BY COALESCE(tentative_le, cree_le) LIMIT ?",
    )
    .bind(grace_us)
    .bind(grace_us)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Sold sales whose cart is still open (panier was down when they completed).
pub async fn carts_to_close(pool: &MySqlPool, grace_us: i64, limit: i64) -> ApiResult<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM ventes WHERE statut IN ('terminee', 'annulation', 'annulee') AND NOT panier_ferme \
         AND terminee_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND ORDER BY terminee_le LIMIT ?",
    )
    .bind(grace_us)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}
