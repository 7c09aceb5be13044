//! Store operations through the gateway: a restocking request from store 2
//! to the logistics centre and back (partial approval, a shipment retried
//! with its key, a reception with a shortfall), then the auditor finds every
//! quantity explained; and a product's change history naming its editors.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Sys, is_problem, key};

async fn post(sys: &Sys, path: &str, auth: &str, k: Option<&str>, body: Option<Value>) -> reqwest::Response {
    let mut req = sys.http.post(sys.url(path)).header("authorization", auth);
    if let Some(k) = k {
        req = req.header("idempotency-key", k);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

async fn quantity(sys: &Sys, magasin: i64, produit: i64, auth: &str) -> i64 {
    sys.get_json(&format!("/api/stocks/magasins/{magasin}/produits/{produit}"), auth).await["quantite"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn a_restocking_request_goes_from_store_to_centre_and_back_and_the_ledger_explains_it() {
    let sys = Sys::start().await;
    let gerant = sys.login("gerant2").await;
    let logi = sys.login("logistique").await;
    let (c9, c10) = (quantity(&sys, 6, 9, &logi).await, quantity(&sys, 6, 10, &logi).await);
    let (s9, s10) = (quantity(&sys, 2, 9, &gerant).await, quantity(&sys, 2, 10, &gerant).await);

    let body =
        json!({"magasin_id": 2, "lignes": [{"produit_id": 9, "quantite": 12}, {"produit_id": 10, "quantite": 5}]});
    let res = post(&sys, "/api/stocks/demandes", &gerant, None, Some(body.clone())).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let d: Value = res.json().await.unwrap();
    let id = d["id"].as_i64().unwrap();
    // The same products again while it is open: 409 naming them.
    let again = post(&sys, "/api/stocks/demandes", &gerant, None, Some(body)).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(is_problem(&again));
    assert!(again.text().await.unwrap().contains("produit 9"));
    // A cashier cannot ask.
    let cashier = sys.login("caissier2").await;
    let res = post(&sys, "/api/stocks/demandes", &cashier, None, Some(json!({"magasin_id": 2, "lignes": []}))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let queue = sys.get_json("/api/stocks/demandes?statut=creee", &logi).await;
    let mine = queue["demandes"].as_array().unwrap().iter().find(|q| q["id"] == id).unwrap().clone();
    assert_eq!(mine["lignes"][0]["quantite_centre"], c9);
    // The gérant cannot approve their own request.
    let own = post(&sys, &format!("/api/stocks/demandes/{id}/approbation"), &gerant, None, None).await;
    assert_eq!(own.status(), StatusCode::FORBIDDEN);
    let partial = json!({"lignes": [{"produit_id": 10, "quantite": 2}]});
    let res = post(&sys, &format!("/api/stocks/demandes/{id}/approbation"), &logi, None, Some(partial)).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Shipped twice with one key (a retry): one transfer.
    let k = key();
    let mut transferts = vec![];
    for _ in 0..2 {
        let res = post(&sys, &format!("/api/stocks/demandes/{id}/expedition"), &logi, Some(&k), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        transferts.push(res.json::<Value>().await.unwrap()["transfert_id"].clone());
    }
    assert_eq!(transferts[0], transferts[1]);
    assert_eq!(quantity(&sys, 6, 9, &logi).await, c9 - 12);
    assert_eq!(quantity(&sys, 6, 10, &logi).await, c10 - 2);

    let reception = json!({"lignes": [{"produit_id": 9, "quantite": 11}], "motif": "une boîte manquante"});
    let res = post(&sys, &format!("/api/stocks/demandes/{id}/reception"), &gerant, None, Some(reception)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(quantity(&sys, 2, 9, &gerant).await, s9 + 11);
    assert_eq!(quantity(&sys, 2, 10, &gerant).await, s10 + 2);
    let ecart = sys.get_json(&format!("/api/stocks/mouvements?reference=demande:{id}"), &gerant).await;
    assert_eq!(ecart["mouvements"][0]["type"], "ecart_reception");
    assert_eq!(ecart["mouvements"][0]["delta"], -1);
    assert_eq!(ecart["mouvements"][0]["motif"], "une boîte manquante");
    // Both sides read the same trail.
    let trail = |d: &Value| -> Vec<(String, String)> {
        d["historique"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["statut"].as_str().unwrap().to_owned(), e["par"].as_str().unwrap().to_owned()))
            .collect()
    };
    let seen_store = sys.get_json(&format!("/api/stocks/demandes/{id}"), &gerant).await;
    let seen_centre = sys.get_json(&format!("/api/stocks/demandes/{id}"), &logi).await;
    assert_eq!(trail(&seen_store), trail(&seen_centre));
    let expected: Vec<(String, String)> =
        [("creee", "gerant2"), ("approuvee", "logistique"), ("expediee", "logistique"), ("recue", "gerant2")]
            .iter()
            .map(|(s, p)| ((*s).to_owned(), (*p).to_owned()))
            .collect();
    assert_eq!(trail(&seen_store), expected);

    // The auditor: every quantity equals its movements; nothing unexplained.
    let a = caisse_launcher::audit(&sys.stack.gateway_url, "admin", "demo1234", 60.0).await.unwrap();
    assert!(a.ecarts.is_empty(), "{:#?}", a.ecarts);
    assert!(a.mouvements > 0 && a.stocks > 0, "{a:?}");
}

#[tokio::test]
async fn a_products_history_names_each_editor_with_old_and_new_values() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let mut prices = vec![];
    for price in ["6.15", "6.45"] {
        let res = sys.get(&format!("/api/produits/{}", 14), &admin).await;
        let etag = res.headers()["etag"].to_str().unwrap().to_owned();
        prices.push(res.json::<Value>().await.unwrap()["prix"].clone());
        let res = sys
            .http
            .patch(sys.url("/api/produits/14"))
            .header("authorization", &admin)
            .header("if-match", etag)
            .json(&json!({"prix": price}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let h = sys.get_json("/api/produits/14/historique", &sys.login("gerant1").await).await;
    let edits: Vec<&Value> =
        h["changements"].as_array().unwrap().iter().filter(|c| c["action"] == "modification").collect();
    assert_eq!(edits.len(), 2, "{h}");
    assert_eq!(
        (edits[0]["avant"]["prix"].clone(), edits[0]["apres"]["prix"].clone()),
        (prices[0].clone(), json!("6.15"))
    );
    assert_eq!((edits[1]["avant"]["prix"].clone(), edits[1]["apres"]["prix"].clone()), (json!("6.15"), json!("6.45")));
    assert!(edits.iter().all(|e| e["par"] == "admin"));
    let res = sys.get("/api/produits/14/historique", &sys.login("caissier1").await).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(is_problem(&res));
}
