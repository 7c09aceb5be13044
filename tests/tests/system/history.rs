//! The demo history (`caisse_common::demo::history`): after a start seeded
//! with five weeks of it, the dashboard's trend shows sales on most days in
//! every store, the numbers are the plan's, the auditor finds nothing, and
//! seeding again adds nothing.

use std::collections::BTreeMap;

use caisse_common::{calendar::store_day, demo::history::History};
use caisse_launcher::Options;

use crate::harness::Sys;

const DAYS: u32 = 35;

/// Rows of a service's tables, to see that a second seed adds none.
async fn counts(sys: &Sys) -> Vec<i64> {
    let vente = sys.schema_pool("vente").await;
    let stock = sys.schema_pool("stock").await;
    let mut out = Vec::new();
    for (pool, table) in
        [(&vente, "ventes"), (&vente, "retours"), (&vente, "outbox"), (&stock, "mouvements"), (&stock, "outbox")]
    {
        out.push(sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(pool).await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_seeded_start_shows_weeks_of_sales_in_every_store_and_the_auditor_agrees() {
    let mut opts = Options::for_test().unwrap();
    opts.history_days = DAYS;
    let started = std::time::Instant::now();
    let sys = Sys::start_with(opts).await;
    eprintln!("pile avec {DAYS} jours d'historique démarrée en {:?}", started.elapsed());
    let admin = sys.login("admin").await;
    // What the plan sold, per store day and store (counted here, not asked).
    let plan = History { end: sys.stack.history_end(), days: DAYS }.sales();
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for s in &plan {
        *expected.entry((store_day(s.at).to_string(), s.magasin_id)).or_default() += 1;
    }
    let (returns, cancellations) =
        (plan.iter().filter(|s| s.retour.is_some()).count(), plan.iter().filter(|s| s.annulation.is_some()).count());
    // The trend's window is today and the 34 days before: the plan's first day is outside it.
    let window_start = (sys.stack.history_end() - chrono::Duration::days(i64::from(DAYS) - 2)).to_string();
    expected.retain(|(day, _), _| *day >= window_start);
    let in_window: i64 = expected.values().sum();
    // reporting learns the history from the events: wait until it has all of it.
    let trend = {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        loop {
            let t = sys.get_json(&format!("/api/rapports/tendance?jours={DAYS}"), &admin).await;
            let seen: i64 =
                t["jours"].as_array().unwrap().iter().map(|j| j["total"]["nb_ventes"].as_i64().unwrap()).sum();
            if seen == in_window || std::time::Instant::now() > deadline {
                break t;
            }
            tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        }
    };
    eprintln!("{} ventes de l'historique, reporting à jour après {:?}", plan.len(), started.elapsed());
    let mut got: BTreeMap<(String, i64), i64> = BTreeMap::new();
    let mut days_with_sales: BTreeMap<i64, usize> = BTreeMap::new();
    for j in trend["jours"].as_array().unwrap() {
        for m in j["magasins"].as_array().unwrap() {
            let n = m["nb_ventes"].as_i64().unwrap();
            if n > 0 {
                got.insert((j["jour"].as_str().unwrap().to_owned(), m["magasin_id"].as_i64().unwrap()), n);
                *days_with_sales.entry(m["magasin_id"].as_i64().unwrap()).or_default() += 1;
            }
        }
    }
    assert_eq!(got, expected, "ventes par jour et magasin : reporting / plan");
    assert_eq!(days_with_sales.len(), 5, "{days_with_sales:?}");
    for (m, n) in &days_with_sales {
        assert!(*n >= 28, "magasin {m} : des ventes {n} jours sur {DAYS}");
    }
    // Cash and card, returns and cancellations over the history.
    let (du, au) = (sys.stack.history_end() - chrono::Duration::days(i64::from(DAYS) - 1), sys.stack.history_end());
    let report = sys.get_json(&format!("/api/rapports/ventes?du={du}&au={au}"), &admin).await;
    let total = &report["total"];
    assert_eq!(total["nb_ventes"].as_i64(), Some(i64::try_from(plan.len()).unwrap()), "{total}");
    assert_eq!(total["nb_retours"].as_u64(), Some(u64::try_from(returns).unwrap()), "{total}");
    assert_eq!(total["nb_annulations"].as_u64(), Some(u64::try_from(cancellations).unwrap()), "{total}");
    for mode in ["especes", "carte"] {
        assert!(report["total_par_mode"][mode]["nb_ventes"].as_i64().unwrap() > 100, "{report}");
    }
    // vente's receipts, stock's ledger and reporting agree (`caisse-launcher audit`).
    let audit_started = std::time::Instant::now();
    let audit = caisse_launcher::audit(&sys.stack.gateway_url, "admin", "demo1234", 60.0).await.unwrap();
    eprintln!("audit de {} ventes et {} mouvements en {:?}", audit.ventes, audit.mouvements, audit_started.elapsed());
    assert!(audit.ecarts.is_empty(), "{:#?}", audit.ecarts);
    assert!(audit.ventes >= plan.len(), "{audit:?}");
    // Seeding again adds nothing.
    let before = counts(&sys).await;
    for service in ["stock", "vente"] {
        let out = sys.stack.seed_again(service).unwrap();
        assert!(out.status.success(), "{service} seed : {}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(counts(&sys).await, before, "ventes, retours, outbox de vente, mouvements, outbox de stock");
}
