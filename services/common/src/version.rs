//! Optimistic concurrency: `ETag` carries a row's version, `If-Match` must
//! name it on writes; a stale one is a 412, never a lost update.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
};

use crate::error::ApiError;

/// The version named by `If-Match`, if the header is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IfMatch(pub Option<i32>);

impl IfMatch {
    /// The version, or 428 when the client sent none.
    pub fn required(self) -> Result<i32, ApiError> {
        self.0.ok_or_else(|| {
            ApiError::PreconditionRequired(
                "En-tête If-Match obligatoire : renvoyez l'ETag lu avec la ressource (ex. If-Match: \"3\").".into(),
            )
        })
    }
}

/// Parses `"3"`, `W/"3"` or `3`.
pub fn parse_etag(raw: &str) -> Option<i32> {
    let raw = raw.trim();
    let raw = raw.strip_prefix("W/").unwrap_or(raw);
    raw.trim_matches('"').parse().ok().filter(|v: &i32| *v > 0)
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.headers.get(header::IF_MATCH) {
            None => Ok(IfMatch(None)),
            Some(v) => v.to_str().ok().and_then(parse_etag).map(|v| IfMatch(Some(v))).ok_or_else(|| {
                ApiError::BadRequest("En-tête If-Match illisible : attendu l'ETag de la ressource, ex. \"3\".".into())
            }),
        }
    }
}

/// The `ETag` header for `version`.
pub fn etag(version: i32) -> [(header::HeaderName, HeaderValue); 1] {
    [(header::ETAG, HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\"")))]
}

#[cfg(test)]
mod tests {
    use super::parse_etag;

    #[test]
    fn etags_parse_in_their_usual_forms() {
        assert_eq!(parse_etag("\"3\""), Some(3));
        assert_eq!(parse_etag("W/\"12\""), Some(12));
        assert_eq!(parse_etag("7"), Some(7));
        assert_eq!(parse_etag("\"abc\""), None);
        assert_eq!(parse_etag("\"-1\""), None);
    }
}
