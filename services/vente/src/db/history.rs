//! SQL of the demo history (`crate::seed`): past sales written as they
//! ended up — completed, returned in part, or cancelled — with the times
//! they happened, in the caller's transaction.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{MySql, Transaction};

use super::SaleLine;
use crate::domain::{Mode, Totaux};

/// A past sale as completed.
pub struct PastSale<'a> {
    pub id: &'a str,
    pub key: &'a str,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caissier_login: &'a str,
    pub mode: Mode,
    pub montant_recu: Option<Decimal>,
    pub totaux: &'a Totaux,
    pub at: DateTime<Utc>,
}

/// Whether the history is there already (its sales' keys carry `mark`).
pub async fn exists(tx: &mut Transaction<'_, MySql>, mark: &str) -> Result<bool, sqlx::Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM ventes WHERE cle_idempotence LIKE ? LIMIT 1")
        .bind(format!("{mark}:%"))
        .fetch_optional(&mut **tx)
        .await?;
    Ok(found.is_some())
}

/// Whether any return exists (the history's returns take ids from 1).
pub async fn any_return(tx: &mut Transaction<'_, MySql>) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM retours LIMIT 1").fetch_optional(&mut **tx).await?.is_some())
}

/// Inserts a completed sale (its cart long closed, nothing to recover);
/// returns its receipt number.
pub async fn insert_sale(
    tx: &mut Transaction<'_, MySql>,
    s: &PastSale<'_>,
    lines: &[SaleLine],
) -> Result<i64, sqlx::Error> {
    let t = s.totaux;
    let res = sqlx::query(
        "INSERT INTO ventes (id, cle_idempotence, cle_verrou, empreinte, magasin_id, caissier_id, caissier_login, \
         panier_id, statut, mode_paiement, montant_recu, sous_total, tps, tvq, total, panier_ferme, cree_le, terminee_le) \
         VALUES (?, ?, ?, SHA2(?, 256), ?, ?, ?, 0, 'terminee', ?, ?, ?, ?, ?, ?, TRUE, ?, ?)",
    )
    .bind(s.id)
    .bind(s.key)
    .bind(s.key)
    .bind(s.key)
    .bind(s.magasin_id)
    .bind(s.caissier_id)
    .bind(s.caissier_login)
    .bind(s.mode)
    .bind(s.montant_recu)
    .bind(t.sous_total)
    .bind(t.tps)
    .bind(t.tvq)
    .bind(t.total)
    .bind(s.at)
    .bind(s.at)
    .execute(&mut **tx)
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
    insert.execute(&mut **tx).await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

/// A completed sale cancelled at `at` by `by`.
pub async fn cancel_sale(
    tx: &mut Transaction<'_, MySql>,
    id: &str,
    by: &str,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE ventes SET statut = 'annulee', annulee_par = ?, annulee_le = ? WHERE id = ? AND statut = 'terminee'",
    )
    .bind(by)
    .bind(at)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A finished return with its id, lines and refund, at `at`.
pub struct PastReturn<'a> {
    pub id: i64,
    pub vente_id: &'a str,
    pub key: &'a str,
    pub montant: &'a Totaux,
    pub rembourse: Decimal,
    pub by: &'a str,
    pub lines: &'a [(i64, i64)],
    pub at: DateTime<Utc>,
}

pub async fn insert_return(tx: &mut Transaction<'_, MySql>, r: &PastReturn<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO retours (id, vente_id, cle_idempotence, empreinte, statut, sous_total, tps, tvq, total, rembourse, \
         par, cree_le, termine_le) VALUES (?, ?, ?, SHA2(?, 256), 'termine', ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.id)
    .bind(r.vente_id)
    .bind(r.key)
    .bind(r.key)
    .bind(r.montant.sous_total)
    .bind(r.montant.tps)
    .bind(r.montant.tvq)
    .bind(r.montant.total)
    .bind(r.rembourse)
    .bind(r.by)
    .bind(r.at)
    .bind(r.at)
    .execute(&mut **tx)
    .await?;
    for &(produit_id, quantite) in r.lines {
        sqlx::query("INSERT INTO retour_lignes (retour_id, produit_id, quantite) VALUES (?, ?, ?)")
            .bind(r.id)
            .bind(produit_id)
            .bind(quantite)
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "UPDATE vente_lignes SET quantite_retournee = quantite_retournee + ? WHERE vente_id = ? AND produit_id = ?",
        )
        .bind(quantite)
        .bind(r.vente_id)
        .bind(produit_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
