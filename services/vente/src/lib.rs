//! The vente service: the checkout saga across panier, stock and its own
//! database, the recovery loop that finishes or compensates interrupted
//! sales, cancellations and returns, and their events (`evenements:ventes`,
//! through the shared outbox) and tamper-evident journal (`journal`).

pub mod aftersale;
pub mod closed_carts;
pub mod db;
pub mod domain;
pub mod events;
pub mod fault;
pub mod journal;
pub mod peers;
pub mod recovery;
pub mod routes;
pub mod saga;
pub mod seed;
pub mod status;
pub mod telemetry;

use std::{sync::Arc, time::Duration};

use caisse_common::{
    Platform,
    cache::Redis,
    config::{CommonConfig, env_or, service_url},
    events::Producer,
    outbox::{Outbox, RelayConfig},
};
use utoipa::OpenApi;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct Config {
    pub common: CommonConfig,
    /// `PANIER_URL`, `STOCK_URL`: where the saga's peers answer.
    pub panier_url: String,
    pub stock_url: String,
    /// How often the recovery loop looks for interrupted sales (`RECOVERY_INTERVAL_MS`).
    pub recovery_interval: Duration,
    /// How old a pending sale must be before recovery takes it over (`RECOVERY_GRACE_MS`).
    /// Must exceed the checkout deadline, so recovery never races a live checkout.
    pub recovery_grace: Duration,
    /// How long a checkout waits for stock's reservation before treating the
    /// outcome as unknown and compensating (`CHECKOUT_DEADLINE_MS`).
    pub checkout_deadline: Duration,
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        Ok(Self {
            common: CommonConfig::from_env("vente", 8105)?,
            panier_url: service_url("PANIER_URL", "http://127.0.0.1:8104"),
            stock_url: service_url("STOCK_URL", "http://127.0.0.1:8103"),
            recovery_interval: Duration::from_millis(env_or("RECOVERY_INTERVAL_MS", 5_000)?),
            recovery_grace: Duration::from_millis(env_or("RECOVERY_GRACE_MS", 30_000)?),
            checkout_deadline: Duration::from_millis(env_or("CHECKOUT_DEADLINE_MS", 8_000)?),
        })
    }

    /// A config for tests: fast recovery, the given peers.
    pub fn for_test(common: CommonConfig, panier_url: String, stock_url: String) -> Self {
        Self {
            common,
            panier_url,
            stock_url,
            recovery_interval: Duration::from_millis(300),
            recovery_grace: Duration::from_millis(7_000),
            checkout_deadline: Duration::from_millis(5_000),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub config: Arc<Config>,
    pub redis: Redis,
    pub metrics: telemetry::SaleMetrics,
    /// The relay of `evenements:ventes`, woken after each commit with events.
    pub outbox: Outbox,
    /// The journal's chainer, woken after each commit with entries.
    pub journal: journal::Journal,
    /// The `panier_ferme` marks, written in batches.
    pub closed_carts: closed_carts::ClosedCarts,
}

/// Connects, migrates, starts the recovery loop and the outbox relay, and
/// builds the router.
pub async fn build(config: &Config) -> anyhow::Result<axum::Router> {
    let platform = Platform::start(&config.common, &MIGRATOR, false).await?;
    let redis = Redis::connect(&config.common.redis_url, &config.common.redis_prefix).await?;
    let state = AppState {
        metrics: telemetry::SaleMetrics::new(&platform.metrics),
        platform: platform.clone(),
        config: Arc::new(config.clone()),
        outbox: Outbox::start(
            Producer::Vente,
            platform.pool.clone(),
            redis.clone(),
            &platform.metrics,
            RelayConfig::new(&config.common),
        ),
        journal: journal::Journal::start(platform.pool.clone()),
        closed_carts: closed_carts::ClosedCarts::start(platform.pool.clone()),
        redis,
    };
    tokio::spawn(recovery::run(state.clone()));
    Ok(platform.app(routes::router(state), routes::ApiDoc::openapi()))
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = build(&config).await?;
    caisse_common::server::bind_and_serve(&config.common, app).await
}
