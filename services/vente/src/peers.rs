//! The saga's calls to panier and stock, and the identity vente uses when
//! no user is behind the call (recovery loop).

use caisse_common::{
    ApiError, ApiResult,
    client::{CallCtx, Upstream},
};
use reqwest::{Method, StatusCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;

#[derive(Debug, Clone, Deserialize)]
pub struct CartLine {
    pub produit_id: i64,
    pub nom: String,
    pub code_barres: Option<String>,
    pub prix_unitaire: Decimal,
    pub quantite: i32,
    pub actif: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Cart {
    pub id: i64,
    pub version: i32,
    pub magasin_id: i64,
    pub statut: String,
    pub vente_id: Option<String>,
    pub lignes: Vec<CartLine>,
    /// The register and session the cart was opened on (absent for older carts).
    #[serde(default)]
    pub caisse_id: Option<i64>,
    #[serde(default)]
    pub session_id: Option<i64>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Line {
    pub produit_id: i64,
    pub quantite: i64,
}

/// The cart as panier sees it now; `Err` for a 4xx answer.
pub async fn cart(state: &AppState, ctx: CallCtx<'_>, panier_id: i64) -> ApiResult<Result<Cart, Upstream>> {
    let (base, path) = (&state.config.panier_url, format!("/api/paniers/{panier_id}"));
    state.platform.client.get_json("panier", base, &path, ctx).await
}

/// What stock answered to a reservation, as the saga needs to know it.
#[derive(Debug)]
pub enum ReserveOutcome {
    /// Every line is reserved.
    Reserved,
    /// Not enough stock: nothing reserved; `manquants` names the short lines.
    Short { detail: String, manquants: Value },
    /// A definite refusal of the request (403, 422): nothing reserved.
    Refused(ApiError),
    /// The sale's reservation was already released (a tombstone): whoever
    /// released it owns the sale now.
    AlreadyReleased,
    /// No attempt reached stock: nothing can be reserved.
    NotReached(ApiError),
    /// The reservation may or may not exist (timeout, lost answer, 5xx, or
    /// an answer that is no verdict on the sale, such as 401 or 429).
    Unknown(ApiError),
}

/// Reserves the lines of a sale, all or nothing, keyed by the sale id.
pub async fn reserve(
    state: &AppState,
    ctx: CallCtx<'_>,
    vente_id: &str,
    magasin_id: i64,
    lines: &[Line],
) -> ReserveOutcome {
    let bearer = match service_bearer(state) {
        Ok(b) => b,
        Err(e) => return ReserveOutcome::NotReached(e),
    };
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let (base, path) = (&state.config.stock_url, "/api/stocks/reservations");
    let body = json!({"vente_id": vente_id, "magasin_id": magasin_id, "lignes": lines});
    let answer: Result<Result<Value, Upstream>, ApiError> =
        state.platform.client.send_json(Method::POST, "stock", base, path, &body, Some(vente_id), ctx).await;
    let detail = |up: &Upstream, default: &str| up.body["detail"].as_str().unwrap_or(default).to_owned();
    match answer {
        Ok(Ok(_)) => ReserveOutcome::Reserved,
        Ok(Err(up)) if up.status == StatusCode::CONFLICT && up.body["manquants"].is_array() => {
            ReserveOutcome::Short { detail: detail(&up, "Stock insuffisant."), manquants: up.body["manquants"].clone() }
        }
        Ok(Err(up)) if up.status == StatusCode::CONFLICT => ReserveOutcome::AlreadyReleased,
        Ok(Err(up)) if up.status == StatusCode::FORBIDDEN => {
            ReserveOutcome::Refused(ApiError::Forbidden(detail(&up, "réservation refusée")))
        }
        Ok(Err(up)) if up.status == StatusCode::UNPROCESSABLE_ENTITY => {
            ReserveOutcome::Refused(ApiError::BadRequest(detail(&up, "réservation refusée")))
        }
        Ok(Err(up)) => {
            tracing::warn!(
                vente = vente_id,
                status = up.status.as_u16(),
                "réponse inattendue du stock à une réservation"
            );
            ReserveOutcome::Unknown(ApiError::Unavailable(format!("Le stock a répondu {}.", up.status)))
        }
        Err(e @ ApiError::Unreachable(_)) => ReserveOutcome::NotReached(e),
        Err(e) => ReserveOutcome::Unknown(e),
    }
}

/// Releases a sale's reservation (idempotent; a tombstone if none exists).
pub async fn release(state: &AppState, ctx: CallCtx<'_>, vente_id: &str, magasin_id: i64) -> ApiResult<()> {
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let (base, path) = (&state.config.stock_url, format!("/api/stocks/reservations/{vente_id}/liberation"));
    let body = json!({"magasin_id": magasin_id});
    match state
        .platform
        .client
        .send_json::<_, Value>(Method::POST, "stock", base, &path, &body, Some(vente_id), ctx)
        .await?
    {
        Ok(_) => Ok(()),
        Err(up) => {
            Err(ApiError::Internal(anyhow::anyhow!("libération de {vente_id} refusée : {} {}", up.status, up.body)))
        }
    }
}

/// A sale's reservation as stock knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationState {
    Reserved,
    Released,
    /// Stock never heard of the sale.
    Absent,
}

/// Asks stock where a sale's reservation stands (recovery's question).
pub async fn reservation_state(state: &AppState, ctx: CallCtx<'_>, vente_id: &str) -> ApiResult<ReservationState> {
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let (base, path) = (&state.config.stock_url, format!("/api/stocks/reservations/{vente_id}"));
    match state.platform.client.get_json::<Value>("stock", base, &path, ctx).await? {
        Ok(v) if v["statut"] == "reservee" => Ok(ReservationState::Reserved),
        Ok(v) if v["statut"] == "liberee" => Ok(ReservationState::Released),
        Err(up) if up.status == StatusCode::NOT_FOUND => Ok(ReservationState::Absent),
        Ok(v) => Err(ApiError::Internal(anyhow::anyhow!("état de réservation {vente_id} inconnu : {v}"))),
        Err(up) => {
            Err(ApiError::Internal(anyhow::anyhow!("état de réservation {vente_id} : {} {}", up.status, up.body)))
        }
    }
}

/// Puts goods back (cancellation, return), once per `reference`.
pub async fn restock(
    state: &AppState,
    ctx: CallCtx<'_>,
    reference: &str,
    magasin_id: i64,
    lines: &[Line],
    motif: &str,
) -> ApiResult<()> {
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let (base, path) = (&state.config.stock_url, "/api/stocks/retours");
    let body = json!({"reference": reference, "magasin_id": magasin_id, "lignes": lines, "motif": motif});
    match state
        .platform
        .client
        .send_json::<_, Value>(Method::POST, "stock", base, path, &body, Some(reference), ctx)
        .await?
    {
        Ok(_) => Ok(()),
        Err(up) => {
            Err(ApiError::Internal(anyhow::anyhow!("remise en stock {reference} refusée : {} {}", up.status, up.body)))
        }
    }
}

/// Closes the cart for its sale (idempotent for that sale). With the priced
/// `version` and the sold lines, panier moves anything added since to a new cart.
pub async fn close_cart(
    state: &AppState,
    ctx: CallCtx<'_>,
    panier_id: i64,
    vente_id: &str,
    sold: Option<(i32, &[Line])>,
) -> ApiResult<()> {
    // Closing a cart is vente's call only: with vente's own service token.
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let (base, path) = (&state.config.panier_url, format!("/api/paniers/{panier_id}/fermeture"));
    let body = match sold {
        Some((version, lines)) => json!({"vente_id": vente_id, "version": version, "lignes": lines}),
        None => json!({"vente_id": vente_id}),
    };
    match state
        .platform
        .client
        .send_json::<_, Value>(Method::POST, "panier", base, &path, &body, Some(vente_id), ctx)
        .await?
    {
        Ok(_) => Ok(()),
        Err(up) => {
            Err(ApiError::Internal(anyhow::anyhow!("fermeture du panier {panier_id} : {} {}", up.status, up.body)))
        }
    }
}

/// The token vente uses for stock (reservations, releases, returns are
/// refused to staff tokens) and for its recovery loop: role `service`,
/// signed by vente, valid five minutes.
pub fn service_bearer(state: &AppState) -> ApiResult<String> {
    state.platform.keys.service_bearer("vente")
}
