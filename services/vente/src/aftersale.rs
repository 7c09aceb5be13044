//! Cancellations and returns. Each persists its intent first (`annulation`
//! status, `en_cours` return with its quantities reserved on the sale
//! lines), then puts stock back through stock's idempotent API, then records
//! the outcome and its event in one transaction — so a crash in between is
//! finished by a retry or the recovery loop, and stock moves exactly once.
//! Refunds follow `domain::remboursement`: whatever the sequence of returns
//! and a final cancellation, they add up to what was paid, never more.

use caisse_common::{ApiError, ApiResult, Auth, Role, calendar, client::CallCtx, extract::fingerprint};
use chrono::Utc;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    db::{self, Note, retours},
    domain::{self, Totaux},
    events, journal,
    peers::{self, Line},
    status::{SaleStatus, Transition},
};

/// Who may see a sale: staff of its store, admins.
pub fn can_see(auth: &Auth, sale: &db::Sale) -> bool {
    auth.role == Role::Admin || (auth.role.is_store_scoped() && auth.magasin_id == Some(sale.magasin_id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("La vente {id} n'existe pas."))
}

/// Cashiers cancel their own sales the same day; later or others' need a gérant.
fn may_cancel(auth: &Auth, sale: &db::Sale) -> ApiResult<()> {
    match auth.role {
        Role::Admin | Role::Gerant | Role::Service => Ok(()),
        Role::Caissier => {
            // Store days are America/Toronto calendar days, daylight saving included.
            let sold_on = calendar::store_day(sale.cree_le);
            let today = calendar::today();
            if sale.caissier_id != auth.sub {
                Err(ApiError::Forbidden("Seul le caissier de la vente, ou un gérant, peut l'annuler.".into()))
            } else if sold_on != today {
                Err(ApiError::Forbidden("Une vente d'un jour précédent ne peut être annulée que par un gérant.".into()))
            } else {
                Ok(())
            }
        }
        Role::Logistique => Err(ApiError::Forbidden("Le rôle logistique ne fait pas d'annulations.".into())),
    }
}

/// Cancels a completed sale: everything not yet returned goes back to stock.
pub async fn cancel(state: &AppState, auth: &Auth, ctx: CallCtx<'_>, id: &str) -> ApiResult<()> {
    let pool = &state.platform.pool;
    let mut tx = pool.begin().await?;
    let sale = db::lock(&mut tx, id).await?.filter(|s| can_see(auth, s)).ok_or_else(|| not_found(id))?;
    match sale.statut {
        SaleStatus::Annulee => return Ok(()),
        SaleStatus::Annulation => {}
        SaleStatus::Terminee => {
            may_cancel(auth, &sale)?;
            let note = Note { by: Some(&auth.login), ..Note::default() };
            db::advance(&mut *tx, id, Transition::RequestCancel, note).await?;
        }
        _ => {
            return Err(ApiError::conflict(format!("La vente {id} n'est pas terminée : rien à annuler.")));
        }
    }
    tx.commit().await?;
    finish_cancellation(state, ctx, id).await
}

/// Subtotals of a sale's lines: already returned, and still to return.
fn returned_and_left(lines: &[db::SaleLine]) -> (Decimal, Decimal) {
    lines.iter().fold((Decimal::ZERO, Decimal::ZERO), |(done, left), l| {
        let price = l.prix_unitaire;
        (
            done + price * Decimal::from(l.quantite_retournee),
            left + price * Decimal::from(l.quantite - l.quantite_retournee),
        )
    })
}

/// Restocks what remains of a sale being cancelled, then records it with
/// its `SaleCancelled` event, which carries what this cancellation refunds
/// (net of earlier returns).
pub async fn finish_cancellation(state: &AppState, ctx: CallCtx<'_>, id: &str) -> ApiResult<()> {
    let pool = &state.platform.pool;
    let sale = db::get(pool, id).await?.ok_or_else(|| not_found(id))?;
    let lines = db::lines(pool, id).await?;
    let remaining: Vec<Line> = lines
        .iter()
        .filter(|l| l.quantite > l.quantite_retournee)
        .map(|l| Line { produit_id: l.produit_id, quantite: i64::from(l.quantite - l.quantite_retournee) })
        .collect();
    if !remaining.is_empty() {
        peers::restock(state, ctx, &format!("annulation:{id}"), sale.magasin_id, &remaining, "annulation de la vente")
            .await?;
    }
    let (done, left) = returned_and_left(&lines);
    let (montant, rembourse) = domain::remboursement(sale.mode_paiement, done, left);
    let mut tx = pool.begin().await?;
    if db::advance(&mut *tx, id, Transition::FinishCancel, Note::default()).await? {
        let par = sale.annulee_par.as_deref().unwrap_or_default();
        let event = events::cancelled(id, sale.magasin_id, par, &remaining, &montant, rembourse);
        caisse_common::outbox::append(&mut tx, &event).await?;
        let entry = journal::cancelled(id, sale.magasin_id, par, &remaining, &montant, rembourse, Utc::now());
        journal::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    state.outbox.notify();
    state.journal.notify();
    Ok(())
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LigneRetour {
    pub produit_id: i64,
    pub quantite: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouveauRetour {
    pub lignes: Vec<LigneRetour>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Retour {
    pub id: i64,
    pub vente_id: String,
    /// `en_cours` until stock has taken the goods back, then `termine`.
    pub statut: String,
    pub lignes: Vec<LigneRetour>,
    /// Refund: the returned lines with their share of taxes (cumulative
    /// refunds never exceed the sale's total).
    pub montant: Totaux,
    /// Handed back: `montant.total` for a card, rounded to 0.05 $ for cash.
    #[schema(value_type = String)]
    pub rembourse: Decimal,
}

/// Returns some lines of a completed sale (at most what is left to return).
pub async fn create_return(
    state: &AppState,
    auth: &Auth,
    ctx: CallCtx<'_>,
    id: &str,
    key: &str,
    input: NouveauRetour,
) -> ApiResult<(bool, Retour)> {
    auth.require_role(&[Role::Caissier, Role::Gerant, Role::Admin])?;
    let mut lignes = input.lignes;
    lignes.sort_by_key(|l| l.produit_id);
    if lignes.is_empty() || lignes.len() > 100 || lignes.windows(2).any(|w| w[0].produit_id == w[1].produit_id) {
        return Err(ApiError::field("lignes", "entre 1 et 100 lignes, un produit une fois"));
    }
    if let Some(l) = lignes.iter().find(|l| !(1..=999).contains(&l.quantite)) {
        return Err(ApiError::field(
            "lignes",
            format!("quantité {} invalide pour le produit {} (1 à 999)", l.quantite, l.produit_id),
        ));
    }
    let fp = fingerprint(&lignes);
    let pool = &state.platform.pool;
    let mut tx = pool.begin().await?;
    let sale = db::lock(&mut tx, id).await?.filter(|s| can_see(auth, s)).ok_or_else(|| not_found(id))?;
    if let Some((retour_id, f)) = retours::by_key(&mut tx, id, key).await? {
        tx.commit().await?;
        if f != fp {
            return Err(ApiError::field("Idempotency-Key", "cette clé a déjà servi pour un autre retour"));
        }
        finish_return(state, ctx, retour_id).await?;
        return Ok((false, load_return(state, retour_id).await?));
    }
    if sale.statut != SaleStatus::Terminee {
        return Err(ApiError::conflict(format!("La vente {id} est {} : retour impossible.", sale.statut)));
    }
    let sold = db::lines(pool, id).await?;
    let mut ici = Decimal::ZERO;
    for l in &lignes {
        let Some(s) = sold.iter().find(|s| s.produit_id == l.produit_id) else {
            return Err(ApiError::field(
                "lignes",
                format!("le produit {} ne fait pas partie de la vente", l.produit_id),
            ));
        };
        let left = i64::from(s.quantite - s.quantite_retournee);
        if l.quantite > left {
            return Err(ApiError::field(
                "lignes",
                format!(
                    "« {} » : {} demandé(s), {left} encore retournable(s) sur {} vendu(s)",
                    s.nom, l.quantite, s.quantite
                ),
            ));
        }
        ici += s.prix_unitaire * Decimal::from(l.quantite);
    }
    let (deja, _) = returned_and_left(&sold);
    let (montant, rembourse) = domain::remboursement(sale.mode_paiement, deja, ici);
    let pairs: Vec<(i64, i64)> = lignes.iter().map(|l| (l.produit_id, l.quantite)).collect();
    let new =
        retours::NewReturn { vente_id: id, key, fingerprint: &fp, montant, rembourse, by: &auth.login, lines: &pairs };
    let retour_id = retours::insert(&mut tx, &new).await?;
    tx.commit().await?;
    finish_return(state, ctx, retour_id).await?;
    Ok((true, load_return(state, retour_id).await?))
}

/// Restocks a recorded return and marks it done (idempotent).
pub async fn finish_return(state: &AppState, ctx: CallCtx<'_>, retour_id: i64) -> ApiResult<()> {
    let r = load_return(state, retour_id).await?;
    if r.statut == "termine" {
        return Ok(());
    }
    let pool = &state.platform.pool;
    let sale = db::get(pool, &r.vente_id).await?.ok_or_else(|| not_found(&r.vente_id))?;
    let lines: Vec<Line> = r.lignes.iter().map(|l| Line { produit_id: l.produit_id, quantite: l.quantite }).collect();
    peers::restock(state, ctx, &format!("retour:{retour_id}"), sale.magasin_id, &lines, "retour client").await?;
    let mut tx = pool.begin().await?;
    if retours::finish(&mut tx, retour_id).await? {
        let lines = r.lignes.iter().map(|l| (l.produit_id, l.quantite));
        let event = events::returned(&r.vente_id, retour_id, sale.magasin_id, lines.clone(), &r.montant, r.rembourse);
        caisse_common::outbox::append(&mut tx, &event).await?;
        let entry =
            journal::returned(retour_id, &r.vente_id, sale.magasin_id, lines, &r.montant, r.rembourse, Utc::now());
        journal::append(&mut tx, &entry).await?;
    }
    tx.commit().await?;
    state.outbox.notify();
    state.journal.notify();
    Ok(())
}

pub async fn load_return(state: &AppState, retour_id: i64) -> ApiResult<Retour> {
    let pool = &state.platform.pool;
    let r = retours::get(pool, retour_id).await?.ok_or_else(|| ApiError::NotFound(format!("retour {retour_id}")))?;
    let lignes = retours::lines(pool, retour_id).await?;
    Ok(Retour {
        id: retour_id,
        vente_id: r.vente_id,
        statut: r.statut,
        lignes: lignes.into_iter().map(|(produit_id, q)| LigneRetour { produit_id, quantite: i64::from(q) }).collect(),
        montant: Totaux { sous_total: r.sous_total, tps: r.tps, tvq: r.tvq, total: r.total },
        rembourse: r.rembourse,
    })
}

/// Returns recorded against a sale, oldest first.
pub async fn returns_of(state: &AppState, id: &str) -> ApiResult<Vec<Retour>> {
    let ids = retours::of_sale(&state.platform.pool, id).await?;
    let mut out = Vec::with_capacity(ids.len());
    for r in ids {
        out.push(load_return(state, r).await?);
    }
    Ok(out)
}
