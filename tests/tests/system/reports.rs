//! reporting through the gateway: its stock view follows stock's ledger
//! (seed, transfer, adjustment, thresholds) and the catalogue follows produit,
//! after a Redis FLUSHALL too; roles and bad input on every report route.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::harness::{Sys, is_problem, key};

/// Store `magasin`'s quantities as stock itself reports them.
async fn stock_quantities(sys: &Sys, auth: &str, magasin: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut apres = 0;
    loop {
        let page = sys.get_json(&format!("/api/stocks/magasins/{magasin}?limit=100&apres={apres}"), auth).await;
        for s in page["stocks"].as_array().unwrap() {
            out.push((s["produit_id"].as_i64().unwrap(), s["quantite"].as_i64().unwrap()));
        }
        match page["suivant"].as_i64() {
            Some(n) => apres = n,
            None => return out,
        }
    }
}

/// The same store as reporting sees it.
async fn reported_quantities(sys: &Sys, auth: &str, magasin: i64) -> Vec<(i64, i64)> {
    let page = sys.get_json(&format!("/api/rapports/stocks?magasin_id={magasin}&limit=1000"), auth).await;
    page["stocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["produit_id"].as_i64().unwrap(), s["quantite"].as_i64().unwrap()))
        .collect()
}

async fn wait_until_reported(sys: &Sys, auth: &str, magasin: i64, what: &str) {
    let expected = stock_quantities(sys, auth, magasin).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = reported_quantities(sys, auth, magasin).await;
        if got == expected {
            return;
        }
        assert!(Instant::now() < deadline, "{what} : reporting {got:?} ≠ stock {expected:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn reporting_follows_the_ledger_and_the_catalogue_even_after_a_redis_flush() {
    let sys = Sys::start_private_redis().await;
    let admin = sys.login("admin").await;
    let logistique = sys.login("logistique").await;
    wait_until_reported(&sys, &admin, 2, "stock de démonstration").await;
    let res = sys
        .http
        .post(sys.url("/api/stocks/transferts"))
        .header("authorization", &logistique)
        .header("idempotency-key", key())
        .json(&json!({"source_id": 6, "destination_id": 2, "lignes": [{"produit_id": 9, "quantite": 12}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    wait_until_reported(&sys, &admin, 2, "après un transfert").await;
    // Redis loses everything (a restart without persistence).
    sys.flush_redis().await;
    let res = sys
        .http
        .post(sys.url("/api/stocks/ajustements"))
        .header("authorization", &admin)
        .header("idempotency-key", key())
        .json(&json!({"magasin_id": 2, "produit_id": 9, "delta": -20, "motif": "casse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let res = sys
        .http
        .put(sys.url("/api/stocks/magasins/2/produits/10/seuils"))
        .header("authorization", &admin)
        .json(&json!({"seuil_alerte": 500, "seuil_surstock": 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    wait_until_reported(&sys, &admin, 2, "après FLUSHALL").await;
    // The threshold change is the event after the adjustment: wait for it too.
    let deadline = Instant::now() + Duration::from_secs(30);
    let ten = loop {
        let alerts = sys.get_json("/api/rapports/stocks?magasin_id=2&alertes=true&limit=1000", &admin).await;
        let found = alerts["stocks"].as_array().unwrap().iter().find(|s| s["produit_id"] == 10).cloned();
        if let Some(t) = found.filter(|t| t["seuil_alerte"] == 500) {
            break t;
        }
        assert!(Instant::now() < deadline, "produit 10 en alerte : {alerts}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((ten["seuil_alerte"].as_i64(), ten["statut"].as_str()), (Some(500), Some("sous_le_seuil")));
    let nom = sys.get_json("/api/produits/10", &admin).await["nom"].clone();
    assert_eq!(ten["nom"], nom, "le catalogue vient des événements de produit");
}

#[tokio::test]
async fn reports_answer_admins_and_their_own_store_to_managers_and_refuse_bad_input() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let gerant = sys.login("gerant1").await;
    let caissier = sys.login("caissier1").await;
    let routes = [
        "/api/rapports/ventes",
        "/api/rapports/ventes.csv",
        "/api/rapports/produits",
        "/api/rapports/tendance",
        "/api/rapports/stocks",
        "/api/rapports/tableau-de-bord",
    ];
    for r in routes {
        assert_eq!(sys.get(r, &admin).await.status(), StatusCode::OK, "{r}");
        assert_eq!(sys.get(r, &gerant).await.status(), StatusCode::OK, "{r}");
        let other = sys.get(&format!("{r}?magasin_id=2"), &gerant).await;
        assert_eq!(other.status(), StatusCode::FORBIDDEN, "{r}");
        assert!(is_problem(&other));
        assert_eq!(sys.get(r, &caissier).await.status(), StatusCode::FORBIDDEN, "{r}");
        let anonymous = sys.http.get(sys.url(r)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED, "{r}");
    }
    for (path, status) in [
        ("/api/rapports/ventes?du=2026-02-01&au=2026-01-01", 422),
        ("/api/rapports/ventes?du=2026-02-30", 422),
        ("/api/rapports/ventes?du=2020-01-01&au=2026-01-01", 422),
        ("/api/rapports/ventes?magasin_id=99", 404),
        ("/api/rapports/ventes.csv?au=hier", 422),
        ("/api/rapports/produits?limite=0", 422),
        ("/api/rapports/produits?magasin_id=-3", 422),
        ("/api/rapports/tendance?jours=367", 422),
        ("/api/rapports/tendance?jours=abc", 400),
        ("/api/rapports/stocks?limit=1001", 422),
        ("/api/rapports/stocks?magasin_id=12345", 404),
        ("/api/rapports/tableau-de-bord?magasin_id=x", 400),
        ("/api/rapports/tableau-de-bord?du=2026-01-10&au=2026-01-01", 422),
    ] {
        let res = sys.get(path, &admin).await;
        assert_eq!(res.status().as_u16(), status, "{path}");
        assert!(is_problem(&res), "{path}");
        let body: Value = res.json().await.unwrap();
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{path} : {body}");
    }
    let board = sys.get_json("/api/rapports/tableau-de-bord", &gerant).await;
    assert_eq!(board["ventes"]["magasins"].as_array().unwrap().len(), 1);
    assert_eq!(board["ventes"]["magasins"][0]["magasin_id"], 1);
}

/// The dashboard's freshness rule (`reporting::snapshots::FRESHNESS`).
const FRESHNESS: Duration = Duration::from_millis(250);

/// Waits until every producer has published all its events and reporting
/// has applied them.
async fn wait_caught_up(sys: &Sys, admin: &str) {
    let pool = sys.schema_pool("reporting").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut behind = Vec::new();
        for (producer, feed) in [
            ("vente", "/api/ventes/evenements"),
            ("stock", "/api/stocks/evenements"),
            ("produit", "/api/produits/evenements"),
        ] {
            let page = sys.get_json(&format!("{feed}?apres=0&limit=1"), admin).await;
            let (last, waiting) = (page["dernier"].as_i64().unwrap(), page["en_attente"].as_i64().unwrap());
            let cursor: i64 = sqlx::query_scalar("SELECT dernier_id FROM curseurs WHERE producteur = ?")
                .bind(producer)
                .fetch_one(&pool)
                .await
                .unwrap();
            if cursor < last || waiting > 0 {
                behind.push(format!("{producer} {cursor}/{last}, {waiting} non publié(s)"));
            }
        }
        if behind.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "reporting en retard : {behind:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Store 1's sales today on one replica's dashboard, and its ETag.
async fn board_sales(sys: &Sys, replica: &str, path: &str, admin: &str) -> (i64, String) {
    let res = sys.http.get(format!("{replica}{path}")).header("authorization", admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{replica}{path}");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let board: Value = res.json().await.unwrap();
    (board["ventes"]["total"]["nb_ventes"].as_i64().unwrap(), etag)
}

#[tokio::test]
async fn every_replica_shows_an_applied_sale_on_the_dashboard_within_its_freshness_bound_and_revalidates() {
    let sys = Sys::start().await;
    let admin = sys.login("admin").await;
    let cashier = sys.login("caissier1").await;
    let today = caisse_common::calendar::today();
    let path = format!("/api/rapports/tableau-de-bord?du={today}&au={today}&magasin_id=1&jours=7");
    let replicas = sys.stack.replica_urls("reporting");
    assert_eq!(replicas.len(), 2, "{replicas:?}");
    // The seeds' events applied: nothing moves until the sale.
    wait_caught_up(&sys, &admin).await;
    // Each replica keeps an answer before the sale; an unchanged one is a 304.
    let mut before = Vec::new();
    for r in &replicas {
        let (n, etag) = board_sales(&sys, r, &path, &admin).await;
        assert_eq!(board_sales(&sys, r, &path, &admin).await, (n, etag.clone()), "{r} : réponse gardée");
        let res = sys
            .http
            .get(format!("{r}{path}"))
            .header("authorization", &admin)
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{r}");
        assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);
        before.push((n, etag));
    }
    assert_eq!(before[0], before[1], "les deux répliques, même réponse, même ETag");
    // Through the gateway too (weak comparison: nginx may gzip it).
    let res = sys.http.get(sys.url(&path)).header("authorization", &admin).header("if-none-match", &before[0].1);
    assert_eq!(res.send().await.unwrap().status(), StatusCode::NOT_MODIFIED);
    sys.sell(&cashier, &[(1, 1)], "carte").await;
    // Applied: the sales report (read from the read model at each request) shows it.
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = format!("/api/rapports/ventes?du={today}&au={today}&magasin_id=1");
    while sys.get_json(&report, &admin).await["total"]["nb_ventes"].as_i64() != Some(before[0].0 + 1) {
        assert!(Instant::now() < deadline, "vente jamais appliquée par reporting");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied = Instant::now();
    // Neither replica serves the answer without it once FRESHNESS has passed
    // (one of them did not apply the sale: it learns it from the cursors).
    for (r, (n, etag)) in replicas.iter().zip(&before) {
        loop {
            let asked = Instant::now();
            let (now, new_etag) = board_sales(&sys, r, &path, &admin).await;
            if now == n + 1 {
                assert_ne!(&new_etag, etag, "{r} : nouvelle réponse, nouvel ETag");
                break;
            }
            assert_eq!(now, *n, "{r}");
            assert!(
                asked < applied + FRESHNESS,
                "{r} : réponse sans la vente {:?} après son application",
                asked - applied
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
