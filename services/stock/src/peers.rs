//! Stock's calls to other services, each answer mapped to a type here:
//! caisse (what a magasin is), produit (whether a product exists).

use caisse_common::{
    ApiError, ApiResult, Auth,
    client::{CallCtx, RequestId},
};
use serde::Deserialize;

use crate::AppState;

/// What a magasin is, according to caisse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TypeMagasin {
    Magasin,
    Logistique,
    MaisonMere,
}

#[derive(Debug, Deserialize)]
struct MagasinRef {
    #[serde(rename = "type")]
    type_magasin: TypeMagasin,
}

/// The type of magasin `id`; a 422 on `champ` when it does not exist.
pub async fn magasin_type(
    state: &AppState,
    auth: &Auth,
    rid: &RequestId,
    champ: &str,
    id: i64,
) -> ApiResult<TypeMagasin> {
    let url = format!("{}/api/magasins/{id}", state.config.caisse_url);
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<MagasinRef>("caisse", &url, ctx).await? {
        Ok(m) => Ok(m.type_magasin),
        Err(up) if up.status == 404 => Err(ApiError::field(champ, format!("le magasin {id} n'existe pas"))),
        Err(up) => Err(ApiError::Unavailable(format!("caisse a répondu {} pour le magasin {id}", up.status))),
    }
}

/// Checks that product `id` exists; a 422 on `produit_id` otherwise.
pub async fn require_produit(state: &AppState, auth: &Auth, rid: &RequestId, id: i64) -> ApiResult<()> {
    let url = format!("{}/api/produits/{id}", state.config.produit_url);
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<serde_json::Value>("produit", &url, ctx).await? {
        Ok(_) => Ok(()),
        Err(up) if up.status == 404 => Err(ApiError::field("produit_id", format!("le produit {id} n'existe pas"))),
        Err(up) => Err(ApiError::Unavailable(format!("produit a répondu {} pour le produit {id}", up.status))),
    }
}
