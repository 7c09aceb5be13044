//! The caisse service: magasins, staff accounts, login and token checks,
//! registers and their cash sessions (Z-reports), and the Swagger UI that
//! documents every service.

pub mod db;
pub mod domain;
pub mod password;
pub mod registers;
pub mod routes;
pub mod seed;
pub mod zreport;

use caisse_common::{Platform, config::CommonConfig};
use utoipa::OpenApi;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Service configuration.
#[derive(Clone, Debug)]
pub struct Config {
    pub common: CommonConfig,
    /// Lifetime of an access token (`TOKEN_TTL_SECS`, default a 10-hour shift).
    pub token_ttl_secs: i64,
    pub login_lock: LoginLock,
    /// Base URL of vente (`VENTE_URL`): a session's figures at closing.
    pub vente_url: String,
}

/// Brute-force brake per login: after `max_failures` failed logins in a row
/// the login is refused (429, `Retry-After`) for `lock_secs`, even with the
/// right password; a successful login resets the count.
#[derive(Clone, Copy, Debug)]
pub struct LoginLock {
    /// `LOGIN_ECHECS_MAX`, default 10.
    pub max_failures: u32,
    /// `LOGIN_BLOCAGE_SECS`, default 900 (15 minutes).
    pub lock_secs: u64,
}

impl Default for LoginLock {
    fn default() -> Self {
        Self { max_failures: 10, lock_secs: 900 }
    }
}

impl Config {
    pub fn from_env() -> anyhow::Result<Self> {
        use caisse_common::config::env_or;
        let d = LoginLock::default();
        Ok(Self {
            common: CommonConfig::from_env("caisse", 8101)?,
            token_ttl_secs: env_or("TOKEN_TTL_SECS", 36_000)?,
            login_lock: LoginLock {
                max_failures: env_or("LOGIN_ECHECS_MAX", d.max_failures)?.max(1),
                lock_secs: env_or("LOGIN_BLOCAGE_SECS", d.lock_secs)?.max(1),
            },
            vente_url: caisse_common::config::service_url("VENTE_URL", "http://127.0.0.1:8105"),
        })
    }

    /// A config for tests: a 1-hour token, the default login brake, vente at `vente_url`.
    pub fn for_test(common: CommonConfig, vente_url: String) -> Self {
        Self { common, token_ttl_secs: 3600, login_lock: LoginLock::default(), vente_url }
    }
}

/// Handler state.
#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub token_ttl_secs: i64,
    pub login_lock: LoginLock,
    /// Password hashing, a few at a time (see [`password::Hasher`]).
    pub hasher: std::sync::Arc<password::Hasher>,
    /// Base URL of vente.
    pub vente_url: String,
}

/// Connects, migrates and builds the full router.
pub async fn build(config: &Config) -> anyhow::Result<axum::Router> {
    let platform = Platform::start(&config.common, &MIGRATOR, false).await?;
    let state = AppState {
        platform: platform.clone(),
        token_ttl_secs: config.token_ttl_secs,
        login_lock: config.login_lock,
        hasher: std::sync::Arc::new(password::Hasher::per_core()?),
        vente_url: config.vente_url.clone(),
    };
    Ok(platform.app(routes::router(state), routes::ApiDoc::openapi()))
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    let app = build(&config).await?;
    caisse_common::server::bind_and_serve(&config.common, app).await
}
