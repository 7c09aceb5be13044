//! HTTP routes of vente and its OpenAPI document.

pub mod evenements;
pub mod journal;
pub mod sessions;
pub mod ventes;

use axum::Router;
use caisse_common::server::BearerAuth;
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service vente", description = "Encaissement (saga), reçus, annulations, retours, journal inaltérable."),
    paths(ventes::create_vente, ventes::list_ventes, ventes::get_vente, ventes::get_etat, ventes::cancel_vente, ventes::create_retour, evenements::list_evenements, sessions::get_totaux, journal::get_tete, journal::get_verification, journal::list_journal),
    components(schemas(
        crate::saga::NouvelleVente, crate::saga::Paiement, crate::domain::Mode, crate::domain::Totaux,
        crate::domain::Reglement, crate::db::SaleLine, crate::aftersale::NouveauRetour, crate::aftersale::LigneRetour,
        crate::aftersale::Retour, ventes::Recu, ventes::ResumeVente, ventes::EtatVente, crate::status::SaleStatus, ventes::VenteList, caisse_common::outbox::FeedPage, caisse_common::FieldError,
        sessions::TotauxSession, sessions::TotauxVentes, sessions::TotalMode, sessions::TotauxRemboursements,
        journal::Tete, journal::Verification, journal::Maillon, journal::Rupture, journal::Entree, journal::PageJournal,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    evenements::router().merge(journal::router()).merge(ventes::router()).merge(sessions::router()).with_state(state)
}
