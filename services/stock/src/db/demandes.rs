//! Restocking requests: the request, its lines (open while they wait,
//! one open line per product per store), its status trail, and the store's
//! entries a suggestion starts from.

use std::collections::BTreeMap;

use caisse_common::pagination::Page;
use chrono::{DateTime, Utc};
use sqlx::{MySql, MySqlPool, Transaction};

use crate::domain::{Demande, Etape, Ligne, LigneDemande, StatutDemande};

/// The open requests (id) already holding some of `produits` at `magasin_id`.
pub async fn open_lines<'e, E: sqlx::MySqlExecutor<'e>>(
    ex: E,
    magasin_id: i64,
    produits: &[i64],
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    if produits.is_empty() {
        return Ok(vec![]);
    }
    let marks = vec!["?"; produits.len()].join(", ");
    let sql = format!(
        "SELECT produit_id, demande_id FROM demande_lignes WHERE magasin_ouvert = ? AND produit_id IN ({marks}) \
         ORDER BY produit_id"
    );
    let mut q = sqlx::query_as(&sql).bind(magasin_id);
    for p in produits {
        q = q.bind(p);
    }
    q.fetch_all(ex).await
}

/// Records a new request, its open lines and its first step; a line already
/// open for the store fails on the unique key.
pub async fn insert(
    tx: &mut Transaction<'static, MySql>,
    magasin_id: i64,
    par: &str,
    lignes: &[Ligne],
) -> Result<i64, sqlx::Error> {
    let res = sqlx::query("INSERT INTO demandes (magasin_id, statut, cree_par) VALUES (?, ?, ?)")
        .bind(magasin_id)
        .bind(StatutDemande::Creee)
        .bind(par)
        .execute(&mut **tx)
        .await?;
    let id = i64::try_from(res.last_insert_id()).unwrap_or_default();
    for l in lignes {
        sqlx::query(
            "INSERT INTO demande_lignes (demande_id, produit_id, quantite_demandee, magasin_ouvert) VALUES (?, ?, ?, ?)",
        )
        .bind(id)
        .bind(l.produit_id)
        .bind(l.quantite)
        .bind(magasin_id)
        .execute(&mut **tx)
        .await?;
    }
    add_step(tx, id, StatutDemande::Creee, par, "").await?;
    Ok(id)
}

pub async fn add_step(
    tx: &mut Transaction<'static, MySql>,
    id: i64,
    statut: StatutDemande,
    par: &str,
    motif: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO demande_etapes (demande_id, statut, par, motif) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(statut)
        .bind(par)
        .bind(motif)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Moves request `id` along `(from, to)` and records who did it; `false`
/// when it was not in `from` (someone else moved it first).
pub async fn transition(
    tx: &mut Transaction<'static, MySql>,
    id: i64,
    (from, to): (StatutDemande, StatutDemande),
    par: &str,
    motif: &str,
) -> Result<bool, sqlx::Error> {
    let res = sqlx::query("UPDATE demandes SET statut = ? WHERE id = ? AND statut = ?")
        .bind(to)
        .bind(id)
        .bind(from)
        .execute(&mut **tx)
        .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    add_step(tx, id, to, par, motif).await?;
    Ok(true)
}

/// The request's store and status, locked until the end of the transaction.
pub async fn lock(tx: &mut Transaction<'static, MySql>, id: i64) -> Result<Option<(i64, StatutDemande)>, sqlx::Error> {
    sqlx::query_as("SELECT magasin_id, statut FROM demandes WHERE id = ? FOR UPDATE")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

pub async fn set_refusal(tx: &mut Transaction<'static, MySql>, id: i64, motif: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE demandes SET motif_refus = ? WHERE id = ?").bind(motif).bind(id).execute(&mut **tx).await?;
    close_lines(tx, id).await
}

pub async fn set_transfert(tx: &mut Transaction<'static, MySql>, id: i64, transfert: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE demandes SET transfert_id = ? WHERE id = ?")
        .bind(transfert)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the approved quantities; a line approved at 0 closes (the store may
/// ask again for that product).
pub async fn set_approved(
    tx: &mut Transaction<'static, MySql>,
    id: i64,
    approved: &[(i64, i32)],
) -> Result<(), sqlx::Error> {
    for (produit_id, q) in approved {
        sqlx::query(
            "UPDATE demande_lignes SET quantite_approuvee = ?, \
             magasin_ouvert = IF(? = 0, NULL, magasin_ouvert) WHERE demande_id = ? AND produit_id = ?",
        )
        .bind(q)
        .bind(q)
        .bind(id)
        .bind(produit_id)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Sets the received quantities and closes every line.
pub async fn set_received(
    tx: &mut Transaction<'static, MySql>,
    id: i64,
    received: &[(i64, i32)],
) -> Result<(), sqlx::Error> {
    for (produit_id, q) in received {
        sqlx::query("UPDATE demande_lignes SET quantite_recue = ? WHERE demande_id = ? AND produit_id = ?")
            .bind(q)
            .bind(id)
            .bind(produit_id)
            .execute(&mut **tx)
            .await?;
    }
    close_lines(tx, id).await
}

async fn close_lines(tx: &mut Transaction<'static, MySql>, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE demande_lignes SET magasin_ouvert = NULL WHERE demande_id = ?")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Request filters.
#[derive(Debug, Default, Clone, Copy)]
pub struct Filter {
    pub magasin_id: Option<i64>,
    pub statut: Option<StatutDemande>,
}

type Head = (i64, i64, StatutDemande, Option<String>, Option<i64>, String, DateTime<Utc>);

/// Requests, oldest first, with their lines and steps.
pub async fn list(pool: &MySqlPool, f: Filter, page: Page) -> Result<Vec<Demande>, sqlx::Error> {
    let heads: Vec<Head> = sqlx::query_as(
        "SELECT id, magasin_id, statut, motif_refus, transfert_id, cree_par, cree_le FROM demandes \
         WHERE id > ? AND (? IS NULL OR magasin_id = ?) AND (? IS NULL OR statut = ?) ORDER BY id LIMIT ?",
    )
    .bind(page.apres)
    .bind(f.magasin_id)
    .bind(f.magasin_id)
    .bind(f.statut)
    .bind(f.statut)
    .bind(page.fetch())
    .fetch_all(pool)
    .await?;
    assemble(pool, heads).await
}

pub async fn load(pool: &MySqlPool, id: i64) -> Result<Option<Demande>, sqlx::Error> {
    let heads: Vec<Head> = sqlx::query_as(
        "SELECT id, magasin_id, statut, motif_refus, transfert_id, cree_par, cree_le FROM demandes WHERE id = ?",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    Ok(assemble(pool, heads).await?.pop())
}

type LineRow = (i64, i64, i32, Option<i32>, Option<i32>);

async fn assemble(pool: &MySqlPool, heads: Vec<Head>) -> Result<Vec<Demande>, sqlx::Error> {
    if heads.is_empty() {
        return Ok(vec![]);
    }
    let marks = vec!["?"; heads.len()].join(", ");
    let sql = format!(
        "SELECT demande_id, produit_id, quantite_demandee, quantite_approuvee, quantite_recue FROM demande_lignes \
         WHERE demande_id IN ({marks}) ORDER BY demande_id, produit_id"
    );
    let mut q = sqlx::query_as::<_, LineRow>(&sql);
    for h in &heads {
        q = q.bind(h.0);
    }
    let mut lines: BTreeMap<i64, Vec<LigneDemande>> = BTreeMap::new();
    for (d, produit_id, quantite_demandee, quantite_approuvee, quantite_recue) in q.fetch_all(pool).await? {
        lines.entry(d).or_default().push(LigneDemande {
            produit_id,
            quantite_demandee,
            quantite_approuvee,
            quantite_recue,
            quantite_centre: None,
        });
    }
    let sql = format!(
        "SELECT demande_id, statut, par, le, motif FROM demande_etapes WHERE demande_id IN ({marks}) ORDER BY id"
    );
    let mut q = sqlx::query_as::<_, Etape>(&sql);
    for h in &heads {
        q = q.bind(h.0);
    }
    let mut steps: BTreeMap<i64, Vec<Etape>> = BTreeMap::new();
    for e in q.fetch_all(pool).await? {
        steps.entry(e.demande_id).or_default().push(e);
    }
    Ok(heads
        .into_iter()
        .map(|(id, magasin_id, statut, motif_refus, transfert_id, cree_par, cree_le)| Demande {
            id,
            magasin_id,
            statut,
            lignes: lines.remove(&id).unwrap_or_default(),
            motif_refus,
            transfert_id,
            cree_par,
            cree_le,
            historique: steps.remove(&id).unwrap_or_default(),
        })
        .collect())
}

/// What `magasin_id` holds of each of `produits` (absent: no entry).
pub async fn quantities(
    pool: &MySqlPool,
    magasin_id: i64,
    produits: &[i64],
) -> Result<BTreeMap<i64, i32>, sqlx::Error> {
    if produits.is_empty() {
        return Ok(BTreeMap::new());
    }
    let marks = vec!["?"; produits.len()].join(", ");
    let sql = format!("SELECT produit_id, quantite FROM stocks WHERE magasin_id = ? AND produit_id IN ({marks})");
    let mut q = sqlx::query_as::<_, (i64, i32)>(&sql).bind(magasin_id);
    for p in produits {
        q = q.bind(p);
    }
    Ok(q.fetch_all(pool).await?.into_iter().collect())
}

/// (produit, quantite, seuil_alerte, seuil_surstock, niveau_cible).
pub type LowEntry = (i64, i32, i32, i32, Option<i32>);

/// Entries of `magasin_id` at or below their alert threshold that no open
/// request covers: (produit, quantite, seuil_alerte, seuil_surstock, niveau_cible).
pub async fn low_entries(pool: &MySqlPool, magasin_id: i64, limit: i64) -> Result<Vec<LowEntry>, sqlx::Error> {
    sqlx::query_as(
        "SELECT s.produit_id, s.quantite, s.seuil_alerte, s.seuil_surstock, s.niveau_cible FROM stocks s \
         WHERE s.magasin_id = ? AND s.quantite <= s.seuil_alerte AND NOT EXISTS \
         (SELECT 1 FROM demande_lignes l WHERE l.magasin_ouvert = s.magasin_id AND l.produit_id = s.produit_id) \
         ORDER BY s.produit_id LIMIT ?",
    )
    .bind(magasin_id)
    .bind(limit)
    .fetch_all(pool)
    .await
}
