//! The tamper-evident sales journal through the gateway: a stack seeded with
//! a few days of demo history, then sales, a return and cancellations in two
//! stores; each store's chain verifies with exactly the entries it should
//! hold; a row corrupted through the admin MySQL connection is named by the
//! verification, and the other store's chain is untouched.

use caisse_common::demo::history::History;
use caisse_launcher::Options;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Sys, is_problem, key};

const DAYS: u32 = 3;

async fn give_back(sys: &Sys, cashier: &str, vente: &str, produit: i64) -> i64 {
    let res = sys
        .http
        .post(sys.url(&format!("/api/ventes/{vente}/retours")))
        .header("authorization", cashier)
        .header("idempotency-key", key())
        .json(&json!({"lignes": [{"produit_id": produit, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn cancel(sys: &Sys, cashier: &str, vente: &str) {
    let res = sys
        .http
        .post(sys.url(&format!("/api/ventes/{vente}/annulation")))
        .header("authorization", cashier)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_store_chain_verifies_and_a_row_corrupted_in_mysql_is_named() {
    let mut opts = Options::for_test().unwrap();
    opts.history_days = DAYS;
    let sys = Sys::start_with(opts).await;
    let admin = sys.login("admin").await;
    let (c1, c2) = (sys.login("caissier1").await, sys.login("caissier2").await);
    // What the seeded history journaled per store: sales, returns, cancellations.
    let plan = History { end: sys.stack.history_end(), days: DAYS }.sales();
    let seeded = |m: i64| {
        plan.iter()
            .filter(|s| s.magasin_id == m)
            .map(|s| 1 + i64::from(s.retour.is_some()) + i64::from(s.annulation.is_some()))
            .sum::<i64>()
    };
    assert!(seeded(1) > 0 && seeded(2) > 0, "l'historique vend dans les magasins 1 et 2");

    // Store 1: two sales, a return of the first, the second cancelled.
    let a = sys.sell(&c1, &[(1, 2), (2, 1)], "especes").await;
    let b = sys.sell(&c1, &[(3, 1)], "especes").await;
    let retour = give_back(&sys, &c1, &a, 1).await;
    cancel(&sys, &c1, &b).await;
    // Store 2: three sales, one cancelled.
    let mut store2 = vec![];
    for p in [4, 5, 6] {
        store2.push(sys.sell(&c2, &[(p, 1)], "especes").await);
    }
    cancel(&sys, &c2, &store2[2]).await;

    for (m, live, cashier) in [(1, 4, &c1), (2, 4, &c2)] {
        let v = sys.get_json(&format!("/api/ventes/journal/verification?magasin={m}"), &admin).await;
        assert_eq!(v["valide"], true, "magasin {m} : {v}");
        assert_eq!(v["entrees"].as_i64(), Some(seeded(m) + live), "magasin {m} : {v}");
        // The head a cashier's Z-report prints is the verified one.
        let tete = sys.get_json("/api/ventes/journal/tete", cashier).await;
        assert_eq!(tete["magasin_id"], m);
        assert_eq!((&tete["sequence"], &tete["empreinte"]), (&v["tete"]["sequence"], &v["tete"]["empreinte"]));
    }
    // The last entries of store 1 are this test's, in the order they happened.
    let n = seeded(1);
    let page = sys.get_json(&format!("/api/ventes/journal?magasin=1&apres={n}"), &admin).await;
    let tail: Vec<(String, String)> = page["entrees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["type"].as_str().unwrap().to_owned(), e["reference"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [("vente", a.clone()), ("vente", b.clone()), ("retour", retour.to_string()), ("annulation", b)];
    assert_eq!(tail, expected.map(|(t, r)| (t.to_owned(), r)).to_vec());

    // Staff see only their own store's head; the rest is for admins.
    let other = sys.get("/api/ventes/journal/tete?magasin=2", &c1).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    assert!(is_problem(&other));
    assert_eq!(sys.get("/api/ventes/journal/verification?magasin=1", &c1).await.status(), StatusCode::FORBIDDEN);
    let bad = sys.get("/api/ventes/journal?magasin=1&limite=5000", &admin).await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(is_problem(&bad));

    // Someone with the database password lowers the return's refund in place.
    let vente = sys.schema_pool("vente").await;
    let changed = sqlx::query(
        "UPDATE journal SET charge = REPLACE(charge, '\"rembourse\":\"', '\"rembourse\":\"0') \
         WHERE magasin_id = 1 AND type = 'retour' AND reference = ?",
    )
    .bind(retour.to_string())
    .execute(&vente)
    .await
    .unwrap();
    assert_eq!(changed.rows_affected(), 1);
    let v = sys.get_json("/api/ventes/journal/verification?magasin=1", &admin).await;
    assert_eq!(v["valide"], false, "{v}");
    assert_eq!(v["premiere_rupture"]["sequence"].as_i64(), Some(n + 3), "{v}");
    assert_eq!(v["premiere_rupture"]["reference"], retour.to_string());
    assert!(v["premiere_rupture"]["raison"].as_str().unwrap().contains("empreinte"), "{v}");
    assert_eq!(v["entrees"].as_i64(), Some(n + 4));
    // Store 2's chain does not depend on store 1's.
    let v2 = sys.get_json("/api/ventes/journal/verification?magasin=2", &admin).await;
    assert_eq!(v2["valide"], true, "{v2}");
}
