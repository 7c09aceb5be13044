//! panier against real MariaDB, with a real produit service pricing lines
//! and a real caisse holding the registers' cash sessions.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use caisse_common::Role;
use caisse_testing::{TestDb, bearer, bearer_for, spawn};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct App {
    url: String,
    produit_url: String,
    caisse_url: String,
    /// The open session of store 1 the carts are opened on.
    session: i64,
    http: Client,
    _dbs: Vec<TestDb>,
}

async fn app() -> App {
    let produit_db = TestDb::new("produit").await;
    let produit_cfg = produit::Config { common: produit_db.config("produit"), cache_ttl_secs: 60 };
    let produit_url = spawn(produit::build(&produit_cfg).await.unwrap()).await;
    produit::seed::seed(&produit_db.admin_pool().await).await.unwrap();
    let caisse_db = TestDb::new("caisse").await;
    let caisse_cfg = caisse::Config::for_test(caisse_db.config("caisse"), spawn(vente_stub()).await);
    let caisse_url = spawn(caisse::build(&caisse_cfg).await.unwrap()).await;
    caisse::seed::seed_stores(&caisse_db.admin_pool().await).await.unwrap();
    let db = TestDb::new("panier").await;
    let config = panier::Config {
        common: db.config("panier"),
        produit_url: produit_url.clone(),
        caisse_url: caisse_url.clone(),
    };
    let url = spawn(panier::build(&config).await.unwrap()).await;
    let http = Client::new();
    let session = caisse_testing::session(&http, &caisse_url, &cashier(), None).await.unwrap();
    App { url, produit_url, caisse_url, session, http, _dbs: vec![produit_db, caisse_db, db] }
}

/// vente as caisse sees it when closing a session: a session without
/// sales, and no journal yet.
fn vente_stub() -> axum::Router {
    let zero = "0.00";
    let nothing = json!({"nombre": 0, "montant": zero, "especes": zero});
    let totals = move |axum::extract::Path(id): axum::extract::Path<i64>| {
        let nothing = nothing.clone();
        async move {
            axum::Json(json!({
                "session_id": id, "magasin_id": null,
                "ventes": {"nombre": 0, "par_mode": [], "sous_total": zero, "tps": zero, "tvq": zero, "total": zero},
                "retours": nothing, "annulations": nothing, "premier_recu": null, "dernier_recu": null,
                "especes_encaissees": zero,
            }))
        }
    };
    axum::Router::new().route("/api/ventes/sessions/{id}/totaux", axum::routing::get(totals))
}

/// Cashier 10 of store 1.
fn cashier() -> String {
    bearer_for(10, Role::Caissier, Some(1))
}

/// vente's token: the only caller that closes carts.
fn vente_token() -> String {
    bearer(Role::Service, None)
}

impl App {
    async fn send(&self, method: &str, path: &str, auth: &str, body: Option<Value>) -> reqwest::Response {
        let mut req =
            self.http.request(method.parse().unwrap(), format!("{}{path}", self.url)).header("authorization", auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    async fn new_cart(&self) -> i64 {
        let res = self.send("POST", "/api/paniers", &cashier(), Some(json!({"session_id": self.session}))).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    }
}

#[tokio::test]
async fn a_cashier_builds_a_priced_cart_that_survives_a_reload() {
    let app = app().await;
    let id = app.new_cart().await;
    let set = |p: i64, q: i64| {
        let (path, auth) = (format!("/api/paniers/{id}/lignes/{p}"), cashier());
        let app = &app;
        async move { app.send("PUT", &path, &auth, Some(json!({"quantite": q}))).await }
    };
    assert_eq!(set(1, 2).await.status(), StatusCode::OK);
    assert_eq!(set(3, 1).await.status(), StatusCode::OK);
    let res = set(1, 3).await;
    assert_eq!(res.status(), StatusCode::OK);
    // A line set again keeps its place: 1 before 3.
    let answered: Value = res.json().await.unwrap();
    let order: Vec<i64> =
        answered["lignes"].as_array().unwrap().iter().map(|l| l["produit_id"].as_i64().unwrap()).collect();
    assert_eq!(order, vec![1, 3]);
    let cart: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(answered, cart);
    let res = app.send("DELETE", &format!("/api/paniers/{id}/lignes/3"), &cashier(), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let answered: Value = res.json().await.unwrap();
    // A reload reads the same cart by its id, as each edit answered it.
    let cart: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(answered, cart);
    assert_eq!(cart["lignes"].as_array().unwrap().len(), 1);
    assert_eq!(cart["lignes"][0]["quantite"], 3);
    let price: rust_decimal::Decimal = produit::seed::demo_price(1);
    assert_eq!(cart["lignes"][0]["prix_unitaire"], price.to_string());
    assert_eq!(cart["sous_total"], (price * rust_decimal::Decimal::from(3)).to_string());
    assert_eq!(cart["nombre_articles"], 3);
    let open: Value = app.send("GET", "/api/paniers", &cashier(), None).await.json().await.unwrap();
    assert_eq!(open["paniers"][0]["id"], id);
    let emptied: Value =
        app.send("DELETE", &format!("/api/paniers/{id}/lignes"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(emptied["sous_total"], "0");
}

#[tokio::test]
async fn a_line_keeps_the_price_of_its_scan() {
    let app = app().await;
    let id = app.new_cart().await;
    let admin = bearer(Role::Admin, None);
    let patch = |produit: i64, body: Value| {
        let req = app
            .http
            .patch(format!("{}/api/produits/{produit}", app.produit_url))
            .header("authorization", &admin)
            .header("if-match", "\"1\"")
            .json(&body);
        async move { req.send().await.unwrap().status() }
    };
    let scanned: Value = app
        .send("PUT", &format!("/api/paniers/{id}/lignes/5"), &cashier(), Some(json!({"quantite": 2})))
        .await
        .json()
        .await
        .unwrap();
    let p0 = produit::seed::demo_price(5);
    assert_eq!(scanned["lignes"][0]["prix_unitaire"], p0.to_string());
    // The answer to a scan is the cart as stored.
    let reread: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(reread, scanned);
    // Head office changes the price after the scan: the cart keeps what the customer saw.
    let p1 = p0 + rust_decimal::Decimal::ONE;
    assert_eq!(patch(5, json!({"prix": p1.to_string(), "nom": "Renommé"})).await, StatusCode::OK);
    let cart: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(cart["lignes"][0]["prix_unitaire"], p0.to_string());
    assert_eq!(cart["lignes"][0]["nom"], scanned["lignes"][0]["nom"]);
    assert_eq!(cart["sous_total"], (p0 * rust_decimal::Decimal::from(2)).to_string());
    // Scanned again: today's price and name.
    let again: Value = app
        .send("PUT", &format!("/api/paniers/{id}/lignes/5"), &cashier(), Some(json!({"quantite": 3})))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["lignes"][0]["prix_unitaire"], p1.to_string());
    assert_eq!(again["lignes"][0]["nom"], "Renommé");
    assert_eq!(again["sous_total"], (p1 * rust_decimal::Decimal::from(3)).to_string());
    assert_eq!(again["version"].as_i64().unwrap(), scanned["version"].as_i64().unwrap() + 1);
    // A line scanned before prices were kept at scan is priced from the catalogue.
    let pool = app._dbs[2].admin_pool().await;
    sqlx::query("INSERT INTO panier_lignes (panier_id, produit_id, quantite) VALUES (?, 7, 1)")
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
    let cart: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    let old = cart["lignes"].as_array().unwrap().iter().find(|l| l["produit_id"] == 7).unwrap().clone();
    assert_eq!(old["prix_unitaire"], produit::seed::demo_price(7).to_string());
    assert_eq!(old["actif"], true);
}

#[tokio::test]
async fn another_cashier_or_store_cannot_see_the_cart() {
    let app = app().await;
    let id = app.new_cart().await;
    for auth in [
        bearer_for(11, Role::Caissier, Some(1)),
        bearer_for(10, Role::Caissier, Some(2)),
        bearer(Role::Gerant, Some(2)),
        bearer(Role::Logistique, None),
    ] {
        let res = app.send("GET", &format!("/api/paniers/{id}"), &auth, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.send("PUT", &format!("/api/paniers/{id}/lignes/1"), &auth, Some(json!({"quantite": 1}))).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(
        app.send("GET", &format!("/api/paniers/{id}"), &bearer(Role::Gerant, Some(1)), None).await.status(),
        StatusCode::OK
    );
    let body = json!({"magasin_id": 2, "session_id": app.session});
    let other_store = app.send("POST", "/api/paniers", &cashier(), Some(body)).await;
    assert_eq!(other_store.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_lines_are_refused_with_a_clear_422() {
    let app = app().await;
    let id = app.new_cart().await;
    for (p, body) in [
        (1, json!({"quantite": 0})),
        (1, json!({"quantite": 1000})),
        (1, json!({"quantite": -2})),
        (1, json!({"quantite": "trois"})),
        (1, json!({"quantite": 1.5})),
        (1, json!({})),
        (999_999, json!({"quantite": 1})),
        (-1, json!({"quantite": 1})),
    ] {
        let res = app.send("PUT", &format!("/api/paniers/{id}/lignes/{p}"), &cashier(), Some(body.clone())).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{p} {body}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    // A deactivated product cannot be added.
    let res = app
        .http
        .delete(format!("{}/api/produits/4", app.produit_url))
        .header("authorization", bearer(Role::Admin, None))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = app.send("PUT", &format!("/api/paniers/{id}/lignes/4"), &cashier(), Some(json!({"quantite": 1}))).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let cart: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert!(cart["lignes"].as_array().unwrap().is_empty());
    assert_eq!(app.send("GET", "/api/paniers/abc", &cashier(), None).await.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_closed_cart_is_frozen_and_closing_is_idempotent_per_sale() {
    let app = app().await;
    let id = app.new_cart().await;
    app.send("PUT", &format!("/api/paniers/{id}/lignes/2"), &cashier(), Some(json!({"quantite": 1}))).await;
    let vente = "6f1c1e0a-0000-4000-8000-000000000001";
    // Nobody but vente closes a cart: not its cashier, not with a made-up sale.
    for who in [cashier(), bearer(Role::Gerant, Some(1)), bearer(Role::Admin, None)] {
        let body = Some(json!({"vente_id": vente}));
        let res = app.send("POST", &format!("/api/paniers/{id}/fermeture"), &who, body).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let made_up = app
        .send("POST", &format!("/api/paniers/{id}/fermeture"), &vente_token(), Some(json!({"vente_id": "payé"})))
        .await;
    assert_eq!(made_up.status(), StatusCode::UNPROCESSABLE_ENTITY);
    for _ in 0..2 {
        let res = app
            .send("POST", &format!("/api/paniers/{id}/fermeture"), &vente_token(), Some(json!({"vente_id": vente})))
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["statut"], "ferme");
    }
    let other = app
        .send(
            "POST",
            &format!("/api/paniers/{id}/fermeture"),
            &vente_token(),
            Some(json!({"vente_id": "6f1c1e0a-0000-4000-8000-000000000002"})),
        )
        .await;
    assert_eq!(other.status(), StatusCode::CONFLICT);
    let edit = app.send("PUT", &format!("/api/paniers/{id}/lignes/2"), &cashier(), Some(json!({"quantite": 5}))).await;
    assert_eq!(edit.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn items_scanned_during_checkout_move_to_a_new_cart() {
    let app = app().await;
    let id = app.new_cart().await;
    let priced: Value = app
        .send("PUT", &format!("/api/paniers/{id}/lignes/2"), &cashier(), Some(json!({"quantite": 1})))
        .await
        .json()
        .await
        .unwrap();
    let version = priced["version"].as_i64().unwrap();
    // Scanned while the sale was being processed.
    app.send("PUT", &format!("/api/paniers/{id}/lignes/3"), &cashier(), Some(json!({"quantite": 2}))).await;
    app.send("PUT", &format!("/api/paniers/{id}/lignes/2"), &cashier(), Some(json!({"quantite": 4}))).await;
    let body = json!({"vente_id": "6f1c1e0a-0000-4000-8000-000000000003", "version": version, "lignes": [{"produit_id": 2, "quantite": 1}]});
    let closed: Value = app
        .send("POST", &format!("/api/paniers/{id}/fermeture"), &vente_token(), Some(body))
        .await
        .json()
        .await
        .unwrap();
    let suite = closed["panier_suite"].as_i64().expect("un panier de suite");
    let sold: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(sold["lignes"].as_array().unwrap().len(), 1);
    assert_eq!(sold["lignes"][0]["quantite"], 1);
    let next: Value = app.send("GET", &format!("/api/paniers/{suite}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(next["statut"], "ouvert");
    let lines: Vec<(i64, i64)> = next["lignes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["produit_id"].as_i64().unwrap(), l["quantite"].as_i64().unwrap()))
        .collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.contains(&(2, 3)) && lines.contains(&(3, 2)), "{lines:?}");
}

#[tokio::test]
async fn closing_with_impossible_sold_lines_is_a_422_and_changes_nothing() {
    let app = app().await;
    let id = app.new_cart().await;
    let path = format!("/api/paniers/{id}/lignes/2");
    assert_eq!(app.send("PUT", &path, &cashier(), Some(json!({"quantite": 2}))).await.status(), StatusCode::OK);
    let many: Vec<Value> = (1..=101).map(|p| json!({"produit_id": p, "quantite": 1})).collect();
    for (i, lignes) in [
        json!([{"produit_id": -1, "quantite": 1}]),
        json!([{"produit_id": 2, "quantite": 0}]),
        json!([{"produit_id": 2, "quantite": 1000}]),
        json!([{"produit_id": 2, "quantite": 1}, {"produit_id": 2, "quantite": 1}]),
        Value::Array(many),
    ]
    .into_iter()
    .enumerate()
    {
        let vente = format!("6f1c1e0a-0000-4000-8000-{i:012}");
        let body = json!({"vente_id": vente, "version": 0, "lignes": lignes});
        let res = app.send("POST", &format!("/api/paniers/{id}/fermeture"), &vente_token(), Some(body)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{lignes}");
        let problem = res.text().await.unwrap();
        assert!(!problem.contains("ck_") && !problem.contains("panier_lignes"), "{problem}");
    }
    let cart: Value = app.send("GET", &format!("/api/paniers/{id}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!(cart["statut"], "ouvert");
    assert_eq!(cart["lignes"][0]["quantite"], 2);
}

/// Issue 12: `POST /api/paniers` ignored Content-Type, and its 413 was plain text.
#[tokio::test]
async fn opening_a_cart_takes_json_or_nothing() {
    let app = app().await;
    let post = |ct: Option<&'static str>, body: Vec<u8>| {
        let mut req = app.http.post(format!("{}/api/paniers", app.url)).header("authorization", cashier());
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        async move { req.body(body).send().await.unwrap() }
    };
    // No body at all, or no session: a 422 naming session_id.
    for res in [post(None, vec![]).await, post(Some("application/json"), b"{}".to_vec()).await] {
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(res.json::<Value>().await.unwrap()["errors"][0]["champ"], "session_id");
    }
    let with_session = format!(r#"{{"session_id": {}}}"#, app.session).into_bytes();
    assert_eq!(post(Some("application/json"), with_session).await.status(), StatusCode::CREATED);
    for (ct, body) in [(Some("text/plain"), &b"{}"[..]), (Some("application/xml"), b"<panier/>"), (None, b"{}")] {
        let res = post(ct, body.to_vec()).await;
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct:?}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let trailing = post(Some("application/json"), br#"{"magasin_id": 1} !!"#.to_vec()).await;
    assert_eq!(trailing.status(), StatusCode::BAD_REQUEST);
    let huge = post(Some("application/json"), vec![b' '; 512 * 1024]).await;
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(huge.headers()["content-type"], "application/problem+json");
}

/// Issue 10: the gateway retries a keyed cart creation on another replica
/// when the first died mid-request; the retry must not open a second cart.
#[tokio::test]
async fn a_cart_opened_with_a_key_is_opened_once() {
    let app = app().await;
    let open = |auth: String, key: &'static str, body: Value| {
        let req = app.http.post(format!("{}/api/paniers", app.url)).header("authorization", auth);
        async move { req.header("idempotency-key", key).json(&body).send().await.unwrap() }
    };
    let key = "panier-cle-0001";
    let s = app.session;
    let first = open(cashier(), key, json!({"session_id": s})).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    // The same key, even many times at once, answers the same cart with 201.
    let again = futures::future::join_all((0..8).map(|_| open(cashier(), key, json!({"session_id": s})))).await;
    for res in again {
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(res.json::<Value>().await.unwrap()["id"], first["id"]);
    }
    // Another key, or another cashier with this key: another cart.
    let other: Value = open(cashier(), "panier-cle-0002", json!({"session_id": s})).await.json().await.unwrap();
    assert_ne!(other["id"], first["id"]);
    let colleague: Value =
        open(bearer_for(11, Role::Caissier, Some(1)), key, json!({"session_id": s})).await.json().await.unwrap();
    assert_ne!(colleague["id"], first["id"]);
    // Without a key every POST opens a new cart, as before.
    assert_ne!(app.new_cart().await, app.new_cart().await);
    // The same key for another store is refused, naming the header.
    let admin = || bearer_for(1, Role::Admin, None);
    let s2 = caisse_testing::session(&app.http, &app.caisse_url, &bearer_for(20, Role::Caissier, Some(2)), None)
        .await
        .unwrap();
    let body = json!({"magasin_id": 1, "session_id": s});
    assert_eq!(open(admin(), "panier-cle-0003", body).await.status(), StatusCode::CREATED);
    let clash = open(admin(), "panier-cle-0003", json!({"magasin_id": 2, "session_id": s2})).await;
    assert_eq!(clash.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(clash.text().await.unwrap().contains("Idempotency-Key"));
    let bad = open(cashier(), "court", json!({"session_id": s})).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// A cart is opened on an open session of its store, checked once with
/// caisse: no session, an unknown one, another store's, a closed one are
/// refused; the cart and its carry-over keep the register and session.
#[tokio::test]
async fn a_cart_needs_an_open_session_of_its_store() {
    let app = app().await;
    let open = |auth: String, body: Value| {
        let app = &app;
        async move { app.send("POST", "/api/paniers", &auth, Some(body)).await }
    };
    let created: Value = open(cashier(), json!({"session_id": app.session})).await.json().await.unwrap();
    assert_eq!(created["session_id"], app.session);
    let session: Value = app
        .http
        .get(format!("{}/api/caisses/sessions/{}", app.caisse_url, app.session))
        .header("authorization", cashier())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["caisse_id"], session["caisse_id"]);
    for (body, status, champ) in [
        (json!({"session_id": 999_999}), StatusCode::UNPROCESSABLE_ENTITY, Some("session_id")),
        (json!({"session_id": 0}), StatusCode::UNPROCESSABLE_ENTITY, Some("session_id")),
        (json!({"session_id": "un"}), StatusCode::UNPROCESSABLE_ENTITY, Some("session_id")),
        (json!({"session_id": null}), StatusCode::UNPROCESSABLE_ENTITY, Some("session_id")),
        (json!({"session_id": app.session, "caisse": 1}), StatusCode::UNPROCESSABLE_ENTITY, None),
    ] {
        let res = open(cashier(), body.clone()).await;
        assert_eq!(res.status(), status, "{body}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        if let Some(champ) = champ {
            assert_eq!(res.json::<Value>().await.unwrap()["errors"][0]["champ"], champ, "{body}");
        }
    }
    // Another store's session: 403, for its staff and for an admin naming store 1.
    let s2 = caisse_testing::session(&app.http, &app.caisse_url, &bearer_for(20, Role::Caissier, Some(2)), None)
        .await
        .unwrap();
    assert_eq!(open(cashier(), json!({"session_id": s2})).await.status(), StatusCode::FORBIDDEN);
    let admin = bearer(Role::Admin, None);
    assert_eq!(open(admin.clone(), json!({"magasin_id": 1, "session_id": s2})).await.status(), StatusCode::FORBIDDEN);
    // An admin without a store opens it in the session's store.
    let admins: Value = open(admin, json!({"session_id": s2})).await.json().await.unwrap();
    assert_eq!(admins["magasin_id"], 2);
    // Once the session is closed, no new cart on it.
    let res = app
        .http
        .post(format!("{}/api/caisses/sessions/{s2}/fermeture", app.caisse_url))
        .header("authorization", bearer(Role::Admin, None))
        .json(&json!({"montant_compte": "200.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = open(bearer_for(20, Role::Caissier, Some(2)), json!({"session_id": s2})).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.unwrap().contains("fermée"));
    // Cart and carry-over keep the register and session.
    let id = created["id"].as_i64().unwrap();
    let priced: Value = app
        .send("PUT", &format!("/api/paniers/{id}/lignes/2"), &cashier(), Some(json!({"quantite": 1})))
        .await
        .json()
        .await
        .unwrap();
    app.send("PUT", &format!("/api/paniers/{id}/lignes/3"), &cashier(), Some(json!({"quantite": 1}))).await;
    let sold = json!([{"produit_id": 2, "quantite": 1}]);
    let body =
        json!({"vente_id": "6f1c1e0a-0000-4000-8000-000000000009", "version": priced["version"], "lignes": sold});
    let closed: Value = app
        .send("POST", &format!("/api/paniers/{id}/fermeture"), &vente_token(), Some(body))
        .await
        .json()
        .await
        .unwrap();
    let suite = closed["panier_suite"].as_i64().expect("un panier de suite");
    let next: Value = app.send("GET", &format!("/api/paniers/{suite}"), &cashier(), None).await.json().await.unwrap();
    assert_eq!((&next["session_id"], &next["caisse_id"]), (&created["session_id"], &created["caisse_id"]));
}
