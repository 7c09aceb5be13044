//! `/api/caisses`: a store's registers, the cash sessions opened on them,
//! closing a session on the drawer count, and its Z-report.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use caisse_common::{
    ApiError, ApiResult, Auth, FieldError, Role,
    client::{CallCtx, RequestId},
    extract::{Json, Path, Query},
    pagination::Page,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState, db,
    domain::TypeMagasin,
    registers::{self, Caisse, CaisseRow, MAX_COMPTE, MAX_FOND, Session, StatutSession},
    zreport::{self, RapportZ},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/caisses", get(list_caisses).post(create_caisse))
        .route("/api/caisses/{id}/sessions", post(open_session))
        .route("/api/caisses/sessions", get(list_sessions))
        .route("/api/caisses/sessions/{id}", get(get_session))
        .route("/api/caisses/sessions/{id}/fermeture", post(close_session))
        .route("/api/caisses/sessions/{id}/rapport-z", get(get_rapport_z))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CaisseParams {
    /// The store (default: the token's store).
    pub magasin_id: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CaisseList {
    pub caisses: Vec<Caisse>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelleCaisse {
    pub magasin_id: i64,
    /// 1 to 999, unique in the store.
    pub numero: i64,
    /// Default: « Caisse <numero> ».
    pub nom: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ouverture {
    /// Float in the drawer at opening, 0 to 10000.00, e.g. "200.00".
    pub fond_de_caisse: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Fermeture {
    /// Cash counted in the drawer, e.g. "312.45".
    pub montant_compte: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SessionParams {
    /// The store (store staff: their own, the default).
    pub magasin_id: Option<i64>,
    /// `ouverte` or `fermee`.
    pub statut: Option<String>,
    /// Page size, 1 to 100 (default 50); `limite` is accepted too.
    #[serde(alias = "limite")]
    pub limit: Option<u32>,
    /// Cursor: the `suivant` of the previous page (sessions older than it).
    pub apres: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<Session>,
    pub suivant: Option<i64>,
}

const STAFF: &[Role] = &[Role::Caissier, Role::Gerant, Role::Admin];

/// The store a request is about: the one named, else the token's. Store
/// staff naming another store get 403.
fn store_of(auth: &Auth, named: Option<i64>) -> ApiResult<i64> {
    let magasin_id = named
        .or(auth.magasin_id)
        .ok_or_else(|| ApiError::field("magasin_id", "obligatoire pour un compte sans magasin"))?;
    if magasin_id <= 0 {
        return Err(ApiError::field("magasin_id", "identifiant invalide"));
    }
    auth.require_magasin(magasin_id)?;
    Ok(magasin_id)
}

/// A register the caller may use: another store's is not found.
async fn find_caisse(state: &AppState, auth: &Auth, id: i64) -> ApiResult<CaisseRow> {
    registers::get_caisse(&state.platform.pool, id)
        .await?
        .filter(|c| auth.can_access_magasin(c.magasin_id))
        .ok_or_else(|| ApiError::NotFound(format!("La caisse {id} n'existe pas.")))
}

/// A session the caller may see: another store's is not found.
async fn find_session(state: &AppState, auth: &Auth, id: i64) -> ApiResult<Session> {
    registers::get_session(&state.platform.pool, id)
        .await?
        .filter(|s| auth.can_access_magasin(s.magasin_id))
        .ok_or_else(|| ApiError::NotFound(format!("La session de caisse {id} n'existe pas.")))
}

/// The registers of a store, by numero, each with its open session.
#[utoipa::path(get, path = "/api/caisses", params(CaisseParams),
    responses((status = 200, body = CaisseList), (status = 403), (status = 422)))]
pub async fn list_caisses(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<CaisseParams>,
) -> ApiResult<axum::Json<CaisseList>> {
    auth.require_role(STAFF)?;
    let magasin_id = store_of(&auth, q.magasin_id)?;
    let pool = &state.platform.pool;
    let mut open = registers::open_sessions(pool, magasin_id).await?;
    let caisses = registers::list_caisses(pool, magasin_id)
        .await?
        .into_iter()
        .map(|c| {
            let session = open.iter().position(|s| s.caisse_id == c.id).map(|i| open.swap_remove(i));
            c.with(session)
        })
        .collect();
    Ok(axum::Json(CaisseList { caisses }))
}

/// Adds a register to a sales store (gérant of the store, admin).
#[utoipa::path(post, path = "/api/caisses", request_body = NouvelleCaisse,
    responses((status = 201, body = Caisse), (status = 403), (status = 409, description = "numéro déjà pris dans ce magasin"),
        (status = 422, description = "données invalides, ou magasin sans caisses (centre logistique, maison mère)")))]
pub async fn create_caisse(
    State(state): State<AppState>,
    auth: Auth,
    body: ApiResult<Json<NouvelleCaisse>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Gerant, Role::Admin])?;
    let Json(input) = body?;
    auth.require_magasin_field("magasin_id", input.magasin_id)?;
    let mut errors = vec![];
    let numero = i32::try_from(input.numero).ok().filter(|n| (1..=999).contains(n));
    if numero.is_none() {
        errors.push(FieldError::new("numero", "entier de 1 à 999"));
    }
    let nom = match input.nom.as_deref().map(str::trim) {
        None => format!("Caisse {}", input.numero),
        Some("") => {
            errors.push(FieldError::new("nom", "ne peut pas être vide (omettez-le pour « Caisse <numéro> »)"));
            String::new()
        }
        Some(n) if n.chars().count() > 60 => {
            errors.push(FieldError::new("nom", "60 caractères au plus"));
            String::new()
        }
        Some(n) => n.to_owned(),
    };
    crate::domain::finish(errors)?;
    let numero = numero.unwrap_or(1);
    let pool = &state.platform.pool;
    let magasin = db::get_magasin(pool, input.magasin_id)
        .await?
        .ok_or_else(|| ApiError::field("magasin_id", format!("le magasin {} n'existe pas", input.magasin_id)))?;
    if magasin.type_magasin != TypeMagasin::Magasin {
        return Err(ApiError::field(
            "magasin_id",
            format!("« {} » n'est pas un magasin de vente : il n'a pas de caisses", magasin.nom),
        ));
    }
    let id = registers::insert_caisse(pool, magasin.id, numero, &nom).await.map_err(|e| match e {
        ApiError::Conflict { .. } => {
            ApiError::conflict(format!("Le magasin {} a déjà une caisse numéro {numero}.", magasin.id))
        }
        other => other,
    })?;
    let caisse = find_caisse(&state, &auth, id).await?.with(None);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/caisses?magasin_id={}", magasin.id))],
        axum::Json(caisse),
    ))
}

/// Opens a cash session on a register with its float (cashier or gérant of
/// the store, admin). A register has at most one open session: 409 names it
/// (`session_id` member).
#[utoipa::path(post, path = "/api/caisses/{id}/sessions", request_body = Ouverture,
    responses((status = 201, body = Session), (status = 404),
        (status = 409, description = "une session est déjà ouverte sur cette caisse (membre `session_id`)"), (status = 422)))]
pub async fn open_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    body: ApiResult<Json<Ouverture>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(STAFF)?;
    let caisse = find_caisse(&state, &auth, id).await?;
    let Json(input) = body?;
    let fond = registers::money("fond_de_caisse", &input.fond_de_caisse, MAX_FOND)?;
    let pool = &state.platform.pool;
    let Some(session_id) = registers::open_session(pool, &caisse, auth.sub, &auth.login, fond).await? else {
        return Err(match registers::open_session_of(pool, caisse.id).await? {
            Some(open) => ApiError::Conflict {
                detail: format!(
                    "La caisse {} a déjà une session ouverte (session {}, caissier {}) : reprenez-la ou fermez-la d'abord.",
                    caisse.numero, open.id, open.caissier_login
                ),
                extra: Some(json!({ "session_id": open.id })),
            },
            None => ApiError::conflict(format!("La caisse {} vient de changer de session : réessayez.", caisse.numero)),
        });
    };
    let session = find_session(&state, &auth, session_id).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/caisses/sessions/{session_id}"))], axum::Json(session)))
}

/// One session (staff of its store, admin, service).
#[utoipa::path(get, path = "/api/caisses/sessions/{id}", responses((status = 200, body = Session), (status = 404)))]
pub async fn get_session(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Session>> {
    auth.require_role(&[Role::Caissier, Role::Gerant, Role::Admin, Role::Service])?;
    Ok(axum::Json(find_session(&state, &auth, id).await?))
}

/// Sessions of a store, newest first (store staff: their own store).
#[utoipa::path(get, path = "/api/caisses/sessions", params(SessionParams),
    responses((status = 200, body = SessionList), (status = 403), (status = 422)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SessionParams>,
) -> ApiResult<axum::Json<SessionList>> {
    auth.require_role(STAFF)?;
    let magasin_id = match (auth.role.is_store_scoped(), q.magasin_id) {
        (true, named) => Some(store_of(&auth, named)?),
        (false, Some(m)) if m <= 0 => return Err(ApiError::field("magasin_id", "identifiant invalide")),
        (false, named) => named,
    };
    let statut = q
        .statut
        .as_deref()
        .map(|s| s.parse::<StatutSession>().map_err(|e| ApiError::field("statut", e)))
        .transpose()?;
    let page = Page::parse(q.limit, q.apres)?;
    let rows = registers::list_sessions(&state.platform.pool, magasin_id, statut, page).await?;
    let (sessions, suivant) = page.finish(rows, |s| s.id);
    Ok(axum::Json(SessionList { sessions, suivant }))
}

/// Closes a session on the drawer count: its cashier, a gérant of the store
/// (for a session left open), or an admin. The answer carries the expected
/// cash (float + cash sales − cash refunds, from vente), the count and the
/// variance (count − expected: negative for a shortage); the Z-report is
/// stored as printed. A closed session cannot be closed again (409).
#[utoipa::path(post, path = "/api/caisses/sessions/{id}/fermeture", request_body = Fermeture,
    responses((status = 200, body = Session), (status = 403), (status = 404),
        (status = 409, description = "session déjà fermée"), (status = 422), (status = 503, description = "vente injoignable : rien n'est fermé")))]
pub async fn close_session(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
    body: ApiResult<Json<Fermeture>>,
) -> ApiResult<axum::Json<Session>> {
    auth.require_role(STAFF)?;
    let session = find_session(&state, &auth, id).await?;
    if auth.role == Role::Caissier && session.caissier_id != auth.sub {
        return Err(ApiError::Forbidden(format!(
            "La session {id} est celle de {} : seul ce caissier, ou un gérant, peut la fermer.",
            session.caissier_login
        )));
    }
    let Json(input) = body?;
    let compte = registers::money("montant_compte", &input.montant_compte, MAX_COMPTE)?;
    if session.statut == StatutSession::Fermee {
        return Err(already_closed(&session));
    }
    let bearer = state.platform.keys.service_bearer("caisse")?;
    let ctx = CallCtx { bearer: &bearer, request_id: &rid.0 };
    let totaux = zreport::session_totals(&state, ctx, id).await?;
    let journal = zreport::journal_head(&state, ctx, session.magasin_id).await?;
    let now = Utc::now();
    let fermee_le = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
    let rapport = zreport::build(&session, &totaux, journal, compte, &auth.login, fermee_le);
    let text = serde_json::to_string(&rapport).map_err(|e| ApiError::Internal(e.into()))?;
    let closing = registers::Closing {
        fermee_le,
        fermee_par: &auth.login,
        attendu: rapport.especes.attendu,
        compte,
        ecart: rapport.especes.ecart,
        rapport_z: &text,
    };
    if !registers::close_session(&state.platform.pool, id, &closing).await? {
        let now = find_session(&state, &auth, id).await?;
        return Err(already_closed(&now));
    }
    Ok(axum::Json(find_session(&state, &auth, id).await?))
}

fn already_closed(s: &Session) -> ApiError {
    ApiError::conflict(format!(
        "La session {} est déjà fermée (par {}{}) : son rapport Z est à GET /api/caisses/sessions/{}/rapport-z.",
        s.id,
        s.fermee_par.as_deref().unwrap_or("?"),
        s.fermee_le.map(|t| format!(", le {}", t.to_rfc3339())).unwrap_or_default(),
        s.id
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RapportParams {
    /// `json` (default) or `texte`: the report as printed (text/plain, 40 columns).
    pub format: Option<String>,
}

/// The Z-report of a closed session, exactly as stored at closing (staff
/// of the store, admin); 409 while the session is open. `?format=texte`:
/// ready to print.
#[utoipa::path(get, path = "/api/caisses/sessions/{id}/rapport-z", params(RapportParams),
    responses((status = 200, content((RapportZ = "application/json"), (String = "text/plain"))),
        (status = 404), (status = 409, description = "session encore ouverte")))]
pub async fn get_rapport_z(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
    Query(q): Query<RapportParams>,
) -> ApiResult<axum::response::Response> {
    let text_wanted = match q.format.as_deref() {
        None | Some("json") => false,
        Some("texte") => true,
        Some(_) => return Err(ApiError::field("format", "json ou texte")),
    };
    auth.require_role(STAFF)?;
    let session = find_session(&state, &auth, id).await?;
    if session.statut == StatutSession::Ouverte {
        return Err(ApiError::conflict(format!(
            "La session {id} est encore ouverte : le rapport Z s'imprime à la fermeture (POST /api/caisses/sessions/{id}/fermeture)."
        )));
    }
    let text = registers::rapport_z(&state.platform.pool, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("session {id} fermée sans rapport Z")))?;
    let rapport: RapportZ = serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.into()))?;
    if text_wanted {
        let printed = zreport::render_text(&rapport);
        return Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], printed).into_response());
    }
    Ok(axum::Json(rapport).into_response())
}
