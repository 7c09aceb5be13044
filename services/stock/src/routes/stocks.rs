//! `/api/stocks/magasins/...`: quantities of a magasin (cached), one entry,
//! thresholds; `/api/stocks/alertes`.

use axum::{
    Router,
    extract::State,
    routing::{get, put},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    cache::RawJson,
    extract::{Json, Path, Query},
    pagination::{Page, PageParams},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState, cache_ns, db,
    domain::{Niveau, Stock, niveau},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stocks/magasins/{magasin_id}", get(list_stocks))
        .route("/api/stocks/magasins/{magasin_id}/produits/{produit_id}", get(get_stock))
        .route("/api/stocks/magasins/{magasin_id}/produits/{produit_id}/seuils", put(update_seuils))
        .route("/api/stocks/alertes", get(list_alertes))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StockList {
    pub magasin_id: i64,
    pub stocks: Vec<Stock>,
    pub suivant: Option<i64>,
}

/// Stock of a magasin, by product id (store staff: their own magasin).
#[utoipa::path(get, path = "/api/stocks/magasins/{magasin_id}", params(PageParams),
    responses((status = 200, body = StockList), (status = 403)))]
pub async fn list_stocks(
    State(state): State<AppState>,
    auth: Auth,
    Path(magasin_id): Path<i64>,
    Query(p): Query<PageParams>,
) -> ApiResult<RawJson> {
    auth.require_magasin(magasin_id)?;
    let page = Page::try_from(p)?;
    let pool = state.platform.pool.clone();
    let load = || async move {
        let rows = db::stocks::list_for_magasin(&pool, magasin_id, page).await?;
        let (stocks, suivant) = page.finish(rows, |s| s.produit_id);
        Ok(StockList { magasin_id, stocks, suivant })
    };
    let key = format!("p:{}:{}", page.limit, page.apres);
    state.platform.cached_json(&cache_ns(magasin_id), &key, state.config.cache_ttl_secs, load).await
}

/// One entry.
#[utoipa::path(get, path = "/api/stocks/magasins/{magasin_id}/produits/{produit_id}",
    responses((status = 200, body = Stock), (status = 404)))]
pub async fn get_stock(
    State(state): State<AppState>,
    auth: Auth,
    Path((magasin_id, produit_id)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<Stock>> {
    auth.require_magasin(magasin_id)?;
    db::stocks::get(&state.platform.pool, magasin_id, produit_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound(format!("Aucun stock du produit {produit_id} au magasin {magasin_id}.")))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Seuils {
    pub seuil_alerte: i32,
    pub seuil_surstock: i32,
    /// The level a suggested restocking request fills up to, above the
    /// alert threshold and at most the overstock one (absent: the default).
    #[serde(default)]
    pub niveau_cible: Option<i32>,
}

/// Sets an entry's alert and overstock thresholds (gérant of the store, admin).
#[utoipa::path(put, path = "/api/stocks/magasins/{magasin_id}/produits/{produit_id}/seuils", request_body = Seuils,
    responses((status = 200, body = Stock), (status = 404), (status = 422)))]
pub async fn update_seuils(
    State(state): State<AppState>,
    auth: Auth,
    Path((magasin_id, produit_id)): Path<(i64, i64)>,
    body: ApiResult<Json<Seuils>>,
) -> ApiResult<axum::Json<Stock>> {
    auth.require_role(&[Role::Gerant, Role::Admin, Role::Logistique])?;
    auth.require_magasin(magasin_id)?;
    // The role is checked before the body is read: a caller without the
    // right gets 403 whatever they sent.
    let Json(s) = body?;
    if !(0..=1_000_000).contains(&s.seuil_alerte) || s.seuil_surstock <= s.seuil_alerte || s.seuil_surstock > 10_000_000
    {
        return Err(ApiError::field("seuil_surstock", "0 ≤ seuil_alerte < seuil_surstock ≤ 10 000 000"));
    }
    if s.niveau_cible.is_some_and(|c| c <= s.seuil_alerte || c > s.seuil_surstock) {
        return Err(ApiError::field("niveau_cible", "seuil_alerte < niveau_cible ≤ seuil_surstock"));
    }
    let pool = &state.platform.pool;
    if !db::stocks::set_thresholds(
        pool,
        magasin_id,
        produit_id,
        s.seuil_alerte,
        s.seuil_surstock,
        s.niveau_cible,
        &auth.login,
    )
    .await?
    {
        return Err(ApiError::NotFound(format!("Aucun stock du produit {produit_id} au magasin {magasin_id}.")));
    }
    state.platform.invalidate(&cache_ns(magasin_id)).await;
    db::stocks::get(pool, magasin_id, produit_id)
        .await?
        .map(axum::Json)
        .ok_or_else(|| ApiError::NotFound("stock".into()))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AlerteParams {
    /// One magasin (store staff always see their own only).
    pub magasin_id: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Alerte {
    pub magasin_id: i64,
    pub produit_id: i64,
    pub quantite: i32,
    pub seuil_alerte: i32,
    pub seuil_surstock: i32,
    pub niveau: Niveau,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlerteList {
    pub alertes: Vec<Alerte>,
}

/// Out-of-stock, low and overstocked entries.
#[utoipa::path(get, path = "/api/stocks/alertes", params(AlerteParams), responses((status = 200, body = AlerteList)))]
pub async fn list_alertes(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<AlerteParams>,
) -> ApiResult<axum::Json<AlerteList>> {
    let magasin_id = if auth.role.is_store_scoped() { auth.magasin_id } else { p.magasin_id };
    let limit = Page::parse(p.limit, None)?.limit;
    let rows = db::stocks::alerts(&state.platform.pool, magasin_id, i64::from(limit)).await?;
    let alertes = rows
        .into_iter()
        .filter_map(|s| {
            niveau(s.quantite, s.seuil_alerte, s.seuil_surstock).map(|n| Alerte {
                magasin_id: s.magasin_id,
                produit_id: s.produit_id,
                quantite: s.quantite,
                seuil_alerte: s.seuil_alerte,
                seuil_surstock: s.seuil_surstock,
                niveau: n,
            })
        })
        .collect();
    Ok(axum::Json(AlerteList { alertes }))
}
