//! MySQL pool with embedded migrations, applied at start-up into the
//! service's own schema.

use std::time::Duration;

use sqlx::{
    MySqlPool,
    migrate::Migrator,
    mysql::{MySqlConnectOptions, MySqlPoolOptions},
};

use crate::metrics::Metrics;

/// Now, to the millisecond: the precision of the schemas' `DATETIME(3)`
/// columns, so a time bound from here reads back exactly as it was (an
/// answer built from memory is the one a later read gives).
pub fn now_ms() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(3)
}

/// Connects to `url` and applies `migrator`.
pub async fn connect(url: &str, max_connections: u32, migrator: &Migrator) -> anyhow::Result<MySqlPool> {
    let options: MySqlConnectOptions =
        url.parse().map_err(|e| anyhow::anyhow!("DATABASE_URL invalide ({}) : {e}", redact(url)))?;
    let options = options.charset("utf8mb4").timezone(Some("+00:00".into()));
    let pool = MySqlPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(2)
        .acquire_timeout(Duration::from_secs(3))
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("connexion MySQL impossible ({}) : {e}", redact(url)))?;
    migrate(&pool, migrator).await?;
    Ok(pool)
}

/// Applies migrations under a named lock, so replicas starting together on
/// a fresh schema take turns. (sqlx's own lock asks MariaDB for an infinite
/// wait with a negative timeout, which MariaDB does not honour.)
async fn migrate(pool: &MySqlPool, migrator: &Migrator) -> anyhow::Result<()> {
    const LOCK: &str = "CONCAT('caisse.migrations.', DATABASE())";
    let mut conn = pool.acquire().await?;
    let got: Option<i64> = sqlx::query_scalar(&format!("SELECT GET_LOCK({LOCK}, 60)")).fetch_one(&mut *conn).await?;
    anyhow::ensure!(got == Some(1), "verrou de migration non obtenu en 60 s");
    let result = migrator.run(&mut *conn).await;
    let _ = sqlx::query(&format!("SELECT RELEASE_LOCK({LOCK})")).execute(&mut *conn).await;
    result.map_err(|e| {
        use sqlx::migrate::MigrateError;
        match e {
            MigrateError::VersionMismatch(v) => anyhow::anyhow!(
                "migrations en échec : la migration {v} appliquée à ce schéma diffère de celle de ce programme \
                 (schéma créé par une autre version de Caisse) ; rien n'a été modifié"
            ),
            MigrateError::VersionMissing(v) => anyhow::anyhow!(
                "migrations en échec : la migration {v} appliquée à ce schéma est inconnue de ce programme \
                 (schéma migré par une version plus récente de Caisse) ; rien n'a été modifié"
            ),
            e => anyhow::anyhow!("migrations en échec : {e}"),
        }
    })
}

/// Hides the password of a connection URL.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{user}:***{}", &url[..s], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Publishes pool occupancy; called when `/metrics` is scraped.
pub fn record_pool(pool: &MySqlPool, metrics: &Metrics) {
    let size = i64::from(pool.size());
    let idle = i64::try_from(pool.num_idle()).unwrap_or(i64::MAX);
    metrics.set_pool(idle, size - idle, i64::from(pool.options().get_max_connections()));
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(super::redact("mysql://u:secret@h:3306/db"), "mysql://u:***@h:3306/db");
        assert_eq!(super::redact("mysql://h/db"), "mysql://h/db");
    }
}
