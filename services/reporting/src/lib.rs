//! The reporting service: head office's reports from a read model fed by the
//! events of vente, stock and produit (Redis streams, backfilled from the
//! producers' feeds), never from another service's schema.

pub mod apply;
pub mod consumer;
pub mod db;
pub mod domain;
pub mod params;
pub mod peers;
pub mod routes;
pub mod snapshots;
pub mod synthetic;
pub mod telemetry;

use std::{sync::Arc, time::Duration};

use caisse_common::{
    Platform,
    config::{CommonConfig, env_or, service_url},
    events::Producer,
};
use utoipa::OpenApi;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Config {
    pub common: CommonConfig,
    /// `CAISSE_URL`: the list of stores.
    pub caisse_url: String,
    /// `GATEWAY_URL` (else `CAISSE_URL`): the gateway, where the audit
    /// reads every service.
    pub gateway_url: String,
    /// `VENTE_URL`, `STOCK_URL`, `PRODUIT_URL`: the producers' feeds.
    pub vente_url: String,
    pub stock_url: String,
    pub produit_url: String,
    /// How often the leader reads each feed even without a gap (`FEED_POLL_MS`).
    pub feed_poll: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonConfig::from_env("reporting", 8106)?,
            caisse_url: service_url("CAISSE_URL", "http://127.0.0.1:8101"),
            gateway_url: service_url("GATEWAY_URL", &service_url("CAISSE_URL", "http://127.0.0.1:8080")),
            vente_url: service_url("VENTE_URL", "http://127.0.0.1:8105"),
            stock_url: service_url("STOCK_URL", "http://127.0.0.1:8103"),
            produit_url: service_url("PRODUIT_URL", "http://127.0.0.1:8102"),
            feed_poll: Duration::from_millis(env_or("FEED_POLL_MS", 5_000)?),
        })
    }

    pub fn producer_url(&self, p: Producer) -> &str {
        match p {
            Producer::Vente => &self.vente_url,
            Producer::Stock => &self.stock_url,
            Producer::Produit => &self.produit_url,
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub config: Arc<Config>,
    pub metrics: telemetry::ReportMetrics,
    pub stores: Arc<peers::Stores>,
    /// The dashboard's answers, by question and read-model version.
    pub snapshots: Arc<snapshots::Snapshots>,
    /// The read model's version as this replica knows it.
    pub read_model: Arc<snapshots::ReadModel>,
    /// Consumers hold their own Redis connections (blocking reads).
    pub redis_client: redis::Client,
    pub redis_prefix: String,
}

impl AppState {
    pub async fn new(config: &Config) -> anyhow::Result<Self> {
        let platform = Platform::start(&config.common, &MIGRATOR, false).await?;
        let redis_client = redis::Client::open(config.common.redis_url.as_str())
            .map_err(|e| anyhow::anyhow!("REDIS_URL={:?} invalide : {e}", config.common.redis_url))?;
        Ok(Self {
            metrics: telemetry::ReportMetrics::new(&platform.metrics),
            platform,
            config: Arc::new(config.clone()),
            stores: Arc::default(),
            snapshots: Arc::default(),
            read_model: Arc::default(),
            redis_client,
            redis_prefix: config.common.redis_prefix.clone(),
        })
    }
}

/// Connects, migrates, starts one consumer per producer and builds the router.
pub async fn build(config: &Config) -> anyhow::Result<axum::Router> {
    let state = AppState::new(config).await?;
    for p in Producer::ALL {
        tokio::spawn(consumer::run(state.clone(), p));
    }
    tokio::spawn(state.read_model.clone().follow(state.platform.pool.clone()));
    Ok(state.platform.app(routes::router(state.clone()), routes::ApiDoc::openapi()))
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = build(&config).await?;
    caisse_common::server::bind_and_serve(&config.common, app).await
}

/// `reporting rebuild`: empties the read model and replays every producer's
/// feed from its first retained event. Fails, naming them, when some feeds
/// could not be read entirely (the running replicas finish the job then).
pub async fn rebuild(config: &Config) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    db::projection::reset(&state.platform.pool).await?;
    let mut failed = Vec::new();
    for p in Producer::ALL {
        match consumer::catch_up(&state, p).await {
            Ok(n) => {
                tracing::info!(producteur = p.as_str(), evenements = n, "rejoué");
                println!("{} : {n} événements rejoués", p.as_str());
            }
            Err(e) => failed.push(format!("{} ({e:#})", p.as_str())),
        }
    }
    anyhow::ensure!(failed.is_empty(), "flux illisibles : {}", failed.join(", "));
    Ok(())
}
