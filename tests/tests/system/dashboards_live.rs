//! Every dashboard panel and every rule, evaluated against live data: the
//! native stack with Prometheus and the nginx, MySQL and Redis exporters, a
//! short mixed load (sales in five stores, a refused sale, a return, a
//! transfer, cached reads hit and missed), then every PromQL expression of
//! every panel of `grafana/dashboards/` (Grafana's `$__rate_interval`,
//! `$__range` and template variables substituted as Grafana would) must
//! parse and return at least one series, and every recording and alerting
//! rule must parse and be evaluated by Prometheus without error.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    time::{Duration, Instant},
};

use caisse_launcher::Options;
use caisse_tests::charge::{self, Till};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Sys, key};

/// What Grafana puts in place of its variables: the compose datasource's
/// 15 s scrape interval gives `$__rate_interval` = 1m; the dashboards' default
/// range is 1h; "All" of a template variable is every value.
pub fn substitute(expr: &str) -> String {
    let e = expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$__interval", "15s");
    let mut out = String::new();
    let mut rest = e.as_str();
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (braced, body) = after.strip_prefix('{').map_or((false, after), |b| (true, b));
        let len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(body.len());
        out.push_str(".*");
        rest = &body[len + usize::from(braced)..];
    }
    out.push_str(rest);
    out
}

fn panels() -> Vec<(String, String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../grafana/dashboards");
    let mut out = vec![];
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        for p in doc["panels"].as_array().unwrap() {
            for t in p["targets"].as_array().into_iter().flatten() {
                if let Some(expr) = t["expr"].as_str() {
                    out.push((file.clone(), p["title"].as_str().unwrap_or_default().to_owned(), substitute(expr)));
                }
            }
        }
    }
    out
}

/// Instant query: `Ok(number of series)` or the error Prometheus gave.
async fn query(http: &reqwest::Client, prom: &str, expr: &str) -> Result<usize, String> {
    let res =
        http.get(format!("{prom}/api/v1/query")).query(&[("query", expr)]).send().await.map_err(|e| e.to_string())?;
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    if body["status"] != "success" {
        return Err(format!("{} : {}", body["errorType"], body["error"]));
    }
    Ok(match body["data"]["resultType"].as_str() {
        Some("scalar" | "string") => 1,
        _ => body["data"]["result"].as_array().map_or(0, Vec::len),
    })
}

async fn drive_load(sys: &Sys) {
    let gateway = sys.stack.gateway_url.clone();
    let cfg = charge::Config {
        gateway: gateway.clone(),
        caissiers: (1..=5).map(|i| format!("caissier{i}")).collect(),
        mot_de_passe: "demo1234".into(),
        ventes_par_seconde: 10.0,
        duree: None,
        ventes: Some(20),
        produits: 60,
    };
    let report = charge::run(&cfg).await.unwrap();
    assert!(report.ventes >= 10 && report.erreurs == 0, "{report:?}");
    let till = Till::login(&sys.http, &gateway, "caissier1", "demo1234").await.unwrap();
    // A refused sale: more than the store holds.
    let (status, _) = till.sell(&[(7, 999)], false).await.unwrap();
    assert_eq!(status, StatusCode::CONFLICT);
    // A return of part of a sale.
    let (status, recu) = till.sell(&[(8, 2)], true).await.unwrap();
    assert_eq!(status, StatusCode::CREATED);
    let res = sys
        .http
        .post(sys.url(&format!("/api/ventes/{}/retours", recu["id"].as_str().unwrap())))
        .header("authorization", till.bearer())
        .header("idempotency-key", key())
        .json(&json!({"lignes": [{"produit_id": 8, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // A transfer from the logistics centre.
    let logistique = sys.login("logistique").await;
    let res = sys
        .http
        .post(sys.url("/api/stocks/transferts"))
        .header("authorization", &logistique)
        .header("idempotency-key", key())
        .json(&json!({"source_id": 6, "destination_id": 3, "lignes": [{"produit_id": 9, "quantite": 5}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Cached reads: a miss then hits, and a product that does not exist.
    for path in ["/api/produits/5", "/api/produits/5", "/api/produits/5", "/api/stocks/magasins/1/produits/5"] {
        assert_eq!(sys.get(path, till.bearer()).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(sys.get("/api/produits/999999", till.bearer()).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn every_dashboard_panel_and_rule_shows_live_data() {
    let mut opts = Options::for_test().unwrap();
    opts.prometheus = true;
    let sys = Sys::start_with(opts).await;
    let prom = sys.stack.prometheus_url.clone().expect("Prometheus non installé : tests/run l'installe");
    let jobs: Vec<&str> = sys.stack.exporters.iter().map(|(j, _)| *j).collect();
    assert_eq!(jobs, ["gateway", "mysql", "redis"], "exportateurs (deploy/ensure-deps les installe)");
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();

    // Every target scraped and up (services, launcher, exporters).
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let body: Value = match http.get(format!("{prom}/api/v1/targets")).send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        let targets = body["data"]["activeTargets"].as_array().cloned().unwrap_or_default();
        let down: Vec<String> = targets
            .iter()
            .filter(|t| t["health"] != "up")
            .map(|t| format!("{} {} ({})", t["labels"]["job"], t["scrapeUrl"], t["lastError"]))
            .collect();
        if targets.len() == 12 + 4 && down.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "cibles Prometheus : {} ; en panne : {down:?}", targets.len());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    let started = Instant::now();
    drive_load(&sys).await;
    let load_secs = started.elapsed().as_secs_f64();

    // Each panel: parses, then shows a series once Prometheus has scraped the load.
    let panels = panels();
    assert!(panels.len() > 60, "{} expressions", panels.len());
    let mut empty: BTreeMap<String, String> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        empty.clear();
        for (file, title, expr) in &panels {
            match query(&http, &prom, expr).await {
                Ok(n) if n > 0 => {}
                Ok(_) => {
                    empty.insert(format!("{file} « {title} »"), expr.clone());
                }
                Err(e) => panic!("{file} « {title} » ne s'évalue pas : {e}\n{expr}"),
            }
        }
        if empty.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(empty.is_empty(), "panneaux vides après la charge :\n{empty:#?}");

    // Every rule parses and is evaluated without error.
    let deadline = Instant::now() + Duration::from_secs(30);
    let rules = loop {
        let body: Value = http.get(format!("{prom}/api/v1/rules")).send().await.unwrap().json().await.unwrap();
        let rules: Vec<Value> = body["data"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|g| g["rules"].as_array().unwrap().clone())
            .collect();
        let pending: Vec<&Value> = rules
            .iter()
            .filter(|r| r["health"] != "ok" || r["lastEvaluation"].as_str().is_none_or(|t| t.starts_with("0001")))
            .collect();
        if !rules.is_empty() && pending.is_empty() {
            break rules;
        }
        assert!(Instant::now() < deadline, "règles non évaluées ou en erreur : {pending:#?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    for r in &rules {
        let expr = r["query"].as_str().unwrap();
        query(&http, &prom, expr).await.unwrap_or_else(|e| panic!("règle {} : {e}", r["name"]));
    }
    println!(
        "{} expressions de panneaux, {} règles évaluées ; charge {load_secs:.1} s, total {:.1} s",
        panels.len(),
        rules.len(),
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn grafana_variables_are_substituted_like_grafana() {
    assert_eq!(
        substitute(r#"sum(rate(x{service=~"$service", i=~"${instance}"}[$__rate_interval])) / increase(y[$__range])"#),
        r#"sum(rate(x{service=~".*", i=~".*"}[1m])) / increase(y[1h])"#
    );
}
