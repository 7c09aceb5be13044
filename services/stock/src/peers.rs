//! Stock's calls to other services, each answer mapped to a type here:
//! caisse (what a magasin is), produit (whether a product exists), vente
//! (a sale's status, before a reservation is released).

use caisse_common::{
    ApiError, ApiResult, Auth,
    client::{CallCtx, RequestId},
};
use serde::Deserialize;

use crate::{AppState, domain::StatutVente};

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
    let (base, path) = (&state.config.caisse_url, format!("/api/magasins/{id}"));
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<MagasinRef>("caisse", base, &path, ctx).await? {
        Ok(m) => Ok(m.type_magasin),
        Err(up) if up.status == 404 => Err(ApiError::field(champ, format!("le magasin {id} n'existe pas"))),
        Err(up) => Err(ApiError::Unavailable(format!("caisse a répondu {} pour le magasin {id}", up.status))),
    }
}

/// Checks that product `id` exists; a 422 on `produit_id` otherwise.
pub async fn require_produit(state: &AppState, auth: &Auth, rid: &RequestId, id: i64) -> ApiResult<()> {
    let (base, path) = (&state.config.produit_url, format!("/api/produits/{id}"));
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<serde_json::Value>("produit", base, &path, ctx).await? {
        Ok(_) => Ok(()),
        Err(up) if up.status == 404 => Err(ApiError::field("produit_id", format!("le produit {id} n'existe pas"))),
        Err(up) => Err(ApiError::Unavailable(format!("produit a répondu {} pour le produit {id}", up.status))),
    }
}

#[derive(Debug, Deserialize)]
struct EtatVente {
    statut: String,
}

/// What vente says of sale `vente_id`: its status, or `None` when vente
/// never heard of it. Asked with stock's own service token (whoever asked
/// stock for the release); vente unreachable is a 503 (retry).
pub async fn sale_status(state: &AppState, rid: &RequestId, vente_id: &str) -> ApiResult<Option<StatutVente>> {
    let bearer = state.platform.keys.service_bearer("stock")?;
    let ctx = CallCtx { bearer: &bearer, request_id: &rid.0 };
    let (base, path) = (&state.config.vente_url, format!("/api/ventes/{vente_id}/etat"));
    match state.platform.client.get_json::<EtatVente>("vente", base, &path, ctx).await? {
        Ok(e) => e.statut.parse().map(Some).map_err(|_| {
            ApiError::conflict(format!(
                "La vente {vente_id} a un statut que stock ne connaît pas (« {} ») : sa réservation n'est pas libérée.",
                e.statut
            ))
        }),
        Err(up) if up.status == 404 => Ok(None),
        Err(up) => Err(ApiError::Unavailable(format!(
            "vente a répondu {} sur l'état de la vente {vente_id} ; réessayez dans un instant.",
            up.status
        ))),
    }
}

#[derive(Debug, Deserialize)]
struct MagasinId {
    id: i64,
}

#[derive(Debug, Deserialize)]
struct MagasinList {
    magasins: Vec<MagasinId>,
}

/// The logistics centre (the first magasin of type `logistique` caisse
/// lists); a 409 when caisse knows none.
pub async fn logistics_centre(state: &AppState, auth: &Auth, rid: &RequestId) -> ApiResult<i64> {
    let (base, path) = (&state.config.caisse_url, "/api/magasins?type=logistique&limit=1");
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<MagasinList>("caisse", base, path, ctx).await? {
        Ok(list) => list.magasins.first().map(|m| m.id).ok_or_else(|| {
            ApiError::conflict("Aucun centre logistique n'est déclaré (magasin de type « logistique ») : créez-en un.")
        }),
        Err(up) => Err(ApiError::Unavailable(format!(
            "caisse a répondu {} à la recherche du centre logistique ; réessayez dans un instant.",
            up.status
        ))),
    }
}

#[derive(Debug, Deserialize)]
struct ProduitRef {
    id: i64,
    actif: bool,
}

#[derive(Debug, Deserialize)]
struct ProduitRefs {
    produits: Vec<ProduitRef>,
}

/// Checks that every product of `ids` exists and is active (one call per
/// 100 ids); a 422 on `lignes` naming the others otherwise.
pub async fn require_produits(state: &AppState, auth: &Auth, rid: &RequestId, ids: &[i64]) -> ApiResult<()> {
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    let mut missing = vec![];
    for chunk in ids.chunks(100) {
        let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let (base, path) = (&state.config.produit_url, format!("/api/produits?ids={list}"));
        match state.platform.client.get_json::<ProduitRefs>("produit", base, &path, ctx).await? {
            Ok(found) => {
                missing.extend(chunk.iter().filter(|id| !found.produits.iter().any(|p| p.id == **id && p.actif)))
            }
            Err(up) => {
                return Err(ApiError::Unavailable(format!(
                    "produit a répondu {} pour la vérification des produits ; réessayez dans un instant.",
                    up.status
                )));
            }
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    let names = missing.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    Err(ApiError::field("lignes", format!("produit(s) inexistant(s) ou désactivé(s) : {names}")))
}
