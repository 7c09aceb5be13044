//! The private servers fault tests kill: Redis comes back empty on its port,
//! MariaDB comes back on its port with every committed row.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use caisse_testing::{PrivateMariadb, PrivateRedis};
use sqlx::{Connection, MySqlConnection};

#[tokio::test]
async fn a_private_redis_can_be_killed_and_started_again_on_its_port() {
    let mut redis = PrivateRedis::start().await.unwrap();
    assert!(redis.url().starts_with("redis://127.0.0.1:"));
    assert!(redis.ping().await);
    redis.kill();
    assert!(!redis.ping().await);
    redis.start_again().await.unwrap();
    assert!(redis.ping().await);
}

#[tokio::test]
async fn a_private_mariadb_keeps_committed_rows_across_a_sigkill() {
    let mut db = PrivateMariadb::start().await.unwrap();
    let mut c = MySqlConnection::connect(&db.admin_url()).await.unwrap();
    sqlx::query("CREATE DATABASE t").execute(&mut c).await.unwrap();
    sqlx::query("CREATE TABLE t.x (id INT PRIMARY KEY) ENGINE = InnoDB").execute(&mut c).await.unwrap();
    sqlx::query("INSERT INTO t.x VALUES (1), (2)").execute(&mut c).await.unwrap();
    db.kill();
    assert!(!db.accepts().await);
    db.start_again().await.unwrap();
    let mut c = MySqlConnection::connect(&db.admin_url()).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t.x").fetch_one(&mut c).await.unwrap();
    assert_eq!(n, 2);
}
