//! The check every fault scenario ends with, read straight from the schemas:
//! the ledger explains every quantity; each completed sale (terminee,
//! annulation, annulee) has its `vente:<id>` movements and nothing else has
//! any net of its release; no reservation is held for anything but a completed
//! sale; no sale is left undecided; no cart or key sold twice; what clients
//! were told matches what was recorded; and no quantity was sold twice (oversell).

use std::{
    collections::{BTreeMap, BTreeSet},
    time::{Duration, Instant},
};

use serde_json::json;
use sqlx::MySqlPool;

use crate::{
    harness::{Sys, key},
    load::{PLENTY, Report, SCARCE},
};

const COMPLETED: &str = "('terminee', 'annulation', 'annulee')";

/// Quantities of magasin 1, by product.
pub type Quantities = BTreeMap<i64, i64>;

/// Tops up the plentiful products (the scarce one keeps its 5 units) and
/// returns magasin 1's quantities before the load.
pub async fn prepare_stock(sys: &Sys) -> Quantities {
    let admin = sys.login("admin").await;
    for p in PLENTY {
        let res = sys
            .http
            .post(sys.url("/api/stocks/ajustements"))
            .header("authorization", &admin)
            .header("idempotency-key", key())
            .json(&json!({"magasin_id": 1, "produit_id": p, "delta": 400, "motif": "réserve pour le test de pannes"}))
            .send()
            .await
            .expect("ajustement");
        assert_eq!(res.status(), 201, "ajustement du produit {p}");
    }
    let q = quantities(&sys.schema_pool("stock").await).await;
    assert_eq!(q.get(&SCARCE), Some(&5), "le produit rare part de 5 unités");
    q
}

async fn quantities(stock: &MySqlPool) -> Quantities {
    let rows: Vec<(i64, i32)> = sqlx::query_as("SELECT produit_id, quantite FROM stocks WHERE magasin_id = 1")
        .fetch_all(stock)
        .await
        .expect("stocks");
    rows.into_iter().map(|(p, q)| (p, i64::from(q))).collect()
}

/// Waits until no sale is `en_cours` or `compensation` (recovery finished);
/// panics listing them after `limit`.
pub async fn wait_settled(sys: &Sys, limit: Duration) -> Duration {
    let vente = sys.schema_pool("vente").await;
    let started = Instant::now();
    loop {
        let stuck: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT id, statut, panier_id FROM ventes WHERE statut IN ('en_cours', 'compensation') ORDER BY cree_le",
        )
        .fetch_all(&vente)
        .await
        .expect("ventes");
        if stuck.is_empty() {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "ventes bloquées après {limit:?} de récupération : {stuck:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Figures of the check, for the scenario's printout.
#[derive(Debug)]
pub struct Checked {
    pub completed_sales: usize,
    pub other_sales: usize,
    pub sale_references: usize,
}

impl std::fmt::Display for Checked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "registre expliqué, {} ventes conclues (autres : {}), {} couples vente/produit au registre en accord, \
             aucune réservation orpheline, aucun panier ni clé vendu deux fois, aucune survente",
            self.completed_sales, self.other_sales, self.sale_references
        )
    }
}

/// The whole check; `report` (the cashiers' answers) and `before` (magasin 1's
/// quantities before the load) when the scenario ran the checkout load.
pub async fn check(sys: &Sys, report: Option<&Report>, before: Option<&Quantities>) -> Checked {
    let stock = sys.schema_pool("stock").await;
    let vente = sys.schema_pool("vente").await;
    assert_eq!(stock::ledger::unexplained_quantities(&stock).await.expect("registre"), 0, "quantités inexpliquées");

    let sales: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT id, statut, panier_id, cle_idempotence FROM ventes")
            .fetch_all(&vente)
            .await
            .expect("ventes");
    let stuck: Vec<_> = sales.iter().filter(|s| s.1 == "en_cours" || s.1 == "compensation").collect();
    assert!(stuck.is_empty(), "ventes non résolues : {stuck:?}");
    let completed: BTreeMap<&str, &(String, String, i64, String)> = sales
        .iter()
        .filter(|s| ["terminee", "annulation", "annulee"].contains(&s.1.as_str()))
        .map(|s| (s.0.as_str(), s))
        .collect();
    let lines: Vec<(String, i64, i32)> = sqlx::query_as(&format!(
        "SELECT l.vente_id, l.produit_id, l.quantite FROM vente_lignes l JOIN ventes v ON v.id = l.vente_id \
         WHERE v.statut IN {COMPLETED}"
    ))
    .fetch_all(&vente)
    .await
    .expect("lignes");
    let mut expected: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (id, p, q) in &lines {
        expected.insert((id.clone(), *p), -i64::from(*q));
    }

    // Net of `vente` and `liberation` movements per sale and product.
    let moves: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT SUBSTRING(reference, 7), produit_id, CAST(SUM(delta) AS SIGNED) FROM mouvements \
         WHERE type IN ('vente', 'liberation') AND reference LIKE 'vente:%' GROUP BY reference, produit_id",
    )
    .fetch_all(&stock)
    .await
    .expect("mouvements");
    let mut net: BTreeMap<(String, i64), i64> = BTreeMap::new();
    for (id, p, d) in &moves {
        net.insert((id.clone(), *p), *d);
    }
    let mut wrong = vec![];
    for ((id, p), want) in &expected {
        let got = net.get(&(id.clone(), *p)).copied().unwrap_or(0);
        if got != *want {
            wrong.push(format!("vente conclue {id} produit {p} : mouvement net {got}, attendu {want}"));
        }
    }
    for ((id, p), got) in &net {
        if *got != 0 && !expected.contains_key(&(id.clone(), *p)) {
            let statut = sales.iter().find(|s| &s.0 == id).map_or("inconnue de vente", |s| s.1.as_str());
            wrong.push(format!("vente {id} ({statut}) produit {p} : {got} sorti du stock sans vente conclue"));
        }
    }
    assert!(wrong.is_empty(), "registre et ventes en désaccord : {wrong:#?}");

    let all_reservations: Vec<(String, String)> =
        sqlx::query_as("SELECT vente_id, statut FROM reservations").fetch_all(&stock).await.expect("réservations");
    let leaked: Vec<_> = all_reservations
        .iter()
        .filter(|(id, statut)| statut != "liberee" && !completed.contains_key(id.as_str()))
        .map(|(id, statut)| (id, statut, sales.iter().find(|s| &s.0 == id).map(|s| s.1.as_str())))
        .collect();
    assert!(leaked.is_empty(), "réservations retenues sans vente conclue : {leaked:?}");

    let mut carts = BTreeSet::new();
    let mut keys = BTreeSet::new();
    for (id, _, panier, cle) in completed.values() {
        assert!(carts.insert(*panier), "panier {panier} vendu deux fois (dont {id})");
        assert!(keys.insert(cle.as_str()), "clé {cle} vendue deux fois (dont {id})");
    }

    if let Some(report) = report {
        let told: BTreeMap<&str, &str> =
            report.completed().filter_map(|o| Some((o.sale_id.as_deref()?, o.key.as_str()))).collect();
        for o in report.completed() {
            let id = o.sale_id.as_deref().unwrap_or("?");
            let sale = completed.get(id);
            assert!(
                sale.is_some_and(|s| s.3 == o.key && s.2 == o.panier_id),
                "201 pour la vente {id} (clé {}, panier {}, {} tentative(s)) mais la vente n'est pas conclue : \
                 ligne de vente {:?}, ventes de la clé {:?}, registre {:?}, réservation {:?}",
                o.key,
                o.panier_id,
                o.attempts,
                sales.iter().find(|s| s.0 == id),
                sales.iter().filter(|s| s.3 == o.key).collect::<Vec<_>>(),
                net.iter().filter(|((v, _), _)| v == id).collect::<Vec<_>>(),
                all_reservations.iter().find(|(v, _)| v == id),
            );
        }
        for (id, s) in &completed {
            assert!(
                told.contains_key(id),
                "vente {id} conclue (panier {}, clé {}) alors que son client a reçu : {:?}",
                s.2,
                s.3,
                report.outcomes.iter().find(|o| o.key == s.3).map(|o| (o.status, o.attempts))
            );
        }
        if let Some(before) = before {
            let after = quantities(&stock).await;
            let mut sold: BTreeMap<i64, i64> = BTreeMap::new();
            for o in report.completed() {
                for (p, q) in &o.lines {
                    *sold.entry(*p).or_default() += q;
                }
            }
            for (p, q0) in before {
                let q1 = after.get(p).copied().unwrap_or(0);
                let s = sold.get(p).copied().unwrap_or(0);
                assert!(q1 >= 0, "produit {p} négatif : {q1}");
                assert_eq!(q0 - q1, s, "produit {p} : {q0} -> {q1} mais {s} vendus (survente ou vente perdue)");
            }
        }
    }
    Checked { completed_sales: completed.len(), other_sales: sales.len() - completed.len(), sale_references: net.len() }
}
