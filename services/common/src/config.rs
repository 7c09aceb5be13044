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

/// Every dev secret the repository holds (native default, compose and k8s
/// examples): refused outside dev mode.
pub const DEV_JWT_SECRETS: &[&str] = &[DEV_JWT_SECRET, "caisse-dev-jwt-secret-not-for-production-0123456789"];

/// Dev database passwords all end with this (`caisse-dev-password`, …).
pub const DEV_PASSWORD_SUFFIX: &str = "-dev-password";

/// `CAISSE_DEV=1`: the dev defaults (secret, database passwords) are
/// allowed. The native launcher and the tests set it; a deployment does not.
pub fn dev_mode() -> bool {
    env_string("CAISSE_DEV", "0") == "1"
}

/// Refuses dev secrets outside dev mode, naming the variable to set.
pub fn check_secrets(
    dev: bool,
    jwt_secret: &str,
    jwt_previous: Option<&str>,
    database_url: &str,
) -> anyhow::Result<()> {
    for (var, secret) in [("JWT_SECRET", Some(jwt_secret)), ("JWT_SECRET_PRECEDENT", jwt_previous)] {
        let Some(secret) = secret else { continue };
        if secret.len() < 32 {
            anyhow::bail!("variable d'environnement {var} trop courte : 32 caractères au moins");
        }
        if !dev && DEV_JWT_SECRETS.contains(&secret) {
            anyhow::bail!(
                "{var} est le secret de développement du dépôt : définissez un secret à vous \
                 (ou CAISSE_DEV=1 pour un poste de développement)"
            );
        }
    }
    let password = database_url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(userinfo, _)| userinfo.split_once(':'))
        .map(|(_, p)| p);
    if !dev && password.is_none_or(|p| p.is_empty() || p.ends_with(DEV_PASSWORD_SUFFIX)) {
        anyhow::bail!(
            "DATABASE_URL porte le mot de passe de développement (ou aucun) : définissez celui du compte \
             MySQL du service (ou CAISSE_DEV=1 pour un poste de développement)"
        );
    }
    Ok(())
}

/// Settings shared by every service binary.
#[derive(Clone, Debug)]
pub struct CommonConfig {
    pub service: &'static str,
    pub bind_addr: SocketAddr,
    pub database_url: String,
    pub redis_url: String,
    pub redis_prefix: String,
    pub jwt_secret: String,
    /// The secret being retired during a rotation (`JWT_SECRET_PRECEDENT`):
    /// tokens it signed are still accepted, none is signed with it.
    pub jwt_previous_secret: Option<String>,
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
        let jwt_previous_secret = Some(env_string("JWT_SECRET_PRECEDENT", "")).filter(|s| !s.is_empty());
        let database_url = env_string(
            "DATABASE_URL",
            &format!("mysql://{service}:{service}{DEV_PASSWORD_SUFFIX}@127.0.0.1:3306/caisse_{service}"),
        );
        check_secrets(dev_mode(), &jwt_secret, jwt_previous_secret.as_deref(), &database_url)?;
        Ok(Self {
            service,
            bind_addr: env_or("BIND_ADDR", SocketAddr::from(([127, 0, 0, 1], port)))?,
            database_url,
            redis_url: env_string("REDIS_URL", "redis://127.0.0.1:6379"),
            redis_prefix: env_string("REDIS_PREFIX", "caisse:"),
            jwt_secret,
            jwt_previous_secret,
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
    fn dev_secrets_are_refused_outside_dev_mode_only() {
        let url = "mysql://stock:stock-dev-password@127.0.0.1:3306/caisse_stock";
        let real_url = "mysql://stock:Zq8-long-real-password@db:3306/caisse_stock";
        let real = "a-real-secret-of-more-than-32-characters-42";
        for dev in DEV_JWT_SECRETS {
            let err = check_secrets(false, dev, None, real_url).unwrap_err().to_string();
            assert!(err.contains("JWT_SECRET") && err.contains("CAISSE_DEV=1"), "{err}");
            assert!(check_secrets(true, dev, None, url).is_ok());
            let err = check_secrets(false, real, Some(dev), real_url).unwrap_err().to_string();
            assert!(err.contains("JWT_SECRET_PRECEDENT"), "{err}");
        }
        let err = check_secrets(false, real, None, url).unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert!(check_secrets(false, real, None, "mysql://stock@db:3306/caisse_stock").is_err());
        assert!(check_secrets(false, real, None, "mysql://stock:@db:3306/caisse_stock").is_err());
        assert!(check_secrets(false, real, None, real_url).is_ok());
        assert!(check_secrets(false, real, Some("another-real-secret-of-32-characters-at-least"), real_url).is_ok());
        // Too short is refused even in dev mode.
        assert!(check_secrets(true, "court", None, url).is_err());
    }

    #[test]
    fn empty_or_unset_value_takes_the_default() {
        assert_eq!(parse_var::<u16>("X", None, 7).unwrap(), 7);
        assert_eq!(parse_var::<u16>("X", Some("  ".into()), 7).unwrap(), 7);
        assert_eq!(parse_var::<u16>("X", Some(" 42 ".into()), 7).unwrap(), 42);
    }
}
