//! The produit service: catalogue search, reads cached in Redis, admin edits
//! guarded by versions, each reported on `evenements:produits` (outbox).

pub mod db;
pub mod domain;
pub mod history;
pub mod routes;
pub mod seed;

use caisse_common::{
    Platform,
    config::CommonConfig,
    events::Producer,
    outbox::{Outbox, RelayConfig},
};
use utoipa::OpenApi;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Config {
    pub common: CommonConfig,
    /// Safety-net TTL of cached reads (`CACHE_TTL_SECS`); writes invalidate at once.
    pub cache_ttl_secs: u64,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonConfig::from_env("produit", 8102)?,
            cache_ttl_secs: caisse_common::config::env_or("CACHE_TTL_SECS", 60)?,
        })
    }
}

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub cache_ttl_secs: u64,
    pub outbox: Outbox,
}

pub async fn build(config: &Config) -> anyhow::Result<axum::Router> {
    let platform = Platform::start(&config.common, &MIGRATOR, true).await?;
    let redis = platform.cache.as_ref().map(|c| c.redis().clone()).ok_or_else(|| anyhow::anyhow!("Redis requis"))?;
    let outbox = Outbox::start(
        Producer::Produit,
        platform.pool.clone(),
        redis,
        &platform.metrics,
        RelayConfig::new(&config.common),
    );
    let state = AppState { platform: platform.clone(), cache_ttl_secs: config.cache_ttl_secs, outbox };
    Ok(platform.app(routes::router(state), routes::ApiDoc::openapi()))
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = build(&config).await?;
    caisse_common::server::bind_and_serve(&config.common, app).await
}
