//! Adjustments: reasons, bounds, and their Idempotency-Key.

use super::*;

#[tokio::test]
async fn adjustments_need_a_reason_and_cannot_go_below_zero() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let post = |body: Value, auth: String| {
        let req =
            app.http.post(format!("{}/api/stocks/ajustements", app.url)).header("authorization", auth).json(&body);
        async move { req.send().await.unwrap() }
    };
    let q = app.quantity(1, 1).await;
    let ok = post(json!({"magasin_id": 1, "produit_id": 1, "delta": -1, "motif": "casse"}), admin.clone()).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(app.quantity(1, 1).await, q - 1);
    let under = post(json!({"magasin_id": 1, "produit_id": 1, "delta": -100000, "motif": "vol"}), admin.clone()).await;
    assert_eq!(under.status(), StatusCode::CONFLICT);
    let no_reason = post(json!({"magasin_id": 1, "produit_id": 1, "delta": 1, "motif": " "}), admin.clone()).await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = post(json!({"magasin_id": 1, "produit_id": 9999, "delta": 1, "motif": "x"}), admin.clone()).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let cashier =
        post(json!({"magasin_id": 1, "produit_id": 1, "delta": 1, "motif": "x"}), bearer(Role::Caissier, Some(1)))
            .await;
    assert_eq!(cashier.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.quantity(1, 1).await, q - 1);
    app.assert_ledger_balances().await;
}

async fn adjust(app: &App, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app
        .http
        .post(format!("{}/api/stocks/ajustements", app.url))
        .header("authorization", bearer(Role::Admin, None))
        .json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

/// The ledger entries of one stock entry, oldest first.
async fn movements(app: &App, magasin: i64, produit: i64) -> Vec<Value> {
    let path = format!("/api/stocks/mouvements?magasin_id={magasin}&produit_id={produit}");
    let body: Value = app.get(&path, &bearer(Role::Admin, None)).await.json().await.unwrap();
    body["mouvements"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_adjustment_accepts_the_longest_idempotency_key_and_replays_it() {
    let app = app().await;
    let q = app.quantity(1, 6).await;
    let long_key = format!("{}{}", key(), "k".repeat(100 - 36));
    let body = json!({"magasin_id": 1, "produit_id": 6, "delta": 2, "motif": "inventaire"});
    let first = adjust(&app, Some(&long_key), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = adjust(&app, Some(&long_key), &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.quantity(1, 6).await, q + 2);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn an_extreme_delta_is_a_422_not_a_crash() {
    let app = app().await;
    let q = app.quantity(1, 6).await;
    for delta in [i64::MIN, i64::MIN + 1, i64::MAX, -100_001, 100_001, 0] {
        let res = adjust(&app, None, &json!({"magasin_id": 1, "produit_id": 6, "delta": delta, "motif": "x"})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "delta {delta}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["champ"], "delta", "{body}");
    }
    assert_eq!(app.quantity(1, 6).await, q);
}

#[tokio::test]
async fn an_adjustment_key_reused_for_another_adjustment_is_a_422() {
    let app = app().await;
    let q = app.quantity(2, 6).await;
    let k = key();
    let body = json!({"magasin_id": 2, "produit_id": 6, "delta": -1, "motif": "casse"});
    assert_eq!(adjust(&app, Some(&k), &body).await.status(), StatusCode::CREATED);
    for other in [
        json!({"magasin_id": 2, "produit_id": 6, "delta": -3, "motif": "casse"}),
        json!({"magasin_id": 2, "produit_id": 7, "delta": -1, "motif": "casse"}),
        json!({"magasin_id": 2, "produit_id": 6, "delta": -1, "motif": "vol"}),
    ] {
        let res = adjust(&app, Some(&k), &other).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{other}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["champ"], "Idempotency-Key", "{problem}");
    }
    assert_eq!(app.quantity(2, 6).await, q - 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn identical_concurrent_adjustments_apply_once_and_answer_alike() {
    let app = std::sync::Arc::new(app().await);
    let q = app.quantity(3, 6).await;
    let before = movements(&app, 3, 6).await.len();
    let k = key();
    let body = json!({"magasin_id": 3, "produit_id": 6, "delta": 5, "motif": "réception comptée"});
    let mut tasks = vec![];
    for _ in 0..8 {
        let (app, k, body) = (app.clone(), k.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let res = adjust(&app, Some(&k), &body).await;
            (res.status(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body, &answers[0].1);
    }
    assert_eq!(answers[0].1["quantite"].as_i64().unwrap(), q + 5);
    assert_eq!(app.quantity(3, 6).await, q + 5);
    assert_eq!(movements(&app, 3, 6).await.len(), before + 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn an_adjustment_for_a_store_that_does_not_exist_is_a_422_and_creates_nothing() {
    let app = app().await;
    for delta in [-1, 5] {
        let res =
            adjust(&app, None, &json!({"magasin_id": 999999, "produit_id": 1, "delta": delta, "motif": "x"})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "delta {delta}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["champ"], "magasin_id", "{problem}");
    }
    let entry = app.get("/api/stocks/magasins/999999/produits/1", &bearer(Role::Admin, None)).await;
    assert_eq!(entry.status(), StatusCode::NOT_FOUND);
    app.assert_ledger_balances().await;
}
