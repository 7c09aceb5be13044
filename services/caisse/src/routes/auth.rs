//! `/api/auth`: login, who am I, and the token check the gateway calls.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use caisse_common::{ApiError, ApiResult, Auth, Claims, extract::Json};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppState, db, domain::Employe, password};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/me", get(me))
        .route("/api/auth/verification", get(verify))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub login: String,
    pub mot_de_passe: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub jeton: String,
    pub type_jeton: &'static str,
    pub expire_a: DateTime<Utc>,
    pub employe: Employe,
}

const BAD_CREDENTIALS: &str = "Identifiant ou mot de passe incorrect.";

/// Exchanges a login and password for a signed access token.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginRequest, security(()),
    responses((status = 200, body = LoginResponse), (status = 401, description = "identifiants refusés"),
              (status = 422, description = "champ manquant"),
              (status = 429, description = "identifiant bloqué après trop d'échecs de suite, ou trop de tentatives \
                depuis cette adresse (passerelle) : en-tête Retry-After"),
              (status = 503, description = "trop de connexions en même temps (en-tête Retry-After)")))]
pub async fn login(
    State(state): State<AppState>,
    Json(req): Json<LoginRequest>,
) -> ApiResult<axum::Json<LoginResponse>> {
    let login = req.login.trim().to_owned();
    if login.is_empty() || login.len() > 64 {
        return Err(ApiError::field("login", "obligatoire, 64 caractères au plus"));
    }
    if req.mot_de_passe.is_empty() || req.mot_de_passe.len() > 128 {
        return Err(ApiError::field("mot_de_passe", "obligatoire, 128 caractères au plus"));
    }
    let pool = &state.platform.pool;
    if let Some(secs) = db::login_locked_for(pool, &login).await? {
        tracing::warn!(login, secs, "connexion refusée : identifiant bloqué");
        return Err(locked(secs));
    }
    let found = db::credentials(pool, &login).await?;
    let (employe, hash) = match found {
        Some((e, h)) => (Some(e), h),
        None => (None, password::DUMMY_HASH.to_owned()),
    };
    let given = req.mot_de_passe;
    let ok = state.hasher.verify(given, hash).await?;
    let employe = match (employe, ok) {
        (Some(e), true) => e,
        _ => {
            let lock = state.login_lock;
            let now_locked = db::record_login_failure(pool, &login, lock.max_failures, lock.lock_secs).await?;
            match now_locked {
                Some(secs) => tracing::warn!(login, secs, "connexion refusée : identifiant bloqué après trop d'échecs"),
                None => tracing::info!(login, "connexion refusée"),
            }
            return Err(ApiError::Unauthorized(BAD_CREDENTIALS.into()));
        }
    };
    db::clear_login_failures(pool, &login).await?;
    let now = Utc::now();
    let exp = now.timestamp() + state.token_ttl_secs;
    let claims = Claims {
        sub: employe.id,
        login: employe.login.clone(),
        role: employe.role,
        magasin_id: employe.magasin_id,
        iat: now.timestamp(),
        exp,
    };
    let jeton = state.platform.keys.sign(&claims)?;
    tracing::info!(login, role = employe.role.as_str(), "connexion");
    Ok(axum::Json(LoginResponse {
        jeton,
        type_jeton: "Bearer",
        expire_a: DateTime::from_timestamp(exp, 0).unwrap_or(now),
        employe,
    }))
}

fn locked(secs: u64) -> ApiError {
    let minutes = secs.div_ceil(60);
    ApiError::TooManyRequests {
        detail: format!(
            "Trop d'échecs de connexion de suite pour cet identifiant : réessayez dans {minutes} min \
             (ou demandez à un administrateur de vérifier le compte)."
        ),
        retry_after_secs: secs,
    }
}

/// The account behind the token.
#[utoipa::path(get, path = "/api/auth/me", responses((status = 200, body = Employe), (status = 401)))]
pub async fn me(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<Employe>> {
    db::get_employe(&state.platform.pool, auth.sub)
        .await?
        .filter(|e| e.actif)
        .map(axum::Json)
        .ok_or_else(|| ApiError::Unauthorized("Ce compte n'existe plus ou a été désactivé.".into()))
}

/// 204 when the bearer token is valid: the gateway's `auth_request` target.
#[utoipa::path(get, path = "/api/auth/verification", responses((status = 204), (status = 401)))]
pub async fn verify(_auth: Auth) -> StatusCode {
    StatusCode::NO_CONTENT
}
