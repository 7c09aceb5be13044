//! Abuse limits through the gateway, at the limit and one past it: the page
//! size of every list of every OpenAPI document (every operation taking a
//! `limit`: 100, the event feeds 1000) and JSON nesting (16 levels).

use reqwest::StatusCode;
use serde_json::Value;

use crate::harness::Sys;

const SERVICES: [&str; 6] = ["caisse", "produit", "stock", "panier", "vente", "reporting"];

/// GET operations taking a page size (`limit`, or `limite` for the top-N
/// reports): (path, parameter).
async fn lists(sys: &Sys) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for service in SERVICES {
        let doc: Value =
            sys.http.get(sys.url(&format!("/openapi/{service}.json"))).send().await.unwrap().json().await.unwrap();
        for (path, item) in doc["paths"].as_object().unwrap() {
            let Some(op) = item.get("get") else { continue };
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            // Required query parameters other than the page size get a valid
            // value, and so does `magasin` (the sales journal: required of an
            // admin, who has no store of their own).
            let required: String = params
                .iter()
                .filter(|p| p["in"] == "query" && (p["required"] == true || p["name"] == "magasin"))
                .filter_map(|p| p["name"].as_str())
                .filter(|n| *n != "limit" && *n != "limite")
                .map(|n| format!("{n}=1&"))
                .collect();
            for p in params.iter().filter(|p| p["in"] == "query") {
                let name = p["name"].as_str().unwrap_or_default();
                if name == "limit" || name == "limite" {
                    let path = path.replace("{magasin_id}", "1").replace("{id}", "1");
                    out.push((format!("{path}?{required}"), name.to_owned()));
                }
            }
        }
    }
    out
}

fn field_errors(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| e.iter().map(|f| f["champ"].as_str().unwrap_or("").to_owned()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn every_list_takes_its_largest_page_and_refuses_one_more() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let lists = lists(&sys).await;
    assert!(lists.len() >= 8, "listes paginées trouvées : {lists:?}");
    let mut failures = Vec::new();
    for (path, param) in &lists {
        // The README's "Abuse limits" table: pages of 100, event feeds and
        // the stock report 1000.
        let route = path.split('?').next().unwrap_or_default();
        let max = if route.ends_with("/evenements") || route == "/api/rapports/stocks" || route == "/api/ventes/journal"
        {
            1000
        } else {
            caisse_common::pagination::MAX_LIMIT
        };
        for (limit, ok) in [(max, true), (max + 1, false), (0, false)] {
            let res = sys.get(&format!("{path}{param}={limit}"), &admin).await;
            let status = res.status();
            let body: Value = res.json().await.unwrap_or_default();
            let fine = if ok {
                status == StatusCode::OK
            } else {
                status == StatusCode::UNPROCESSABLE_ENTITY && field_errors(&body).iter().any(|f| f == param)
            };
            if !fine {
                failures.push(format!("GET {path}{param}={limit} : {status} {body}"));
            }
        }
    }
    println!("{} listes paginées vérifiées à la limite et au-delà : {lists:?}", lists.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn json_nested_past_the_limit_is_a_400_at_every_service() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let cashier = sys.login("caissier1").await;
    let depth = caisse_common::extract::MAX_JSON_DEPTH;
    // In an object field, so the nesting is the body's, not only a wrong type.
    let nested = |n: usize| format!("{{\"x\":{}1{}}}", "[".repeat(n - 1), "]".repeat(n - 1));
    let targets = [
        ("POST", "/api/magasins", &admin),
        ("POST", "/api/produits", &admin),
        ("POST", "/api/stocks/ajustements", &admin),
        ("PUT", "/api/paniers/1/lignes/1", &cashier),
        ("POST", "/api/ventes/00000000-0000-4000-8000-000000000000/retours", &admin),
        ("POST", "/api/auth/login", &admin),
    ];
    for (method, path, token) in targets {
        for (n, past) in [(depth, false), (depth + 1, true)] {
            let res = sys
                .http
                .request(method.parse().unwrap(), sys.url(path))
                .header("authorization", token)
                .header("content-type", "application/json")
                .header("idempotency-key", crate::harness::key())
                .body(nested(n))
                .send()
                .await
                .unwrap();
            let status = res.status();
            let body: Value = res.json().await.unwrap_or_default();
            let too_deep = body["detail"].as_str().unwrap_or_default().contains("imbriqué");
            if past {
                assert_eq!(
                    (status, too_deep),
                    (StatusCode::BAD_REQUEST, true),
                    "{method} {path} à {n} niveaux : {body}"
                );
            } else {
                assert!(status.is_client_error() && !too_deep, "{method} {path} à {n} niveaux : {status} {body}");
            }
        }
    }
}
