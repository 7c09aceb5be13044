//! FaultProxy against a tiny real axum upstream: plain forwarding, then each
//! action (delay, drop before/after forwarding, injected status, hold), rule
//! matching, budgets, counters and `clear`.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    routing::any,
};
use caisse_testing::{Action, FaultProxy, Rule, spawn};
use serde_json::{Value, json};

/// Upstream that counts the requests it served and echoes what it received.
async fn upstream() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    async fn echo(
        State(hits): State<Arc<AtomicUsize>>,
        method: Method,
        uri: Uri,
        headers: HeaderMap,
        body: String,
    ) -> (StatusCode, [(&'static str, &'static str); 1], Json<Value>) {
        let n = hits.fetch_add(1, Ordering::SeqCst) + 1;
        let h = |k: &str| headers.get(k).and_then(|v| v.to_str().ok()).map(str::to_owned);
        (
            StatusCode::CREATED,
            [("x-amont", "oui")],
            Json(json!({
                "n": n,
                "method": method.as_str(),
                "uri": uri.to_string(),
                "authorization": h("authorization"),
                "request_id": h("x-request-id"),
                "idempotency_key": h("idempotency-key"),
                "content_type": h("content-type"),
                "body": body,
            })),
        )
    }
    let app = Router::new().fallback(any(echo)).with_state(hits.clone());
    (spawn(app).await, hits)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap()
}

async fn post(proxy: &FaultProxy, path: &str, request_id: &str) -> reqwest::Result<reqwest::Response> {
    client()
        .post(format!("{}{path}", proxy.url()))
        .header("x-request-id", request_id)
        .json(&json!({"quantite": 2}))
        .send()
        .await
}

#[tokio::test]
async fn forwards_method_path_query_headers_and_body_unchanged() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let r = client()
        .put(format!("{}/api/reservations/abc?magasin=3&x=%C3%A9", proxy.url()))
        .header("authorization", "Bearer jeton")
        .header("x-request-id", "req-1")
        .header("idempotency-key", "cle-1")
        .header("content-type", "application/json")
        .body(r#"{"a":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-amont"], "oui");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["method"], "PUT");
    assert_eq!(v["uri"], "/api/reservations/abc?magasin=3&x=%C3%A9");
    assert_eq!(v["authorization"], "Bearer jeton");
    assert_eq!(v["request_id"], "req-1");
    assert_eq!(v["idempotency_key"], "cle-1");
    assert_eq!(v["content_type"], "application/json");
    assert_eq!(v["body"], r#"{"a":1}"#);
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path_and_query, "/api/reservations/abc?magasin=3&x=%C3%A9");
    assert_eq!(seen[0].action, None);
}

#[tokio::test]
async fn delay_waits_then_forwards() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let rule = proxy.add(Rule::post("/api/reservations").then(Action::Delay(Duration::from_millis(300))));
    let started = Instant::now();
    let r = post(&proxy, "/api/reservations", "r1").await.unwrap();
    assert_eq!(r.status(), 201);
    assert!(started.elapsed() >= Duration::from_millis(300), "le délai n'a pas été appliqué");
    assert_eq!((rule.matched(), rule.forwarded(), hits.load(Ordering::SeqCst)), (1, 1, 1));
}

#[tokio::test]
async fn a_delayed_request_still_reaches_upstream_after_its_client_gave_up() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let slow = proxy.add(Rule::any().then(Action::Delay(Duration::from_millis(400))));
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(100)).build().unwrap();
    let err = impatient.post(format!("{}/api/reservations", proxy.url())).send().await.expect_err("délai dépassé");
    assert!(err.is_timeout(), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    slow.wait_forwarded(1).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1, "la requête arrive en retard, comme sur un réseau lent");
}

#[tokio::test]
async fn drop_before_forward_closes_unanswered_and_upstream_never_sees_it() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let rule = proxy.add(Rule::post("/api/reservations").times(1).then(Action::DropBeforeForward));
    let err = post(&proxy, "/api/reservations", "r1").await.expect_err("aucune réponse attendue");
    assert!(err.status().is_none(), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    // Budget spent: the next one goes through.
    assert_eq!(post(&proxy, "/api/reservations", "r2").await.unwrap().status(), 201);
    assert_eq!((rule.matched(), rule.forwarded(), hits.load(Ordering::SeqCst)), (1, 0, 1));
}

#[tokio::test]
async fn drop_after_forward_loses_the_response_of_a_committed_request() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let rule = proxy.add(Rule::post("/api/reservations").times(1).then(Action::DropAfterForward));
    let err = post(&proxy, "/api/reservations", "r1").await.expect_err("réponse perdue attendue");
    assert!(err.status().is_none(), "{err}");
    assert_eq!(hits.load(Ordering::SeqCst), 1, "l'amont a bien traité la requête");
    assert_eq!((rule.matched(), rule.forwarded()), (1, 1));
}

#[tokio::test]
async fn status_answers_problem_json_without_forwarding() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let rule = proxy.add(Rule::any().then(Action::Status(503)));
    let r = post(&proxy, "/api/reservations", "r1").await.unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], 503);
    assert_eq!(hits.load(Ordering::SeqCst), 0);
    assert_eq!((rule.matched(), rule.forwarded()), (1, 0));
}

#[tokio::test]
async fn hold_forwards_only_when_released() {
    let (up, hits) = upstream().await;
    let proxy = Arc::new(FaultProxy::start(&up).await);
    let gate = proxy.add(Rule::post("/api/reservations").then(Action::Hold));
    let p = proxy.clone();
    let first = tokio::spawn(async move { post(&p, "/api/reservations", "r1").await.unwrap().status() });
    let p = proxy.clone();
    let second = tokio::spawn(async move { post(&p, "/api/reservations", "r2").await.unwrap().status() });
    gate.wait_held(2).await;
    assert_eq!(hits.load(Ordering::SeqCst), 0, "rien ne doit passer avant la libération");
    // Other requests are not held meanwhile.
    assert_eq!(post(&proxy, "/api/autre", "r3").await.unwrap().status(), 201);
    gate.release_one();
    gate.wait_forwarded(1).await;
    assert_eq!(gate.held(), 1);
    gate.release();
    assert_eq!(first.await.unwrap(), 201);
    assert_eq!(second.await.unwrap(), 201);
    // Once released for good, later matches are not held.
    assert_eq!(post(&proxy, "/api/reservations", "r4").await.unwrap().status(), 201);
    assert_eq!((gate.matched(), gate.forwarded(), hits.load(Ordering::SeqCst)), (3, 3, 4));
}

#[tokio::test]
async fn rules_match_by_method_path_and_request_id_prefix_in_order() {
    let (up, hits) = upstream().await;
    let proxy = FaultProxy::start(&up).await;
    let recovery = proxy
        .add(Rule::any().path_contains("/liberation").request_id_prefix("recuperation-").then(Action::Status(500)));
    let gets = proxy.add(Rule::get("/api/stocks").times(2).then(Action::Status(502)));
    let c = client();
    // Checkout's own release is untouched; recovery's is refused.
    assert_eq!(post(&proxy, "/api/reservations/v1/liberation", "abc").await.unwrap().status(), 201);
    assert_eq!(post(&proxy, "/api/reservations/v1/liberation", "recuperation-7").await.unwrap().status(), 500);
    // Method and prefix both count; the budget of two applies.
    assert_eq!(post(&proxy, "/api/stocks/1", "x").await.unwrap().status(), 201);
    for expected in [502, 502, 201] {
        let r = c.get(format!("{}/api/stocks/1", proxy.url())).send().await.unwrap();
        assert_eq!(r.status().as_u16(), expected);
    }
    let exact = proxy.add(Rule::any().method("post").path_exact("/api/stocks/reservations").then(Action::Status(409)));
    assert_eq!(post(&proxy, "/api/stocks/reservations/v1", "y").await.unwrap().status(), 201);
    assert_eq!(post(&proxy, "/api/stocks/reservations", "y").await.unwrap().status(), 409);
    assert_eq!((recovery.matched(), gets.matched(), exact.matched()), (1, 2, 1));
    assert_eq!(hits.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn clear_removes_rules_and_releases_held_requests() {
    let (up, hits) = upstream().await;
    let proxy = Arc::new(FaultProxy::start(&up).await);
    let gate = proxy.add(Rule::any().then(Action::Hold));
    let p = proxy.clone();
    let held = tokio::spawn(async move { post(&p, "/api/reservations", "r1").await.unwrap().status() });
    gate.wait_held(1).await;
    proxy.clear();
    assert_eq!(held.await.unwrap(), 201);
    assert_eq!(post(&proxy, "/api/reservations", "r2").await.unwrap().status(), 201);
    assert_eq!((gate.matched(), hits.load(Ordering::SeqCst)), (1, 2));
}

#[tokio::test]
async fn unreachable_upstream_is_a_502_problem() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let proxy = FaultProxy::start(&format!("http://127.0.0.1:{port}")).await;
    let r = post(&proxy, "/api/reservations", "r1").await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn concurrent_requests_share_a_budget_exactly() {
    let (up, hits) = upstream().await;
    let proxy = Arc::new(FaultProxy::start(&up).await);
    let rule = proxy.add(Rule::post("/api/ventes").times(5).then(Action::Status(503)));
    let answers = futures::future::join_all((0..20).map(|i| {
        let p = proxy.clone();
        async move { post(&p, "/api/ventes", &format!("r{i}")).await.unwrap().status().as_u16() }
    }))
    .await;
    assert_eq!(answers.iter().filter(|s| **s == 503).count(), 5);
    assert_eq!(answers.iter().filter(|s| **s == 201).count(), 15);
    assert_eq!((rule.matched(), hits.load(Ordering::SeqCst)), (5, 15));
}
