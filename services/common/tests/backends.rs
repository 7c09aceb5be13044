//! caisse-common against the real MariaDB and Redis of the machine: how SQL
//! failures reach a client, and the cache's generations.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use caisse_common::{
    ApiError,
    cache::{Cache, Redis},
    metrics::Metrics,
};
use caisse_testing::{TestDb, delete_redis_prefix, redis_url};
use redis::AsyncCommands;

/// What a client sees for a failed statement.
async fn answer_to(pool: &sqlx::MySqlPool, sql: &str) -> (u16, String) {
    let err: ApiError = sqlx::query(sql).execute(pool).await.unwrap_err().into();
    (err.status().as_u16(), err.body().to_string())
}

#[tokio::test]
async fn too_long_out_of_range_and_constraint_failures_are_4xx_without_internals() {
    let db = TestDb::new("common").await;
    let pool = sqlx::MySqlPool::connect(&db.url).await.unwrap();
    sqlx::query(
        "CREATE TABLE table_interne (court VARCHAR(3) NULL, petit TINYINT NULL, positif INT NULL, \
         CONSTRAINT ck_regle_secrete CHECK (positif >= 0))",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (sql, status) in [
        ("INSERT INTO table_interne (court) VALUES ('abcdef')", 422),
        ("INSERT INTO table_interne (petit) VALUES (300)", 422),
        ("INSERT INTO table_interne (positif) VALUES (-1)", 409),
    ] {
        let (got, body) = answer_to(&pool, sql).await;
        assert_eq!(got, status, "{sql}: {body}");
        for internal in ["table_interne", "ck_regle_secrete", &db.schema, "court", "petit", "positif"] {
            assert!(!body.contains(internal), "{sql} laisse fuir {internal} : {body}");
        }
    }
    pool.close().await;
}

async fn cache(prefix: &str) -> Cache {
    Cache::new(Redis::connect(&redis_url(), prefix).await.unwrap(), Metrics::new("test"))
}

async fn read(cache: &Cache, value: &str) -> String {
    let value = value.to_owned();
    cache.get_or_load("ns", "cle", 60, || async move { Ok(value) }).await.unwrap()
}

#[tokio::test]
async fn a_lost_generation_never_brings_back_an_older_entry() {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let cache = cache(&prefix).await;
    let mut conn = redis::Client::open(redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let gen_key = format!("{prefix}ns:gen");

    assert_eq!(read(&cache, "v1").await, "v1");
    cache.invalidate("ns").await;
    assert_eq!(read(&cache, "v2").await, "v2");
    assert_eq!(read(&cache, "autre").await, "v2", "lecture suivante servie par le cache");

    // Redis loses the generation (flush, eviction, restart from an old
    // snapshot) but not the entries: no generation may be reused.
    conn.del::<_, ()>(&gen_key).await.unwrap();
    assert_eq!(read(&cache, "v3").await, "v3", "une entrée d'une génération perdue est resservie");
    conn.del::<_, ()>(&gen_key).await.unwrap();
    cache.invalidate("ns").await;
    assert_eq!(read(&cache, "v4").await, "v4", "une invalidation après la perte réutilise une génération");
    cache.invalidate("ns").await;
    assert_eq!(read(&cache, "v5").await, "v5");

    delete_redis_prefix(&redis_url(), &prefix).await.unwrap();
}

#[tokio::test]
async fn a_value_kept_in_a_replicas_memory_is_served_only_while_its_generation_holds() {
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let (a, b) = (cache(&prefix).await, cache(&prefix).await);
    let mut conn = redis::Client::open(redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    assert_eq!(read(&a, "v1").await, "v1");
    assert_eq!(read(&b, "autre").await, "v1", "l'autre réplique lit la valeur de Redis");
    // The value leaves Redis (eviction) but not the generation: each replica
    // still serves it from its memory, loading nothing.
    let values: Vec<String> = conn.keys(format!("{prefix}ns:v*")).await.unwrap();
    assert_eq!(values.len(), 1, "{values:?}");
    conn.del::<_, ()>(&values).await.unwrap();
    assert_eq!(read(&a, "jamais").await, "v1", "valeur en mémoire non servie");
    assert_eq!(read(&b, "jamais").await, "v1", "valeur en mémoire non servie");
    // A write on replica b: replica a sees it at its next read.
    b.invalidate("ns").await;
    assert_eq!(read(&a, "v2").await, "v2", "valeur périmée servie de la mémoire après une écriture ailleurs");
    assert_eq!(read(&b, "autre").await, "v2");
    // The generation lost (Redis emptied): nothing is served from memory.
    conn.del::<_, ()>(format!("{prefix}ns:gen")).await.unwrap();
    assert_eq!(read(&a, "v3").await, "v3", "valeur servie de la mémoire sans sa génération");
    delete_redis_prefix(&redis_url(), &prefix).await.unwrap();
}

/// Reads served from a replica's memory, many at once, still see every
/// write acknowledged before they started: readers on replica `a` run
/// without pause while replica `b` writes (the value changes, then the
/// bump), and a read started after a write's bump returned never answers an
/// older value.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_reads_from_memory_still_see_every_write_acknowledged_before_them() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    };
    let prefix = format!("test:{}:", uuid::Uuid::new_v4().simple());
    let (a, b) = (cache(&prefix).await, cache(&prefix).await);
    // `stored`: the value in the database; `acknowledged`: the latest write
    // whose bump has returned.
    let stored = Arc::new(AtomicU64::new(0));
    let acknowledged = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..32 {
        let (a, stored, acknowledged, done) = (a.clone(), stored.clone(), acknowledged.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let mut reads = 0u32;
            while !done.load(Ordering::SeqCst) || reads == 0 {
                let floor = acknowledged.load(Ordering::SeqCst);
                let stored = stored.clone();
                let got: u64 =
                    a.get_or_load("ns", "cle", 60, || async move { Ok(stored.load(Ordering::SeqCst)) }).await.unwrap();
                assert!(got >= floor, "lu {got} après l'écriture {floor} acquittée");
                reads += 1;
            }
            reads
        }));
    }
    for write in 1..=40 {
        stored.store(write, Ordering::SeqCst);
        b.invalidate("ns").await;
        acknowledged.store(write, Ordering::SeqCst);
        let stored = stored.clone();
        let got: u64 =
            a.get_or_load("ns", "cle", 60, || async move { Ok(stored.load(Ordering::SeqCst)) }).await.unwrap();
        assert!(got >= write, "lu {got} après l'écriture {write} acquittée");
    }
    done.store(true, Ordering::SeqCst);
    for reader in readers {
        assert!(reader.await.unwrap() > 0);
    }
    delete_redis_prefix(&redis_url(), &prefix).await.unwrap();
}

/// A schema migrated by another version of Caisse (a migration changed
/// since, or one this program does not know) is refused with a message that
/// says so, and nothing is applied.
#[tokio::test]
async fn a_schema_from_another_version_is_refused_with_a_clear_message() {
    use sqlx::migrate::Migrator;
    let db = TestDb::new("common").await;
    let dir = std::env::temp_dir().join(format!("caisse-migr-{}", db.schema));
    let write = |name: &str, sql: &str| std::fs::write(dir.join(name), sql).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    write("0001_init.sql", "CREATE TABLE t (id INT PRIMARY KEY);");
    write("0002_deux.sql", "CREATE TABLE u (id INT PRIMARY KEY);");
    let first = Migrator::new(dir.as_path()).await.unwrap();
    let pool = caisse_common::db::connect(&db.url, 2, &first).await.unwrap();
    pool.close().await;

    write("0002_deux.sql", "CREATE TABLE u (id BIGINT PRIMARY KEY);");
    write("0003_trois.sql", "CREATE TABLE v (id INT PRIMARY KEY);");
    let changed = Migrator::new(dir.as_path()).await.unwrap();
    let err = caisse_common::db::connect(&db.url, 2, &changed).await.unwrap_err().to_string();
    assert!(err.contains("migration 2") && err.contains("autre version de Caisse"), "{err}");

    std::fs::remove_file(dir.join("0002_deux.sql")).unwrap();
    std::fs::remove_file(dir.join("0003_trois.sql")).unwrap();
    let older = Migrator::new(dir.as_path()).await.unwrap();
    let err = caisse_common::db::connect(&db.url, 2, &older).await.unwrap_err().to_string();
    assert!(err.contains("migration 2") && err.contains("plus récente"), "{err}");

    let pool = sqlx::MySqlPool::connect(&db.url).await.unwrap();
    let v: Option<String> = sqlx::query_scalar(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = 'v'",
    )
    .fetch_optional(&pool)
    .await
    .unwrap();
    assert_eq!(v, None, "la migration 3 ne doit pas avoir été appliquée");
    std::fs::remove_dir_all(&dir).unwrap();
}
