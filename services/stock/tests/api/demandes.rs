//! Restocking requests: from the store's request to its reception, through
//! logistics' decision and the shipment from the centre.

use caisse_testing::bearer_as;

use super::*;

fn gerant(magasin: i64) -> String {
    bearer_as(20 + magasin, &format!("gerant{magasin}"), Role::Gerant, Some(magasin))
}

fn logi() -> String {
    bearer_as(30, "logi.centre", Role::Logistique, None)
}

impl App {
    async fn send(&self, path: &str, auth: &str, key: Option<&str>, body: Option<Value>) -> reqwest::Response {
        let mut req = self.http.post(format!("{}{path}", self.url)).header("authorization", auth);
        if let Some(k) = key {
            req = req.header("idempotency-key", k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("post")
    }

    async fn ok(&self, path: &str, auth: &str, key: Option<&str>, body: Option<Value>) -> Value {
        let res = self.send(path, auth, key, body).await;
        let status = res.status();
        let v: Value = res.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    /// A request of `magasin` for `lignes` ([(produit, quantite)]), by its gérant.
    async fn request(&self, magasin: i64, lignes: &[(i64, i64)]) -> Value {
        let lignes: Vec<Value> = lignes.iter().map(|(p, q)| json!({"produit_id": p, "quantite": q})).collect();
        let res = self
            .send(
                "/api/stocks/demandes",
                &gerant(magasin),
                None,
                Some(json!({"magasin_id": magasin, "lignes": lignes})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    async fn demande(&self, id: &Value, auth: &str) -> Value {
        let res = self.get(&format!("/api/stocks/demandes/{id}"), auth).await;
        assert_eq!(res.status(), StatusCode::OK);
        res.json().await.unwrap()
    }

    async fn transfers(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM transferts").fetch_one(&self.db.admin_pool().await).await.unwrap()
    }
}

fn steps(d: &Value) -> Vec<(String, String)> {
    d["historique"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["statut"].as_str().unwrap().to_owned(), e["par"].as_str().unwrap().to_owned()))
        .collect()
}

fn line(d: &Value, produit: i64) -> &Value {
    d["lignes"].as_array().unwrap().iter().find(|l| l["produit_id"] == produit).unwrap()
}

#[tokio::test]
async fn a_fully_approved_request_is_shipped_received_and_traced_step_by_step() {
    let app = app().await;
    let (s3, s5, c3) = (app.quantity(2, 3).await, app.quantity(2, 5).await, app.quantity(LOGISTIQUE, 3).await);
    let d = app.request(2, &[(3, 10), (5, 4)]).await;
    let id = d["id"].clone();
    assert_eq!(d["statut"], "creee");
    assert_eq!(line(&d, 3)["quantite_centre"], c3);
    // Logistics' queue: every store's new requests, the centre's quantity beside each line.
    let queue: Value = app.get("/api/stocks/demandes?statut=creee", &logi()).await.json().await.unwrap();
    let mine = queue["demandes"].as_array().unwrap().iter().find(|q| q["id"] == id).unwrap().clone();
    assert_eq!(line(&mine, 5)["quantite_centre"], app.quantity(LOGISTIQUE, 5).await);
    assert_eq!(line(&mine, 3)["quantite_demandee"], 10);

    let d = app.ok(&format!("/api/stocks/demandes/{id}/approbation"), &logi(), None, None).await;
    assert_eq!(d["statut"], "approuvee");
    assert_eq!(line(&d, 3)["quantite_approuvee"], 10);
    assert_eq!(line(&d, 5)["quantite_approuvee"], 4);
    // Approving is a decision about stock, not a movement.
    assert_eq!(app.quantity(LOGISTIQUE, 3).await, c3);

    let d = app.ok(&format!("/api/stocks/demandes/{id}/expedition"), &logi(), Some(&key()), None).await;
    assert_eq!(d["statut"], "expediee");
    let transfert = d["transfert_id"].as_i64().unwrap();
    assert_eq!(app.quantity(LOGISTIQUE, 3).await, c3 - 10);
    assert_eq!(app.quantity(2, 3).await, s3 + 10);
    assert_eq!(app.quantity(2, 5).await, s5 + 4);
    let t: Value = app.get(&format!("/api/stocks/transferts/{transfert}"), &gerant(2)).await.json().await.unwrap();
    assert_eq!(t["destination_id"], 2);
    assert_eq!(t["lignes"].as_array().unwrap().len(), 2);

    let d = app.ok(&format!("/api/stocks/demandes/{id}/reception"), &gerant(2), None, None).await;
    assert_eq!(d["statut"], "recue");
    assert_eq!(line(&d, 3)["quantite_recue"], 10);
    // Nothing missing: no discrepancy movement.
    let ecarts: Value =
        app.get(&format!("/api/stocks/mouvements?reference=demande:{id}"), &logi()).await.json().await.unwrap();
    assert!(ecarts["mouvements"].as_array().unwrap().is_empty());
    // Both sides see the same trail: who moved it, when, in order.
    let expected =
        [("creee", "gerant2"), ("approuvee", "logi.centre"), ("expediee", "logi.centre"), ("recue", "gerant2")]
            .map(|(s, p)| (s.to_owned(), p.to_owned()));
    for auth in [gerant(2), logi()] {
        let seen = app.demande(&id, &auth).await;
        assert_eq!(steps(&seen), expected);
        let times: Vec<&str> =
            seen["historique"].as_array().unwrap().iter().map(|e| e["le"].as_str().unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    }
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_partial_approval_ships_only_what_was_approved_and_frees_the_refused_line() {
    let app = app().await;
    let (c1, c2, s1) = (app.quantity(LOGISTIQUE, 1).await, app.quantity(LOGISTIQUE, 2).await, app.quantity(3, 1).await);
    let d = app.request(3, &[(1, 10), (2, 6)]).await;
    let id = d["id"].clone();
    let body = json!({"lignes": [{"produit_id": 1, "quantite": 4}, {"produit_id": 2, "quantite": 0}]});
    let d = app.ok(&format!("/api/stocks/demandes/{id}/approbation"), &logi(), None, Some(body)).await;
    assert_eq!(
        (line(&d, 1)["quantite_approuvee"].as_i64(), line(&d, 2)["quantite_approuvee"].as_i64()),
        (Some(4), Some(0))
    );
    assert_eq!(d["historique"][1]["motif"], "approbation partielle");
    // Product 1 is still on its way: a second request for it is a 409 naming it.
    let again = app
        .send("/api/stocks/demandes", &gerant(3), None, Some(json!({"magasin_id": 3, "lignes": [{"produit_id": 2, "quantite": 1}, {"produit_id": 1, "quantite": 1}]})))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let problem: Value = again.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("produit 1"), "{problem}");
    assert_eq!(problem["deja_demandes"], json!([{"produit_id": 1, "demande_id": id}]));
    // Product 2 was refused for this request: the store may ask again.
    app.request(3, &[(2, 3)]).await;

    app.ok(&format!("/api/stocks/demandes/{id}/expedition"), &logi(), Some(&key()), None).await;
    assert_eq!(app.quantity(LOGISTIQUE, 1).await, c1 - 4);
    assert_eq!(app.quantity(LOGISTIQUE, 2).await, c2);
    assert_eq!(app.quantity(3, 1).await, s1 + 4);
    let d = app.ok(&format!("/api/stocks/demandes/{id}/reception"), &gerant(3), None, None).await;
    assert_eq!(line(&d, 1)["quantite_recue"], 4);
    assert!(line(&d, 2)["quantite_recue"].is_null());
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_refused_request_keeps_its_reason_moves_nothing_and_frees_its_products() {
    let app = app().await;
    let d = app.request(4, &[(7, 12)]).await;
    let id = d["id"].clone();
    let refus = format!("/api/stocks/demandes/{id}/refus");
    for body in [json!({"motif": "   "}), json!({}), json!({"motif": "x".repeat(256)})] {
        let res = app.send(&refus, &logi(), None, Some(body.clone())).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    }
    let d = app.ok(&refus, &logi(), None, Some(json!({"motif": " Produit en fin de série "}))).await;
    assert_eq!(d["statut"], "refusee");
    assert_eq!(d["motif_refus"], "Produit en fin de série");
    assert_eq!(steps(&d)[1], ("refusee".to_owned(), "logi.centre".to_owned()));
    assert_eq!(d["historique"][1]["motif"], "Produit en fin de série");
    // A refused request is closed: no approval, shipment or reception.
    let c7 = app.quantity(LOGISTIQUE, 7).await;
    for (path, auth, k) in [
        ("approbation", logi(), None),
        ("expedition", logi(), Some(key())),
        ("reception", gerant(4), None),
        ("refus", logi(), None),
    ] {
        let body = (path == "refus").then(|| json!({"motif": "encore"}));
        let res = app.send(&format!("/api/stocks/demandes/{id}/{path}"), &auth, k.as_deref(), body).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "{path}");
        let problem: Value = res.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("refusée"), "{problem}");
    }
    assert_eq!(app.quantity(LOGISTIQUE, 7).await, c7);
    assert_eq!(app.transfers().await, 0);
    app.request(4, &[(7, 12)]).await;
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn shipping_more_than_the_centre_holds_is_a_409_naming_the_lines_and_moves_nothing() {
    let app = app().await;
    let (c8, c9, s8) = (app.quantity(LOGISTIQUE, 8).await, app.quantity(LOGISTIQUE, 9).await, app.quantity(5, 8).await);
    let d = app.request(5, &[(8, c8 + 1), (9, 5)]).await;
    let id = d["id"].clone();
    app.ok(&format!("/api/stocks/demandes/{id}/approbation"), &logi(), None, None).await;
    let res = app.send(&format!("/api/stocks/demandes/{id}/expedition"), &logi(), Some(&key()), None).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["manquants"], json!([{"produit_id": 8, "demande": c8 + 1, "disponible": c8}]));
    assert!(problem["detail"].as_str().unwrap().contains("produit 8"), "{problem}");
    assert_eq!((app.quantity(LOGISTIQUE, 8).await, app.quantity(LOGISTIQUE, 9).await), (c8, c9));
    assert_eq!(app.quantity(5, 8).await, s8);
    assert_eq!(app.transfers().await, 0);
    let d = app.demande(&id, &logi()).await;
    assert_eq!(d["statut"], "approuvee");
    assert!(d["transfert_id"].is_null());
    assert_eq!(d["historique"].as_array().unwrap().len(), 2);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_reception_with_a_shortfall_is_a_movement_of_its_own_with_its_reason() {
    let app = app().await;
    let before = app.quantity(1, 11).await;
    let d = app.request(1, &[(11, 10), (12, 2)]).await;
    let id = d["id"].clone();
    app.ok(&format!("/api/stocks/demandes/{id}/approbation"), &logi(), None, None).await;
    app.ok(&format!("/api/stocks/demandes/{id}/expedition"), &logi(), Some(&key()), None).await;
    assert_eq!(app.quantity(1, 11).await, before + 10);
    let path = format!("/api/stocks/demandes/{id}/reception");
    let short = json!({"lignes": [{"produit_id": 11, "quantite": 7}]});
    let no_reason = app.send(&path, &gerant(1), None, Some(short.clone())).await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let more = app.send(&path, &gerant(1), None, Some(json!({"lignes": [{"produit_id": 11, "quantite": 11}]}))).await;
    assert_eq!(more.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let with_reason = json!({"lignes": [{"produit_id": 11, "quantite": 7}], "motif": "carton écrasé"});
    let d = app.ok(&path, &gerant(1), None, Some(with_reason)).await;
    assert_eq!(d["statut"], "recue");
    assert_eq!(line(&d, 11)["quantite_recue"], 7);
    assert_eq!(line(&d, 12)["quantite_recue"], 2);
    assert_eq!(d["historique"][3]["motif"], "carton écrasé");
    assert_eq!(app.quantity(1, 11).await, before + 7);
    let ledger: Value =
        app.get(&format!("/api/stocks/mouvements?reference=demande:{id}"), &gerant(1)).await.json().await.unwrap();
    let moves = ledger["mouvements"].as_array().unwrap();
    assert_eq!(moves.len(), 1, "{ledger}");
    assert_eq!(moves[0]["type"], "ecart_reception");
    assert_eq!(moves[0]["delta"], -3);
    assert_eq!(moves[0]["produit_id"], 11);
    assert_eq!(moves[0]["motif"], "carton écrasé");
    assert_eq!(moves[0]["auteur"], "gerant1");
    assert_eq!(moves[0]["quantite_apres"], before + 7);
    // Received once: a second confirmation is refused and moves nothing.
    assert_eq!(app.send(&path, &gerant(1), None, None).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.quantity(1, 11).await, before + 7);
    // Every movement is an event on the stock outbox.
    let pool = app.db.admin_pool().await;
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE charge LIKE '%ecart_reception%'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(events, 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn only_a_stores_gerant_asks_and_receives_and_only_someone_else_in_logistics_decides() {
    let app = app().await;
    let body = json!({"magasin_id": 2, "lignes": [{"produit_id": 20, "quantite": 3}]});
    for (who, auth) in [
        ("caissier", bearer_as(40, "caissier2", Role::Caissier, Some(2))),
        ("gérant d'un autre magasin", gerant(3)),
        ("logistique", logi()),
    ] {
        let res = app.send("/api/stocks/demandes", &auth, None, Some(body.clone())).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let d = app.request(2, &[(20, 3)]).await;
    let id = d["id"].clone();
    for (who, auth) in [("son auteur", gerant(2)), ("gérant d'un autre magasin", gerant(3))] {
        for path in ["approbation", "refus"] {
            let res = app
                .send(&format!("/api/stocks/demandes/{id}/{path}"), &auth, None, Some(json!({"motif": "non"})))
                .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who} {path}");
        }
        let ship = app.send(&format!("/api/stocks/demandes/{id}/expedition"), &auth, Some(&key()), None).await;
        assert_eq!(ship.status(), StatusCode::FORBIDDEN, "{who}");
    }
    // Another store's gérant does not see it either.
    assert_eq!(app.get(&format!("/api/stocks/demandes/{id}"), &gerant(3)).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get("/api/stocks/demandes?magasin_id=2", &gerant(3)).await.status(), StatusCode::FORBIDDEN);
    let theirs: Value = app.get("/api/stocks/demandes", &gerant(3)).await.json().await.unwrap();
    assert!(theirs["demandes"].as_array().unwrap().is_empty());
    // An admin who asked for a store cannot approve their own request.
    let admin = bearer_as(50, "admin.siege", Role::Admin, None);
    let res = app
        .send(
            "/api/stocks/demandes",
            &admin,
            None,
            Some(json!({"magasin_id": 4, "lignes": [{"produit_id": 20, "quantite": 3}]})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let own: Value = res.json().await.unwrap();
    let res = app.send(&format!("/api/stocks/demandes/{}/approbation", own["id"]), &admin, None, None).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Reception: the store's own gérant only.
    app.ok(&format!("/api/stocks/demandes/{id}/approbation"), &logi(), None, None).await;
    app.ok(&format!("/api/stocks/demandes/{id}/expedition"), &logi(), Some(&key()), None).await;
    for auth in [gerant(3), logi(), bearer_as(40, "caissier2", Role::Caissier, Some(2))] {
        let res = app.send(&format!("/api/stocks/demandes/{id}/reception"), &auth, None, None).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(app.demande(&id, &logi()).await["statut"], "expediee");
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_repeated_shipment_with_the_same_key_ships_once() {
    let app = std::sync::Arc::new(app().await);
    let c = app.quantity(LOGISTIQUE, 30).await;
    let s = app.quantity(2, 30).await;
    let d = app.request(2, &[(30, 9)]).await;
    let id = d["id"].clone();
    app.ok(&format!("/api/stocks/demandes/{id}/approbation"), &logi(), None, None).await;
    let k = key();
    let path = format!("/api/stocks/demandes/{id}/expedition");
    // A double click and a retry at once: six sends with one key.
    let mut tasks = vec![];
    for _ in 0..6 {
        let (app, k, path) = (app.clone(), k.clone(), path.clone());
        tasks.push(tokio::spawn(async move {
            let res = app.send(&path, &logi(), Some(&k), None).await;
            (res.status(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut transferts = std::collections::BTreeSet::new();
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        transferts.insert(body["transfert_id"].as_i64().unwrap());
    }
    assert_eq!(transferts.len(), 1);
    let again = app.ok(&path, &logi(), Some(&k), None).await;
    assert_eq!(again["transfert_id"].as_i64(), transferts.first().copied());
    assert_eq!(app.quantity(LOGISTIQUE, 30).await, c - 9);
    assert_eq!(app.quantity(2, 30).await, s + 9);
    assert_eq!(app.transfers().await, 1);
    // Another key: the request has left already.
    assert_eq!(app.send(&path, &logi(), Some(&key()), None).await.status(), StatusCode::CONFLICT);
    // The key belongs to this shipment: a different transfer under it is refused.
    let other = app
        .transfer(
            &k,
            json!({"source_id": LOGISTIQUE, "destination_id": 2, "lignes": [{"produit_id": 30, "quantite": 9}]}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let steps = steps(&app.demande(&id, &logi()).await);
    assert_eq!(steps.iter().filter(|(s, _)| s == "expediee").count(), 1);
    assert_eq!(app.quantity(LOGISTIQUE, 30).await, c - 9);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn the_suggested_request_fills_entries_under_threshold_up_to_their_target_and_submits_as_is() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let stock: Value = app.get("/api/stocks/magasins/1?limit=100", &admin).await.json().await.unwrap();
    let low: Vec<(i64, i64)> = stock["stocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["quantite"].as_i64() <= s["seuil_alerte"].as_i64())
        .map(|s| (s["produit_id"].as_i64().unwrap(), s["quantite"].as_i64().unwrap()))
        .collect();
    assert!(low.len() >= 2, "le stock de démonstration du magasin 1 a des entrées basses : {low:?}");
    // One entry gets its own target.
    let (p0, q0) = low[0];
    let res = app
        .http
        .put(format!("{}/api/stocks/magasins/1/produits/{p0}/seuils", app.url))
        .header("authorization", gerant(1))
        .json(&json!({"seuil_alerte": 5, "seuil_surstock": 500, "niveau_cible": 40}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let s: Value = app.get("/api/stocks/demandes/suggestion", &gerant(1)).await.json().await.unwrap();
    let proposed: Vec<(i64, i64)> = s["lignes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["produit_id"].as_i64().unwrap(), l["quantite"].as_i64().unwrap()))
        .collect();
    // Default target: twice the alert threshold (5) = 10.
    let expected: Vec<(i64, i64)> = low.iter().map(|&(p, q)| (p, if p == p0 { 40 - q0 } else { 10 - q })).collect();
    assert_eq!(proposed, expected);
    // Submitted as is.
    let lignes: Vec<Value> = proposed.iter().map(|(p, q)| json!({"produit_id": p, "quantite": q})).collect();
    let res =
        app.send("/api/stocks/demandes", &gerant(1), None, Some(json!({"magasin_id": 1, "lignes": lignes}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // Covered now: nothing left to suggest.
    let s: Value = app.get("/api/stocks/demandes/suggestion", &gerant(1)).await.json().await.unwrap();
    assert_eq!(s["lignes"], json!([]));
    // Logistics asks for a given store.
    let s: Value = app.get("/api/stocks/demandes/suggestion?magasin_id=2", &logi()).await.json().await.unwrap();
    assert_eq!(s["magasin_id"], 2);
}

#[tokio::test]
async fn bad_restocking_input_is_a_4xx_problem_never_a_5xx() {
    let app = app().await;
    let d = app.request(2, &[(40, 5)]).await;
    let id = d["id"].as_i64().unwrap();
    let g = gerant(2);
    let create = |b: &str| ("/api/stocks/demandes".to_owned(), g.clone(), None::<String>, b.to_owned());
    let on = |path: &str, auth: &str, k: Option<String>, b: &str| {
        (format!("/api/stocks/demandes/{id}/{path}"), auth.to_owned(), k, b.to_owned())
    };
    let cases = vec![
        create(r#"{"magasin_id": 2, "lignes": []}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 1, "quantite": 0}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 1, "quantite": -4}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 1, "quantite": 99999999999999}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 1, "quantite": "dix"}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 999999, "quantite": 1}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": -1, "quantite": 1}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 1, "quantite": 1}, {"produit_id": 1, "quantite": 2}]}"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 1, "quantite": 1}], "urgent": true}"#),
        create(r#"{"magasin_id": "2; DROP TABLE demandes", "lignes": []}"#),
        create(r#"{"lignes": [{"produit_id": 1, "quantite": 1}]}"#),
        create(r#"{"magasin_id": 2, "lignes": "#),
        create(r#"[]"#),
        create(r#"{"magasin_id": 2, "lignes": [{"produit_id": 40, "quantite": 1}]}"#),
        (
            "/api/stocks/demandes".to_owned(),
            bearer(Role::Admin, None),
            None,
            r#"{"magasin_id": 6, "lignes": [{"produit_id": 1, "quantite": 1}]}"#.to_owned(),
        ),
        (
            "/api/stocks/demandes".to_owned(),
            bearer(Role::Admin, None),
            None,
            r#"{"magasin_id": 999, "lignes": [{"produit_id": 1, "quantite": 1}]}"#.to_owned(),
        ),
        (
            "/api/stocks/demandes".to_owned(),
            bearer(Role::Admin, None),
            None,
            r#"{"magasin_id": 0, "lignes": [{"produit_id": 1, "quantite": 1}]}"#.to_owned(),
        ),
        on("approbation", &logi(), None, r#"{"lignes": [{"produit_id": 40, "quantite": 6}]}"#),
        on("approbation", &logi(), None, r#"{"lignes": [{"produit_id": 40, "quantite": -1}]}"#),
        on("approbation", &logi(), None, r#"{"lignes": [{"produit_id": 40, "quantite": 0}]}"#),
        on("approbation", &logi(), None, r#"{"lignes": [{"produit_id": 41, "quantite": 1}]}"#),
        on(
            "approbation",
            &logi(),
            None,
            r#"{"lignes": [{"produit_id": 40, "quantite": 1}, {"produit_id": 40, "quantite": 1}]}"#,
        ),
        on("approbation", &logi(), None, r#"{"lignes": {"produit_id": 40}}"#),
        on("approbation", &logi(), None, r#"{"tout": true}"#),
        on("approbation", &logi(), None, r#"nope"#),
        on("refus", &logi(), None, r#"{"motif": ""}"#),
        on("refus", &logi(), None, r#"{"motif": 12}"#),
        on("refus", &logi(), None, r#""#),
        on("expedition", &logi(), None, r#""#),
        on("expedition", &logi(), Some("court".into()), r#""#),
        on("expedition", &logi(), Some(key()), r#"{"source_id": 1}"#),
        on("expedition", &logi(), Some(key()), r#"{"source_id": 999}"#),
        on("expedition", &logi(), Some(key()), r#"{"source_id": "six"}"#),
        on("expedition", &logi(), Some(key()), r#""#),
        on("reception", &g, None, r#""#),
        on("reception", &g, None, r#"{"lignes": [{"produit_id": 40, "quantite": 1}], "motif": 3}"#),
    ];
    for (path, auth, k, body) in cases {
        let mut req = app
            .http
            .post(format!("{}{path}", app.url))
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(k) = &k {
            req = req.header("idempotency-key", k);
        }
        let res = req.send().await.unwrap();
        assert!(res.status().is_client_error(), "{path} {body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path} {body}");
        let problem: Value = res.json().await.unwrap();
        assert!(!problem["detail"].as_str().unwrap_or_default().is_empty(), "{path} {body}: {problem}");
    }
    let admin = bearer(Role::Admin, None);
    for path in [
        "/api/stocks/demandes/abc",
        "/api/stocks/demandes/999999",
        "/api/stocks/demandes/-1",
        "/api/stocks/demandes?statut=perdue",
        "/api/stocks/demandes?limit=0",
        "/api/stocks/demandes?limit=5000",
        "/api/stocks/demandes?apres=-3",
        "/api/stocks/demandes?magasin_id=x",
        "/api/stocks/demandes/suggestion",
        "/api/stocks/demandes/suggestion?magasin_id=0",
        "/api/stocks/demandes/suggestion?magasin_id=abc",
    ] {
        let res = app.get(path, &admin).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path}");
    }
    for path in ["/api/stocks/demandes/999999/approbation", "/api/stocks/demandes/abc/reception"] {
        assert!(app.send(path, &logi(), Some(&key()), None).await.status().is_client_error(), "{path}");
    }
    // Nothing of it moved anything or decided anything.
    let d = app.demande(&json!(id), &logi()).await;
    assert_eq!(d["statut"], "creee");
    assert_eq!(d["historique"].as_array().unwrap().len(), 1);
    assert_eq!(app.transfers().await, 0);
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM demandes").fetch_one(&app.db.admin_pool().await).await.unwrap();
    assert_eq!(count, 1);
    app.assert_ledger_balances().await;
}
