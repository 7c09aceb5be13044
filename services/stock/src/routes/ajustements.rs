//! `/api/stocks/ajustements`: corrections after a count, breakage, or a
//! reception at the logistics centre; always with a reason, always ledgered.

use axum::{Router, extract::State, http::StatusCode, routing::post};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::RequestId,
    extract::{IdempotencyKey, Json},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState, db,
    domain::{MAX_LINE_QUANTITY, Stock},
    ledger::{self, Move},
    routes::{TxError, require_produit, with_tx},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stocks/ajustements", post(create_ajustement))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelAjustement {
    pub magasin_id: i64,
    pub produit_id: i64,
    /// Signed change, non-zero.
    pub delta: i64,
    /// Why (count, breakage, theft, reception...). Required.
    pub motif: String,
    /// `ajustement` (admin) or `reception` (logistique or admin, positive only).
    #[serde(default = "default_kind", rename = "type")]
    pub type_mouvement: String,
}

fn default_kind() -> String {
    "ajustement".into()
}

/// Adjusts a quantity; an optional `Idempotency-Key` makes retries safe.
#[utoipa::path(post, path = "/api/stocks/ajustements", request_body = NouvelAjustement,
    responses((status = 201, body = Stock), (status = 403), (status = 409, description = "passerait sous zéro"), (status = 422)))]
pub async fn create_ajustement(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    key: Option<IdempotencyKey>,
    Json(a): Json<NouvelAjustement>,
) -> ApiResult<(StatusCode, axum::Json<Stock>)> {
    match a.type_mouvement.as_str() {
        "ajustement" => auth.require_role(&[Role::Admin])?,
        "reception" => {
            auth.require_role(&[Role::Admin, Role::Logistique])?;
            if a.delta <= 0 {
                return Err(ApiError::field("delta", "une réception est positive"));
            }
        }
        _ => return Err(ApiError::field("type", "« ajustement » ou « reception »")),
    }
    if a.delta == 0 || a.delta.abs() > MAX_LINE_QUANTITY {
        return Err(ApiError::field(
            "delta",
            format!("entier non nul entre -{MAX_LINE_QUANTITY} et {MAX_LINE_QUANTITY}"),
        ));
    }
    let motif = a.motif.trim().to_owned();
    if motif.is_empty() || motif.chars().count() > 255 {
        return Err(ApiError::field("motif", "obligatoire, 255 caractères au plus"));
    }
    if a.magasin_id <= 0 {
        return Err(ApiError::field("magasin_id", "identifiant invalide"));
    }
    let key = key.map_or_else(|| uuid::Uuid::new_v4().to_string(), |k| k.0);
    require_produit(&state, &auth, &rid, a.produit_id).await?;
    let reference = format!("{}:{key}", a.type_mouvement);
    let replayed: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM mouvements WHERE type = ? AND reference = ? AND magasin_id = ? AND produit_id = ?",
    )
    .bind(&a.type_mouvement)
    .bind(&reference)
    .bind(a.magasin_id)
    .bind(a.produit_id)
    .fetch_optional(&state.platform.pool)
    .await?;
    if replayed.is_none() {
        let auteur = auth.login.clone();
        with_tx(&state.platform.pool, |tx| {
            let (reference, motif, auteur, kind) =
                (reference.clone(), motif.clone(), auteur.clone(), a.type_mouvement.clone());
            let m = (a.magasin_id, a.produit_id, a.delta);
            Box::pin(async move {
                let mv = Move {
                    magasin_id: m.0,
                    produit_id: m.1,
                    delta: m.2,
                    kind: &kind,
                    reference: &reference,
                    motif: &motif,
                    auteur: &auteur,
                };
                ledger::apply(tx, mv).await?.map_err(|s| {
                    TxError::Api(ApiError::Conflict {
                        detail: format!(
                            "Le stock du produit {} passerait sous zéro ({} disponible(s)).",
                            s.produit_id, s.disponible
                        ),
                        extra: Some(serde_json::json!({"disponible": s.disponible})),
                    })
                })?;
                Ok(())
            })
        })
        .await?;
        state.platform.invalidate(&ledger::cache_ns(a.magasin_id)).await;
        tracing::info!(magasin = a.magasin_id, produit = a.produit_id, delta = a.delta, motif, par = %auth.login, "stock ajusté");
    }
    let stock = db::get(&state.platform.pool, a.magasin_id, a.produit_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("stock".into()))?;
    Ok((StatusCode::CREATED, axum::Json(stock)))
}
