//! reporting against real MariaDB and Redis, with real caisse (stores) and
//! produit (a real producer: its outbox, relay, stream and feed): the
//! projection of typed events, redelivery, gaps backfilled from the feed
//! after the stream is lost, rebuild, roles and bad input; a run of events
//! applied at once against the same events one at a time (`batch`).

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::time::{Duration, Instant};

use caisse_common::{
    Role,
    events::{
        Amount, Envelope, Event, LineQuantity, PaymentMode, Producer, SaleCancelled, SaleCompleted, SaleReturned,
        SoldLine,
    },
};
use caisse_testing::{TestDb, bearer, redis_url, spawn};
use reporting::{
    apply::{Outcome, apply},
    db::reports,
};
use reqwest::{Client, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

mod batch;

struct Env {
    caisse_url: String,
    produit_url: String,
    _dbs: Vec<TestDb>,
    db: TestDb,
    config: reporting::Config,
}

async fn env() -> Env {
    let caisse_db = TestDb::new("caisse").await;
    let caisse_cfg = caisse::Config::for_test(caisse_db.config("caisse"), "http://127.0.0.1:9".into());
    let caisse_url = spawn(caisse::build(&caisse_cfg).await.unwrap()).await;
    caisse::seed::seed(&caisse_db.admin_pool().await).await.unwrap();
    let produit_db = TestDb::new("produit").await;
    let db = TestDb::new("reporting").await;
    let common = db.config("reporting");
    let mut produit_common = produit_db.config("produit");
    // One deployment: producers and consumer share the Redis key prefix.
    produit_common.redis_prefix = common.redis_prefix.clone();
    let produit_url =
        spawn(produit::build(&produit::Config { common: produit_common, cache_ttl_secs: 60 }).await.unwrap()).await;
    let config = reporting::Config {
        common,
        caisse_url: caisse_url.clone(),
        gateway_url: caisse_url.clone(),
        vente_url: "http://127.0.0.1:9".into(),
        stock_url: "http://127.0.0.1:9".into(),
        produit_url: produit_url.clone(),
        feed_poll: Duration::from_millis(300),
    };
    produit::seed::seed(&produit_db.admin_pool().await).await.unwrap();
    Env { caisse_url, produit_url, _dbs: vec![caisse_db, produit_db], db, config }
}

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn envelope<E: Event>(id: i64, at: &str, e: &E) -> Envelope {
    Envelope {
        producteur: E::PRODUCER,
        id,
        kind: E::TYPE.into(),
        version: E::VERSION,
        survenu_le: at.parse().unwrap(),
        charge: serde_json::to_value(e).unwrap(),
    }
}

fn line(produit_id: i64, quantite: i32, prix: &str) -> SoldLine {
    SoldLine { produit_id, quantite, prix_unitaire: d(prix), total_ligne: d(prix) * Decimal::from(quantite) }
}

fn sale(id: &str, magasin_id: i64, mode: PaymentMode, lignes: Vec<SoldLine>) -> SaleCompleted {
    let sous_total: Decimal = lignes.iter().map(|l| l.total_ligne).sum();
    // Taxes are vente's business; reporting only adds what it is told.
    let (tps, tvq) = (d("1.00"), d("2.00"));
    SaleCompleted {
        vente_id: id.into(),
        numero: 1,
        magasin_id,
        caissier_id: 5,
        total: sous_total + tps + tvq,
        a_payer: sous_total + tps + tvq,
        lignes,
        sous_total,
        tps,
        tvq,
        mode_paiement: mode,
        caisse_id: None,
        session_id: None,
    }
}

fn amount(total: &str) -> Amount {
    Amount { sous_total: d(total), tps: Decimal::ZERO, tvq: Decimal::ZERO, total: d(total) }
}

#[tokio::test]
async fn events_project_per_store_day_and_mode_and_a_redelivery_changes_nothing() {
    let e = env().await;
    let state = reporting::AppState::new(&e.config).await.unwrap();
    let (pool, m) = (&state.platform.pool, &state.metrics);
    // 23:30 in Toronto on 7 March (EST, UTC-5) is 04:30 UTC on the 8th.
    let s1 = sale("a", 1, PaymentMode::Especes, vec![line(3, 2, "10.00"), line(4, 1, "5.00")]);
    let s2 = sale("b", 2, PaymentMode::Carte, vec![line(3, 1, "10.00")]);
    let events = [
        envelope(1, "2026-03-08T04:30:00Z", &s1),
        envelope(2, "2026-03-08T15:00:00Z", &s2),
        envelope(
            3,
            "2026-03-08T16:00:00Z",
            &SaleReturned {
                vente_id: "a".into(),
                retour_id: 1,
                magasin_id: 1,
                lignes: vec![LineQuantity { produit_id: 3, quantite: 1 }],
                montant: amount("11.50"),
                rembourse: d("11.50"),
            },
        ),
        envelope(
            4,
            "2026-03-08T17:00:00Z",
            &SaleCancelled {
                vente_id: "b".into(),
                magasin_id: 2,
                par: "gerant2".into(),
                lignes: vec![LineQuantity { produit_id: 3, quantite: 1 }],
                montant: amount("13.00"),
                rembourse: d("13.00"),
            },
        ),
    ];
    for ev in &events {
        assert_eq!(apply(pool, ev, false, m).await.unwrap(), Outcome::Applied);
        assert_eq!(apply(pool, ev, false, m).await.unwrap(), Outcome::Duplicate, "rejoué : sans effet");
    }
    assert_eq!(
        apply(pool, &envelope(9, "2026-03-08T18:00:00Z", &s1), false, m).await.unwrap(),
        Outcome::Gap { expected: 5 }
    );
    let (d7, d8) = ("2026-03-07".parse().unwrap(), "2026-03-08".parse().unwrap());
    let day7 = reports::sales(pool, None, d7, d7).await.unwrap();
    assert_eq!(day7.len(), 1);
    assert_eq!((day7[0].magasin_id, day7[0].nb_ventes, day7[0].brut), (1, 1, d("28.00")));
    let day8 = reports::sales(pool, None, d8, d8).await.unwrap();
    let store1 = day8.iter().find(|r| r.magasin_id == 1).unwrap();
    assert_eq!((store1.nb_ventes, store1.nb_retours, store1.retours), (0, 1, d("11.50")));
    let store2 = day8.iter().find(|r| r.magasin_id == 2).unwrap();
    assert_eq!(
        (store2.mode_paiement, store2.brut, store2.nb_annulations, store2.annulations),
        (Some(PaymentMode::Carte), d("13.00"), 1, d("13.00"))
    );
    let top = reports::top_products(pool, None, d7, d8, reports::Rank::Quantity, 10).await.unwrap();
    // Product 3: 2 + 1 sold, 1 returned, 1 cancelled; product 4: 1 sold.
    assert_eq!(
        top.iter().map(|p| (p.produit_id, p.quantite, p.montant)).collect::<Vec<_>>(),
        vec![(3, 1, d("10.00")), (4, 1, d("5.00"))]
    );
    assert_eq!(reports::cursor(pool, Producer::Vente).await.unwrap(), 4);
}

async fn wait_cursor(pool: &sqlx::MySqlPool, producer: Producer, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let c = reports::cursor(pool, producer).await.unwrap();
        if c >= at_least {
            return;
        }
        assert!(Instant::now() < deadline, "curseur {} bloqué à {c} (attendu {at_least})", producer.as_str());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn rename(http: &Client, produit_url: &str, id: i64, nom: &str) {
    let res = http
        .get(format!("{produit_url}/api/produits/{id}"))
        .header("authorization", bearer(Role::Admin, None))
        .send()
        .await
        .unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = http
        .patch(format!("{produit_url}/api/produits/{id}"))
        .header("authorization", bearer(Role::Admin, None))
        .header("if-match", etag)
        .json(&json!({"nom": nom}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn product_name(pool: &sqlx::MySqlPool, id: i64) -> String {
    sqlx::query_scalar("SELECT nom FROM produits WHERE produit_id = ?").bind(id).fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn a_lost_stream_is_backfilled_from_the_feed_and_a_rebuild_gives_the_same_model() {
    let e = env().await;
    let http = Client::new();
    let pool = e.db.admin_pool().await;
    // Produce while reporting is not running, then lose the stream (as a
    // Redis restart without persistence would).
    rename(&http, &e.produit_url, 1, "Baguette tradition").await;
    let redis = redis::Client::open(redis_url()).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let stream = format!("{}evenements:produits", e.config.common.redis_prefix);
    let deadline = Instant::now() + Duration::from_secs(10);
    while redis::cmd("XLEN").arg(&stream).query_async::<i64>(&mut conn).await.unwrap() < 61 {
        assert!(Instant::now() < deadline, "événements publiés");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    redis::cmd("DEL").arg(&stream).query_async::<()>(&mut conn).await.unwrap();
    let url = spawn(reporting::build(&e.config).await.unwrap()).await;
    wait_cursor(&pool, Producer::Produit, 61).await;
    assert_eq!(product_name(&pool, 1).await, "Baguette tradition");
    // Live events arrive through the stream.
    rename(&http, &e.produit_url, 2, "Croissant au beurre").await;
    wait_cursor(&pool, Producer::Produit, 62).await;
    // The stream is lost again between two batches: the gap is filled.
    redis::cmd("DEL").arg(&stream).query_async::<()>(&mut conn).await.unwrap();
    rename(&http, &e.produit_url, 3, "Lait 2 % 2 L").await;
    rename(&http, &e.produit_url, 3, "Lait 1 % 2 L").await;
    wait_cursor(&pool, Producer::Produit, 64).await;
    assert_eq!(product_name(&pool, 3).await, "Lait 1 % 2 L");
    // Until the rebuild, this process's consumer applied everything. The
    // gauge moves just after the commit the cursor shows: wait for it.
    let applied = "reporting_last_applied_id{producteur=\"produit\",service=\"reporting\"} 64\n";
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let m = http.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
        if m.contains(applied) || Instant::now() > deadline {
            break m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(metrics.contains(applied), "{metrics}");
    assert!(metrics.contains("reporting_backfilled_total{producteur=\"produit\""), "relectures comptées : {metrics}");
    let before: Vec<(i64, String)> =
        sqlx::query_as("SELECT produit_id, nom FROM produits ORDER BY produit_id").fetch_all(&pool).await.unwrap();
    assert_eq!(before.len(), 60);
    // This deployment has no vente nor stock: their feeds cannot be read.
    let err = reporting::rebuild(&e.config).await.unwrap_err().to_string();
    assert!(err.contains("vente (") && err.contains("stock (") && !err.contains("produit ("), "{err}");
    let after: Vec<(i64, String)> =
        sqlx::query_as("SELECT produit_id, nom FROM produits ORDER BY produit_id").fetch_all(&pool).await.unwrap();
    assert_eq!(before, after);
    assert_eq!(reports::cursor(&pool, Producer::Produit).await.unwrap(), 64);
}

async fn get(http: &Client, url: &str, path: &str, auth: Option<String>) -> reqwest::Response {
    let mut req = http.get(format!("{url}{path}"));
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn reports_are_for_admins_and_their_own_store_for_managers_and_bad_input_is_a_4xx_problem() {
    let e = env().await;
    let http = Client::new();
    let url = spawn(reporting::build(&e.config).await.unwrap()).await;
    let _ = &e.caisse_url;
    let routes = [
        "/api/rapports/ventes",
        "/api/rapports/ventes.csv",
        "/api/rapports/produits",
        "/api/rapports/tendance",
        "/api/rapports/stocks",
        "/api/rapports/tableau-de-bord",
    ];
    for r in routes {
        assert_eq!(get(&http, &url, r, Some(bearer(Role::Admin, None))).await.status(), StatusCode::OK, "{r}");
        assert_eq!(get(&http, &url, r, Some(bearer(Role::Gerant, Some(1)))).await.status(), StatusCode::OK, "{r}");
        assert_eq!(
            get(&http, &url, &format!("{r}?magasin_id=2"), Some(bearer(Role::Gerant, Some(1)))).await.status(),
            StatusCode::FORBIDDEN,
            "{r}"
        );
        assert_eq!(
            get(&http, &url, r, Some(bearer(Role::Caissier, Some(1)))).await.status(),
            StatusCode::FORBIDDEN,
            "{r}"
        );
        assert_eq!(get(&http, &url, r, None).await.status(), StatusCode::UNAUTHORIZED, "{r}");
        for q in [
            "?du=2026-02-01&au=2026-01-01",
            "?du=2026-02-30",
            "?au=demain",
            "?du=2020-01-01&au=2026-01-01",
            "?magasin_id=99",
            "?magasin_id=0",
            "?magasin_id=abc",
            "?limite=0",
            "?limite=101",
            "?jours=0",
            "?jours=367",
            "?limit=0",
            "?limit=1001",
            "?alertes=peut-etre",
        ] {
            let res = get(&http, &url, &format!("{r}{q}"), Some(bearer(Role::Admin, None))).await;
            let status = res.status();
            // Parameters a route does not take are ignored; the others are checked.
            assert!(status.is_success() || status.is_client_error(), "{r}{q} : {status}");
            if status.is_client_error() {
                assert_eq!(res.headers()["content-type"], "application/problem+json", "{r}{q}");
                let body: Value = res.json().await.unwrap();
                assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()), "{r}{q} : {body}");
            }
        }
    }
    // Each route refuses the parameters it takes.
    for (path, status) in [
        ("/api/rapports/ventes?du=2026-02-01&au=2026-01-01", 422),
        ("/api/rapports/ventes?du=01/02/2026", 422),
        ("/api/rapports/ventes?magasin_id=99", 404),
        ("/api/rapports/ventes.csv?au=2026-13-01", 422),
        ("/api/rapports/produits?limite=101", 422),
        ("/api/rapports/tendance?jours=367", 422),
        ("/api/rapports/stocks?limit=0", 422),
        ("/api/rapports/stocks?alertes=peut-etre", 400),
        ("/api/rapports/tableau-de-bord?magasin_id=abc", 400),
        ("/api/rapports/tableau-de-bord?magasin_id=42", 404),
    ] {
        assert_eq!(get(&http, &url, path, Some(bearer(Role::Admin, None))).await.status().as_u16(), status, "{path}");
    }
    let csv =
        get(&http, &url, "/api/rapports/ventes.csv?du=2026-01-01&au=2026-01-31", Some(bearer(Role::Admin, None))).await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv; charset=utf-8"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with("du;au;magasin_id;magasin;mode_paiement;nb_ventes;brut"), "{text}");
    // Five stores with registers, three lines each, plus three total lines.
    assert_eq!(text.lines().count(), 1 + 5 * 3 + 3, "{text}");
    let board: Value = get(&http, &url, "/api/rapports/tableau-de-bord", Some(bearer(Role::Gerant, Some(1))))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(board["magasin_id"], 1);
    assert_eq!(board["ventes"]["magasins"].as_array().unwrap().len(), 1, "un gérant ne voit que son magasin");
}
