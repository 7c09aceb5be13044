//! Returned or cancelled goods put back.

use super::*;

#[tokio::test]
async fn returns_restock_once_per_reference() {
    let app = app().await;
    let q = app.quantity(3, 9).await;
    let body = json!({"reference": "retour:77", "magasin_id": 3, "lignes": [{"produit_id": 9, "quantite": 2}], "motif": "retour client"});
    let post = || {
        app.http
            .post(format!("{}/api/stocks/retours", app.url))
            .header("authorization", bearer(Role::Service, None))
            .json(&body)
            .send()
    };
    assert_eq!(post().await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(post().await.unwrap().status(), StatusCode::OK);
    assert_eq!(app.quantity(3, 9).await, q + 2);
    // A cashier cannot put stock back by hand (nor pre-empt a cancellation's reference).
    let forged = app
        .http
        .post(format!("{}/api/stocks/retours", app.url))
        .header("authorization", bearer(Role::Caissier, Some(3)))
        .json(&json!({"reference": "annulation:1", "magasin_id": 3, "lignes": [{"produit_id": 9, "quantite": 100}], "motif": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.quantity(3, 9).await, q + 2);
    let bad = app
        .http
        .post(format!("{}/api/stocks/retours", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(
            &json!({"reference": "x'; --", "magasin_id": 3, "lignes": [{"produit_id": 9, "quantite": 2}], "motif": ""}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_return_to_a_store_that_does_not_exist_is_a_422_and_creates_nothing() {
    let app = app().await;
    let res = app
        .http
        .post(format!("{}/api/stocks/retours", app.url))
        .header("authorization", bearer(Role::Admin, None))
        .json(&json!({"reference": "retour:999", "magasin_id": 999999, "lignes": [{"produit_id": 9, "quantite": 2}], "motif": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["champ"], "magasin_id", "{problem}");
    let entry = app.get("/api/stocks/magasins/999999/produits/9", &bearer(Role::Admin, None)).await;
    assert_eq!(entry.status(), StatusCode::NOT_FOUND);
    app.assert_ledger_balances().await;
}
