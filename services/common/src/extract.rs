//! Request extractors whose rejections are problem+json, with the path of the
//! offending field, instead of axum's plain-text defaults.

use axum::{
    extract::{FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, FieldError};

/// JSON body, parsed with the path of the first bad field.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json_content_type(&req)?;
        parse_json(&read_body(req, state).await?).map(Json)
    }
}

/// An optional JSON body: an empty body is `None` (whatever its headers);
/// anything else must be JSON, exactly as for [`Json`].
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for OptionalJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared = require_json_content_type(&req);
        let bytes = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        declared?;
        parse_json(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

fn require_json_content_type(req: &Request) -> Result<(), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("application/json") || (ct.starts_with("application/") && ct.contains("+json"))
        })
        .unwrap_or(false);
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "Envoyez le corps en JSON avec l'en-tête Content-Type: application/json.".into(),
        ))
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(format!("Corps illisible : {e}"))
        }
    })
}

/// Deepest nesting of arrays and objects a body may have (the deepest
/// document of the API has 3 levels): deeper is a 400 before parsing.
pub const MAX_JSON_DEPTH: usize = 16;

/// Nesting depth of a JSON text (brackets outside strings).
fn json_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses a JSON document into `T`, mapping syntax errors (and anything
/// after the document, or nesting past [`MAX_JSON_DEPTH`]) to 400 and
/// type/shape errors to 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if json_depth(bytes) > MAX_JSON_DEPTH {
        return Err(ApiError::BadRequest(format!(
            "JSON trop imbriqué : {MAX_JSON_DEPTH} niveaux de tableaux et d'objets au plus."
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        // One document and nothing after it: `{"a":1} !!` or `{..}{..}` is not JSON.
        Ok(v) => de.end().map(|()| v).map_err(|e| ApiError::BadRequest(format!("JSON mal formé : {e}"))),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            match inner.classify() {
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                    Err(ApiError::BadRequest(format!("JSON mal formé : {inner}")))
                }
                _ => {
                    let champ = if path == "." { "corps".to_owned() } else { path };
                    let message = strip_position(&inner.to_string());
                    Err(ApiError::fields(vec![FieldError::new(champ, message)]))
                }
            }
        }
    }
}

fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// Query string, rejected as a 400 problem naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| ApiError::BadRequest(format!("Paramètre de requête invalide ({}) : {}", e.path(), e.inner())))
    }
}

/// Path parameters, rejected as a 400 problem.
#[derive(Debug, Clone, Copy, Default)]
pub struct Path<T>(pub T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| Path(v))
            .map_err(|e| ApiError::BadRequest(format!("Chemin invalide : {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Ligne {
        produit_id: i64,
        quantite: u32,
    }

    #[test]
    fn nesting_is_bounded_and_brackets_in_strings_do_not_count() {
        let nested = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
        assert_eq!(json_depth(nested(MAX_JSON_DEPTH).as_bytes()), MAX_JSON_DEPTH);
        assert_eq!(json_depth(br#"{"a":"[[[{{\"[","b":[1,{"c":2}]}"#), 3);
        // At the limit: parsed (and refused for its shape, 422); one past: 400.
        assert_eq!(parse_json::<Ligne>(nested(MAX_JSON_DEPTH).as_bytes()).unwrap_err().status(), 422);
        let err = parse_json::<Ligne>(nested(MAX_JSON_DEPTH + 1).as_bytes()).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.body()["detail"].as_str().unwrap_or_default().contains("imbriqué"));
        // serde_json's own recursion limit (128) is never what answers.
        assert_eq!(parse_json::<Ligne>(nested(10_000).as_bytes()).unwrap_err().status(), 400);
    }

    #[test]
    fn malformed_json_is_a_400() {
        let err = parse_json::<Ligne>(b"{\"produit_id\": ").unwrap_err();
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn wrong_type_is_a_422_naming_the_field() {
        let err = parse_json::<Ligne>(br#"{"produit_id": 1, "quantite": "deux"}"#).unwrap_err();
        assert_eq!(err.status(), 422);
        assert_eq!(err.body()["errors"][0]["champ"], "quantite");
    }

    #[test]
    fn missing_field_is_a_422() {
        let err = parse_json::<Ligne>(br#"{"produit_id": 1}"#).unwrap_err();
        assert_eq!(err.status(), 422);
        assert!(err.body()["detail"].as_str().unwrap_or_default().contains("quantite"));
    }
}

/// The `Idempotency-Key` header: 8 to 100 visible ASCII characters. Required
/// when extracted directly; `Option<IdempotencyKey>` makes it optional.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        if (8..=100).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(Self(raw.to_owned()))
        } else {
            Err(ApiError::BadRequest(
                "En-tête Idempotency-Key invalide : 8 à 100 caractères ASCII visibles (un UUID convient).".into(),
            ))
        }
    }

    fn from_parts(parts: &Parts) -> Result<Option<Self>, ApiError> {
        match parts.headers.get("idempotency-key") {
            None => Ok(None),
            Some(v) => Self::parse(v.to_str().unwrap_or_default()).map(Some),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Self::from_parts(parts)?.ok_or_else(|| {
            ApiError::BadRequest(
                "En-tête Idempotency-Key obligatoire : une clé unique (UUID) par opération, réutilisée si vous réessayez."
                    .into(),
            )
        })
    }
}

impl<S: Send + Sync> axum::extract::OptionalFromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        Self::from_parts(parts)
    }
}

/// A digest of a request's meaningful content, stored beside its
/// idempotency key: the same key with another request is refused.
pub fn fingerprint(request: &impl serde::Serialize) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(serde_json::to_vec(request).unwrap_or_default()))
}

#[cfg(test)]
mod key_tests {
    use super::IdempotencyKey;

    #[test]
    fn idempotency_keys_are_bounded() {
        assert!(IdempotencyKey::parse("0f8fad5b-d9cb-469f-a165-70867728950e").is_ok());
        assert!(IdempotencyKey::parse("court").is_err());
        assert!(IdempotencyKey::parse("avec espace dedans").is_err());
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        assert_eq!(super::fingerprint(&(1, "a")), super::fingerprint(&(1, "a")));
        assert_ne!(super::fingerprint(&(1, "a")), super::fingerprint(&(1, "b")));
        assert_eq!(super::fingerprint(&0).len(), 64);
    }

    #[test]
    fn trailing_data_after_the_json_document_is_refused() {
        #[derive(Debug, serde::Deserialize)]
        struct Q {
            #[allow(dead_code)]
            quantite: i64,
        }
        for bad in [&br#"{"quantite": 2} trailing garbage !!"#[..], br#"{"quantite":3}{"quantite":999}"#] {
            let err = super::parse_json::<Q>(bad).expect_err("données après le document");
            assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        }
        assert!(super::parse_json::<Q>(b"{\"quantite\": 2}\n  ").is_ok(), "espaces finaux permis");
    }
}
