//! `/api/magasins`: stores, the logistics centre and head office.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    extract::{Json, Path, Query},
    pagination::Page,
    version::{IfMatch, etag},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState, db,
    domain::{self, Magasin, TypeMagasin},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/magasins", get(list_magasins).post(create_magasin))
        .route("/api/magasins/{id}", get(get_magasin).put(update_magasin))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Filter by type: magasin, logistique or maison_mere.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub type_magasin: Option<TypeMagasin>,
    pub limit: Option<u32>,
    pub apres: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MagasinList {
    pub magasins: Vec<Magasin>,
    pub suivant: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MagasinInput {
    pub nom: String,
    #[serde(rename = "type")]
    pub type_magasin: TypeMagasin,
    #[serde(default)]
    pub adresse: String,
    #[serde(default)]
    pub ville: String,
}

impl MagasinInput {
    fn checked(&self) -> ApiResult<(String, String, String)> {
        let mut errors = vec![];
        let nom = domain::text("nom", &self.nom, 120, &mut errors);
        let adresse = self.adresse.trim().to_owned();
        let ville = self.ville.trim().to_owned();
        if adresse.chars().count() > 255 {
            errors.push(caisse_common::FieldError::new("adresse", "255 caractères au plus"));
        }
        if ville.chars().count() > 120 {
            errors.push(caisse_common::FieldError::new("ville", "120 caractères au plus"));
        }
        domain::finish(errors)?;
        Ok((nom, adresse, ville))
    }
}

/// Lists magasins, optionally of one type.
#[utoipa::path(get, path = "/api/magasins", params(ListParams), responses((status = 200, body = MagasinList)))]
pub async fn list_magasins(
    State(state): State<AppState>,
    _auth: Auth,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<MagasinList>> {
    let page = Page::parse(q.limit, q.apres)?;
    let rows = db::list_magasins(&state.platform.pool, q.type_magasin, page).await?;
    let (magasins, suivant) = page.finish(rows, |m| m.id);
    Ok(axum::Json(MagasinList { magasins, suivant }))
}

/// One magasin.
#[utoipa::path(get, path = "/api/magasins/{id}", responses((status = 200, body = Magasin), (status = 404)))]
pub async fn get_magasin(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<impl IntoResponse> {
    let m = find(&state, id).await?;
    Ok((etag(m.version), axum::Json(m)))
}

async fn find(state: &AppState, id: i64) -> ApiResult<Magasin> {
    db::get_magasin(&state.platform.pool, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Le magasin {id} n'existe pas.")))
}

/// Creates a magasin (admin).
#[utoipa::path(post, path = "/api/magasins", request_body = MagasinInput,
    responses((status = 201, body = Magasin), (status = 403), (status = 409), (status = 422)))]
pub async fn create_magasin(
    State(state): State<AppState>,
    auth: Auth,
    body: ApiResult<Json<MagasinInput>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Admin])?;
    // The role is checked before the body is read: a caller without the
    // right gets 403 whatever they sent.
    let Json(input) = body?;
    let (nom, adresse, ville) = input.checked()?;
    let id = db::insert_magasin(&state.platform.pool, &nom, input.type_magasin, &adresse, &ville).await.map_err(
        |e| match e {
            ApiError::Conflict { .. } => ApiError::conflict(format!("Un magasin nommé « {nom} » existe déjà.")),
            other => other,
        },
    )?;
    let m = find(&state, id).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/magasins/{id}"))], etag(m.version), axum::Json(m)))
}

/// Replaces a magasin's fields (admin); `If-Match` names the version read.
#[utoipa::path(put, path = "/api/magasins/{id}", request_body = MagasinInput,
    responses((status = 200, body = Magasin), (status = 404), (status = 412), (status = 428)))]
pub async fn update_magasin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    if_match: IfMatch,
    body: ApiResult<Json<MagasinInput>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Admin])?;
    let Json(input) = body?;
    let version = if_match.required()?;
    let (nom, adresse, ville) = input.checked()?;
    let pool = &state.platform.pool;
    if !db::update_magasin(pool, id, version, &nom, input.type_magasin, &adresse, &ville).await? {
        let current = find(&state, id).await?;
        return Err(ApiError::PreconditionFailed(format!(
            "Le magasin {id} a été modifié entre-temps (version actuelle {}) : relisez-le puis recommencez.",
            current.version
        )));
    }
    let m = find(&state, id).await?;
    Ok((etag(m.version), axum::Json(m)))
}
