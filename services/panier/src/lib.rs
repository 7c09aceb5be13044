//! The panier service: carts opened on a register's open cash session, lines priced from the
//! catalogue at read time, closed by the sale that paid it.

pub mod db;
pub mod domain;
pub mod routes;

use caisse_common::{Platform, config::CommonConfig};
use utoipa::OpenApi;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Config {
    pub common: CommonConfig,
    /// Base URL of produit (`PRODUIT_URL`).
    pub produit_url: String,
    /// Base URL of caisse (`CAISSE_URL`): the session a cart is opened on.
    pub caisse_url: String,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonConfig::from_env("panier", 8104)?,
            produit_url: caisse_common::config::service_url("PRODUIT_URL", "http://127.0.0.1:8102"),
            caisse_url: caisse_common::config::service_url("CAISSE_URL", "http://127.0.0.1:8101"),
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub config: std::sync::Arc<Config>,
}

pub async fn build(config: &Config) -> anyhow::Result<axum::Router> {
    let platform = Platform::start(&config.common, &MIGRATOR, false).await?;
    let state = AppState { platform: platform.clone(), config: std::sync::Arc::new(config.clone()) };
    Ok(platform.app(routes::router(state), routes::ApiDoc::openapi()))
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = build(&config).await?;
    caisse_common::server::bind_and_serve(&config.common, app).await
}
