//! Swagger UI for every service, served at `/docs/` (files vendored at build
//! time: nothing loads from a CDN). Each document is fetched through the
//! gateway at `/openapi/<service>.json`.

use axum::Router;
use utoipa_swagger_ui::{Config, SwaggerUi, Url};

/// Services documented in the UI, in menu order.
pub const SERVICES: &[&str] = &["caisse", "produit", "stock", "panier", "vente"];

pub fn router() -> Router {
    let urls = SERVICES.iter().map(|s| Url::new(s, leak(format!("/openapi/{s}.json"))));
    Router::from(SwaggerUi::new("/docs").config(Config::new(urls)))
}

fn leak(s: String) -> &'static str {
    // Built once at start-up for a handful of services.
    Box::leak(s.into_boxed_str())
}
