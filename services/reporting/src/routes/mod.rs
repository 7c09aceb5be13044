//! The reporting API: `/api/rapports/...` for admins (every store) and
//! gérants (their own store).

pub mod audit;
pub mod rapports;

use axum::{Router, routing::get};
use caisse_common::server::BearerAuth;
use utoipa::OpenApi;

use crate::{AppState, domain};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Caisse — service reporting",
        description = "Rapports du siège, bâtis à partir des événements des services : ventes par magasin, \
                       meilleurs produits, tendance, alertes de stock, tableau de bord, export CSV. \
                       Jours calendaires des magasins (America/Toronto)."
    ),
    paths(
        rapports::get_ventes,
        rapports::get_ventes_csv,
        rapports::get_top_produits,
        rapports::get_tendance,
        rapports::get_stocks,
        rapports::get_tableau_de_bord,
        audit::get_audit
    ),
    components(schemas(
        domain::Chiffres,
        domain::VentesMagasin,
        domain::RapportVentes,
        domain::LigneStock,
        domain::StatutStock,
        rapports::TopProduits,
        rapports::ProduitClasse,
        rapports::Tendance,
        rapports::JourTendance,
        rapports::PointMagasin,
        rapports::Stocks,
        rapports::TableauDeBord,
        caisse_common::audit::Audit,
        caisse_common::audit::Ecart,
        caisse_common::FieldError
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/rapports/ventes", get(rapports::get_ventes))
        .route("/api/rapports/ventes.csv", get(rapports::get_ventes_csv))
        .route("/api/rapports/produits", get(rapports::get_top_produits))
        .route("/api/rapports/tendance", get(rapports::get_tendance))
        .route("/api/rapports/stocks", get(rapports::get_stocks))
        .route("/api/rapports/tableau-de-bord", get(rapports::get_tableau_de_bord))
        .route("/api/rapports/audit", get(audit::get_audit))
        .with_state(state)
}
