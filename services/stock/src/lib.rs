//! The stock service: quantities per (magasin, produit) that never go
//! negative, the movement ledger that explains them, transfers from the
//! logistics centre, adjustments and alerts.

pub mod db;
pub mod domain;
pub mod peers;
pub mod routes;
pub mod seed;
pub mod tx;

/// The ledger, at the crate root too: other crates' tests check its balance.
pub use db::ledger;

use caisse_common::{Platform, config::CommonConfig};
use utoipa::OpenApi;

use caisse_common::{
    events::Producer,
    outbox::{Outbox, RelayConfig},
};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Config {
    pub common: CommonConfig,
    pub cache_ttl_secs: u64,
    /// Base URL of caisse (magasin types), `CAISSE_URL`.
    pub caisse_url: String,
    /// Base URL of produit (product existence), `PRODUIT_URL`.
    pub produit_url: String,
    /// Base URL of vente (a sale's status before a release), `VENTE_URL`.
    pub vente_url: String,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonConfig::from_env("stock", 8103)?,
            cache_ttl_secs: caisse_common::config::env_or("CACHE_TTL_SECS", 60)?,
            caisse_url: caisse_common::config::service_url("CAISSE_URL", "http://127.0.0.1:8101"),
            produit_url: caisse_common::config::service_url("PRODUIT_URL", "http://127.0.0.1:8102"),
            vente_url: caisse_common::config::service_url("VENTE_URL", "http://127.0.0.1:8105"),
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub config: std::sync::Arc<Config>,
    pub transfers: prometheus::IntCounterVec,
    pub reservations: prometheus::IntCounterVec,
}

pub async fn build(config: &Config) -> anyhow::Result<axum::Router> {
    let platform = Platform::start(&config.common, &MIGRATOR, true).await?;
    let transfers = platform.metrics.counter_vec(
        "stock_transfers_total",
        "Transferts de stock demandés, par résultat (ok, insuffisant, rejoue, refuse)",
        &["result"],
    );
    let reservations = platform.metrics.counter_vec(
        "stock_reservations_total",
        "Réservations de vente, par résultat (ok, insuffisant, rejoue)",
        &["result"],
    );
    // Movements are reported on `evenements:stocks`; the relay runs on its own.
    let redis = platform.cache.as_ref().map(|c| c.redis().clone()).ok_or_else(|| anyhow::anyhow!("Redis requis"))?;
    let relay = RelayConfig::new(&config.common);
    Outbox::start(Producer::Stock, platform.pool.clone(), redis, &platform.metrics, relay);
    let state =
        AppState { platform: platform.clone(), config: std::sync::Arc::new(config.clone()), transfers, reservations };
    Ok(platform.app(routes::router(state), routes::ApiDoc::openapi()))
}

/// The cache namespace of one magasin's stock.
pub fn cache_ns(magasin_id: i64) -> String {
    format!("stock:magasin:{magasin_id}")
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = build(&config).await?;
    caisse_common::server::bind_and_serve(&config.common, app).await
}
