//! The gateway's own limits and errors: one body limit (the services'),
//! answered as problem+json before any replica sees the body; a client's bad
//! request never takes a replica out of the pool for everyone else.

use futures::future::join_all;
use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::harness::{Sys, is_problem};

/// Calls that have nothing to do with the oversized bodies: each must succeed.
async fn unrelated_calls(sys: &Sys, cashier: &str) -> Vec<String> {
    let mut failures = Vec::new();
    let cart = sys.post_cart(cashier).await;
    match cart {
        Ok(r) if r.status() == StatusCode::CREATED => {}
        Ok(r) => failures.push(format!("POST /api/paniers : {}", r.status())),
        Err(e) => failures.push(format!("POST /api/paniers : {e}")),
    }
    for path in ["/openapi/panier.json", "/api/produits/4", "/api/auth/me"] {
        match sys.http.get(sys.url(path)).header("authorization", cashier).send().await {
            Ok(r) if r.status() == StatusCode::OK => {}
            Ok(r) => failures.push(format!("GET {path} : {}", r.status())),
            Err(e) => failures.push(format!("GET {path} : {e}")),
        }
    }
    failures
}

async fn etag(sys: &Sys, auth: &str) -> String {
    let res = sys.get("/api/produits/4", auth).await;
    assert_eq!(res.status(), StatusCode::OK);
    res.headers()["etag"].to_str().unwrap().to_owned()
}

/// Sends `n` PATCHes of `body` in parallel while unrelated calls run, then
/// returns the PATCH answers (status, problem+json?) and every failed
/// unrelated call, during and after.
async fn patches_beside_unrelated_calls(
    sys: &Sys,
    admin: &str,
    cashier: &str,
    n: usize,
    content_type: &str,
    body: &str,
) -> (Vec<(StatusCode, bool, Value)>, Vec<String>) {
    let etag = etag(sys, admin).await;
    let patches = join_all((0..n).map(|_| async {
        let res: Response = sys
            .http
            .patch(sys.url("/api/produits/4"))
            .header("authorization", admin)
            .header("if-match", &etag)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("PATCH volumineux");
        let problem = is_problem(&res);
        (res.status(), problem, res.json::<Value>().await.unwrap_or(Value::Null))
    }));
    let during = async {
        let mut failures = Vec::new();
        for _ in 0..5 {
            failures.extend(unrelated_calls(sys, cashier).await);
        }
        failures
    };
    let (answers, mut failures) = tokio::join!(patches, during);
    // After: nginx must not have put any replica aside (it would do so for
    // 5 s after two failures); every call of a few rounds must succeed.
    for _ in 0..10 {
        failures.extend(unrelated_calls(sys, cashier).await);
    }
    (answers, failures)
}

#[tokio::test]
async fn oversized_bodies_are_refused_by_the_gateway_and_never_take_a_replica_out() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let cashier = sys.login("caissier1").await;
    let limit = caisse_common::server::BODY_LIMIT;

    // At the limit: the body reaches produit (a JSON error, not a 413).
    let at_limit = format!(r#"{{"nom": "{}"}}"#, "x".repeat(limit - 11));
    assert_eq!(at_limit.len(), limit);
    let (answers, failures) =
        patches_beside_unrelated_calls(&sys, &admin, &cashier, 1, "application/json", &at_limit).await;
    assert_ne!(answers[0].0, StatusCode::PAYLOAD_TOO_LARGE, "{limit} octets sont acceptés : {:?}", answers[0]);
    assert!(answers[0].0.is_client_error() && answers[0].1, "{:?}", answers[0]);
    assert!(failures.is_empty(), "{failures:?}");

    // One byte past it and ~1 MB, 40 at once: refused by nginx itself.
    for size in [limit + 1, 1024 * 1024] {
        let body = format!(r#"{{"nom": "{}"}}"#, "x".repeat(size - 11));
        let n = if size > limit + 1 { 40 } else { 1 };
        let (answers, failures) =
            patches_beside_unrelated_calls(&sys, &admin, &cashier, n, "application/json", &body).await;
        for (status, problem, doc) in &answers {
            assert_eq!(*status, StatusCode::PAYLOAD_TOO_LARGE, "{size} octets : {doc}");
            assert!(problem, "{size} octets : 413 sans problem+json");
            assert!(doc["detail"].as_str().unwrap_or_default().contains("256 Kio"), "{doc}");
        }
        assert!(failures.is_empty(), "{size} octets : appels sans rapport en échec : {failures:?}");
    }
    // Nothing changed.
    assert_eq!(
        sys.get_json("/api/produits/4", &admin).await["nom"],
        sys.get_json("/api/produits/4", &cashier).await["nom"]
    );
}

#[tokio::test]
async fn bodies_a_service_refuses_unread_never_count_as_replica_failures() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let cashier = sys.login("caissier1").await;
    // Under the gateway's limit, but refused by produit before it reads the
    // body (415: wrong Content-Type), 40 at once.
    let body = "x".repeat(caisse_common::server::BODY_LIMIT - 1);
    let (answers, failures) = patches_beside_unrelated_calls(&sys, &admin, &cashier, 40, "text/plain", &body).await;
    for (status, problem, doc) in &answers {
        assert_eq!(*status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{doc}");
        assert!(problem, "415 sans problem+json");
    }
    assert!(failures.is_empty(), "appels sans rapport en échec : {failures:?}");
}

#[tokio::test]
async fn the_gateways_own_errors_are_problems_in_french() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let long_query = format!("/api/produits?q={}", "a".repeat(10_000));
    let big_header = "x".repeat(10_000);
    let cases = [
        ("GET /api/produits/%00", sys.http.get(sys.url("/api/produits/%00")), 400),
        ("GET ?q=10 000 caractères", sys.http.get(sys.url(&long_query)), 414),
        ("en-tête de 10 000 caractères", sys.http.get(sys.url("/api/produits")).header("x-essai", &big_header), 431),
        ("POST /index.html", sys.http.post(sys.url("/index.html")).body("{}"), 405),
    ];
    for (what, req, expected) in cases {
        let res = req.header("authorization", &admin).send().await.unwrap();
        assert_eq!(res.status().as_u16(), expected, "{what}");
        assert!(is_problem(&res), "{what} : {:?}", res.headers().get("content-type"));
        assert!(res.headers().contains_key("x-request-id"), "{what}");
        let doc: Value = res.json().await.unwrap();
        assert_eq!(doc["status"], expected, "{what}");
        assert!(!doc["detail"].as_str().unwrap_or_default().is_empty(), "{what}");
    }
}
