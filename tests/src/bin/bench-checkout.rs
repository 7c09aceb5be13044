//! Checkout benchmark (not a test): 64 concurrent cashiers check out fresh
//! 3-line carts through the gateway; prints sales/s, p50/p99 and errors,
//! then what a sale cost ([`caisse_tests::cost`]: CPU per process kind, SQL,
//! HTTP hops, loopback bytes) for the checkout alone and for the whole
//! journey (cart, 3 lines, checkout), and each replica's footprint (RSS idle
//! and after the load, time to ready).
//!
//! Usage: bench-checkout <gateway-url> [sales, default 3000] [concurrency, default 64]
//!        bench-checkout --empreinte-repos <file>   (idle RSS of every replica, before any load)
//!
//! Environment: `BENCH_LAUNCHER_PID` (the cost table needs it), `BENCH_RUN_DIR`
//! (the launcher's run directory, default `.run`), `BENCH_IDLE_RSS` (the file
//! written by `--empreinte-repos`), `MYSQL_ADMIN_URL`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use caisse_tests::cost::{self, Probe};
use serde_json::{Value, json};

/// The user agent of this client: nginx's log tells its requests from the
/// services' calls through the gateway.
const AGENT: &str = "caisse-bench";

fn run_dir() -> std::path::PathBuf {
    std::env::var("BENCH_RUN_DIR").unwrap_or_else(|_| ".run".into()).into()
}

fn replicas() -> anyhow::Result<Vec<cost::Replica>> {
    let path = run_dir().join("repliques.tsv");
    Ok(cost::parse_replicas(&std::fs::read_to_string(&path).with_context(|| path.display().to_string())?))
}

/// `--empreinte-repos <file>`: "service index rss_kb" of every replica.
fn write_idle_rss(file: &str) -> anyhow::Result<()> {
    let mut out = String::new();
    for r in replicas()? {
        out.push_str(&format!("{}\t{}\t{}\n", r.service, r.index, cost::rss_kb(r.pid).unwrap_or(0)));
    }
    std::fs::write(file, out)?;
    Ok(())
}

fn print_footprint() -> anyhow::Result<()> {
    let idle: BTreeMap<(String, usize), u64> = std::env::var("BENCH_IDLE_RSS")
        .ok()
        .and_then(|f| std::fs::read_to_string(f).ok())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Some(((f.first()?.to_string(), f.get(1)?.parse().ok()?), f.get(2)?.parse().ok()?))
        })
        .collect();
    println!();
    println!("Empreinte par réplique (objectifs : ≤ 25 Mo au repos, prête en ≤ 1 s) :");
    println!("{:<12} {:>10} {:>14} {:>12}", "réplique", "RSS repos", "RSS après", "prête en");
    for r in replicas()? {
        let mb =
            |kb: Option<u64>| kb.filter(|k| *k > 0).map_or("?".to_owned(), |k| format!("{:.1} Mo", k as f64 / 1024.0));
        println!(
            "{:<12} {:>10} {:>14} {:>9} ms",
            format!("{}-{}", r.service, r.index),
            mb(idle.get(&(r.service.clone(), r.index)).copied()),
            mb(cost::rss_kb(r.pid)),
            r.ready_ms
        );
    }
    println!(
        "(prête en : du lancement du processus au premier /health/ready 2xx, toutes les répliques lancées ensemble)"
    );
    Ok(())
}

const CASHIERS: &[(&str, i64)] =
    &[("caissier1", 1), ("caissier1b", 1), ("caissier2", 2), ("caissier3", 3), ("caissier4", 4), ("caissier5", 5)];

async fn login(http: &reqwest::Client, base: &str, login: &str) -> anyhow::Result<String> {
    let res: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({"login": login, "mot_de_passe": "demo1234"}))
        .send()
        .await?
        .json()
        .await?;
    Ok(format!("Bearer {}", res["jeton"].as_str().context("jeton")?))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `n` jobs over `concurrency` workers; returns each job's latency or error.
async fn run_phase<F, Fut>(n: usize, concurrency: usize, job: F) -> (Duration, Vec<Result<Duration, String>>)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = vec![];
    for _ in 0..concurrency {
        let (job, next) = (job.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let mut out = vec![];
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let t = Instant::now();
                out.push(job(i).await.map(|()| t.elapsed()));
            }
            out
        }));
    }
    let mut all = vec![];
    for w in workers {
        all.extend(w.await.unwrap_or_default());
    }
    (started.elapsed(), all)
}

fn report(name: &str, elapsed: Duration, results: &[Result<Duration, String>]) {
    let mut ok: Vec<Duration> = results.iter().filter_map(|r| r.as_ref().ok().copied()).collect();
    ok.sort();
    let mut errors: std::collections::BTreeMap<&str, usize> = Default::default();
    for e in results.iter().filter_map(|r| r.as_ref().err()) {
        *errors.entry(e.as_str()).or_default() += 1;
    }
    println!(
        "{name:<28} {:>8} ok {:>10.1}/s  p50 {:>7.1} ms  p99 {:>7.1} ms  errors {:?}",
        ok.len(),
        ok.len() as f64 / elapsed.as_secs_f64(),
        percentile(&ok, 0.50).as_secs_f64() * 1e3,
        percentile(&ok, 0.99).as_secs_f64() * 1e3,
        errors
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--empreinte-repos") {
        return write_idle_rss(args.get(2).context("--empreinte-repos <fichier>")?);
    }
    let base = args.get(1).context("usage : bench-checkout <url-passerelle> [ventes] [concurrence]")?.clone();
    let sales: usize = args.get(2).map_or(Ok(3000), |s| s.parse())?;
    let concurrency: usize = args.get(3).map_or(Ok(64), |s| s.parse())?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency * 2).user_agent(AGENT).build()?;
    let probe = match std::env::var("BENCH_LAUNCHER_PID").ok().and_then(|p| p.parse().ok()) {
        Some(pid) => Some(Probe::new(
            pid,
            run_dir(),
            std::env::var("MYSQL_ADMIN_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into()),
            AGENT,
        )?),
        None => None,
    };

    // Enough stock in every store for the run (receptions, ledgered).
    let admin = login(&http, &base, "admin").await?;
    for m in 1..=5 {
        for p in 1..=60 {
            let res = http
                .post(format!("{base}/api/stocks/ajustements"))
                .header("authorization", &admin)
                .json(&json!({"magasin_id": m, "produit_id": p, "delta": 10_000, "motif": "banc d'essai", "type": "reception"}))
                .send()
                .await?;
            anyhow::ensure!(res.status().is_success(), "réapprovisionnement : {}", res.status());
        }
    }
    // Each cashier with the open cash session of their store (carts need one).
    let mut tokens = vec![];
    for (l, _) in CASHIERS {
        let token = login(&http, &base, l).await?;
        let session = caisse_tests::session(&http, &base, &token, None).await?;
        tokens.push((token, session));
    }
    let tokens = Arc::new(tokens);
    let s0 = match &probe {
        Some(p) => Some(p.snapshot().await?),
        None => None,
    };

    // Phase 1: fresh carts of 3 lines.
    let carts = Arc::new(std::sync::Mutex::new(vec![0i64; sales]));
    let (t1, r1) = {
        let (http, base, tokens, carts) = (http.clone(), base.clone(), tokens.clone(), carts.clone());
        run_phase(sales, concurrency, move |i| {
            let (http, base, tokens, carts) = (http.clone(), base.clone(), tokens.clone(), carts.clone());
            async move {
                let (auth, session) = &tokens[i % tokens.len()];
                let cart: Value = http
                    .post(format!("{base}/api/paniers"))
                    .header("authorization", auth)
                    .json(&json!({"session_id": session}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?
                    .json()
                    .await
                    .map_err(|e| e.to_string())?;
                let id = cart["id"].as_i64().ok_or("panier sans id")?;
                for k in 0..3 {
                    let p = 1 + ((i * 7 + k * 19) % 60);
                    let res = http
                        .put(format!("{base}/api/paniers/{id}/lignes/{p}"))
                        .header("authorization", auth)
                        .json(&json!({"quantite": 1 + k}))
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if !res.status().is_success() {
                        return Err(format!("ligne {}", res.status()));
                    }
                }
                if let Ok(mut c) = carts.lock() {
                    c[i] = id;
                }
                Ok(())
            }
        })
        .await
    };
    let s1 = match &probe {
        Some(p) => Some(p.snapshot().await?),
        None => None,
    };
    // Phase 2: check them all out.
    let (t2, r2) = {
        let (http, base, tokens, carts) = (http.clone(), base.clone(), tokens.clone(), carts.clone());
        run_phase(sales, concurrency, move |i| {
            let (http, base, tokens) = (http.clone(), base.clone(), tokens.clone());
            let cart = carts.lock().map(|c| c[i]).unwrap_or_default();
            async move {
                if cart == 0 {
                    return Err("pas de panier".into());
                }
                let res = http
                    .post(format!("{base}/api/ventes"))
                    .header("authorization", &tokens[i % tokens.len()].0)
                    .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                    .json(&json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if res.status() == reqwest::StatusCode::CREATED {
                    Ok(())
                } else {
                    Err(format!("HTTP {}", res.status()))
                }
            }
        })
        .await
    };
    let s2 = match &probe {
        Some(p) => Some(p.snapshot().await?),
        None => None,
    };
    println!();
    println!("{sales} ventes de 3 lignes, {concurrency} caissiers simultanés, via la passerelle :");
    report("préparation des paniers", t1, &r1);
    report("encaissement (POST /ventes)", t2, &r2);
    println!("(ancien système : 2,84 ventes/s ; objectif : ≥ 1 000 ventes/s et p99 ≤ 100 ms)");
    if let (Some(p), Some(s0), Some(s1), Some(s2)) = (&probe, s0, s1, s2) {
        println!();
        println!("Coût d'une vente ({sales} ventes tentées) :");
        cost::print_table(("encaissement", "parcours"), &p.delta(&s1, &s2)?.per(sales), &p.delta(&s0, &s2)?.per(sales));
        println!(
            "(parcours : panier + 3 lignes + encaissement. CPU : /proc/<pid>/stat, chaque service = somme de ses \
             répliques, « client (banc) » = ce programme. MariaDB (Questions, Com_commit, Innodb_data_fsyncs), \
             mariadbd, redis-server et lo sont ceux de toute la machine : tout ce qui y tourne compte aussi. \
             HTTP via nginx = lignes ajoutées au journal d'accès (client = agent {AGENT}) ; direct = appels \
             entre services comptés par leurs clients (upstream_requests_total) et absents du journal ; \
             les sous-requêtes d'authentification de nginx ne sont pas journalisées.)"
        );
    }
    if probe.is_some() {
        print_footprint()?;
    }
    Ok(())
}
