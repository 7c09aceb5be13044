//! What staff do: log in, list stores, search the catalogue, restock.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Sys, key};

#[tokio::test]
async fn each_role_logs_in_and_reads_stores_and_catalogue() {
    let sys = Sys::start().await;
    for (login, role) in
        [("admin", "admin"), ("logistique", "logistique"), ("gerant1", "gerant"), ("caissier1", "caissier")]
    {
        let auth = sys.login(login).await;
        let me = sys.get_json("/api/auth/me", &auth).await;
        assert_eq!(me["role"], role);
    }
    let auth = sys.login("caissier1").await;
    let stores = sys.get_json("/api/magasins?type=magasin", &auth).await;
    assert_eq!(stores["magasins"].as_array().unwrap().len(), 5);
    let by_name = sys.get_json("/api/produits?q=baguette", &auth).await;
    assert_eq!(by_name["produits"][0]["id"], 1);
    let by_id = sys.get_json("/api/produits?q=42", &auth).await;
    assert!(by_id["produits"].as_array().unwrap().iter().any(|p| p["id"] == 42));
    let code = by_name["produits"][0]["code_barres"].as_str().unwrap().to_owned();
    let by_code = sys.get_json(&format!("/api/produits?q={code}"), &auth).await;
    assert_eq!(by_code["produits"].as_array().unwrap().len(), 1);
    assert_eq!(by_code["produits"][0]["id"], 1);
}

#[tokio::test]
async fn a_transfer_appears_in_the_store_list_at_once_and_concurrent_ones_never_oversell() {
    let sys = Sys::start().await;
    let logistique = sys.login("logistique").await;
    let cashier = sys.login("caissier2").await;
    let before = sys.get_json("/api/stocks/magasins/2", &cashier).await;
    let q = |list: &Value, p: i64| {
        list["stocks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["produit_id"] == p)
            .map(|s| s["quantite"].as_i64().unwrap())
    };
    let q0 = q(&before, 9).unwrap();
    let res = sys
        .http
        .post(sys.url("/api/stocks/transferts"))
        .header("authorization", &logistique)
        .header("idempotency-key", key())
        .json(&json!({"source_id": 6, "destination_id": 2, "lignes": [{"produit_id": 9, "quantite": 12}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Read through the gateway several times: every replica sees it.
    for _ in 0..4 {
        assert_eq!(q(&sys.get_json("/api/stocks/magasins/2", &cashier).await, 9), Some(q0 + 12));
    }

    // 50 concurrent transfers of 30 compete for the centre's 1000 - 12 units of product 10... use product 11: 1000.
    let sys = std::sync::Arc::new(sys);
    let mut tasks = vec![];
    for i in 0..50 {
        let (sys, auth) = (sys.clone(), logistique.clone());
        tasks.push(tokio::spawn(async move {
            sys.http
                .post(sys.url("/api/stocks/transferts"))
                .header("authorization", auth)
                .header("idempotency-key", key())
                .json(&json!({"source_id": 6, "destination_id": 1 + i % 5, "lignes": [{"produit_id": 11, "quantite": 30}]}))
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::CONFLICT => {}
            other => panic!("statut inattendu {other}"),
        }
    }
    assert_eq!(created, 33);
    let admin = sys.login("admin").await;
    let centre = sys.get_json("/api/stocks/magasins/6/produits/11", &admin).await;
    assert_eq!(centre["quantite"], 10);
    let pool = sys.schema_pool("stock").await;
    assert_eq!(stock::ledger::unexplained_quantities(&pool).await.unwrap(), 0);
}
