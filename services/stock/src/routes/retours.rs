//! `/api/stocks/retours`: puts back returned or cancelled goods on behalf
//! of vente, once per reference.

use axum::{Router, extract::State, http::StatusCode, routing::post};
use caisse_common::{ApiError, ApiResult, Auth, client::RequestId, extract::Json};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState, cache_ns,
    db::{self, ledger::Move},
    domain::{self, Ligne, TypeMouvement},
    peers,
    routes::reservations::saga_caller,
    tx::{TxError, with_tx},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stocks/retours", post(create_retour))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouveauRetour {
    /// What causes it, unique per effect: `retour:<id>`, `annulation:<vente>`.
    pub reference: String,
    pub magasin_id: i64,
    pub lignes: Vec<Ligne>,
    pub motif: String,
}

/// Puts returned or cancelled goods back, once per reference.
#[utoipa::path(post, path = "/api/stocks/retours", request_body = NouveauRetour,
    responses((status = 201, description = "remis en stock"), (status = 200, description = "déjà fait (rejeu)"),
              (status = 422, description = "données invalides, dont magasin inconnu")))]
pub async fn create_retour(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    body: ApiResult<Json<NouveauRetour>>,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    saga_caller(&auth)?;
    let Json(input) = body?;
    let lignes = domain::check_lines(&input.lignes)?;
    let r = &input.reference;
    let valid = r.len() <= 100
        && r.split_once(':').is_some_and(|(k, v)| {
            !k.is_empty()
                && k.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
                && !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid {
        return Err(ApiError::field("reference", "forme attendue : type:identifiant (ex. retour:42)"));
    }
    let motif = input.motif.trim().chars().take(255).collect::<String>();
    let pool = &state.platform.pool;
    let already = || (StatusCode::OK, axum::Json(serde_json::json!({"reference": r, "statut": "deja_fait"})));
    if db::ledger::has_cause(pool, TypeMouvement::Retour, r, None).await? {
        return Ok(already());
    }
    // Goods come back to a store stock already holds; any other store must
    // exist at caisse, or it would get stock rows.
    if !db::stocks::magasin_known(pool, input.magasin_id).await? {
        peers::magasin_type(&state, &auth, &rid, "magasin_id", input.magasin_id).await?;
    }
    let (magasin_id, auteur) = (input.magasin_id, auth.login.clone());
    let outcome = with_tx(pool, |tx| {
        let (reference, motif, lignes, auteur) = (r.clone(), motif.clone(), lignes.clone(), auteur.clone());
        Box::pin(async move {
            let moves: Vec<Move> = lignes
                .iter()
                .map(|l| Move {
                    magasin_id,
                    produit_id: l.produit_id,
                    delta: l.quantite,
                    type_mouvement: TypeMouvement::Retour,
                    reference: &reference,
                    motif: &motif,
                    auteur: &auteur,
                })
                .collect();
            db::ledger::apply_batch(tx, &moves)
                .await?
                .map_err(|_| TxError::Api(ApiError::conflict("retour refusé")))?;
            Ok(())
        })
    })
    .await;
    match outcome {
        Ok(()) => {}
        // The same reference committed concurrently: already done.
        Err(ApiError::Conflict { .. }) => return Ok(already()),
        Err(e) => return Err(e),
    }
    state.platform.invalidate(&cache_ns(magasin_id)).await;
    Ok((StatusCode::CREATED, axum::Json(serde_json::json!({"reference": r, "statut": "remis_en_stock"}))))
}
