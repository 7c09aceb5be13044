//! HTTP routes of caisse and its OpenAPI document.

pub mod auth;
pub mod docs;
pub mod employes;
pub mod magasins;

use axum::Router;
use caisse_common::server::BearerAuth;
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service caisse", description = "Magasins, employés, authentification."),
    paths(
        auth::login, auth::me, auth::verify,
        magasins::list_magasins, magasins::get_magasin, magasins::create_magasin, magasins::update_magasin,
        employes::list_employes, employes::create_employe,
    ),
    components(schemas(
        crate::domain::Magasin, crate::domain::TypeMagasin, crate::domain::Employe, caisse_common::Role,
        auth::LoginRequest, auth::LoginResponse, magasins::MagasinInput, magasins::MagasinList,
        employes::EmployeInput, employes::EmployeList, caisse_common::FieldError,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(auth::router())
        .merge(magasins::router())
        .merge(employes::router())
        .with_state(state)
        .merge(docs::router())
}
