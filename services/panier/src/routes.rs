//! `/api/paniers`: open a cart, set or remove lines, read it priced from the
//! catalogue, close it once its sale is paid.

use std::collections::HashMap;

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post, put},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::{CallCtx, RequestId},
    extract::{Json, Path, parse_json},
    server::BearerAuth,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{OpenApi, ToSchema};

use crate::{AppState, db};

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITE: i64 = 999;
/// Most distinct products in one cart.
pub const MAX_LIGNES: i64 = 100;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service panier", description = "Paniers en cours aux caisses."),
    paths(create_panier, list_paniers, get_panier, set_ligne, remove_ligne, empty_panier, close_panier),
    components(schemas(Panier, PanierFerme, LigneVendue, LignePanier, NouveauPanier, Quantite, Fermeture, PanierList, caisse_common::FieldError)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/paniers", post(create_panier).get(list_paniers))
        .route("/api/paniers/{id}", get(get_panier))
        .route("/api/paniers/{id}/lignes", axum::routing::delete(empty_panier))
        .route("/api/paniers/{id}/lignes/{produit_id}", put(set_ligne).delete(remove_ligne))
        .route("/api/paniers/{id}/fermeture", post(close_panier))
        .with_state(state)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LignePanier {
    pub produit_id: i64,
    pub nom: String,
    pub code_barres: Option<String>,
    #[schema(value_type = String, example = "3.49")]
    pub prix_unitaire: Decimal,
    pub quantite: i32,
    #[schema(value_type = String, example = "6.98")]
    pub total_ligne: Decimal,
    /// False when the product was deactivated after being added.
    pub actif: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Panier {
    pub id: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    /// `ouvert` or `ferme`.
    pub statut: String,
    pub vente_id: Option<String>,
    pub lignes: Vec<LignePanier>,
    pub nombre_articles: i64,
    #[schema(value_type = String, example = "12.50")]
    pub sous_total: Decimal,
    pub version: i32,
    pub modifie_le: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PanierList {
    pub paniers: Vec<Panier>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouveauPanier {
    /// Defaults to the magasin of the cashier's account.
    pub magasin_id: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantite {
    pub quantite: i64,
}

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

#[derive(Debug, Deserialize)]
struct ProduitRef {
    id: i64,
    nom: String,
    code_barres: Option<String>,
    prix: Decimal,
    actif: bool,
}

#[derive(Debug, Deserialize)]
struct ProduitList {
    produits: Vec<ProduitRef>,
}

fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Le panier {id} n'existe pas ou n'est pas le vôtre."))
}

/// A cart is visible to its cashier, the gérant of its store, and admins.
fn visible(auth: &Auth, cart: &db::Cart) -> bool {
    match auth.role {
        Role::Admin | Role::Service => true,
        Role::Gerant => auth.magasin_id == Some(cart.magasin_id),
        Role::Caissier => auth.magasin_id == Some(cart.magasin_id) && auth.sub == cart.caissier_id,
        Role::Logistique => false,
    }
}

async fn find(state: &AppState, auth: &Auth, id: i64) -> ApiResult<db::Cart> {
    db::get(&state.platform.pool, id).await?.filter(|c| visible(auth, c)).ok_or_else(|| not_found(id))
}

fn ctx<'a>(auth: &'a Auth, rid: &'a RequestId) -> CallCtx<'a> {
    CallCtx { bearer: &auth.bearer, request_id: &rid.0 }
}

/// Prices every line from the catalogue (one call for the whole cart).
async fn view(state: &AppState, auth: &Auth, rid: &RequestId, cart: db::Cart) -> ApiResult<Panier> {
    let rows = db::lines(&state.platform.pool, cart.id).await?;
    let mut products = HashMap::new();
    if !rows.is_empty() {
        let ids = rows.iter().map(|(p, _)| p.to_string()).collect::<Vec<_>>().join(",");
        let url = format!("{}/api/produits?ids={ids}", state.config.produit_url);
        match state.platform.client.get_json::<ProduitList>("produit", &url, ctx(auth, rid)).await? {
            Ok(list) => products.extend(list.produits.into_iter().map(|p| (p.id, p))),
            Err(up) => {
                return Err(ApiError::Unavailable(format!("produit a répondu {} au panier {}", up.status, cart.id)));
            }
        }
    }
    let mut lignes = Vec::with_capacity(rows.len());
    for (produit_id, quantite) in rows {
        let p = products.get(&produit_id);
        let prix = p.map(|p| p.prix).unwrap_or_default();
        lignes.push(LignePanier {
            produit_id,
            nom: p.map_or_else(|| format!("produit {produit_id}"), |p| p.nom.clone()),
            code_barres: p.and_then(|p| p.code_barres.clone()),
            prix_unitaire: prix,
            quantite,
            total_ligne: prix * Decimal::from(quantite),
            actif: p.is_some_and(|p| p.actif),
        });
    }
    Ok(Panier {
        id: cart.id,
        magasin_id: cart.magasin_id,
        caissier_id: cart.caissier_id,
        statut: cart.statut,
        vente_id: cart.vente_id,
        nombre_articles: lignes.iter().map(|l| i64::from(l.quantite)).sum(),
        sous_total: lignes.iter().map(|l| l.total_ligne).sum(),
        lignes,
        version: cart.version,
        modifie_le: cart.modifie_le,
    })
}

/// Opens a cart for the caller at their store.
#[utoipa::path(post, path = "/api/paniers", request_body = NouveauPanier, responses((status = 201, body = Panier), (status = 403)))]
pub async fn create_panier(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    body: axum::body::Bytes,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Caissier, Role::Gerant, Role::Admin])?;
    // The body is optional: an empty POST opens a cart at the caller's store.
    let body: NouveauPanier =
        if body.iter().all(u8::is_ascii_whitespace) { NouveauPanier::default() } else { parse_json(&body)? };
    let requested = body.magasin_id;
    let magasin_id = requested
        .or(auth.magasin_id)
        .ok_or_else(|| ApiError::field("magasin_id", "obligatoire pour un compte sans magasin"))?;
    if magasin_id <= 0 {
        return Err(ApiError::field("magasin_id", "identifiant invalide"));
    }
    auth.require_magasin(magasin_id)?;
    let id = db::insert(&state.platform.pool, magasin_id, auth.sub).await?;
    let cart = db::get(&state.platform.pool, id).await?.ok_or_else(|| not_found(id))?;
    let p = view(&state, &auth, &rid, cart).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/paniers/{id}"))], axum::Json(p)))
}

/// The caller's open carts at their store, newest first (to resume after a reload).
#[utoipa::path(get, path = "/api/paniers", responses((status = 200, body = PanierList)))]
pub async fn list_paniers(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
) -> ApiResult<axum::Json<PanierList>> {
    let Some(magasin_id) = auth.magasin_id else {
        return Ok(axum::Json(PanierList { paniers: vec![] }));
    };
    let mut paniers = vec![];
    for cart in db::list_open(&state.platform.pool, auth.sub, magasin_id).await? {
        paniers.push(view(&state, &auth, &rid, cart).await?);
    }
    Ok(axum::Json(PanierList { paniers }))
}

/// One cart, priced.
#[utoipa::path(get, path = "/api/paniers/{id}", responses((status = 200, body = Panier), (status = 404)))]
pub async fn get_panier(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Panier>> {
    let cart = find(&state, &auth, id).await?;
    Ok(axum::Json(view(&state, &auth, &rid, cart).await?))
}

async fn require_active_product(state: &AppState, auth: &Auth, rid: &RequestId, produit_id: i64) -> ApiResult<()> {
    let url = format!("{}/api/produits/{produit_id}", state.config.produit_url);
    match state.platform.client.get_json::<ProduitRef>("produit", &url, ctx(auth, rid)).await? {
        Ok(p) if p.actif => Ok(()),
        Ok(_) => Err(ApiError::field("produit_id", format!("le produit {produit_id} n'est plus vendu"))),
        Err(up) if up.status == StatusCode::NOT_FOUND => {
            Err(ApiError::field("produit_id", format!("le produit {produit_id} n'existe pas")))
        }
        Err(up) => Err(ApiError::Unavailable(format!("produit a répondu {}", up.status))),
    }
}

/// Runs `change` on an open cart the caller may edit, in one transaction.
async fn edit<F>(state: &AppState, auth: &Auth, id: i64, change: F) -> ApiResult<()>
where
    F: for<'t> FnOnce(
        &'t mut sqlx::Transaction<'static, sqlx::MySql>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<()>> + Send + 't>>,
{
    let mut tx = state.platform.pool.begin().await?;
    let cart = db::lock(&mut tx, id).await?.filter(|c| visible(auth, c)).ok_or_else(|| not_found(id))?;
    if cart.statut != "ouvert" {
        return Err(ApiError::conflict(format!(
            "Le panier {id} est fermé (vente {}).",
            cart.vente_id.unwrap_or_default()
        )));
    }
    change(&mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Sets the quantity of a product in the cart (1 to 999), adding the line if needed.
#[utoipa::path(put, path = "/api/paniers/{id}/lignes/{produit_id}", request_body = Quantite,
    responses((status = 200, body = Panier), (status = 404), (status = 409, description = "panier fermé"), (status = 422)))]
pub async fn set_ligne(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path((id, produit_id)): Path<(i64, i64)>,
    Json(q): Json<Quantite>,
) -> ApiResult<axum::Json<Panier>> {
    if !(1..=MAX_QUANTITE).contains(&q.quantite) {
        return Err(ApiError::field("quantite", format!("entier entre 1 et {MAX_QUANTITE} (retirez la ligne pour 0)")));
    }
    if produit_id <= 0 {
        return Err(ApiError::field("produit_id", "identifiant invalide"));
    }
    find(&state, &auth, id).await?;
    require_active_product(&state, &auth, &rid, produit_id).await?;
    let quantite = i32::try_from(q.quantite).unwrap_or(1);
    edit(&state, &auth, id, |tx| {
        Box::pin(async move {
            let exists: Option<i32> =
                sqlx::query_scalar("SELECT quantite FROM panier_lignes WHERE panier_id = ? AND produit_id = ?")
                    .bind(id)
                    .bind(produit_id)
                    .fetch_optional(&mut **tx)
                    .await?;
            if exists.is_none() && db::count_lines(tx, id).await? >= MAX_LIGNES {
                return Err(ApiError::field("produit_id", format!("un panier compte {MAX_LIGNES} produits au plus")));
            }
            db::set_line(tx, id, produit_id, quantite).await
        })
    })
    .await?;
    get_panier(State(state), auth, rid, Path(id)).await
}

/// Removes a product from the cart.
#[utoipa::path(delete, path = "/api/paniers/{id}/lignes/{produit_id}", responses((status = 200, body = Panier), (status = 404), (status = 409)))]
pub async fn remove_ligne(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path((id, produit_id)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<Panier>> {
    edit(&state, &auth, id, |tx| Box::pin(async move { db::remove_line(tx, id, Some(produit_id)).await })).await?;
    get_panier(State(state), auth, rid, Path(id)).await
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/paniers/{id}/lignes", responses((status = 200, body = Panier), (status = 404), (status = 409)))]
pub async fn empty_panier(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Panier>> {
    edit(&state, &auth, id, |tx| Box::pin(async move { db::remove_line(tx, id, None).await })).await?;
    get_panier(State(state), auth, rid, Path(id)).await
}

/// Closes the cart for the sale that paid it. Idempotent for that sale.
#[utoipa::path(post, path = "/api/paniers/{id}/fermeture", request_body = Fermeture,
    responses((status = 200, body = PanierFerme), (status = 404), (status = 409, description = "fermé par une autre vente")))]
pub async fn close_panier(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Json(f): Json<Fermeture>,
) -> ApiResult<axum::Json<PanierFerme>> {
    if f.vente_id.is_empty() || f.vente_id.len() > 36 {
        return Err(ApiError::field("vente_id", "identifiant de vente attendu"));
    }
    let mut tx = state.platform.pool.begin().await?;
    let cart = db::lock(&mut tx, id).await?.filter(|c| visible(&auth, c)).ok_or_else(|| not_found(id))?;
    let mut suite = None;
    match (cart.statut.as_str(), cart.vente_id.as_deref()) {
        ("ferme", Some(v)) if v == f.vente_id => {}
        ("ferme", other) => {
            return Err(ApiError::conflict(format!(
                "Le panier {id} est déjà fermé par la vente {}.",
                other.unwrap_or("?")
            )));
        }
        _ => {
            if f.version.is_some_and(|v| v != cart.version) {
                suite = carry_over(&mut tx, &cart, &f.lignes).await?;
            }
            db::close(&mut tx, id, &f.vente_id).await?;
        }
    }
    tx.commit().await?;
    // No pricing here: the sale already holds its snapshot.
    Ok(axum::Json(PanierFerme { id, statut: "ferme".into(), vente_id: f.vente_id, panier_suite: suite }))
}

/// Moves what the cart holds beyond the sold lines to a new open cart of the
/// same cashier, and leaves the sold lines in the closed one.
async fn carry_over(
    tx: &mut sqlx::Transaction<'static, sqlx::MySql>,
    cart: &db::Cart,
    sold: &[LigneVendue],
) -> ApiResult<Option<i64>> {
    let current: Vec<(i64, i32)> = sqlx::query_as("SELECT produit_id, quantite FROM panier_lignes WHERE panier_id = ?")
        .bind(cart.id)
        .fetch_all(&mut **tx)
        .await?;
    let sold_of = |p: i64| sold.iter().find(|l| l.produit_id == p).map_or(0, |l| l.quantite);
    let left: Vec<(i64, i32)> = current.iter().map(|(p, q)| (*p, q - sold_of(*p))).filter(|(_, q)| *q > 0).collect();
    db::remove_line(tx, cart.id, None).await?;
    for l in sold {
        db::set_line(tx, cart.id, l.produit_id, l.quantite).await?;
    }
    if left.is_empty() {
        return Ok(None);
    }
    let res = sqlx::query("INSERT INTO paniers (magasin_id, caissier_id) VALUES (?, ?)")
        .bind(cart.magasin_id)
        .bind(cart.caissier_id)
        .execute(&mut **tx)
        .await?;
    let suite = i64::try_from(res.last_insert_id()).unwrap_or_default();
    for (p, q) in left {
        db::set_line(tx, suite, p, q).await?;
    }
    tracing::info!(panier = cart.id, suite, "articles ajoutés pendant l'encaissement reportés sur un nouveau panier");
    Ok(Some(suite))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PanierFerme {
    pub id: i64,
    pub statut: String,
    pub vente_id: String,
    /// A new open cart holding what was added during checkout, if anything.
    pub panier_suite: Option<i64>,
}
