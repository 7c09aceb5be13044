//! Transfers from the logistics centre.

use super::*;

#[tokio::test]
async fn a_transfer_shows_in_the_store_list_at_once_and_replays_idempotently() {
    let app = app().await;
    let cashier = bearer(Role::Caissier, Some(2));
    let before: Value = app.get("/api/stocks/magasins/2?limit=5", &cashier).await.json().await.unwrap();
    let q_before = before["stocks"][2]["quantite"].as_i64().unwrap();
    let k = key();
    let body = json!({"source_id": LOGISTIQUE, "destination_id": 2, "lignes": [{"produit_id": 3, "quantite": 10}, {"produit_id": 1, "quantite": 4}]});
    let res = app.transfer(&k, body.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let after: Value = app.get("/api/stocks/magasins/2?limit=5", &cashier).await.json().await.unwrap();
    assert_eq!(after["stocks"][2]["quantite"].as_i64().unwrap(), q_before + 10);
    assert_eq!(app.quantity(LOGISTIQUE, 3).await, 990);
    // Same key, same body: same transfer, no second effect.
    let again: Value = app.transfer(&k, body).await.json().await.unwrap();
    assert_eq!(again["id"], t["id"]);
    assert_eq!(app.quantity(LOGISTIQUE, 3).await, 990);
    // Same key, other body: refused.
    let other = app
        .transfer(
            &k,
            json!({"source_id": LOGISTIQUE, "destination_id": 2, "lignes": [{"produit_id": 3, "quantite": 1}]}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ledger: Value = app
        .get(&format!("/api/stocks/mouvements?reference=transfert:{}", t["id"]), &bearer(Role::Admin, None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["mouvements"].as_array().unwrap().len(), 4);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_short_transfer_is_a_409_listing_lines_and_moves_nothing() {
    let app = app().await;
    let res = app
        .transfer(&key(), json!({"source_id": LOGISTIQUE, "destination_id": 1, "lignes": [{"produit_id": 1, "quantite": 5}, {"produit_id": 2, "quantite": 1001}]}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["manquants"][0]["produit_id"], 2);
    assert_eq!(body["manquants"][0]["disponible"], 1000);
    assert_eq!(app.quantity(LOGISTIQUE, 1).await, 1000);
    let transfers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM transferts").fetch_one(&app.db.admin_pool().await).await.unwrap();
    assert_eq!(transfers, 0);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn fifty_concurrent_transfers_never_drive_stock_negative() {
    let app = app().await;
    // 1000 units at the centre; 50 transfers of 30 compete: 33 fit.
    let mut tasks = vec![];
    let app = std::sync::Arc::new(app);
    for i in 0..50 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let dest = 1 + (i % 5);
            app.transfer(
                &key(),
                json!({"source_id": LOGISTIQUE, "destination_id": dest, "lignes": [{"produit_id": 7, "quantite": 30}]}),
            )
            .await
            .status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("statut inattendu {other}"),
        }
    }
    assert_eq!(ok, 33);
    assert_eq!(app.quantity(LOGISTIQUE, 7).await, 10);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn transfers_go_from_the_logistics_centre_to_a_store_only() {
    let app = app().await;
    let line = json!([{"produit_id": 1, "quantite": 1}]);
    for (source, dest) in [(1, 2), (LOGISTIQUE, 7), (LOGISTIQUE, 999), (LOGISTIQUE, LOGISTIQUE)] {
        let res = app.transfer(&key(), json!({"source_id": source, "destination_id": dest, "lignes": line})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{source} → {dest}");
    }
    let cashier = app
        .http
        .post(format!("{}/api/stocks/transferts", app.url))
        .header("authorization", bearer(Role::Caissier, Some(1)))
        .header("idempotency-key", key())
        .json(&json!({"source_id": LOGISTIQUE, "destination_id": 1, "lignes": line}))
        .send()
        .await
        .unwrap();
    assert_eq!(cashier.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_stock_input_is_a_4xx_problem_and_changes_nothing() {
    let app = app().await;
    let base = |lignes: &str| format!(r#"{{"source_id": 6, "destination_id": 1, "lignes": {lignes}}}"#);
    let cases = vec![
        base("[{\"produit_id\": 1, \"quantite\": 0}]"),
        base("[{\"produit_id\": 1, \"quantite\": -5}]"),
        base("[{\"produit_id\": 1, \"quantite\": 99999999999}]"),
        base("[{\"produit_id\": 1, \"quantite\": \"dix\"}]"),
        base("[{\"produit_id\": 1}]"),
        base("[]"),
        base("[{\"produit_id\": 1, \"quantite\": 1}, {\"produit_id\": 1, \"quantite\": 1}]"),
        r#"{"source_id": 6, "lignes": "#.to_owned(),
        r#"{"source_id": "6; DROP TABLE stocks", "destination_id": 1, "lignes": []}"#.to_owned(),
    ];
    for body in cases {
        let res = app
            .http
            .post(format!("{}/api/stocks/transferts", app.url))
            .header("authorization", bearer(Role::Logistique, None))
            .header("idempotency-key", key())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{body}");
    }
    let no_key = app
        .http
        .post(format!("{}/api/stocks/transferts", app.url))
        .header("authorization", bearer(Role::Logistique, None))
        .json(&json!({"source_id": 6, "destination_id": 1, "lignes": [{"produit_id": 1, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
    for path in ["/api/stocks/magasins/abc", "/api/stocks/magasins/1?limit=1000", "/api/stocks/magasins/1/produits/999"]
    {
        assert!(app.get(path, &bearer(Role::Admin, None)).await.status().is_client_error(), "{path}");
    }
    let transfers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM transferts").fetch_one(&app.db.admin_pool().await).await.unwrap();
    assert_eq!(transfers, 0);
    assert_eq!(app.quantity(LOGISTIQUE, 1).await, 1000);
}
