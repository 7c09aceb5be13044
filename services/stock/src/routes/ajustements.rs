//! `/api/stocks/ajustements`: corrections after a count, breakage, or a
//! reception at the logistics centre; always with a reason, always ledgered.
//! An `Idempotency-Key` is bound to the request it came with.

use axum::{Router, extract::State, http::StatusCode, routing::post};
use caisse_common::{
    ApiError, ApiResult, Auth,
    client::RequestId,
    extract::{IdempotencyKey, Json, fingerprint},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState, cache_ns,
    db::{self, ajustements::NewAdjustment, ledger::Move},
    domain::{self, Stock, TypeAjustement},
    peers,
    tx::{TxError, with_tx},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/stocks/ajustements", post(create_ajustement))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelAjustement {
    pub magasin_id: i64,
    pub produit_id: i64,
    /// Signed change, non-zero, at most 100000 either way.
    pub delta: i64,
    /// Why (count, breakage, theft, reception...). Required.
    pub motif: String,
    /// `ajustement` (admin) or `reception` (logistique or admin, positive only).
    #[serde(default = "default_kind", rename = "type")]
    pub type_ajustement: TypeAjustement,
}

fn default_kind() -> TypeAjustement {
    TypeAjustement::Ajustement
}

/// Adjusts a quantity. With an `Idempotency-Key`, a retry of the same
/// request (even concurrent) answers 201 with the entry and applies nothing
/// more; the same key with another request is a 422.
#[utoipa::path(post, path = "/api/stocks/ajustements", request_body = NouvelAjustement,
    params(("Idempotency-Key" = Option<String>, Header, description = "Clé unique de la demande (8 à 100 caractères ASCII visibles, un UUID convient)")),
    responses((status = 201, body = Stock, description = "appliqué, ou déjà appliqué sous cette clé"), (status = 403),
              (status = 409, description = "passerait sous zéro : rien n'est appliqué"),
              (status = 422, description = "données invalides (dont magasin ou produit inconnu), ou clé déjà utilisée pour une autre demande")))]
pub async fn create_ajustement(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    key: Option<IdempotencyKey>,
    Json(a): Json<NouvelAjustement>,
) -> ApiResult<(StatusCode, axum::Json<Stock>)> {
    auth.require_role(a.type_ajustement.roles())?;
    let motif = domain::check_ajustement(a.type_ajustement, a.magasin_id, a.delta, &a.motif)?;
    let key = key.map_or_else(|| uuid::Uuid::new_v4().to_string(), |k| k.0);
    let fp = fingerprint(&(a.type_ajustement, a.magasin_id, a.produit_id, a.delta, &motif));
    let pool = &state.platform.pool;
    if replay(pool, &key, &fp).await? {
        return answer(&state, &a).await;
    }
    // An unknown store would otherwise get a stock row. An existing entry
    // was created for a store caisse knew: only a new one needs asking.
    let new_entry = db::stocks::get(pool, a.magasin_id, a.produit_id).await?.is_none();
    let known_magasin = async {
        if new_entry {
            peers::magasin_type(&state, &auth, &rid, "magasin_id", a.magasin_id).await?;
        }
        Ok::<_, ApiError>(())
    };
    tokio::try_join!(known_magasin, peers::require_produit(&state, &auth, &rid, a.produit_id))?;
    let auteur = auth.login.clone();
    let outcome = with_tx(pool, |tx| {
        let (key, fp, motif, auteur) = (key.clone(), fp.clone(), motif.clone(), auteur.clone());
        let (kind, magasin_id, produit_id, delta) = (a.type_ajustement, a.magasin_id, a.produit_id, a.delta);
        Box::pin(async move {
            let new = NewAdjustment {
                key: &key,
                fingerprint: &fp,
                type_ajustement: kind,
                magasin_id,
                produit_id,
                delta,
                auteur: &auteur,
            };
            let id = db::ajustements::insert(tx, new).await?;
            let type_mouvement = kind.type_mouvement();
            let reference = format!("{}:{id}", type_mouvement.as_str());
            let mv = Move {
                magasin_id,
                produit_id,
                delta,
                type_mouvement,
                reference: &reference,
                motif: &motif,
                auteur: &auteur,
            };
            db::ledger::apply(tx, mv).await?.map_err(|s| {
                TxError::Api(ApiError::Conflict {
                    detail: format!(
                        "Le stock du produit {} passerait sous zéro ({} disponible(s)) : rien n'a été ajusté.",
                        s.produit_id, s.disponible
                    ),
                    extra: Some(serde_json::json!({"disponible": s.disponible})),
                })
            })?;
            Ok(())
        })
    })
    .await;
    match outcome {
        Ok(()) => {
            state.platform.invalidate(&cache_ns(a.magasin_id)).await;
            tracing::info!(magasin = a.magasin_id, produit = a.produit_id, delta = a.delta, motif, par = %auth.login, "stock ajusté");
        }
        // The same key committed concurrently: answer what it did.
        Err(ApiError::Conflict { extra: None, .. }) if replay(pool, &key, &fp).await? => {}
        Err(e) => return Err(e),
    }
    answer(&state, &a).await
}

/// True when an adjustment was already made under `key` for this request;
/// a 422 when the key served for another request.
async fn replay(pool: &sqlx::MySqlPool, key: &str, fp: &str) -> ApiResult<bool> {
    match db::ajustements::find_by_key(pool, key).await? {
        None => Ok(false),
        Some((_, f)) if f == fp => Ok(true),
        Some(_) => Err(ApiError::field(
            "Idempotency-Key",
            "cette clé a déjà servi pour un autre ajustement : générez-en une nouvelle",
        )),
    }
}

/// The entry after the adjustment.
async fn answer(state: &AppState, a: &NouvelAjustement) -> ApiResult<(StatusCode, axum::Json<Stock>)> {
    let stock = db::stocks::get(&state.platform.pool, a.magasin_id, a.produit_id)
        .await?
        .ok_or_else(|| ApiError::NotFound("stock".into()))?;
    Ok((StatusCode::CREATED, axum::Json(stock)))
}
