//! `/api/employes`: staff accounts (admin creates; gérant reads own store).

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::get,
};
use caisse_common::{
    ApiError, ApiResult, Auth, FieldError, Role,
    extract::{Json, Query},
    pagination::Page,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState, db,
    domain::{self, Employe},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/employes", get(list_employes).post(create_employe))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    pub magasin_id: Option<i64>,
    pub limit: Option<u32>,
    pub apres: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EmployeList {
    pub employes: Vec<Employe>,
    pub suivant: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeInput {
    pub login: String,
    pub nom: String,
    pub role: Role,
    pub magasin_id: Option<i64>,
    pub mot_de_passe: String,
}

/// Lists staff: admins see all, gérants their own store.
#[utoipa::path(get, path = "/api/employes", params(ListParams), responses((status = 200, body = EmployeList)))]
pub async fn list_employes(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<ListParams>,
) -> ApiResult<axum::Json<EmployeList>> {
    auth.require_role(&[Role::Admin, Role::Gerant])?;
    let magasin_id = if auth.role == Role::Gerant { auth.magasin_id } else { q.magasin_id };
    let page = Page::parse(q.limit, q.apres)?;
    let rows = db::list_employes(&state.platform.pool, magasin_id, page).await?;
    let (employes, suivant) = page.finish(rows, |e| e.id);
    Ok(axum::Json(EmployeList { employes, suivant }))
}

/// Creates a staff account (admin).
#[utoipa::path(post, path = "/api/employes", request_body = EmployeInput,
    responses((status = 201, body = Employe), (status = 409), (status = 422)))]
pub async fn create_employe(
    State(state): State<AppState>,
    auth: Auth,
    body: ApiResult<Json<EmployeInput>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Admin])?;
    // The role is checked before the body is read: a caller without the
    // right gets 403 whatever they sent.
    let Json(input) = body?;
    let mut errors = vec![];
    let login = domain::text("login", &input.login, 64, &mut errors);
    if !login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        errors.push(FieldError::new("login", "lettres, chiffres, point, tiret et souligné seulement"));
    }
    let nom = domain::text("nom", &input.nom, 120, &mut errors);
    domain::password(&input.mot_de_passe, &mut errors);
    domain::role_scope(input.role, input.magasin_id, &mut errors);
    if input.role == Role::Service {
        errors.push(FieldError::new("role", "réservé aux services : caissier, gerant, logistique ou admin"));
    }
    domain::finish(errors)?;
    let pool = &state.platform.pool;
    if let Some(m) = input.magasin_id
        && db::get_magasin(pool, m).await?.is_none()
    {
        return Err(ApiError::field("magasin_id", format!("le magasin {m} n'existe pas")));
    }
    let hash = state.hasher.hash(input.mot_de_passe).await?;
    let id =
        db::insert_employe(pool, &login, &nom, input.role, input.magasin_id, &hash).await.map_err(|e| match e {
            ApiError::Conflict { .. } => ApiError::conflict(format!("Le login « {login} » est déjà pris.")),
            other => other,
        })?;
    let e = db::get_employe(pool, id).await?.ok_or_else(|| ApiError::NotFound("employé".into()))?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/employes/{id}"))], axum::Json(e)))
}
