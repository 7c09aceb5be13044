//! Fault suite, infrastructure: the stack's own Redis killed under load (reads
//! still answered from MySQL, no stale price once it is back), and its own
//! MariaDB killed and restarted (readiness follows it, no committed sale lost,
//! pending sales resolved).

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use caisse_launcher::Options;
use caisse_testing::{PrivateMariadb, PrivateRedis};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::{
    consistency::{check, prepare_stock, wait_settled},
    harness::Sys,
    load::{Load, PLENTY, SCARCE, full},
    tills::client,
};

/// Readers looping over catalogue and stock reads, counting every answer.
struct Readers {
    stop: Arc<AtomicBool>,
    answered: Arc<AtomicUsize>,
    tasks: Vec<JoinHandle<Vec<String>>>,
}

impl Readers {
    fn start(sys: &Sys, auth: &str, n: usize) -> Readers {
        let (stop, answered) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let http = client();
        let tasks = (0..n)
            .map(|r| {
                let (http, base, auth) = (http.clone(), sys.stack.gateway_url.clone(), auth.to_owned());
                let (stop, answered) = (stop.clone(), answered.clone());
                tokio::spawn(async move {
                    let paths = ["/api/produits?q=lait", "/api/produits/3", "/api/stocks/magasins/1/produits/1"];
                    let mut failures = vec![];
                    let mut i = r;
                    while !stop.load(Ordering::SeqCst) {
                        let path = paths[i % paths.len()];
                        i += 1;
                        match http.get(format!("{base}{path}")).header("authorization", &auth).send().await {
                            Ok(res) if res.status() == 200 => {}
                            Ok(res) => failures.push(format!("GET {path} -> {}", res.status())),
                            Err(e) => failures.push(format!("GET {path} : {e}")),
                        }
                        answered.fetch_add(1, Ordering::SeqCst);
                    }
                    failures
                })
            })
            .collect();
        Readers { stop, answered, tasks }
    }

    fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }

    /// Waits for `n` more answered reads; fails if none comes for 15 s.
    async fn wait_answered(&self, n: usize, what: &str) {
        let from = self.answered();
        let (mut seen, mut progress) = (from, Instant::now());
        while self.answered() < from + n {
            if self.answered() > seen {
                (seen, progress) = (self.answered(), Instant::now());
            }
            assert!(
                progress.elapsed() < Duration::from_secs(15),
                "{what} : lectures bloquées ({} sur {n})",
                seen - from
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        let mut failures = vec![];
        for t in self.tasks {
            failures.extend(t.await.expect("lecteur"));
        }
        (self.answered.load(Ordering::SeqCst), failures)
    }
}

/// Sets product 4's price, then reads it from every produit replica directly:
/// each must serve the new price at once. `via` = (replica read for the
/// ETag, which caches the old price there; replica written to), or the
/// gateway for both.
async fn edit_and_read_back(sys: &Sys, admin: &str, price: &str, via: Option<(usize, usize)>) {
    let replicas = sys.stack.replica_urls("produit");
    let (read, write) = match via {
        Some((r, w)) => (replicas[r].clone(), replicas[w].clone()),
        None => (sys.stack.gateway_url.clone(), sys.stack.gateway_url.clone()),
    };
    let res = sys.http.get(format!("{read}/api/produits/4")).header("authorization", admin).send().await.expect("get");
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().expect("etag").to_owned();
    let res = sys
        .http
        .patch(format!("{write}/api/produits/4"))
        .header("authorization", admin)
        .header("if-match", &etag)
        .json(&json!({"prix": price}))
        .send()
        .await
        .expect("patch");
    assert_eq!(res.status(), 200, "modification du prix à {price}");
    for r in &replicas {
        let p: Value = sys
            .http
            .get(format!("{r}/api/produits/4"))
            .header("authorization", admin)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(p["prix"], price, "réplique {r} : prix périmé après écriture (lu sur {read}, écrit sur {write})");
    }
}

#[tokio::test]
async fn redis_killed_under_load_every_read_is_answered_and_no_price_is_stale_once_it_is_back() {
    let started = Instant::now();
    let mut redis = PrivateRedis::start().await.expect("redis privé");
    let mut opts = Options::for_test().expect("options");
    opts.redis_url = redis.url();
    let sys = Sys::start_with(opts).await;
    let before = prepare_stock(&sys).await;
    let (admin, cashier) = (sys.login("admin").await, sys.login("caissier1").await);
    let reads = if full() { 1000 } else { 150 };
    let readers = Readers::start(&sys, &cashier, 4);
    let load = Load::start(&sys, &[cashier.clone(), sys.login("caissier1b").await], 4);
    readers.wait_answered(reads / 3, "avant la panne").await;
    load.wait_progress(0, 4, Duration::from_secs(60), "montée en charge").await;
    // Warm every replica's cache, then take Redis away.
    edit_and_read_back(&sys, &admin, "3.31", None).await;
    redis.kill();
    let (down, reads_before) = (Instant::now(), readers.answered());
    readers.wait_answered(reads, "Redis arrêté").await;
    let from = load.finals();
    load.wait_progress(from, 8, Duration::from_secs(60), "ventes sans Redis").await;
    edit_and_read_back(&sys, &admin, "3.32", None).await;
    let (down_for, reads_down) = (down.elapsed(), readers.answered() - reads_before);
    redis.start_again().await.expect("redis de retour");
    // Back, and empty. The first write each replica makes after the return
    // must be seen at once by the other, which has just cached the old price.
    edit_and_read_back(&sys, &admin, "3.33", Some((1, 0))).await;
    edit_and_read_back(&sys, &admin, "3.34", Some((0, 1))).await;
    edit_and_read_back(&sys, &admin, "3.35", None).await;
    readers.wait_answered(reads / 3, "Redis revenu").await;
    let (answered, failures) = readers.stop().await;
    let report = load.stop().await;
    let settled = wait_settled(&sys, Duration::from_secs(30)).await;
    report.print("Redis arrêté", started.elapsed());
    eprintln!(
        "[Redis arrêté] lectures {answered} (dont {reads_down} sans Redis), en échec {} ; Redis absent {down_for:?}",
        failures.len()
    );
    assert!(failures.is_empty(), "lectures sans réponse : {failures:?}");
    report.assert_every_key_answered();
    assert_stock_reads_are_fresh(&sys, &cashier).await;
    let checked = check(&sys, Some(&report), Some(&before)).await;
    eprintln!("[Redis arrêté] récupération {settled:?} ; vérification : {checked}");
}

/// Every stock replica serves magasin 1's quantities as the database holds
/// them: the sales written while Redis was away or since are all visible.
async fn assert_stock_reads_are_fresh(sys: &Sys, auth: &str) {
    let pool = sys.schema_pool("stock").await;
    for p in PLENTY.iter().chain([&SCARCE]) {
        let db: i32 = sqlx::query_scalar("SELECT quantite FROM stocks WHERE magasin_id = 1 AND produit_id = ?")
            .bind(p)
            .fetch_one(&pool)
            .await
            .expect("stock");
        for r in sys.stack.replica_urls("stock") {
            let v: Value = sys
                .http
                .get(format!("{r}/api/stocks/magasins/1/produits/{p}"))
                .header("authorization", auth)
                .send()
                .await
                .expect("get")
                .json()
                .await
                .expect("json");
            assert_eq!(v["quantite"], i64::from(db), "réplique {r}, produit {p} : quantité périmée");
        }
    }
}

/// Polls each replica's `/health/ready` (concurrently) until its status
/// satisfies `want`; returns the slowest one's wait, failing past `limit`.
async fn until_all(urls: &[String], want: fn(u16) -> bool, limit: Duration, what: &str) -> Duration {
    let http = reqwest::Client::builder().timeout(Duration::from_millis(1500)).build().expect("client");
    let started = Instant::now();
    let waits = futures::future::join_all(urls.iter().map(|u| {
        let http = http.clone();
        async move {
            loop {
                let status = http.get(format!("{u}/health/ready")).send().await.map_or(0, |r| r.status().as_u16());
                if want(status) {
                    return started.elapsed();
                }
                if started.elapsed() > limit + Duration::from_secs(5) {
                    return Duration::MAX;
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
    }))
    .await;
    let late: Vec<_> = urls.iter().zip(&waits).filter(|(_, w)| **w > limit).collect();
    assert!(late.is_empty(), "{what} au-delà de {limit:?} : {late:?}");
    waits.into_iter().max().unwrap_or_default()
}

#[tokio::test]
async fn mariadb_restarted_under_load_readiness_follows_and_no_committed_sale_is_lost() {
    let started = Instant::now();
    let mut db = PrivateMariadb::start().await.expect("MariaDB privée");
    let mut opts = Options::for_test().expect("options");
    opts.mysql_admin_url = db.admin_url();
    opts.mysql_addr = db.addr();
    let sys = Sys::start_with(opts).await;
    let before = prepare_stock(&sys).await;
    let tokens = [sys.login("caissier1").await, sys.login("caissier1b").await];
    let load = Load::start(&sys, &tokens, 4);
    load.wait_progress(0, 8, Duration::from_secs(60), "montée en charge").await;
    let probes: Vec<String> =
        ["vente", "stock", "panier", "produit", "caisse"].iter().flat_map(|s| sys.stack.replica_urls(s)).collect();
    until_all(&probes, |s| s == 200, Duration::from_secs(5), "prêt avant la panne").await;
    let rounds = if full() { 3 } else { 1 };
    let mut figures = vec![];
    for _ in 0..rounds {
        let seen = load.retries();
        db.kill();
        let not_ready = until_all(&probes, |s| s != 200, Duration::from_secs(2), "/health/ready encore vrai").await;
        // Down long enough for the tills to be turned away (503) and retry.
        load.wait_retries(seen, 4, Duration::from_secs(20), "MariaDB arrêtée").await;
        db.start_again().await.expect("MariaDB de retour");
        let ready = until_all(&probes, |s| s == 200, Duration::from_secs(5), "/health/ready encore faux").await;
        let from = load.finals();
        load.wait_progress(from, 8, Duration::from_secs(60), "ventes après le retour de MariaDB").await;
        figures.push((not_ready, ready));
    }
    let report = load.stop().await;
    let settled = wait_settled(&sys, Duration::from_secs(30)).await;
    report.print("MariaDB redémarrée", started.elapsed());
    eprintln!("[MariaDB redémarrée] (non prêt après l'arrêt, prêt après le retour) : {figures:?}");
    report.assert_every_key_answered();
    let checked = check(&sys, Some(&report), Some(&before)).await;
    eprintln!("[MariaDB redémarrée] récupération {settled:?} ; vérification : {checked}");
}
