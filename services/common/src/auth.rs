//! Access tokens: claims, signing (caisse) and verification (every service).
//!
//! Services never trust a request because it came from inside: each handler
//! takes an [`Auth`] and checks role and store scope itself.

use std::sync::Arc;

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// Staff roles, from least to most powerful for store operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Caissier,
    Gerant,
    Logistique,
    Admin,
    /// A service acting on its own behalf (never a staff account: caisse
    /// cannot issue it). Only services holding `JWT_SECRET` mint it.
    Service,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Caissier => "caissier",
            Role::Gerant => "gerant",
            Role::Logistique => "logistique",
            Role::Admin => "admin",
            Role::Service => "service",
        }
    }

    /// Store staff act only within their own magasin.
    pub fn is_store_scoped(self) -> bool {
        matches!(self, Role::Caissier | Role::Gerant)
    }
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "caissier" => Ok(Role::Caissier),
            "gerant" => Ok(Role::Gerant),
            "logistique" => Ok(Role::Logistique),
            "admin" => Ok(Role::Admin),
            "service" => Ok(Role::Service),
            other => Err(format!("rôle inconnu « {other} » (caissier, gerant, logistique, admin)")),
        }
    }
}

crate::sql_text_enum!(Role);

/// What a token says about its bearer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Claims {
    /// Staff id.
    pub sub: i64,
    pub login: String,
    pub role: Role,
    /// The magasin a store-scoped account belongs to.
    pub magasin_id: Option<i64>,
    pub iat: i64,
    pub exp: i64,
}

impl Claims {
    /// Rejects with 403 unless the bearer has one of `roles`.
    pub fn require_role(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            let allowed = roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ");
            Err(ApiError::Forbidden(format!(
                "Le rôle « {} » ne permet pas cette action (rôles autorisés : {allowed}).",
                self.role.as_str()
            )))
        }
    }

    /// Rejects with 403 when store staff act on another magasin.
    pub fn require_magasin(&self, magasin_id: i64) -> Result<(), ApiError> {
        if self.can_access_magasin(magasin_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "Votre compte est rattaché au magasin {} : le magasin {magasin_id} vous est inaccessible.",
                self.magasin_id.unwrap_or_default()
            )))
        }
    }

    /// A store named in a request's body under `champ`: a positive id (422
    /// naming the field), then one the caller may act for (403).
    pub fn require_magasin_field(&self, champ: &str, magasin_id: i64) -> Result<(), ApiError> {
        if magasin_id <= 0 {
            return Err(ApiError::field(champ, "identifiant invalide"));
        }
        self.require_magasin(magasin_id)
    }

    pub fn can_access_magasin(&self, magasin_id: i64) -> bool {
        !self.role.is_store_scoped() || self.magasin_id == Some(magasin_id)
    }
}

impl TokenKeys {
    /// A short-lived token for `service`'s own calls to other services.
    pub fn service_bearer(&self, service: &str) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: 0,
            login: format!("service:{service}"),
            role: Role::Service,
            magasin_id: None,
            iat: now,
            exp: now + 300,
        };
        Ok(format!("Bearer {}", self.sign(&claims)?))
    }
}

/// One HS256 secret and its key id (`kid` in the token header).
struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn new(secret: &str) -> Self {
        let encoding = EncodingKey::from_secret(secret.as_bytes());
        // The id names the secret without revealing it: an HMAC of a fixed
        // label under that secret, so every service derives the same id.
        let mac = jsonwebtoken::crypto::sign(b"caisse-kid", &encoding, Algorithm::HS256).unwrap_or_default();
        Self { kid: mac.chars().take(12).collect(), encoding, decoding: DecodingKey::from_secret(secret.as_bytes()) }
    }
}

/// Signing and verification keys (HS256, shared secret from `JWT_SECRET`).
/// During a rotation, tokens signed with the previous secret
/// (`JWT_SECRET_PRECEDENT`) are still accepted until they expire; new tokens
/// are always signed with the current one. The header's `kid` picks the key.
pub struct TokenKeys {
    current: Key,
    previous: Option<Key>,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &str) -> Arc<Self> {
        Self::rotating(secret, None)
    }

    /// Signs with `current`, verifies with `current` or `previous`.
    pub fn rotating(current: &str, previous: Option<&str>) -> Arc<Self> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp"]);
        Arc::new(Self { current: Key::new(current), previous: previous.map(Key::new), validation })
    }

    /// The key id of the current secret.
    pub fn kid(&self) -> &str {
        &self.current.kid
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, ApiError> {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.current.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.current.encoding).map_err(|e| ApiError::Internal(e.into()))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let claims = self.decode(token)?;
        // A token issued in the future (clock skew aside) was not issued by us
        // now: refuse it like an expired one.
        if claims.iat > chrono::Utc::now().timestamp() + i64::try_from(self.validation.leeway).unwrap_or(0) {
            return Err(ApiError::Unauthorized("jeton pas encore valide (POST /api/auth/login).".into()));
        }
        Ok(claims)
    }

    /// The key named by the token's `kid`; a token without one (issued
    /// before key ids) is checked against the current key only.
    fn key_for(&self, token: &str) -> Result<&Key, ApiError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::Unauthorized("jeton illisible (POST /api/auth/login).".into()))?;
        match header.kid.as_deref() {
            None => Ok(&self.current),
            Some(kid) if kid == self.current.kid => Ok(&self.current),
            Some(kid) => self.previous.as_ref().filter(|k| k.kid == kid).ok_or_else(|| {
                ApiError::Unauthorized(
                    "clé de signature du jeton inconnue : reconnectez-vous (POST /api/auth/login).".into(),
                )
            }),
        }
    }

    fn decode(&self, token: &str) -> Result<Claims, ApiError> {
        let key = self.key_for(token)?;
        jsonwebtoken::decode::<Claims>(token, &key.decoding, &self.validation).map(|d| d.claims).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "jeton expiré : reconnectez-vous",
                ErrorKind::InvalidSignature => "signature du jeton invalide",
                _ => "jeton illisible",
            };
            ApiError::Unauthorized(format!("{why} (POST /api/auth/login)."))
        })
    }
}

/// The `kid` a token's header names, if any (unverified: for display and tests).
pub fn kid_of(token: &str) -> Option<String> {
    jsonwebtoken::decode_header(token).ok()?.kid
}

/// The verified caller of a request, extracted from `Authorization: Bearer`.
#[derive(Debug, Clone)]
pub struct Auth {
    pub claims: Claims,
    /// The raw header, forwarded on inter-service calls made for this caller.
    pub bearer: String,
}

impl std::ops::Deref for Auth {
    type Target = Claims;
    fn deref(&self) -> &Claims {
        &self.claims
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let keys = parts
            .extensions
            .get::<Arc<TokenKeys>>()
            .cloned()
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("TokenKeys absentes des extensions")))?;
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| ApiError::Unauthorized("En-tête Authorization: Bearer <jeton> manquant.".into()))?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .ok_or_else(|| ApiError::Unauthorized("Schéma d'authentification attendu : Bearer.".into()))?
            .trim();
        let claims = keys.verify(token)?;
        Ok(Auth { claims, bearer: header.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(role: Role, magasin_id: Option<i64>) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims { sub: 1, login: "x".into(), role, magasin_id, iat: now, exp: now + 60 }
    }

    #[test]
    fn a_signed_token_round_trips() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef");
        let c = claims(Role::Gerant, Some(3));
        assert_eq!(keys.verify(&keys.sign(&c).unwrap()).unwrap(), c);
    }

    #[test]
    fn a_token_signed_with_another_secret_is_rejected() {
        let ours = TokenKeys::new("0123456789abcdef0123456789abcdef");
        let theirs = TokenKeys::new("fedcba9876543210fedcba9876543210");
        let token = theirs.sign(&claims(Role::Admin, None)).unwrap();
        assert_eq!(ours.verify(&token).unwrap_err().status(), 401);
    }

    #[test]
    fn an_expired_token_is_rejected() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef");
        let mut c = claims(Role::Admin, None);
        c.exp = chrono::Utc::now().timestamp() - 3600;
        let err = keys.verify(&keys.sign(&c).unwrap()).unwrap_err();
        assert!(err.body()["detail"].as_str().unwrap_or_default().contains("expiré"));
    }

    #[test]
    fn a_token_issued_in_the_future_is_rejected() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef");
        let mut c = claims(Role::Admin, None);
        c.iat += 3600;
        c.exp += 3600;
        assert_eq!(keys.verify(&keys.sign(&c).unwrap()).unwrap_err().status(), 401);
    }

    #[test]
    fn tokens_carry_the_key_id_of_the_current_secret() {
        let keys = TokenKeys::new("0123456789abcdef0123456789abcdef");
        let token = keys.sign(&claims(Role::Admin, None)).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(keys.kid()));
        assert_eq!(keys.kid().len(), 12);
        assert_ne!(keys.kid(), TokenKeys::new("fedcba9876543210fedcba9876543210").kid());
        assert!(!"0123456789abcdef0123456789abcdef".contains(keys.kid()));
    }

    #[test]
    fn during_a_rotation_both_keys_verify_and_the_new_one_signs() {
        let (old, new) = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
        let before = TokenKeys::new(old);
        let during = TokenKeys::rotating(new, Some(old));
        let after = TokenKeys::new(new);
        let c = claims(Role::Caissier, Some(1));
        let old_token = before.sign(&c).unwrap();
        assert_eq!(during.verify(&old_token).unwrap(), c);
        let new_token = during.sign(&c).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&new_token).unwrap().kid.as_deref(), Some(after.kid()));
        assert_eq!(after.verify(&new_token).unwrap(), c);
        // Once the rotation is over, the old key is refused.
        assert_eq!(after.verify(&old_token).unwrap_err().status(), 401);
        // A third key is refused during the rotation too.
        let other = TokenKeys::new("another-secret-0123456789abcdef-xyz").sign(&c).unwrap();
        assert_eq!(during.verify(&other).unwrap_err().status(), 401);
    }

    #[test]
    fn a_token_naming_one_key_but_signed_with_another_is_rejected() {
        let (old, new) = ("0123456789abcdef0123456789abcdef", "fedcba9876543210fedcba9876543210");
        let during = TokenKeys::rotating(new, Some(old));
        let attacker = TokenKeys::new("attacker-secret-0123456789abcdef-xyz");
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(TokenKeys::new(old).kid().to_owned());
        let forged = jsonwebtoken::encode(&header, &claims(Role::Admin, None), &attacker.current.encoding).unwrap();
        assert_eq!(during.verify(&forged).unwrap_err().status(), 401);
    }

    #[test]
    fn store_staff_are_confined_to_their_magasin() {
        assert!(claims(Role::Caissier, Some(1)).require_magasin(1).is_ok());
        assert_eq!(claims(Role::Caissier, Some(1)).require_magasin(2).unwrap_err().status(), 403);
        assert!(claims(Role::Logistique, None).require_magasin(2).is_ok());
        assert!(claims(Role::Admin, None).require_magasin(5).is_ok());
    }

    #[test]
    fn roles_are_checked() {
        assert_eq!(claims(Role::Caissier, Some(1)).require_role(&[Role::Admin]).unwrap_err().status(), 403);
        assert!(claims(Role::Admin, None).require_role(&[Role::Admin]).is_ok());
        assert_eq!("gerant".parse::<Role>(), Ok(Role::Gerant));
        assert!("root".parse::<Role>().is_err());
    }
}
