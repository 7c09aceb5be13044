//! HTTP routes of panier (carts and their lines; closing a cart for the
//! sale that paid it) and its OpenAPI document.

pub mod fermeture;
pub mod paniers;

use axum::{
    Router,
    routing::{get, post, put},
};
use caisse_common::server::BearerAuth;
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service panier", description = "Paniers en cours aux caisses."),
    paths(paniers::create_panier, paniers::list_paniers, paniers::get_panier, paniers::set_ligne, paniers::remove_ligne,
        paniers::empty_panier, fermeture::close_panier),
    components(schemas(paniers::Panier, paniers::LignePanier, paniers::NouveauPanier, paniers::Quantite, paniers::PanierList,
        fermeture::PanierFerme, fermeture::LigneVendue, fermeture::Fermeture, crate::domain::StatutPanier,
        caisse_common::FieldError)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/paniers", post(paniers::create_panier).get(paniers::list_paniers))
        .route("/api/paniers/{id}", get(paniers::get_panier))
        .route("/api/paniers/{id}/lignes", axum::routing::delete(paniers::empty_panier))
        .route("/api/paniers/{id}/lignes/{produit_id}", put(paniers::set_ligne).delete(paniers::remove_ligne))
        .route("/api/paniers/{id}/fermeture", post(fermeture::close_panier))
        .with_state(state)
}
