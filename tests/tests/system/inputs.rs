//! Bad input through the gateway: always a 4xx problem, never a 5xx, and
//! nothing changes.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Sys, is_problem, key};

#[tokio::test]
async fn bad_input_through_the_gateway_is_a_4xx_problem_and_changes_nothing() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let logistique = sys.login("logistique").await;
    let two_mb = format!(r#"{{"nom": "{}", "prix": "1.00"}}"#, "x".repeat(2 * 1024 * 1024));
    let transfer = |lignes: &str| format!(r#"{{"source_id": 6, "destination_id": 1, "lignes": {lignes}}}"#);
    let cases: Vec<(&str, &str, String, &str)> = vec![
        ("POST", "/api/produits", "{\"nom\": \"x\",".into(), &admin),
        ("POST", "/api/produits", r#"{"nom": 5, "prix": "1.00"}"#.into(), &admin),
        ("POST", "/api/produits", r#"{"prix": "1.00"}"#.into(), &admin),
        ("POST", "/api/produits", r#"{"nom": "x", "prix": "-0.50"}"#.into(), &admin),
        ("POST", "/api/produits", r#"{"nom": "x", "prix": "1.005"}"#.into(), &admin),
        ("POST", "/api/produits", two_mb, &admin),
        ("POST", "/api/magasins", r#"{"nom": "x", "type": "hangar"}"#.into(), &admin),
        ("POST", "/api/stocks/transferts", transfer(r#"[{"produit_id": 1, "quantite": 0}]"#), &logistique),
        ("POST", "/api/stocks/transferts", transfer(r#"[{"produit_id": 1, "quantite": -4}]"#), &logistique),
        ("POST", "/api/stocks/transferts", transfer(r#"[{"produit_id": 1, "quantite": 1000000000000}]"#), &logistique),
        ("POST", "/api/stocks/transferts", transfer(r#"[{"produit_id": 999999, "quantite": 1}]"#), &logistique),
        ("POST", "/api/stocks/transferts", transfer(r#"[{"produit_id": "un", "quantite": 1}]"#), &logistique),
        (
            "POST",
            "/api/stocks/ajustements",
            r#"{"magasin_id": 1, "produit_id": 1, "delta": 0, "motif": "x"}"#.into(),
            &admin,
        ),
        ("POST", "/api/auth/login", r#"{"login": ["admin"]}"#.into(), ""),
        ("GET", "/api/produits?q=%27%3B%20DROP%20TABLE%20produits%3B%20--", String::new(), &admin),
        ("GET", "/api/produits?limit=-1", String::new(), &admin),
        ("GET", "/api/produits/99999999", String::new(), &admin),
        ("GET", "/api/magasins/abc", String::new(), &admin),
        ("GET", "/api/stocks/magasins/1/produits/424242", String::new(), &admin),
        ("GET", "/api/inexistant", String::new(), &admin),
    ];
    for (method, path, body, auth) in cases {
        let mut req = sys.http.request(method.parse().unwrap(), sys.url(path)).header("idempotency-key", key());
        if !auth.is_empty() {
            req = req.header("authorization", auth);
        }
        if !body.is_empty() {
            req = req.header("content-type", "application/json").body(body.clone());
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let shown = &body[..body.len().min(60)];
        if path.contains("DROP") {
            // A literal search that matches nothing.
            assert_eq!(status, StatusCode::OK, "{method} {path}");
            continue;
        }
        assert!(status.is_client_error(), "{method} {path} {shown}: {status}");
        assert!(is_problem(&res), "{method} {path} {shown}: pas de problem+json");
    }
    // Nothing changed.
    let produits: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM produits").fetch_one(&sys.schema_pool("produit").await).await.unwrap();
    assert_eq!(produits, 60);
    let transferts: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM transferts").fetch_one(&sys.schema_pool("stock").await).await.unwrap();
    assert_eq!(transferts, 0);
    let magasins: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM magasins").fetch_one(&sys.schema_pool("caisse").await).await.unwrap();
    assert_eq!(magasins, 7);
    let centre = sys.get_json("/api/stocks/magasins/6/produits/1", &admin).await;
    assert_eq!(centre["quantite"], 1000);
    let _ = json!({});
}
