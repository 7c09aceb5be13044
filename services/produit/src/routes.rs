//! `/api/produits`: search, read, admin create/update/deactivate.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    cache::RawJson,
    events::{Producer, ProductAction, ProductChanged, ProductFields},
    extract::{Json, Path, Query},
    outbox::{self, FeedPage, FeedParams},
    pagination::Page,
    server::BearerAuth,
    version::{IfMatch, etag},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::{
    AppState, db,
    domain::{self, Produit},
};

/// Cache namespace of every catalogue read; one bump invalidates them all.
const NS: &str = "produits";

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service produit", description = "Catalogue : recherche, fiches, prix."),
    paths(list_produits, get_produit, create_produit, update_produit, deactivate_produit, list_historique, list_evenements),
    components(schemas(Produit, ProduitList, Historique, crate::history::Changement,
        caisse_common::events::ProductFields, caisse_common::events::ProductAction, NouveauProduit, ModificationProduit, FeedPage, caisse_common::FieldError)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/produits", get(list_produits).post(create_produit))
        .route("/api/produits/evenements", get(list_evenements))
        .route("/api/produits/{id}", get(get_produit).patch(update_produit).delete(deactivate_produit))
        .route("/api/produits/{id}/historique", get(list_historique))
        .with_state(state)
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    /// Name substring, exact id or exact barcode.
    pub q: Option<String>,
    /// Comma-separated ids (at most 100): exactly those products, active or not.
    pub ids: Option<String>,
    /// Include deactivated products (default false).
    pub inclure_inactifs: Option<bool>,
    pub limit: Option<u32>,
    pub apres: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProduitList {
    pub produits: Vec<Produit>,
    pub suivant: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouveauProduit {
    pub nom: String,
    #[serde(default)]
    pub description: String,
    /// Decimal string, e.g. "12.50".
    pub prix: String,
    pub code_barres: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModificationProduit {
    pub nom: Option<String>,
    pub description: Option<String>,
    pub prix: Option<String>,
    pub code_barres: Option<String>,
}

/// Searches the catalogue.
#[utoipa::path(get, path = "/api/produits", params(SearchParams), responses((status = 200, body = ProduitList)))]
pub async fn list_produits(
    State(state): State<AppState>,
    _auth: Auth,
    Query(p): Query<SearchParams>,
) -> ApiResult<RawJson> {
    let q = p.q.as_deref().unwrap_or_default().trim().to_owned();
    if q.chars().count() > 100 {
        return Err(ApiError::field("q", "100 caractères au plus"));
    }
    if let Some(ids) = &p.ids {
        return by_ids(&state, ids).await;
    }
    let page = Page::parse(p.limit, p.apres)?;
    let inactive = p.inclure_inactifs.unwrap_or(false);
    let key = format!("q:{inactive}:{}:{}:{}", page.limit, page.apres, hex_of(&q));
    let pool = state.platform.pool.clone();
    let load = || async move {
        let rows = db::search(&pool, &q, inactive, page).await?;
        let (produits, suivant) = page.finish(rows, |p| p.id);
        Ok(ProduitList { produits, suivant })
    };
    state.platform.cached_json(NS, &key, state.cache_ttl_secs, load).await
}

/// The products named by `ids` (a cart's lines), in id order.
async fn by_ids(state: &AppState, raw: &str) -> ApiResult<RawJson> {
    let mut ids = Vec::new();
    for part in raw.split(',').filter(|s| !s.trim().is_empty()) {
        match part.trim().parse::<i64>() {
            Ok(id) if id > 0 => ids.push(id),
            _ => {
                return Err(ApiError::field("ids", format!("« {part} » n'est pas un identifiant de produit")));
            }
        }
    }
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || ids.len() > 100 {
        return Err(ApiError::field("ids", "entre 1 et 100 identifiants séparés par des virgules"));
    }
    let key = format!("ids:{}", ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let pool = state.platform.pool.clone();
    let load = || async move { Ok(ProduitList { produits: db::by_ids(&pool, &ids).await?, suivant: None }) };
    state.platform.cached_json(NS, &key, state.cache_ttl_secs, load).await
}

/// Keys stay printable and bounded whatever the user typed.
fn hex_of(q: &str) -> String {
    q.bytes().map(|b| format!("{b:02x}")).collect()
}

async fn find(state: &AppState, id: i64) -> ApiResult<Produit> {
    let pool = state.platform.pool.clone();
    let load = || async move { db::get(&pool, id).await };
    let found = state.platform.cached(NS, &format!("id:{id}"), state.cache_ttl_secs, load).await?;
    found.ok_or_else(|| ApiError::NotFound(format!("Le produit {id} n'existe pas.")))
}

/// One product (deactivated ones too: old receipts refer to them).
#[utoipa::path(get, path = "/api/produits/{id}", responses((status = 200, body = Produit), (status = 404)))]
pub async fn get_produit(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let p = find(&state, id).await?;
    Ok((etag(p.version), axum::Json(p)))
}

fn barcode_conflict(e: ApiError) -> ApiError {
    match e {
        ApiError::Conflict { .. } => ApiError::conflict("Ce code-barres est déjà attribué à un autre produit."),
        other => other,
    }
}

/// Adds a product (admin).
#[utoipa::path(post, path = "/api/produits", request_body = NouveauProduit,
    responses((status = 201, body = Produit), (status = 403), (status = 409), (status = 422)))]
pub async fn create_produit(
    State(state): State<AppState>,
    auth: Auth,
    body: ApiResult<Json<NouveauProduit>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Admin])?;
    // The role is checked before the body is read: a caller without the
    // right gets 403 whatever they sent.
    let Json(input) = body?;
    let checked =
        domain::check(Some(&input.nom), Some(&input.description), Some(&input.prix), input.code_barres.as_deref())?;
    let mut tx = state.platform.pool.begin().await?;
    let id = db::insert(&mut tx, &checked).await.map_err(barcode_conflict)?;
    let p = committed(&state, tx, id, ProductAction::Creation, None, &auth.login).await?;
    tracing::info!(produit = id, par = %auth.login, "produit créé");
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/produits/{id}"))], etag(p.version), axum::Json(p)))
}

/// Changes fields (admin). `If-Match` must carry the version read.
#[utoipa::path(patch, path = "/api/produits/{id}", request_body = ModificationProduit,
    responses((status = 200, body = Produit), (status = 404), (status = 412), (status = 422), (status = 428)))]
pub async fn update_produit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    if_match: IfMatch,
    body: ApiResult<Json<ModificationProduit>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Admin])?;
    // Role first: a caller without the right gets 403 whatever they sent.
    let Json(input) = body?;
    let version = if_match.required()?;
    let checked = domain::check(
        input.nom.as_deref(),
        input.description.as_deref(),
        input.prix.as_deref(),
        input.code_barres.as_deref(),
    )?;
    let mut tx = state.platform.pool.begin().await?;
    let before =
        db::lock(&mut tx, id).await?.ok_or_else(|| ApiError::NotFound(format!("Le produit {id} n'existe pas.")))?;
    if !db::update(&mut tx, id, version, &checked).await.map_err(barcode_conflict)? {
        return Err(ApiError::PreconditionFailed(format!(
            "Le produit {id} a été modifié entre-temps (version {} au lieu de {version}) : relisez-le puis recommencez.",
            before.version
        )));
    }
    let p = committed(&state, tx, id, ProductAction::Modification, Some(before), &auth.login).await?;
    tracing::info!(produit = id, version = p.version, par = %auth.login, "produit modifié");
    Ok((etag(p.version), axum::Json(p)))
}

/// Deactivates a product (admin); it stays readable. `If-Match` must carry
/// the version read, as for every other edit.
#[utoipa::path(delete, path = "/api/produits/{id}",
    responses((status = 200, body = Produit), (status = 404), (status = 412), (status = 428)))]
pub async fn deactivate_produit(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    if_match: IfMatch,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Admin])?;
    let version = if_match.required()?;
    let mut tx = state.platform.pool.begin().await?;
    let before =
        db::lock(&mut tx, id).await?.ok_or_else(|| ApiError::NotFound(format!("Le produit {id} n'existe pas.")))?;
    if !db::deactivate(&mut tx, id, version).await? {
        return Err(ApiError::PreconditionFailed(format!("Le produit {id} a été modifié entre-temps.")));
    }
    let p = committed(&state, tx, id, ProductAction::Desactivation, Some(before), &auth.login).await?;
    tracing::info!(produit = id, par = %auth.login, "produit désactivé");
    Ok((etag(p.version), axum::Json(p)))
}

fn fields(p: &Produit) -> ProductFields {
    ProductFields {
        nom: p.nom.clone(),
        description: p.description.clone(),
        prix: p.prix,
        code_barres: p.code_barres.clone(),
        actif: p.actif,
        version: p.version,
    }
}

/// Records the change on `evenements:produits` in the edit's transaction,
/// commits, invalidates the cache and returns the product as stored.
async fn committed(
    state: &AppState,
    mut tx: sqlx::Transaction<'_, sqlx::MySql>,
    id: i64,
    action: ProductAction,
    before: Option<Produit>,
    par: &str,
) -> ApiResult<Produit> {
    let after =
        db::lock(&mut tx, id).await?.ok_or_else(|| ApiError::NotFound(format!("Le produit {id} n'existe pas.")))?;
    let event = ProductChanged {
        produit_id: id,
        action,
        par: par.to_owned(),
        avant: before.as_ref().map(fields),
        apres: fields(&after),
    };
    crate::history::record(&mut tx, &event).await?;
    tx.commit().await?;
    state.outbox.notify();
    state.platform.invalidate(NS).await;
    Ok(after)
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Historique {
    pub produit_id: i64,
    pub changements: Vec<crate::history::Changement>,
    pub suivant: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct HistoriqueParams {
    pub limit: Option<u32>,
    /// The id of the last change already read.
    pub apres: Option<i64>,
}

/// A product's change history, oldest first: who, when, fields before and
/// after (admin, gérant, logistique).
#[utoipa::path(get, path = "/api/produits/{id}/historique", params(HistoriqueParams),
    responses((status = 200, body = Historique), (status = 403), (status = 404), (status = 422)))]
pub async fn list_historique(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(p): Query<HistoriqueParams>,
) -> ApiResult<axum::Json<Historique>> {
    auth.require_role(&[Role::Admin, Role::Gerant, Role::Logistique])?;
    let page = Page::parse(p.limit, p.apres)?;
    if db::get(&state.platform.pool, id).await?.is_none() {
        return Err(ApiError::NotFound(format!("Le produit {id} n'existe pas.")));
    }
    let rows = crate::history::list(&state.platform.pool, id, page).await?;
    let (changements, suivant) = page.finish(rows, |c| c.id);
    Ok(axum::Json(Historique { produit_id: id, changements, suivant }))
}

/// The catalogue's change events after `apres` (admins and services): what a
/// consumer that lost some on the stream reads back.
#[utoipa::path(get, path = "/api/produits/evenements", params(FeedParams),
    responses((status = 200, body = FeedPage), (status = 403), (status = 422)))]
pub async fn list_evenements(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<FeedParams>,
) -> ApiResult<axum::Json<FeedPage>> {
    Ok(axum::Json(outbox::feed_page(&state.platform.pool, Producer::Produit, &auth, p).await?))
}
