//! HTTP routes of stock (thin handlers, one file per resource) and its
//! OpenAPI document.

pub mod ajustements;
pub mod demande_flux;
pub mod demandes;
pub mod evenements;
pub mod mouvements;
pub mod reservations;
pub mod retours;
pub mod stocks;
pub mod transferts;

use axum::Router;
use caisse_common::server::BearerAuth;
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service stock", description = "Stocks par magasin, transferts, ajustements, alertes, registre des mouvements."),
    paths(
        stocks::list_stocks, stocks::get_stock, stocks::list_alertes, stocks::update_seuils,
        transferts::create_transfert, transferts::get_transfert,
        ajustements::create_ajustement, mouvements::list_mouvements,
        reservations::create_reservation, reservations::get_reservation, reservations::release_reservation,
        retours::create_retour, evenements::list_evenements,
        demandes::create_demande, demandes::list_demandes, demandes::get_suggestion, demandes::get_demande,
        demande_flux::approve_demande, demande_flux::refuse_demande, demande_flux::ship_demande,
        demande_flux::receive_demande,
    ),
    components(schemas(
        crate::domain::Stock, crate::domain::Mouvement, crate::domain::Niveau, crate::domain::Ligne,
        crate::domain::TypeMouvement, crate::domain::TypeAjustement, crate::domain::StatutReservation,
        crate::domain::Transfert, crate::domain::Reservation,
        stocks::StockList, stocks::Alerte, stocks::AlerteList, stocks::Seuils,
        transferts::NouveauTransfert, ajustements::NouvelAjustement,
        mouvements::MouvementList, reservations::NouvelleReservation,
        reservations::Liberation, retours::NouveauRetour,
        crate::domain::Demande, crate::domain::LigneDemande, crate::domain::Etape, crate::domain::StatutDemande,
        crate::domain::QuantiteLigne, demandes::NouvelleDemande, demandes::DemandeList, demandes::Suggestion,
        demandes::LigneSuggeree, demande_flux::Approbation, demande_flux::Refus, demande_flux::Expedition,
        demande_flux::Reception, caisse_common::outbox::FeedPage, caisse_common::FieldError,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(stocks::router())
        .merge(transferts::router())
        .merge(ajustements::router())
        .merge(mouvements::router())
        .merge(reservations::router())
        .merge(retours::router())
        .merge(evenements::router())
        .merge(demandes::router())
        .with_state(state)
}
