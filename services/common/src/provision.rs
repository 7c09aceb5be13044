//! Creates a service's schema and its MySQL user, granted that schema only,
//! and removes them (with the Redis keys under a prefix) when a test stack
//! stops. Used by the launcher, the compose `setup` step and the test helpers.

use sqlx::{Connection, Executor, MySqlConnection};

/// Identifiers are interpolated into DDL, so only a safe alphabet is allowed.
fn check_ident(s: &str) -> anyhow::Result<()> {
    if !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        Ok(())
    } else {
        anyhow::bail!("identifiant MySQL refusé : {s:?}")
    }
}

/// Idempotently creates `schema` and `user`@`host` with `password`, granted
/// all privileges on `schema` and nothing else.
pub async fn provision(admin_url: &str, schema: &str, user: &str, password: &str, host: &str) -> anyhow::Result<()> {
    check_ident(schema)?;
    check_ident(user)?;
    if host != "%" {
        check_ident(&host.replace('.', "_"))?;
    }
    if password.contains('\'') || password.contains('\\') {
        anyhow::bail!("mot de passe MySQL refusé : ni apostrophe ni barre oblique inverse");
    }
    let mut conn = MySqlConnection::connect(admin_url)
        .await
        .map_err(|e| anyhow::anyhow!("connexion administrateur MySQL impossible : {e}"))?;
    for stmt in [
        format!("CREATE DATABASE IF NOT EXISTS `{schema}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"),
        format!("CREATE USER IF NOT EXISTS '{user}'@'{host}' IDENTIFIED BY '{password}'"),
        format!("ALTER USER '{user}'@'{host}' IDENTIFIED BY '{password}'"),
        format!("GRANT ALL PRIVILEGES ON `{schema}`.* TO '{user}'@'{host}'"),
    ] {
        conn.execute(stmt.as_str()).await?;
    }
    conn.close().await?;
    Ok(())
}

/// Drops a schema and a user (test clean-up).
pub async fn drop_schema_and_user(admin_url: &str, schema: &str, user: &str, host: &str) -> anyhow::Result<()> {
    check_ident(schema)?;
    check_ident(user)?;
    let mut conn = MySqlConnection::connect(admin_url).await?;
    // A process frozen mid-transaction (a test runtime blocked in its clean-up)
    // would hold table locks that DROP DATABASE waits on forever: end the
    // sessions on the schema first.
    let sessions: Vec<i64> =
        sqlx::query_scalar("SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? OR DB = ?")
            .bind(user)
            .bind(schema)
            .fetch_all(&mut conn)
            .await?;
    for id in sessions {
        let _ = conn.execute(format!("KILL {id}").as_str()).await;
    }
    conn.execute(format!("DROP DATABASE IF EXISTS `{schema}`").as_str()).await?;
    conn.execute(format!("DROP USER IF EXISTS '{user}'@'{host}'").as_str()).await?;
    conn.close().await?;
    Ok(())
}

/// Deletes every Redis key under `prefix` (a stopped test stack's or test's
/// keys), the Redis counterpart of [`drop_schema_and_user`].
pub async fn delete_redis_prefix(url: &str, prefix: &str) -> redis::RedisResult<()> {
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let mut cursor: u64 = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(500)
            .query_async(&mut conn)
            .await?;
        if !keys.is_empty() {
            redis::cmd("DEL").arg(&keys).query_async::<()>(&mut conn).await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}
