//! Selling through the gateway: the full journey, a vente process that
//! dies in the middle of a checkout, and a completed sale whose stock can
//! only come back through vente.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Sys, is_problem, key};

async fn quantity(sys: &Sys, auth: &str, produit: i64) -> i64 {
    sys.get_json(&format!("/api/stocks/magasins/1/produits/{produit}"), auth).await["quantite"].as_i64().unwrap()
}

async fn stream_events(sys: &Sys, kind: &str, vente_id: &str) -> usize {
    let stream = format!("{}evenements:ventes", sys.stack.options().redis_prefix);
    let client = redis::Client::open(sys.stack.options().redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let raw: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query_async(&mut conn).await.unwrap();
    raw.iter()
        .filter(|(_, fields)| fields.iter().any(|(k, v)| k == "type" && v == kind))
        .filter(|(_, fields)| fields.iter().any(|(k, v)| k == "charge" && v.contains(vente_id)))
        .count()
}

#[tokio::test]
async fn a_cashier_sells_through_the_gateway_from_cart_to_receipt() {
    let sys = Sys::start().await;
    let cashier = sys.login("caissier1").await;
    let gerant = sys.login("gerant1").await;
    let (q1, q2) = (quantity(&sys, &gerant, 1).await, quantity(&sys, &gerant, 2).await);
    let cart = sys.open_cart(&cashier, &[(1, 3), (2, 1), (3, 1)]).await;
    let res = sys
        .http
        .delete(sys.url(&format!("/api/paniers/{cart}/lignes/3")))
        .header("authorization", &cashier)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // A reload finds the same cart.
    let reloaded = sys.get_json(&format!("/api/paniers/{cart}"), &cashier).await;
    assert_eq!(reloaded["lignes"].as_array().unwrap().len(), 2);
    let k = key();
    let body = json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "200.00"}});
    let res = sys
        .http
        .post(sys.url("/api/ventes"))
        .header("authorization", &cashier)
        .header("idempotency-key", &k)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let recu: Value = res.json().await.unwrap();
    let id = recu["id"].as_str().unwrap().to_owned();
    assert!(recu["paiement"]["monnaie"].as_str().is_some(), "{recu}");
    // A double click with the same key: the same receipt, no second sale.
    let again: Value = sys
        .http
        .post(sys.url("/api/ventes"))
        .header("authorization", &cashier)
        .header("idempotency-key", &k)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], recu["id"]);
    let receipt = sys.get_json(&format!("/api/ventes/{id}"), &cashier).await;
    assert_eq!(receipt["total"], recu["total"]);
    assert_eq!((quantity(&sys, &gerant, 1).await, quantity(&sys, &gerant, 2).await), (q1 - 3, q2 - 1));
    let ledger = sys.get_json(&format!("/api/stocks/mouvements?reference=vente:{id}"), &gerant).await;
    assert_eq!(ledger["mouvements"].as_array().unwrap().len(), 2);
    let mut events = 0;
    for _ in 0..50 {
        events = stream_events(&sys, "SaleCompleted", &id).await;
        if events > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events, 1, "un SaleCompleted sur le flux");
    let list = sys.get_json("/api/ventes?limit=5", &gerant).await;
    assert_eq!(list["ventes"][0]["id"], id.as_str());
}

#[tokio::test]
async fn a_vente_process_killed_after_the_reservation_is_recovered() {
    let mut sys = Sys::start().await;
    let cashier = sys.login("caissier1").await;
    let gerant = sys.login("gerant1").await;
    let q = quantity(&sys, &gerant, 14).await;
    let cart = sys.open_cart(&cashier, &[(14, 2)]).await;
    sys.stack.restart_replica("vente", 0, &[("CAISSE_FAULT", "crash_after_reservation")]).await.unwrap();
    let direct = sys.stack.replica_urls("vente")[0].clone();
    let res = sys
        .http
        .post(format!("{direct}/api/ventes"))
        .header("authorization", &cashier)
        .header("idempotency-key", key())
        .json(&json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
        .send()
        .await;
    assert!(res.is_err(), "le processus devait mourir en pleine saga : {res:?}");
    for _ in 0..100 {
        if sys.stack.replica_exited("vente", 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sys.stack.replica_exited("vente", 0), "la réplique fautive est tombée");
    // The stock was reserved, the sale is pending.
    assert_eq!(quantity(&sys, &gerant, 14).await, q - 2);
    sys.stack.restart_replica("vente", 0, &[]).await.unwrap();
    let pool = sys.schema_pool("vente").await;
    let mut statut = String::new();
    // Recovery takes a pending sale over after its grace period (6 s in tests).
    for _ in 0..300 {
        statut = sqlx::query_scalar("SELECT statut FROM ventes WHERE panier_id = ?")
            .bind(cart)
            .fetch_one(&pool)
            .await
            .unwrap();
        if statut == "terminee" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(statut, "terminee", "la récupération termine la vente réservée");
    assert_eq!(quantity(&sys, &gerant, 14).await, q - 2, "stock décrémenté une seule fois");
    let id: String =
        sqlx::query_scalar("SELECT id FROM ventes WHERE panier_id = ?").bind(cart).fetch_one(&pool).await.unwrap();
    let ledger = sys.get_json(&format!("/api/stocks/mouvements?reference=vente:{id}"), &gerant).await;
    assert_eq!(ledger["mouvements"].as_array().unwrap().len(), 1);
    let mut closed = false;
    for _ in 0..200 {
        if sys.get_json(&format!("/api/paniers/{cart}"), &cashier).await["statut"] == "ferme" {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(closed, "le panier est fermé par la récupération");
    let stock = sys.schema_pool("stock").await;
    assert_eq!(stock::ledger::unexplained_quantities(&stock).await.unwrap(), 0);
}

#[tokio::test]
async fn a_completed_sale_cannot_be_released_by_hand_and_its_cancellation_restocks_once() {
    let sys = Sys::start().await;
    let cashier = sys.login("caissier1").await;
    let gerant = sys.login("gerant1").await;
    let admin = sys.login("admin").await;
    let q = quantity(&sys, &gerant, 23).await;
    let cart = sys.open_cart(&cashier, &[(23, 2)]).await;
    let res = sys
        .http
        .post(sys.url("/api/ventes"))
        .header("authorization", &cashier)
        .header("idempotency-key", key())
        .json(&json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(quantity(&sys, &gerant, 23).await, q - 2);
    // An admin tries to put the sold goods back by releasing the reservation.
    let res = sys
        .http
        .post(sys.url(&format!("/api/stocks/reservations/{id}/liberation")))
        .header("authorization", &admin)
        .json(&json!({"magasin_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT, "libération d'une vente terminée");
    assert!(is_problem(&res));
    let problem: Value = res.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("annulez la vente"), "{problem}");
    assert_eq!(quantity(&sys, &gerant, 23).await, q - 2, "rien n'est remis en stock");
    // Cancelling through vente restocks, once, however often it is asked.
    for _ in 0..2 {
        let res = sys
            .http
            .post(sys.url(&format!("/api/ventes/{id}/annulation")))
            .header("authorization", &gerant)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    assert_eq!(quantity(&sys, &gerant, 23).await, q, "remis en stock une seule fois");
    let kinds = |ledger: &Value| -> Vec<String> {
        ledger["mouvements"].as_array().unwrap().iter().map(|m| m["type"].as_str().unwrap().to_owned()).collect()
    };
    let sold = sys.get_json(&format!("/api/stocks/mouvements?reference=vente:{id}"), &gerant).await;
    assert_eq!(kinds(&sold), ["vente"], "{sold}");
    let cancelled = sys.get_json(&format!("/api/stocks/mouvements?reference=annulation:{id}"), &gerant).await;
    assert_eq!(kinds(&cancelled), ["retour"], "{cancelled}");
    let stock = sys.schema_pool("stock").await;
    assert_eq!(stock::ledger::unexplained_quantities(&stock).await.unwrap(), 0);
}
