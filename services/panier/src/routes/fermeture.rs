//! `/api/paniers/{id}/fermeture`: the sale that paid a cart closes it, once;
//! what was scanned meanwhile moves to a new open cart.

use std::collections::HashMap;

use axum::extract::State;
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    extract::{Json, Path},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState, db,
    domain::{StatutPanier, check_sold, left_over},
    routes::paniers::{not_found, visible},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fermeture {
    pub vente_id: String,
    /// The cart version the sale priced. If the cart changed since (an item
    /// scanned during checkout), what was not sold moves to a new open cart.
    pub version: Option<i32>,
    /// The lines the sale sold (with `version`).
    #[serde(default)]
    pub lignes: Vec<LigneVendue>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LigneVendue {
    pub produit_id: i64,
    pub quantite: i32,
}

/// Closes the cart for the sale that paid it. Idempotent for that sale.
/// Only vente (its service token) closes a cart: a cashier cannot mark a
/// cart paid by a sale of their choosing.
#[utoipa::path(post, path = "/api/paniers/{id}/fermeture", request_body = Fermeture,
    responses((status = 200, body = PanierFerme), (status = 403, description = "réservé au service vente"), (status = 404), (status = 409, description = "fermé par une autre vente"),
              (status = 422, description = "lignes vendues impossibles")))]
pub async fn close_panier(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    body: ApiResult<Json<Fermeture>>,
) -> ApiResult<axum::Json<PanierFerme>> {
    auth.require_role(&[Role::Service])?;
    // The role is checked before the body is read: a caller without the
    // right gets 403 whatever they sent.
    let Json(f) = body?;
    if uuid::Uuid::parse_str(&f.vente_id).is_err() {
        return Err(ApiError::field("vente_id", "identifiant de vente (UUID) attendu"));
    }
    let sold: Vec<(i64, i32)> = f.lignes.iter().map(|l| (l.produit_id, l.quantite)).collect();
    check_sold(&sold)?;
    // The usual case, in one statement: the cart is still open at the
    // version the sale priced, so nothing was scanned meanwhile.
    if let Some(version) = f.version
        && db::close(&state.platform.pool, id, &f.vente_id, Some(version)).await?
    {
        let statut = StatutPanier::Ferme;
        return Ok(axum::Json(PanierFerme { id, statut, vente_id: f.vente_id, panier_suite: None }));
    }
    let mut tx = state.platform.pool.begin().await?;
    let cart = db::lock(&mut tx, id).await?.filter(|c| visible(&auth, c)).ok_or_else(|| not_found(id))?;
    let mut suite = None;
    match (cart.statut, cart.vente_id.as_deref()) {
        (StatutPanier::Ferme, Some(v)) if v == f.vente_id => {}
        (StatutPanier::Ferme, other) => {
            return Err(ApiError::conflict(format!(
                "Le panier {id} est déjà fermé par la vente {}.",
                other.unwrap_or("?")
            )));
        }
        (StatutPanier::Ouvert, _) => {
            if f.version.is_some_and(|v| v != cart.version) {
                suite = carry_over(&mut tx, &cart, &f.lignes).await?;
            }
            if !db::close(&mut *tx, id, &f.vente_id, None).await? {
                return Err(ApiError::conflict(format!("Le panier {id} vient d'être fermé par une autre vente.")));
            }
        }
    }
    tx.commit().await?;
    // No pricing here: the sale already holds its snapshot.
    let statut = StatutPanier::Ferme;
    Ok(axum::Json(PanierFerme { id, statut, vente_id: f.vente_id, panier_suite: suite }))
}

/// Moves what the cart holds beyond the sold lines to a new open cart of the
/// same cashier, and leaves the sold lines in the closed one.
async fn carry_over(
    tx: &mut sqlx::Transaction<'static, sqlx::MySql>,
    cart: &db::Cart,
    sold: &[LigneVendue],
) -> ApiResult<Option<i64>> {
    let current = db::lines(&mut **tx, cart.id).await?;
    // Each line keeps what the register showed at its scan, wherever it goes.
    let shown: HashMap<i64, db::Shown> = current.iter().filter_map(|l| Some((l.produit_id, l.shown()?))).collect();
    let counts: Vec<(i64, i32)> = current.iter().map(|l| (l.produit_id, l.quantite)).collect();
    let sold_lines: Vec<(i64, i32)> = sold.iter().map(|l| (l.produit_id, l.quantite)).collect();
    let left = left_over(&counts, &sold_lines);
    let now = caisse_common::db::now_ms();
    db::remove_line(tx, cart.id, None).await?;
    for l in sold {
        db::set_line(tx, cart.id, l.produit_id, l.quantite, shown.get(&l.produit_id), now).await?;
    }
    if left.is_empty() {
        return Ok(None);
    }
    let suite = db::insert(&mut **tx, cart.magasin_id, cart.caissier_id, cart.till(), None, now).await?;
    for (p, q) in left {
        db::set_line(tx, suite, p, q, shown.get(&p), now).await?;
    }
    tracing::info!(panier = cart.id, suite, "articles ajoutés pendant l'encaissement reportés sur un nouveau panier");
    Ok(Some(suite))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PanierFerme {
    pub id: i64,
    pub statut: StatutPanier,
    pub vente_id: String,
    /// A new open cart holding what was added during checkout, if anything.
    pub panier_suite: Option<i64>,
}
