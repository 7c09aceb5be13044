//! HTTP routes of caisse and its OpenAPI document.

pub mod auth;
pub mod caisses;
pub mod docs;
pub mod employes;
pub mod magasins;

use axum::Router;
use caisse_common::server::BearerAuth;
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service caisse", description = "Magasins, employés, authentification, caisses et sessions de caisse (rapport Z)."),
    paths(
        auth::login, auth::me, auth::verify,
        magasins::list_magasins, magasins::get_magasin, magasins::create_magasin, magasins::update_magasin,
        employes::list_employes, employes::create_employe,
        caisses::list_caisses, caisses::create_caisse, caisses::open_session, caisses::list_sessions,
        caisses::get_session, caisses::close_session, caisses::get_rapport_z,
    ),
    components(schemas(
        crate::domain::Magasin, crate::domain::TypeMagasin, crate::domain::Employe, caisse_common::Role,
        auth::LoginRequest, auth::LoginResponse, magasins::MagasinInput, magasins::MagasinList,
        employes::EmployeInput, employes::EmployeList, caisse_common::FieldError,
        crate::registers::Caisse, crate::registers::Session, crate::registers::StatutSession,
        caisses::CaisseList, caisses::NouvelleCaisse, caisses::Ouverture, caisses::Fermeture, caisses::SessionList,
        crate::zreport::RapportZ, crate::zreport::VentesZ, crate::zreport::ParMode, crate::zreport::Compte,
        crate::zreport::Especes, crate::zreport::JournalZ,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(auth::router())
        .merge(magasins::router())
        .merge(employes::router())
        .merge(caisses::router())
        .with_state(state)
        .merge(docs::router())
}
