//! The saga's calls to panier and stock, and the identity vente uses when
//! no user is behind the call (recovery loop).

use caisse_common::{
    ApiError, ApiResult,
    client::{CallCtx, Upstream},
};
use reqwest::Method;
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
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Line {
    pub produit_id: i64,
    pub quantite: i64,
}

/// The cart as panier sees it now; `Err` for a 4xx answer.
pub async fn cart(state: &AppState, ctx: CallCtx<'_>, panier_id: i64) -> ApiResult<Result<Cart, Upstream>> {
    let url = format!("{}/api/paniers/{panier_id}", state.config.panier_url);
    state.platform.client.get_json("panier", &url, ctx).await
}

/// Reserves the lines of a sale. `Ok(Err(_))` is stock's refusal (nothing
/// reserved); `Err(_)` means the outcome is unknown.
pub async fn reserve(
    state: &AppState,
    ctx: CallCtx<'_>,
    vente_id: &str,
    magasin_id: i64,
    lines: &[Line],
) -> ApiResult<Result<(), Upstream>> {
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let url = format!("{}/api/stocks/reservations", state.config.stock_url);
    let body = json!({"vente_id": vente_id, "magasin_id": magasin_id, "lignes": lines});
    let res: Result<Value, Upstream> =
        state.platform.client.send_json(Method::POST, "stock", &url, &body, Some(vente_id), ctx).await?;
    Ok(res.map(|_| ()))
}

/// Releases a sale's reservation (idempotent; a tombstone if none exists).
pub async fn release(state: &AppState, ctx: CallCtx<'_>, vente_id: &str, magasin_id: i64) -> ApiResult<()> {
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let url = format!("{}/api/stocks/reservations/{vente_id}/liberation", state.config.stock_url);
    let body = json!({"magasin_id": magasin_id});
    match state.platform.client.send_json::<_, Value>(Method::POST, "stock", &url, &body, Some(vente_id), ctx).await? {
        Ok(_) => Ok(()),
        Err(up) => {
            Err(ApiError::Internal(anyhow::anyhow!("libération de {vente_id} refusée : {} {}", up.status, up.body)))
        }
    }
}

/// `Some("reservee" | "liberee")`, or `None` when stock never heard of the sale.
pub async fn reservation_status(state: &AppState, ctx: CallCtx<'_>, vente_id: &str) -> ApiResult<Option<String>> {
    let bearer = service_bearer(state)?;
    let ctx = CallCtx { bearer: &bearer, request_id: ctx.request_id };
    let url = format!("{}/api/stocks/reservations/{vente_id}", state.config.stock_url);
    match state.platform.client.get_json::<Value>("stock", &url, ctx).await? {
        Ok(v) => Ok(v["statut"].as_str().map(str::to_owned)),
        Err(up) if up.status == 404 => Ok(None),
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
    let url = format!("{}/api/stocks/retours", state.config.stock_url);
    let body = json!({"reference": reference, "magasin_id": magasin_id, "lignes": lines, "motif": motif});
    match state.platform.client.send_json::<_, Value>(Method::POST, "stock", &url, &body, Some(reference), ctx).await? {
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
    let url = format!("{}/api/paniers/{panier_id}/fermeture", state.config.panier_url);
    let body = match sold {
        Some((version, lines)) => json!({"vente_id": vente_id, "version": version, "lignes": lines}),
        None => json!({"vente_id": vente_id}),
    };
    match state.platform.client.send_json::<_, Value>(Method::POST, "panier", &url, &body, Some(vente_id), ctx).await? {
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
