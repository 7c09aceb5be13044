//! `/api/stocks/demandes`: a store's restocking requests — creation (gérant
//! of the store), the queue (logistique sees every store, with the logistics
//! centre's quantity beside each line), one request, and the suggested
//! request built from the store's entries under their threshold. The
//! decisions (approve, refuse, ship, receive) are in `demande_flux`.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::RequestId,
    extract::{Json, Path, Query},
    pagination::Page,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    db::{self, demandes::Filter},
    domain::{self, Demande, Ligne, StatutDemande, suggested, target},
    peers,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stocks/demandes", post(create_demande).get(list_demandes))
        .route("/api/stocks/demandes/suggestion", get(get_suggestion))
        .route("/api/stocks/demandes/{id}", get(get_demande))
        .merge(super::demande_flux::router())
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelleDemande {
    /// The requesting store (a gérant's own).
    pub magasin_id: i64,
    pub lignes: Vec<Ligne>,
}

/// Asks the logistics centre for stock (gérant of the store, admin). At most
/// one open request per product per store: 409 naming the products.
#[utoipa::path(post, path = "/api/stocks/demandes", request_body = NouvelleDemande,
    responses((status = 201, body = Demande), (status = 403), (status = 409, description = "produit déjà demandé"),
              (status = 422, description = "données invalides")))]
pub async fn create_demande(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    body: ApiResult<Json<NouvelleDemande>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Gerant, Role::Admin])?;
    let Json(input) = body?;
    auth.require_magasin_field("magasin_id", input.magasin_id)?;
    let lignes = domain::new_lines(&input.lignes)?;
    if peers::magasin_type(&state, &auth, &rid, "magasin_id", input.magasin_id).await? != peers::TypeMagasin::Magasin {
        return Err(ApiError::field("magasin_id", "seul un magasin (avec caisses) fait une demande"));
    }
    let produits: Vec<i64> = lignes.iter().map(|l| l.produit_id).collect();
    peers::require_produits(&state, &auth, &rid, &produits).await?;
    let pool = &state.platform.pool;
    already_open(pool, input.magasin_id, &produits).await?;
    let mut tx = pool.begin().await?;
    let id = match db::demandes::insert(&mut tx, input.magasin_id, &auth.login, &lignes).await {
        Ok(id) => id,
        Err(e) => {
            drop(tx);
            // A concurrent request took a product first: name it.
            already_open(pool, input.magasin_id, &produits).await?;
            return Err(e.into());
        }
    };
    tx.commit().await?;
    let d = with_centre(&state, &auth, &rid, load(&state, id).await?).await;
    tracing::info!(demande = id, magasin = d.magasin_id, lignes = d.lignes.len(), par = %auth.login, "demande créée");
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/stocks/demandes/{id}"))], axum::Json(d)))
}

/// 409 naming the products an open request of the store already holds.
async fn already_open(pool: &sqlx::MySqlPool, magasin_id: i64, produits: &[i64]) -> ApiResult<()> {
    let open = db::demandes::open_lines(pool, magasin_id, produits).await?;
    if open.is_empty() {
        return Ok(());
    }
    let detail = open.iter().map(|(p, d)| format!("produit {p} (demande {d})")).collect::<Vec<_>>().join(", ");
    let deja: Vec<_> = open.iter().map(|(p, d)| serde_json::json!({"produit_id": p, "demande_id": d})).collect();
    Err(ApiError::Conflict {
        detail: format!(
            "Une demande ouverte du magasin {magasin_id} couvre déjà : {detail}. Retirez ces lignes ou attendez sa réception."
        ),
        extra: Some(serde_json::json!({"deja_demandes": deja})),
    })
}

pub(crate) async fn load(state: &AppState, id: i64) -> ApiResult<Demande> {
    db::demandes::load(&state.platform.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("La demande {id} n'existe pas.")))
}

/// Fills each line's `quantite_centre`; left empty (and logged) when the
/// centre cannot be found: the queue stays readable.
pub(crate) async fn with_centre(state: &AppState, auth: &Auth, rid: &RequestId, mut d: Demande) -> Demande {
    fill_centre(state, auth, rid, std::slice::from_mut(&mut d)).await;
    d
}

async fn fill_centre(state: &AppState, auth: &Auth, rid: &RequestId, ds: &mut [Demande]) {
    if ds.is_empty() {
        return;
    }
    let centre = match peers::logistics_centre(state, auth, rid).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(erreur = %e, "centre logistique introuvable : quantités du centre omises");
            return;
        }
    };
    let mut produits: Vec<i64> = ds.iter().flat_map(|d| d.lignes.iter().map(|l| l.produit_id)).collect();
    produits.sort_unstable();
    produits.dedup();
    match db::demandes::quantities(&state.platform.pool, centre, &produits).await {
        Ok(q) => {
            for l in ds.iter_mut().flat_map(|d| d.lignes.iter_mut()) {
                l.quantite_centre = Some(q.get(&l.produit_id).copied().unwrap_or(0));
            }
        }
        Err(e) => tracing::warn!(erreur = %e, "quantités du centre illisibles"),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DemandeParams {
    /// One store (store staff always see their own only).
    pub magasin_id: Option<i64>,
    /// One status, e.g. `creee` for the queue to decide.
    pub statut: Option<StatutDemande>,
    pub limit: Option<u32>,
    pub apres: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DemandeList {
    pub demandes: Vec<Demande>,
    pub suivant: Option<i64>,
}

/// Requests, oldest first (gérant: own store; logistique, admin: all stores).
#[utoipa::path(get, path = "/api/stocks/demandes", params(DemandeParams),
    responses((status = 200, body = DemandeList), (status = 403), (status = 422)))]
pub async fn list_demandes(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Query(p): Query<DemandeParams>,
) -> ApiResult<axum::Json<DemandeList>> {
    auth.require_role(&[Role::Gerant, Role::Logistique, Role::Admin])?;
    let magasin_id = scoped_magasin(&auth, p.magasin_id)?;
    let page = Page::parse(p.limit, p.apres)?;
    let rows = db::demandes::list(&state.platform.pool, Filter { magasin_id, statut: p.statut }, page).await?;
    let (mut demandes, suivant) = page.finish(rows, |d| d.id);
    fill_centre(&state, &auth, &rid, &mut demandes).await;
    Ok(axum::Json(DemandeList { demandes, suivant }))
}

/// Store staff: their own store (another one is a 403); others: as asked.
fn scoped_magasin(auth: &Auth, asked: Option<i64>) -> ApiResult<Option<i64>> {
    if auth.role.is_store_scoped() {
        if let Some(m) = asked {
            auth.require_magasin(m)?;
        }
        Ok(auth.magasin_id)
    } else {
        Ok(asked)
    }
}

/// One request with its lines and status trail (the store's staff, logistique, admin).
#[utoipa::path(get, path = "/api/stocks/demandes/{id}",
    responses((status = 200, body = Demande), (status = 403), (status = 404)))]
pub async fn get_demande(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Demande>> {
    auth.require_role(&[Role::Gerant, Role::Logistique, Role::Admin])?;
    let d = load(&state, id).await?;
    auth.require_magasin(d.magasin_id)?;
    Ok(axum::Json(with_centre(&state, &auth, &rid, d).await))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SuggestionParams {
    /// The store (a gérant's own by default; required for others).
    pub magasin_id: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LigneSuggeree {
    pub produit_id: i64,
    pub quantite_actuelle: i32,
    pub seuil_alerte: i32,
    pub niveau_cible: i32,
    /// What to ask for: up to the target level.
    pub quantite: i32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    pub magasin_id: i64,
    /// Submit as is: `POST /api/stocks/demandes` with `magasin_id` and these
    /// lines' `produit_id` and `quantite`.
    pub lignes: Vec<LigneSuggeree>,
}

/// The suggested request of a store: each entry at or below its alert
/// threshold (and not already requested), up to its target level.
#[utoipa::path(get, path = "/api/stocks/demandes/suggestion", params(SuggestionParams),
    responses((status = 200, body = Suggestion), (status = 403), (status = 422)))]
pub async fn get_suggestion(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<SuggestionParams>,
) -> ApiResult<axum::Json<Suggestion>> {
    auth.require_role(&[Role::Gerant, Role::Logistique, Role::Admin])?;
    let magasin_id = scoped_magasin(&auth, p.magasin_id)?
        .ok_or_else(|| ApiError::field("magasin_id", "précisez le magasin (paramètre magasin_id)"))?;
    if magasin_id <= 0 {
        return Err(ApiError::field("magasin_id", "identifiant invalide"));
    }
    let rows = db::demandes::low_entries(&state.platform.pool, magasin_id, domain::MAX_LINES as i64).await?;
    let lignes = rows
        .into_iter()
        .filter_map(|(produit_id, q, alerte, surstock, cible)| {
            suggested(q, alerte, surstock, cible).map(|quantite| LigneSuggeree {
                produit_id,
                quantite_actuelle: q,
                seuil_alerte: alerte,
                niveau_cible: target(alerte, surstock, cible),
                quantite,
            })
        })
        .collect();
    Ok(axum::Json(Suggestion { magasin_id, lignes }))
}
