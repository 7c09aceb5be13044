//! stock against real MariaDB and Redis, with real caisse and produit
//! services (each on its own schema) answering its lookups.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use caisse_common::Role;
use caisse_testing::{TestDb, bearer, spawn};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use stock::seed::LOGISTIQUE;

struct App {
    url: String,
    http: Client,
    db: TestDb,
    _peers: Vec<TestDb>,
}

async fn app() -> App {
    let caisse_db = TestDb::new("caisse").await;
    let caisse_cfg = caisse::Config { common: caisse_db.config("caisse"), token_ttl_secs: 3600 };
    let caisse_url = spawn(caisse::build(&caisse_cfg).await.expect("caisse")).await;
    caisse::seed::seed(&caisse_db.admin_pool().await).await.expect("seed caisse");
    let produit_db = TestDb::new("produit").await;
    let produit_cfg = produit::Config { common: produit_db.config("produit"), cache_ttl_secs: 60 };
    let produit_url = spawn(produit::build(&produit_cfg).await.expect("produit")).await;
    produit::seed::seed(&produit_db.admin_pool().await).await.expect("seed produit");
    let db = TestDb::new("stock").await;
    let config = stock::Config { common: db.config("stock"), cache_ttl_secs: 60, caisse_url, produit_url };
    let url = spawn(stock::build(&config).await.expect("stock")).await;
    stock::seed::seed(&db.admin_pool().await).await.expect("seed stock");
    App { url, http: Client::new(), db, _peers: vec![caisse_db, produit_db] }
}

impl App {
    async fn get(&self, path: &str, auth: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.url)).header("authorization", auth).send().await.expect("get")
    }

    async fn quantity(&self, magasin: i64, produit: i64) -> i64 {
        let res =
            self.get(&format!("/api/stocks/magasins/{magasin}/produits/{produit}"), &bearer(Role::Admin, None)).await;
        let body: Value = res.json().await.unwrap();
        body["quantite"].as_i64().unwrap()
    }

    async fn transfer(&self, key: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/stocks/transferts", self.url))
            .header("authorization", bearer(Role::Logistique, None))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .expect("transfer")
    }

    /// Every quantity equals the sum of its movements; none is negative.
    async fn assert_ledger_balances(&self) {
        let pool = self.db.admin_pool().await;
        assert_eq!(
            stock::db::ledger::unexplained_quantities(&pool).await.unwrap(),
            0,
            "quantités non expliquées par le registre"
        );
    }
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

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
async fn a_transfer_shows_in_the_store_list_at_once_and_replays_idempotently() {
    let app = app().await;
    let cashier = bearer(Role::Caissier, Some(2));
    let before: Value = app.get("/api/stocks/magasins/2?limit=5", &cashier).await.json().await.unwrap();
    let q_before = before["stocks"][2]["quantite"].as_i64().unwrap();
    let k = key();
    let body = json!({"source_id": LOGISTIQUE, "destination_id": 2, "lignes": [{"produit_id": 3, "quantite": 10}, {"produit_id": 1, "quantite": 4}]});
    let res = app.transfer(&k, body.clone()).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let t: Value = res.json().await.unwrap();
    let after: Value = app.get("/api/stocks/magasins/2?limit=5", &cashier).await.json().await.unwrap();
    assert_eq!(after["stocks"][2]["quantite"].as_i64().unwrap(), q_before + 10);
    assert_eq!(app.quantity(LOGISTIQUE, 3).await, 990);
    // Same key, same body: same transfer, no second effect.
    let again: Value = app.transfer(&k, body).await.json().await.unwrap();
    assert_eq!(again["id"], t["id"]);
    assert_eq!(app.quantity(LOGISTIQUE, 3).await, 990);
    // Same key, other body: refused.
    let other = app
        .transfer(
            &k,
            json!({"source_id": LOGISTIQUE, "destination_id": 2, "lignes": [{"produit_id": 3, "quantite": 1}]}),
        )
        .await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let ledger: Value = app
        .get(&format!("/api/stocks/mouvements?reference=transfert:{}", t["id"]), &bearer(Role::Admin, None))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["mouvements"].as_array().unwrap().len(), 4);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_short_transfer_is_a_409_listing_lines_and_moves_nothing() {
    let app = app().await;
    let res = app
        .transfer(&key(), json!({"source_id": LOGISTIQUE, "destination_id": 1, "lignes": [{"produit_id": 1, "quantite": 5}, {"produit_id": 2, "quantite": 1001}]}))
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["manquants"][0]["produit_id"], 2);
    assert_eq!(body["manquants"][0]["disponible"], 1000);
    assert_eq!(app.quantity(LOGISTIQUE, 1).await, 1000);
    let transfers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM transferts").fetch_one(&app.db.admin_pool().await).await.unwrap();
    assert_eq!(transfers, 0);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn fifty_concurrent_transfers_never_drive_stock_negative() {
    let app = app().await;
    // 1000 units at the centre; 50 transfers of 30 compete: 33 fit.
    let mut tasks = vec![];
    let app = std::sync::Arc::new(app);
    for i in 0..50 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let dest = 1 + (i % 5);
            app.transfer(
                &key(),
                json!({"source_id": LOGISTIQUE, "destination_id": dest, "lignes": [{"produit_id": 7, "quantite": 30}]}),
            )
            .await
            .status()
        }));
    }
    let mut ok = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {}
            other => panic!("statut inattendu {other}"),
        }
    }
    assert_eq!(ok, 33);
    assert_eq!(app.quantity(LOGISTIQUE, 7).await, 10);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn transfers_go_from_the_logistics_centre_to_a_store_only() {
    let app = app().await;
    let line = json!([{"produit_id": 1, "quantite": 1}]);
    for (source, dest) in [(1, 2), (LOGISTIQUE, 7), (LOGISTIQUE, 999), (LOGISTIQUE, LOGISTIQUE)] {
        let res = app.transfer(&key(), json!({"source_id": source, "destination_id": dest, "lignes": line})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{source} → {dest}");
    }
    let cashier = app
        .http
        .post(format!("{}/api/stocks/transferts", app.url))
        .header("authorization", bearer(Role::Caissier, Some(1)))
        .header("idempotency-key", key())
        .json(&json!({"source_id": LOGISTIQUE, "destination_id": 1, "lignes": line}))
        .send()
        .await
        .unwrap();
    assert_eq!(cashier.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn adjustments_need_a_reason_and_cannot_go_below_zero() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let post = |body: Value, auth: String| {
        let req =
            app.http.post(format!("{}/api/stocks/ajustements", app.url)).header("authorization", auth).json(&body);
        async move { req.send().await.unwrap() }
    };
    let q = app.quantity(1, 1).await;
    let ok = post(json!({"magasin_id": 1, "produit_id": 1, "delta": -1, "motif": "casse"}), admin.clone()).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(app.quantity(1, 1).await, q - 1);
    let under = post(json!({"magasin_id": 1, "produit_id": 1, "delta": -100000, "motif": "vol"}), admin.clone()).await;
    assert_eq!(under.status(), StatusCode::CONFLICT);
    let no_reason = post(json!({"magasin_id": 1, "produit_id": 1, "delta": 1, "motif": " "}), admin.clone()).await;
    assert_eq!(no_reason.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = post(json!({"magasin_id": 1, "produit_id": 9999, "delta": 1, "motif": "x"}), admin.clone()).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let cashier =
        post(json!({"magasin_id": 1, "produit_id": 1, "delta": 1, "motif": "x"}), bearer(Role::Caissier, Some(1)))
            .await;
    assert_eq!(cashier.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.quantity(1, 1).await, q - 1);
    app.assert_ledger_balances().await;
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

#[tokio::test]
async fn bad_stock_input_is_a_4xx_problem_and_changes_nothing() {
    let app = app().await;
    let base = |lignes: &str| format!(r#"{{"source_id": 6, "destination_id": 1, "lignes": {lignes}}}"#);
    let cases = vec![
        base("[{\"produit_id\": 1, \"quantite\": 0}]"),
        base("[{\"produit_id\": 1, \"quantite\": -5}]"),
        base("[{\"produit_id\": 1, \"quantite\": 99999999999}]"),
        base("[{\"produit_id\": 1, \"quantite\": \"dix\"}]"),
        base("[{\"produit_id\": 1}]"),
        base("[]"),
        base("[{\"produit_id\": 1, \"quantite\": 1}, {\"produit_id\": 1, \"quantite\": 1}]"),
        r#"{"source_id": 6, "lignes": "#.to_owned(),
        r#"{"source_id": "6; DROP TABLE stocks", "destination_id": 1, "lignes": []}"#.to_owned(),
    ];
    for body in cases {
        let res = app
            .http
            .post(format!("{}/api/stocks/transferts", app.url))
            .header("authorization", bearer(Role::Logistique, None))
            .header("idempotency-key", key())
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{body}");
    }
    let no_key = app
        .http
        .post(format!("{}/api/stocks/transferts", app.url))
        .header("authorization", bearer(Role::Logistique, None))
        .json(&json!({"source_id": 6, "destination_id": 1, "lignes": [{"produit_id": 1, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
    for path in ["/api/stocks/magasins/abc", "/api/stocks/magasins/1?limit=1000", "/api/stocks/magasins/1/produits/999"]
    {
        assert!(app.get(path, &bearer(Role::Admin, None)).await.status().is_client_error(), "{path}");
    }
    let transfers: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM transferts").fetch_one(&app.db.admin_pool().await).await.unwrap();
    assert_eq!(transfers, 0);
    assert_eq!(app.quantity(LOGISTIQUE, 1).await, 1000);
}

async fn reserve(app: &App, vente: &str, magasin: i64, lignes: Value) -> reqwest::Response {
    app.http
        .post(format!("{}/api/stocks/reservations", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(&json!({"vente_id": vente, "magasin_id": magasin, "lignes": lignes}))
        .send()
        .await
        .unwrap()
}

async fn release(app: &App, vente: &str, magasin: i64) -> reqwest::Response {
    app.http
        .post(format!("{}/api/stocks/reservations/{vente}/liberation", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(&json!({"magasin_id": magasin}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reservation_is_all_or_nothing_and_never_applied_twice() {
    let app = app().await;
    let (q1, q2) = (app.quantity(1, 1).await, app.quantity(1, 2).await);
    let vente = key();
    let lignes = json!([{"produit_id": 1, "quantite": 1}, {"produit_id": 2, "quantite": 2}]);
    let first = reserve(&app, &vente, 1, lignes.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    for _ in 0..3 {
        assert_eq!(reserve(&app, &vente, 1, lignes.clone()).await.status(), StatusCode::CREATED);
    }
    assert_eq!((app.quantity(1, 1).await, app.quantity(1, 2).await), (q1 - 1, q2 - 2));
    // Short on one line: 409 listing it, nothing reserved.
    let short =
        reserve(&app, &key(), 1, json!([{"produit_id": 1, "quantite": 1}, {"produit_id": 3, "quantite": 100000}]))
            .await;
    assert_eq!(short.status(), StatusCode::CONFLICT);
    let body: Value = short.json().await.unwrap();
    assert_eq!(body["manquants"][0]["produit_id"], 3);
    assert_eq!(app.quantity(1, 1).await, q1 - 1);
    // Only the vente service (or an admin) moves stock for sales: a cashier's
    // own token, even of this store, is refused.
    let other = app
        .http
        .post(format!("{}/api/stocks/reservations", app.url))
        .header("authorization", bearer(Role::Caissier, Some(1)))
        .json(&json!({"vente_id": key(), "magasin_id": 1, "lignes": lignes}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_release_restocks_exactly_once_and_blocks_a_late_reservation() {
    let app = app().await;
    let q = app.quantity(1, 5).await;
    let vente = key();
    let lignes = json!([{"produit_id": 5, "quantite": 3}]);
    assert_eq!(reserve(&app, &vente, 1, lignes.clone()).await.status(), StatusCode::CREATED);
    for _ in 0..3 {
        let r = release(&app, &vente, 1).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["statut"], "liberee");
    }
    assert_eq!(app.quantity(1, 5).await, q);
    assert_eq!(reserve(&app, &vente, 1, lignes.clone()).await.status(), StatusCode::CONFLICT);
    // Releasing a sale that never reserved leaves a tombstone: a late reservation is refused.
    let ghost = key();
    assert_eq!(release(&app, &ghost, 1).await.status(), StatusCode::OK);
    assert_eq!(reserve(&app, &ghost, 1, lignes).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.quantity(1, 5).await, q);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn concurrent_reservations_of_the_same_sale_decrement_once() {
    let app = std::sync::Arc::new(app().await);
    let q = app.quantity(2, 8).await;
    let vente = key();
    let mut tasks = vec![];
    for _ in 0..10 {
        let (app, vente) = (app.clone(), vente.clone());
        tasks.push(tokio::spawn(async move {
            reserve(&app, &vente, 2, json!([{"produit_id": 8, "quantite": 1}])).await.status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(app.quantity(2, 8).await, q - 1);
    app.assert_ledger_balances().await;
}

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
async fn bad_reservation_input_is_a_4xx_and_moves_nothing() {
    let app = app().await;
    let q = app.quantity(1, 1).await;
    for body in [
        json!({"vente_id": "pas-un-uuid", "magasin_id": 1, "lignes": [{"produit_id": 1, "quantite": 1}]}),
        json!({"vente_id": key(), "magasin_id": 1, "lignes": []}),
        json!({"vente_id": key(), "magasin_id": 1, "lignes": [{"produit_id": 1, "quantite": 0}]}),
        json!({"vente_id": key(), "magasin_id": 1, "lignes": [{"produit_id": 1, "quantite": 1_000_000_000_000i64}]}),
        json!({"vente_id": key(), "lignes": [{"produit_id": 1, "quantite": 1}]}),
        json!({"vente_id": key(), "magasin_id": "un", "lignes": [{"produit_id": 1, "quantite": 1}]}),
    ] {
        let res = app
            .http
            .post(format!("{}/api/stocks/reservations", app.url))
            .header("authorization", bearer(Role::Service, None))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let res = app
        .http
        .post(format!("{}/api/stocks/reservations/pas-un-uuid/liberation", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(&json!({"magasin_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.quantity(1, 1).await, q);
    app.assert_ledger_balances().await;
}

async fn adjust(app: &App, key: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app
        .http
        .post(format!("{}/api/stocks/ajustements", app.url))
        .header("authorization", bearer(Role::Admin, None))
        .json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

/// The ledger entries of one stock entry, oldest first.
async fn movements(app: &App, magasin: i64, produit: i64) -> Vec<Value> {
    let path = format!("/api/stocks/mouvements?magasin_id={magasin}&produit_id={produit}");
    let body: Value = app.get(&path, &bearer(Role::Admin, None)).await.json().await.unwrap();
    body["mouvements"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_adjustment_accepts_the_longest_idempotency_key_and_replays_it() {
    let app = app().await;
    let q = app.quantity(1, 6).await;
    let long_key = format!("{}{}", key(), "k".repeat(100 - 36));
    let body = json!({"magasin_id": 1, "produit_id": 6, "delta": 2, "motif": "inventaire"});
    let first = adjust(&app, Some(&long_key), &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = adjust(&app, Some(&long_key), &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    assert_eq!(app.quantity(1, 6).await, q + 2);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn an_extreme_delta_is_a_422_not_a_crash() {
    let app = app().await;
    let q = app.quantity(1, 6).await;
    for delta in [i64::MIN, i64::MIN + 1, i64::MAX, -100_001, 100_001, 0] {
        let res = adjust(&app, None, &json!({"magasin_id": 1, "produit_id": 6, "delta": delta, "motif": "x"})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "delta {delta}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["errors"][0]["champ"], "delta", "{body}");
    }
    assert_eq!(app.quantity(1, 6).await, q);
}

#[tokio::test]
async fn an_adjustment_key_reused_for_another_adjustment_is_a_422() {
    let app = app().await;
    let q = app.quantity(2, 6).await;
    let k = key();
    let body = json!({"magasin_id": 2, "produit_id": 6, "delta": -1, "motif": "casse"});
    assert_eq!(adjust(&app, Some(&k), &body).await.status(), StatusCode::CREATED);
    for other in [
        json!({"magasin_id": 2, "produit_id": 6, "delta": -3, "motif": "casse"}),
        json!({"magasin_id": 2, "produit_id": 7, "delta": -1, "motif": "casse"}),
        json!({"magasin_id": 2, "produit_id": 6, "delta": -1, "motif": "vol"}),
    ] {
        let res = adjust(&app, Some(&k), &other).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{other}");
        let problem: Value = res.json().await.unwrap();
        assert_eq!(problem["errors"][0]["champ"], "Idempotency-Key", "{problem}");
    }
    assert_eq!(app.quantity(2, 6).await, q - 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn identical_concurrent_adjustments_apply_once_and_answer_alike() {
    let app = std::sync::Arc::new(app().await);
    let q = app.quantity(3, 6).await;
    let before = movements(&app, 3, 6).await.len();
    let k = key();
    let body = json!({"magasin_id": 3, "produit_id": 6, "delta": 5, "motif": "réception comptée"});
    let mut tasks = vec![];
    for _ in 0..8 {
        let (app, k, body) = (app.clone(), k.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let res = adjust(&app, Some(&k), &body).await;
            (res.status(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
        assert_eq!(body, &answers[0].1);
    }
    assert_eq!(answers[0].1["quantite"].as_i64().unwrap(), q + 5);
    assert_eq!(app.quantity(3, 6).await, q + 5);
    assert_eq!(movements(&app, 3, 6).await.len(), before + 1);
    app.assert_ledger_balances().await;
}
