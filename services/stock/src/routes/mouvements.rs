//! `/api/stocks/mouvements`: the ledger, filtered and paginated.

use axum::{Router, extract::State, routing::get};
use caisse_common::{ApiError, ApiResult, Auth, Role, extract::Query, pagination::Page};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{AppState, db, domain::Mouvement};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stocks/mouvements", get(list_mouvements))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct LedgerParams {
    pub magasin_id: Option<i64>,
    pub produit_id: Option<i64>,
    /// e.g. `transfert:12`.
    pub reference: Option<String>,
    pub limit: Option<u32>,
    pub apres: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MouvementList {
    pub mouvements: Vec<Mouvement>,
    pub suivant: Option<i64>,
}

/// Ledger entries, oldest first (gérant: own store; logistique, admin: all).
#[utoipa::path(get, path = "/api/stocks/mouvements", params(LedgerParams), responses((status = 200, body = MouvementList)))]
pub async fn list_mouvements(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<LedgerParams>,
) -> ApiResult<axum::Json<MouvementList>> {
    auth.require_role(&[Role::Gerant, Role::Logistique, Role::Admin])?;
    let magasin_id = if auth.role.is_store_scoped() {
        if p.magasin_id.is_some_and(|m| Some(m) != auth.magasin_id) {
            return Err(ApiError::Forbidden("Registre d'un autre magasin.".into()));
        }
        auth.magasin_id
    } else {
        p.magasin_id
    };
    if p.reference.as_ref().is_some_and(|r| r.len() > 100) {
        return Err(ApiError::field("reference", "100 caractères au plus"));
    }
    let page = Page::parse(p.limit, p.apres)?;
    let filter = db::ledger::LedgerFilter { magasin_id, produit_id: p.produit_id, reference: p.reference };
    let rows = db::ledger::movements(&state.platform.pool, &filter, page).await?;
    let (mouvements, suivant) = page.finish(rows, |m| m.id);
    Ok(axum::Json(MouvementList { mouvements, suivant }))
}
