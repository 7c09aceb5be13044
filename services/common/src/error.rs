//! RFC 9457 problem details: the one mapping from failures to HTTP answers.
//!
//! Every service returns [`ApiError`]; 5xx details are logged, never sent.

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use serde_json::{Map, Value};

/// One field that failed validation.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    pub champ: String,
    pub message: String,
}

impl FieldError {
    pub fn new(champ: impl Into<String>, message: impl Into<String>) -> Self {
        Self { champ: champ.into(), message: message.into() }
    }
}

/// A failure a handler can return; each variant maps to one status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("requête invalide : {0}")]
    BadRequest(String),
    #[error("données invalides : {detail}")]
    Validation { detail: String, errors: Vec<FieldError> },
    #[error("non authentifié : {0}")]
    Unauthorized(String),
    #[error("interdit : {0}")]
    Forbidden(String),
    #[error("introuvable : {0}")]
    NotFound(String),
    #[error("conflit : {detail}")]
    Conflict { detail: String, extra: Option<Value> },
    #[error("précondition échouée : {0}")]
    PreconditionFailed(String),
    #[error("précondition requise : {0}")]
    PreconditionRequired(String),
    #[error("corps trop volumineux")]
    PayloadTooLarge,
    #[error("type de contenu non pris en charge : {0}")]
    UnsupportedMediaType(String),
    /// Too many attempts (a locked login): try again after `retry_after_secs`.
    #[error("trop de tentatives : {detail}")]
    TooManyRequests { detail: String, retry_after_secs: u64 },
    #[error("service indisponible : {0}")]
    Unavailable(String),
    /// A dependency refused the connection: the request never reached it,
    /// so it had no effect there (a 503 for the client too).
    #[error("service injoignable : {0}")]
    Unreachable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 422 with a single field error.
    pub fn field(champ: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Validation { detail: format!("{champ} : {message}"), errors: vec![FieldError::new(champ, message)] }
    }

    /// A 422 listing several field errors.
    pub fn fields(errors: Vec<FieldError>) -> Self {
        let detail = errors.iter().map(|e| format!("{} : {}", e.champ, e.message)).collect::<Vec<_>>().join(" ; ");
        Self::Validation { detail, errors }
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict { detail: detail.into(), extra: None }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) | Self::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("requete-invalide", "Requête invalide"),
            Self::Validation { .. } => ("validation", "Données invalides"),
            Self::Unauthorized(_) => ("non-authentifie", "Non authentifié"),
            Self::Forbidden(_) => ("interdit", "Accès interdit"),
            Self::NotFound(_) => ("introuvable", "Ressource introuvable"),
            Self::Conflict { .. } => ("conflit", "Conflit"),
            Self::PreconditionFailed(_) => ("version-perimee", "Version périmée"),
            Self::PreconditionRequired(_) => ("precondition-requise", "Précondition requise"),
            Self::PayloadTooLarge => ("corps-trop-volumineux", "Corps trop volumineux"),
            Self::UnsupportedMediaType(_) => ("type-de-contenu", "Type de contenu non pris en charge"),
            Self::TooManyRequests { .. } => ("trop-de-tentatives", "Trop de tentatives"),
            Self::Unavailable(_) | Self::Unreachable(_) => ("indisponible", "Service indisponible"),
            Self::Internal(_) => ("erreur-interne", "Erreur interne"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::PreconditionFailed(d)
            | Self::PreconditionRequired(d)
            | Self::UnsupportedMediaType(d)
            | Self::Unavailable(d)
            | Self::Unreachable(d) => d.clone(),
            Self::Validation { detail, .. } | Self::Conflict { detail, .. } | Self::TooManyRequests { detail, .. } => {
                detail.clone()
            }
            Self::PayloadTooLarge => "Le corps de la requête est trop volumineux.".into(),
            Self::Internal(_) => {
                "Une erreur inattendue est survenue ; elle a été journalisée avec l'identifiant de requête.".into()
            }
        }
    }

    /// The problem document sent to the client.
    pub fn body(&self) -> Value {
        let (slug, title) = self.slug_and_title();
        let mut body = Map::new();
        body.insert("type".into(), Value::String(format!("/problemes/{slug}")));
        body.insert("title".into(), Value::String(title.into()));
        body.insert("status".into(), Value::from(self.status().as_u16()));
        body.insert("detail".into(), Value::String(self.detail()));
        match self {
            Self::Validation { errors, .. } => {
                body.insert("errors".into(), serde_json::to_value(errors).unwrap_or_default());
            }
            Self::Conflict { extra: Some(Value::Object(extra)), .. } => {
                for (k, v) in extra {
                    body.insert(k.clone(), v.clone());
                }
            }
            _ => {}
        }
        Value::Object(body)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after_secs, .. } => Some(*retry_after_secs),
            _ => None,
        };
        if status.is_server_error() {
            tracing::error!(error = ?self, status = status.as_u16(), "requête en échec");
        }
        let mut res = (status, axum::Json(self.body())).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        // Every 503 is temporary ("réessayez"): say when.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(secs) = retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

/// MariaDB error codes we map to client errors.
const ER_DUP_ENTRY: &str = "23000";
const ER_CONSTRAINT_FAILED: u16 = 4025;
const ER_DUP_KEY: u16 = 1062;
const ER_NO_REFERENCED_ROW: u16 = 1452;
const ER_DATA_OUT_OF_RANGE: u16 = 1264;
const ER_DATA_TOO_LONG: u16 = 1406;
const ER_CON_COUNT: u16 = 1040;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;

impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => Self::NotFound("Ressource introuvable.".into()),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                tracing::warn!(error = %err, "base de données indisponible");
                Self::Unavailable("Base de données momentanément indisponible, réessayez.".into())
            }
            sqlx::Error::Database(db) => {
                let code =
                    db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>().map(|e| e.number()).unwrap_or_default();
                // The database's own message names tables, columns and
                // constraints: logged for us, never sent to the client.
                let client_error = |e: Self| {
                    tracing::info!(code, error = %db.message(), "requête refusée par la base de données");
                    e
                };
                match code {
                    ER_DUP_KEY => client_error(Self::conflict("Cette valeur existe déjà (contrainte d'unicité).")),
                    ER_CONSTRAINT_FAILED => client_error(Self::conflict(
                        "Cette modification enfreint une règle de cohérence des données : elle n'a pas été appliquée.",
                    )),
                    ER_NO_REFERENCED_ROW => client_error(Self::field("reference", "référence inconnue")),
                    ER_DATA_OUT_OF_RANGE => {
                        client_error(Self::field("valeur", "une valeur numérique est hors des limites permises"))
                    }
                    ER_DATA_TOO_LONG => {
                        client_error(Self::field("valeur", "une valeur est plus longue que la taille permise"))
                    }
                    // Too many connections, deadlock, lock wait timeout: nothing
                    // was done, a retry may succeed.
                    ER_CON_COUNT | ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT => {
                        tracing::warn!(code, error = %db.message(), "base de données saturée ou verrou en conflit");
                        Self::Unavailable("Base de données momentanément occupée, réessayez.".into())
                    }
                    _ if db.code().as_deref() == Some(ER_DUP_ENTRY) && db.is_unique_violation() => {
                        client_error(Self::conflict("Cette valeur existe déjà (contrainte d'unicité)."))
                    }
                    _ => Self::Internal(err.into()),
                }
            }
            _ => Self::Internal(err.into()),
        }
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(err: redis::RedisError) -> Self {
        tracing::warn!(error = %err, "redis indisponible");
        Self::Unavailable("Cache momentanément indisponible, réessayez.".into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// True when a sqlx error is a deadlock or lock wait timeout worth retrying.
pub fn is_retryable_tx_error(err: &sqlx::Error) -> bool {
    if let sqlx::Error::Database(db) = err
        && let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
    {
        return matches!(my.number(), ER_LOCK_DEADLOCK | ER_LOCK_WAIT_TIMEOUT);
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_never_leak_their_detail() {
        let err = ApiError::Internal(anyhow::anyhow!("password=hunter2 in connection string"));
        let body = err.body().to_string();
        assert!(!body.contains("hunter2"));
        assert_eq!(err.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn every_503_says_when_to_retry() {
        let res = ApiError::Unavailable("réessayez".into()).into_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "1");
        assert!(ApiError::NotFound("x".into()).into_response().headers().get(header::RETRY_AFTER).is_none());
    }

    #[test]
    fn validation_lists_every_field() {
        let err = ApiError::fields(vec![FieldError::new("prix", "négatif"), FieldError::new("nom", "vide")]);
        let body = err.body();
        assert_eq!(body["status"], 422);
        assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
        assert!(body["detail"].as_str().unwrap_or_default().contains("prix"));
    }

    #[test]
    fn conflict_extra_members_are_merged() {
        let err = ApiError::Conflict { detail: "x".into(), extra: Some(serde_json::json!({"manquants": [1]})) };
        assert_eq!(err.body()["manquants"][0], 1);
    }
}
