//! Price edits across replicas, versions, and the gateway's auth check.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Sys, is_problem};

#[tokio::test]
async fn a_price_edit_is_served_at_once_by_every_replica_and_versions_guard_it() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let cashier = sys.login("caissier1").await;
    let replicas = sys.stack.replica_urls("produit");
    assert_eq!(replicas.len(), 2);
    // Warm the cache through every replica.
    for r in &replicas {
        let res = sys.http.get(format!("{r}/api/produits/4")).header("authorization", &cashier).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = sys.get("/api/produits/4", &admin).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();

    let denied = sys
        .http
        .patch(sys.url("/api/produits/4"))
        .header("authorization", &cashier)
        .header("if-match", &etag)
        .json(&json!({"prix": "0.01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let edit = |price: &'static str| {
        sys.http
            .patch(sys.url("/api/produits/4"))
            .header("authorization", &admin)
            .header("if-match", &etag)
            .json(&json!({"prix": price}))
            .send()
    };
    let (a, b) = tokio::join!(edit("7.77"), edit("8.88"));
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 412]);
    let winner = if a.status() == StatusCode::OK { "7.77" } else { "8.88" };
    for r in &replicas {
        let p: serde_json::Value = sys
            .http
            .get(format!("{r}/api/produits/4"))
            .header("authorization", &cashier)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(p["prix"], winner, "réplique {r}");
    }
    for _ in 0..4 {
        assert_eq!(sys.get_json("/api/produits?q=4", &cashier).await["produits"][0]["prix"], winner);
    }
}

#[tokio::test]
async fn missing_or_forged_tokens_are_refused_by_the_gateway_and_by_each_service() {
    let sys = Sys::start().await;
    for path in ["/api/produits", "/api/magasins", "/api/stocks/magasins/1", "/api/auth/me"] {
        let res = sys.http.get(sys.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
        assert!(is_problem(&res), "{path}");
        let forged = sys.get(path, "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.c2lnbmF0dXJl").await;
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    for service in ["caisse", "produit", "stock"] {
        for r in sys.stack.replica_urls(service) {
            let path = match service {
                "caisse" => "/api/magasins",
                "produit" => "/api/produits",
                _ => "/api/stocks/magasins/1",
            };
            let res = sys.http.get(format!("{r}{path}")).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{r}{path}");
            assert!(is_problem(&res));
        }
    }
    // Login, docs and health stay public.
    assert_eq!(sys.http.get(sys.url("/health")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(sys.http.get(sys.url("/openapi/produit.json")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(sys.http.get(sys.url("/docs/")).send().await.unwrap().status(), StatusCode::OK);
    // Service metrics are not published through the gateway.
    assert_eq!(sys.http.get(sys.url("/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
