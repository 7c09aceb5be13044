//! The outbox against real MariaDB and Redis: dense ids in commit order,
//! events appended together kept in their order, nothing from rolled-back
//! transactions, one leader publishing each event once, hand-over when the
//! leader cannot reach Redis, retention.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use caisse_common::{
    Role,
    auth::Claims,
    cache::Redis,
    events::{Envelope, Producer, StockThresholdsChanged},
    metrics::Metrics,
    outbox::{self, FeedParams, Outbox, RelayConfig},
};
use caisse_testing::{TestDb, redis_url};
use sqlx::{Executor, MySqlPool};

fn event(n: i32) -> StockThresholdsChanged {
    StockThresholdsChanged {
        magasin_id: 1,
        produit_id: i64::from(n),
        seuil_alerte: n,
        seuil_surstock: 1000,
        par: "t".into(),
    }
}

fn config() -> RelayConfig {
    RelayConfig {
        retention: Duration::from_secs(3600),
        poll: Duration::from_millis(50),
        prune_every: Duration::from_secs(60),
    }
}

async fn setup() -> (TestDb, MySqlPool, String) {
    let db = TestDb::new("outbox").await;
    let pool = MySqlPool::connect(&db.url).await.unwrap();
    pool.execute(outbox::MIGRATION).await.unwrap();
    let prefix = db.config("stock").redis_prefix;
    (db, pool, prefix)
}

fn admin() -> Claims {
    Claims { sub: 1, login: "admin".into(), role: Role::Admin, magasin_id: None, iat: 0, exp: i64::MAX }
}

async fn append(pool: &MySqlPool, n: i32) {
    let mut tx = pool.begin().await.unwrap();
    outbox::append(&mut tx, &event(n)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn stream_ids(prefix: &str) -> Vec<i64> {
    let client = redis::Client::open(redis_url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let raw: Vec<(String, Vec<(String, String)>)> = redis::cmd("XRANGE")
        .arg(format!("{prefix}evenements:stocks"))
        .arg("-")
        .arg("+")
        .query_async(&mut conn)
        .await
        .unwrap();
    raw.iter().map(|(_, f)| f.iter().find(|(k, _)| k == "id").unwrap().1.parse().unwrap()).collect()
}

async fn wait_for<F: AsyncFn() -> bool>(what: &str, cond: F) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond().await {
        assert!(Instant::now() < deadline, "délai dépassé : {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn feed(pool: &MySqlPool, apres: i64) -> Vec<Envelope> {
    let p = FeedParams { apres: Some(apres), limit: Some(1000) };
    outbox::feed_page(pool, Producer::Stock, &admin(), p).await.unwrap().evenements
}

#[tokio::test]
async fn events_get_dense_ids_in_commit_order_and_are_published_once() {
    let (_db, pool, prefix) = setup().await;
    let redis = Redis::connect(&redis_url(), &prefix).await.unwrap();
    // Two replicas' relays on the same outbox: one leads.
    let a = Outbox::start(Producer::Stock, pool.clone(), redis.clone(), &Metrics::new("a"), config());
    let _b = Outbox::start(Producer::Stock, pool.clone(), redis.clone(), &Metrics::new("b"), config());
    append(&pool, 1).await;
    // Rolled back: its row id is burnt, but no event id is.
    let mut rolled = pool.begin().await.unwrap();
    outbox::append(&mut rolled, &event(99)).await.unwrap();
    rolled.rollback().await.unwrap();
    // Committed out of row-id order: the later row is numbered first.
    let mut slow = pool.begin().await.unwrap();
    outbox::append(&mut slow, &event(3)).await.unwrap();
    append(&pool, 2).await;
    a.notify();
    wait_for("2 événements publiés", async || stream_ids(&prefix).await.len() == 2).await;
    slow.commit().await.unwrap();
    for n in 4..=30 {
        append(&pool, n).await;
    }
    a.notify();
    wait_for("30 événements publiés", async || stream_ids(&prefix).await.len() >= 30).await;
    assert_eq!(stream_ids(&prefix).await, (1..=30).collect::<Vec<_>>(), "publiés une fois, dans l'ordre");
    let events = feed(&pool, 0).await;
    assert_eq!(events.iter().map(|e| e.id).collect::<Vec<_>>(), (1..=30).collect::<Vec<_>>());
    let seuils: Vec<i32> = events
        .iter()
        .map(|e| match e.decode().unwrap() {
            caisse_common::events::Payload::StockThresholdsChanged(s) => s.seuil_alerte,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(&seuils[..3], &[1, 2, 3], "la transaction lente a le numéro suivant son commit");
    assert!(!seuils.contains(&99), "rien d'une transaction annulée");
    assert_eq!(feed(&pool, 28).await.iter().map(|e| e.id).collect::<Vec<_>>(), vec![29, 30]);
}

#[tokio::test]
async fn events_appended_together_keep_their_order() {
    let (_db, pool, prefix) = setup().await;
    let redis = Redis::connect(&redis_url(), &prefix).await.unwrap();
    let relay = Outbox::start(Producer::Stock, pool.clone(), redis, &Metrics::new("m"), config());
    let mut tx = pool.begin().await.unwrap();
    outbox::append_many::<StockThresholdsChanged>(&mut tx, &[]).await.unwrap();
    outbox::append_many(&mut tx, &[event(3), event(1), event(2)]).await.unwrap();
    tx.commit().await.unwrap();
    append(&pool, 4).await;
    relay.notify();
    wait_for("4 événements numérotés", async || feed(&pool, 0).await.len() == 4).await;
    let seuils: Vec<i32> = feed(&pool, 0)
        .await
        .iter()
        .map(|e| match e.decode().unwrap() {
            caisse_common::events::Payload::StockThresholdsChanged(s) => s.seuil_alerte,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(seuils, [3, 1, 2, 4], "dans l'ordre donné, puis le suivant");
}

#[tokio::test]
async fn a_leader_without_redis_hands_over_and_the_feed_stays_complete() {
    let (_db, pool, prefix) = setup().await;
    let dead = Redis::connect("redis://127.0.0.1:1", &prefix).await.unwrap();
    let _cut = Outbox::start(Producer::Stock, pool.clone(), dead, &Metrics::new("coupe"), config());
    for n in 1..=5 {
        append(&pool, n).await;
    }
    // Numbered (in the feed) even though nothing reaches the stream.
    wait_for("5 événements numérotés", async || feed(&pool, 0).await.len() == 5).await;
    assert!(stream_ids(&prefix).await.is_empty());
    let redis = Redis::connect(&redis_url(), &prefix).await.unwrap();
    let _ok = Outbox::start(Producer::Stock, pool.clone(), redis, &Metrics::new("ok"), config());
    wait_for("relais repris par la réplique qui joint Redis", async || stream_ids(&prefix).await.len() == 5).await;
    assert_eq!(stream_ids(&prefix).await, vec![1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn published_rows_past_retention_are_pruned_and_numbering_continues() {
    let (_db, pool, prefix) = setup().await;
    let redis = Redis::connect(&redis_url(), &prefix).await.unwrap();
    let cfg = RelayConfig { retention: Duration::ZERO, prune_every: Duration::from_millis(100), ..config() };
    let relay = Outbox::start(Producer::Stock, pool.clone(), redis, &Metrics::new("r"), cfg);
    for n in 1..=3 {
        append(&pool, n).await;
    }
    relay.notify();
    wait_for("purgés sauf le dernier", async || feed(&pool, 0).await.iter().map(|e| e.id).eq([3])).await;
    append(&pool, 4).await;
    relay.notify();
    wait_for("numérotation continuée", async || feed(&pool, 0).await.iter().any(|e| e.id == 4)).await;
    let page =
        outbox::feed_page(&pool, Producer::Stock, &admin(), FeedParams { apres: None, limit: None }).await.unwrap();
    assert!(page.premier >= 3 && page.dernier == 4, "{page:?}");
}

#[tokio::test]
async fn the_feed_is_for_admins_and_services_and_checks_its_parameters() {
    let (_db, pool, _prefix) = setup().await;
    let mut cashier = admin();
    cashier.role = Role::Caissier;
    let ok = FeedParams { apres: None, limit: None };
    let err = outbox::feed_page(&pool, Producer::Stock, &cashier, ok).await.unwrap_err();
    assert_eq!(err.status(), 403);
    for (apres, limit) in [(Some(-1), None), (None, Some(0)), (None, Some(1001))] {
        let err = outbox::feed_page(&pool, Producer::Stock, &admin(), FeedParams { apres, limit }).await.unwrap_err();
        assert_eq!(err.status(), 422);
    }
    let mut service = admin();
    service.role = Role::Service;
    let page = outbox::feed_page(&pool, Producer::Stock, &service, ok).await.unwrap();
    assert_eq!((page.evenements.len(), page.suivant, page.dernier), (0, None, 0));
}

#[test]
fn every_producer_migrates_the_same_outbox_table() {
    let copies = [
        ("produit", include_str!("../../produit/migrations/0002_outbox.sql")),
        ("stock", include_str!("../../stock/migrations/0004_outbox.sql")),
        ("vente", include_str!("../../vente/migrations/0005_outbox.sql")),
    ];
    for (producer, copy) in copies.iter() {
        assert_eq!(*copy, outbox::MIGRATION, "{producer} : copie de services/common/migrations/outbox.sql modifiée");
    }
}
