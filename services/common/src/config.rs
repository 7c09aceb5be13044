//! Typed configuration read once from the environment.
//!
//! Every variable has a default that fits the native dev setup (MariaDB and
//! Redis on localhost); a malformed value fails fast with a message naming it.

use std::{fmt::Display, net::SocketAddr, str::FromStr};

/// Reads `name`, falling back to `default` when unset or empty.
pub fn env_or<T>(name: &str, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    parse_var(name, std::env::var(name).ok(), default)
}

fn parse_var<T>(name: &str, raw: Option<String>, default: T) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    match raw {
        Some(raw) if !raw.trim().is_empty() => {
            raw.trim().parse().map_err(|e| anyhow::anyhow!("variable d'environnement {name}={raw:?} invalide : {e}"))
        }
        _ => Ok(default),
    }
}

/// Reads a string variable with a default.
pub fn env_string(name: &str, default: &str) -> String {
    match std::env::var(name) {
        Ok(raw) if !raw.trim().is_empty() => raw.trim().to_owned(),
        _ => default.to_owned(),
    }
}

/// Development-only JWT secret. Production deployments set `JWT_SECRET`.
pub const DEV_JWT_SECRET: &str = "dev-only-secret-change-me-caisse-0123456789";

/// Settings shared by every service binary.
#[derive(Clone, Debug)]
pub struct CommonConfig {
    pub service: &'static str,
    pub bind_addr: SocketAddr,
    pub database_url: String,
    pub redis_url: String,
    pub redis_prefix: String,
    pub jwt_secret: String,
    pub log_json: bool,
    /// Maximum MySQL connections per replica (10: ten replicas stay well
    /// under MariaDB's default limit of 151).
    pub db_max_connections: u32,
    /// How long producers keep published events in their outbox, served by
    /// their feed (`OUTBOX_RETENTION_HOURS`, default 90 days).
    pub outbox_retention: std::time::Duration,
}

impl CommonConfig {
    /// Reads the common variables for `service`, whose default port is `port`.
    pub fn from_env(service: &'static str, port: u16) -> anyhow::Result<Self> {
        let jwt_secret = env_string("JWT_SECRET", DEV_JWT_SECRET);
        if jwt_secret.len() < 32 {
            anyhow::bail!("variable d'environnement JWT_SECRET trop courte : 32 caractères au moins");
        }
        Ok(Self {
            service,
            bind_addr: env_or("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], port)))?,
            database_url: env_string(
                "DATABASE_URL",
                &format!("mysql://{service}:{service}-dev-password@127.0.0.1:3306/caisse_{service}"),
            ),
            redis_url: env_string("REDIS_URL", "redis://127.0.0.1:6379"),
            redis_prefix: env_string("REDIS_PREFIX", "caisse:"),
            jwt_secret,
            log_json: env_string("LOG_FORMAT", "json") == "json",
            db_max_connections: env_or("DB_MAX_CONNECTIONS", 10)?,
            outbox_retention: std::time::Duration::from_secs(3600 * env_or::<u64>("OUTBOX_RETENTION_HOURS", 90 * 24)?),
        })
    }
}

/// Base URL of another service (`CAISSE_URL`, `PRODUIT_URL`, ...), without trailing slash.
pub fn service_url(var: &str, default: &str) -> String {
    env_string(var, default).trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_value_names_the_variable() {
        let err = parse_var::<u16>("BIND_PORT", Some("abc".into()), 1).unwrap_err().to_string();
        assert!(err.contains("BIND_PORT"), "{err}");
    }

    #[test]
    fn empty_or_unset_value_takes_the_default() {
        assert_eq!(parse_var::<u16>("X", None, 7).unwrap(), 7);
        assert_eq!(parse_var::<u16>("X", Some("  ".into()), 7).unwrap(), 7);
        assert_eq!(parse_var::<u16>("X", Some(" 42 ".into()), 7).unwrap(), 42);
    }
}
