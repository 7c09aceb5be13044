//! Fault suite, crashes: one replica of stock, then vente, then panier is
//! SIGKILLed during a steady checkout load and started again. Clients retry on
//! the same key: no sale lost or duplicated, no oversell, one final answer per
//! key, and the ledger/sales check holds once recovery is done.

use std::time::{Duration, Instant};

use crate::{
    consistency::{check, prepare_stock, wait_settled},
    harness::Sys,
    load::{Load, full},
};

#[tokio::test]
async fn killing_stock_vente_and_panier_replicas_under_checkout_load_loses_and_duplicates_no_sale() {
    let started = Instant::now();
    let mut sys = Sys::start().await;
    let before = prepare_stock(&sys).await;
    let tokens = [sys.login("caissier1").await, sys.login("caissier1b").await];
    let cashiers = 8;
    // Final answers to wait for while a replica is down (and after its restart).
    let (while_down, after) = if full() { (150, 40) } else { (16, 8) };
    let rounds: &[usize] = if full() { &[0, 1] } else { &[0] };
    let load = Load::start(&sys, &tokens, cashiers);
    load.wait_progress(0, cashiers, Duration::from_secs(60), "montée en charge").await;
    for &replica in rounds {
        for service in ["stock", "vente", "panier"] {
            let from = load.finals();
            sys.stack.kill_replica(service, replica).expect("SIGKILL");
            load.wait_progress(from, while_down, Duration::from_secs(60), &format!("{service} {replica} tué")).await;
            sys.stack.restart_replica(service, replica, &[]).await.expect("redémarrage");
            let from = load.finals();
            load.wait_progress(from, after, Duration::from_secs(60), &format!("{service} {replica} revenu")).await;
        }
    }
    let report = load.stop().await;
    let settled = wait_settled(&sys, Duration::from_secs(30)).await;
    report.print("SIGKILL stock/vente/panier", started.elapsed());
    report.assert_every_key_answered();
    let checked = check(&sys, Some(&report), Some(&before)).await;
    eprintln!("[SIGKILL stock/vente/panier] récupération terminée en {settled:?} ; vérification : {checked}");
}
