//! Store lists, entries and alerts.

use super::*;

#[tokio::test]
async fn cashiers_see_their_store_only() {
    let app = app().await;
    let own = app.get("/api/stocks/magasins/1", &bearer(Role::Caissier, Some(1))).await;
    assert_eq!(own.status(), StatusCode::OK);
    let body: Value = own.json().await.unwrap();
    assert_eq!(body["stocks"].as_array().unwrap().len(), 50);
    assert_eq!(body["suivant"], 50);
    let other = app.get("/api/stocks/magasins/2", &bearer(Role::Caissier, Some(1))).await;
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    let none = app.get("/api/stocks/magasins/1", "Bearer x").await;
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn alerts_list_out_of_stock_and_low_entries() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let q = app.quantity(3, 4).await;
    let res = app
        .http
        .post(format!("{}/api/stocks/ajustements", app.url))
        .header("authorization", &admin)
        .json(&json!({"magasin_id": 3, "produit_id": 4, "delta": -q, "motif": "inventaire"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let alerts: Value = app.get("/api/stocks/alertes?magasin_id=3", &admin).await.json().await.unwrap();
    let list = alerts["alertes"].as_array().unwrap();
    assert!(list.iter().any(|a| a["produit_id"] == 4 && a["niveau"] == "rupture"), "{alerts}");
    assert!(list.iter().all(|a| a["magasin_id"] == 3));
    // Store staff only ever see their own store's alerts.
    let own: Value =
        app.get("/api/stocks/alertes?magasin_id=3", &bearer(Role::Gerant, Some(1))).await.json().await.unwrap();
    assert!(own["alertes"].as_array().unwrap().iter().all(|a| a["magasin_id"] == 1));
}
