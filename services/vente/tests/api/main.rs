//! vente against real MariaDB and Redis, with real produit, stock and panier
//! services (each on its own schema): the checkout saga end to end.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use std::sync::Arc;

use caisse_common::Role;
use caisse_testing::{FaultProxy, TestDb, bearer, bearer_for, spawn};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct Suite {
    produit: String,
    stock: String,
    panier: String,
    caisse: String,
    /// The open cash session of store 1 every cart is opened on.
    session: i64,
    ventes: Vec<String>,
    http: Client,
    stock_db: TestDb,
    vente_db: TestDb,
    stream: String,
    vente_config: vente::Config,
    /// Between vente and stock / panier, in `suite_proxied` suites.
    stock_proxy: Option<FaultProxy>,
    panier_proxy: Option<FaultProxy>,
    _dbs: Vec<TestDb>,
}

async fn suite_with(replicas: usize, stock_override: Option<&str>, panier_override: Option<&str>) -> Suite {
    build_suite(replicas, stock_override, panier_override, false).await
}

/// A suite whose vente reaches stock and panier through fault proxies.
async fn suite_proxied() -> Suite {
    build_suite(1, None, None, true).await
}

async fn build_suite(
    replicas: usize,
    stock_override: Option<&str>,
    panier_override: Option<&str>,
    proxied: bool,
) -> Suite {
    // vente's addresses first: stock asks vente about a sale before releasing it.
    let mut listeners = vec![];
    for _ in 0..replicas {
        listeners.push(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
    }
    let vente_urls: Vec<String> = listeners.iter().map(|l| format!("http://{}", l.local_addr().unwrap())).collect();
    let produit_db = TestDb::new("produit").await;
    let produit = spawn(
        produit::build(&produit::Config { common: produit_db.config("produit"), cache_ttl_secs: 60 }).await.unwrap(),
    )
    .await;
    produit::seed::seed(&produit_db.admin_pool().await).await.unwrap();
    // stock asks caisse whether a store exists before creating a stock row.
    let caisse_db = TestDb::new("caisse").await;
    // caisse asks vente for a session's figures when it is closed.
    let vente_for_caisse = vente_urls.first().cloned().unwrap_or_else(|| "http://127.0.0.1:9".into());
    let caisse_cfg = caisse::Config::for_test(caisse_db.config("caisse"), vente_for_caisse);
    let caisse = spawn(caisse::build(&caisse_cfg).await.unwrap()).await;
    caisse::seed::seed(&caisse_db.admin_pool().await).await.unwrap();
    let stock_db = TestDb::new("stock").await;
    let stock_cfg = stock::Config {
        common: stock_db.config("stock"),
        cache_ttl_secs: 60,
        caisse_url: caisse.clone(),
        produit_url: produit.clone(),
        // Stock asks vente before releasing a reservation (a suite without
        // replicas releases nothing).
        vente_url: vente_urls.first().cloned().unwrap_or_else(|| "http://127.0.0.1:9".into()),
    };
    let stock = spawn(stock::build(&stock_cfg).await.unwrap()).await;
    stock::seed::seed(&stock_db.admin_pool().await).await.unwrap();
    let panier_db = TestDb::new("panier").await;
    let panier_cfg =
        panier::Config { common: panier_db.config("panier"), produit_url: produit.clone(), caisse_url: caisse.clone() };
    let panier = spawn(panier::build(&panier_cfg).await.unwrap()).await;
    let vente_db = TestDb::new("vente").await;
    let common = vente_db.config("vente");
    let stream = format!("{}evenements:ventes", common.redis_prefix);
    let (stock_proxy, panier_proxy) = if proxied {
        (Some(FaultProxy::start(&stock).await), Some(FaultProxy::start(&panier).await))
    } else {
        (None, None)
    };
    let stock_url =
        stock_proxy.as_ref().map(FaultProxy::url).unwrap_or_else(|| stock_override.unwrap_or(&stock).to_owned());
    let panier_url =
        panier_proxy.as_ref().map(FaultProxy::url).unwrap_or_else(|| panier_override.unwrap_or(&panier).to_owned());
    let config = vente::Config::for_test(common, panier_url, stock_url);
    let vente_config = config.clone();
    for listener in listeners {
        let app = vente::build(&config).await.unwrap();
        tokio::spawn(async move { caisse_common::server::serve(listener, app).await });
    }
    let ventes = vente_urls;
    let http = Client::new();
    let session = caisse_testing::session(&http, &caisse, &cashier(10), None).await.unwrap();
    Suite {
        produit,
        stock,
        panier,
        caisse,
        session,
        ventes,
        http,
        stock_db,
        vente_db,
        stream,
        vente_config,
        stock_proxy,
        panier_proxy,
        _dbs: vec![produit_db, panier_db, caisse_db],
    }
}

async fn suite() -> Suite {
    suite_with(1, None, None).await
}

fn cashier(sub: i64) -> String {
    bearer_for(sub, Role::Caissier, Some(1))
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Suite {
    async fn call(&self, method: &str, url: String, auth: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self.http.request(method.parse().unwrap(), url).header("authorization", auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// A cart of cashier `sub` at store 1 holding `lines` (produit, quantité).
    async fn cart(&self, sub: i64, lines: &[(i64, i64)]) -> i64 {
        let body = json!({"session_id": self.session});
        let res = self.call("POST", format!("{}/api/paniers", self.panier), &cashier(sub), Some(body)).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        for (p, q) in lines {
            let res = self
                .call(
                    "PUT",
                    format!("{}/api/paniers/{id}/lignes/{p}", self.panier),
                    &cashier(sub),
                    Some(json!({"quantite": q})),
                )
                .await;
            assert_eq!(res.status(), StatusCode::OK);
        }
        id
    }

    async fn checkout(&self, replica: usize, sub: i64, key: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/ventes", self.ventes[replica]))
            .header("authorization", cashier(sub))
            .header("idempotency-key", key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn quantity(&self, produit: i64) -> i64 {
        let res = self
            .call(
                "GET",
                format!("{}/api/stocks/magasins/1/produits/{produit}", self.stock),
                &bearer(Role::Admin, None),
                None,
            )
            .await;
        res.json::<Value>().await.unwrap()["quantite"].as_i64().unwrap()
    }

    async fn set_quantity(&self, produit: i64, target: i64) {
        let delta = target - self.quantity(produit).await;
        if delta != 0 {
            let res = self
                .call(
                    "POST",
                    format!("{}/api/stocks/ajustements", self.stock),
                    &bearer(Role::Admin, None),
                    Some(json!({"magasin_id": 1, "produit_id": produit, "delta": delta, "motif": "mise en place du test"})),
                )
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    }

    /// Stock's ledger explains every quantity, and sales match stock's movements.
    async fn assert_consistent(&self) {
        let stock = self.stock_db.admin_pool().await;
        assert_eq!(stock::ledger::unexplained_quantities(&stock).await.unwrap(), 0, "registre déséquilibré");
        let vente = self.vente_db.admin_pool().await;
        let sold: Vec<(String, i64)> = sqlx::query_as(
            "SELECT v.id, CAST(SUM(l.quantite) AS SIGNED) FROM ventes v JOIN vente_lignes l ON l.vente_id = v.id \
             WHERE v.statut IN ('terminee', 'annulation', 'annulee') GROUP BY v.id",
        )
        .fetch_all(&vente)
        .await
        .unwrap();
        let reserved: Vec<(String, i64)> = sqlx::query_as(
            "SELECT SUBSTRING(reference, 7), CAST(-SUM(delta) AS SIGNED) FROM mouvements WHERE type IN ('vente', 'liberation') \
             GROUP BY reference HAVING SUM(delta) <> 0",
        )
        .fetch_all(&stock)
        .await
        .unwrap();
        let mut sold = sold;
        let mut reserved = reserved;
        sold.sort();
        reserved.sort();
        assert_eq!(sold, reserved, "ventes sans mouvement ou mouvements sans vente");
    }

    async fn events(&self, kind: &str) -> Vec<Value> {
        let client = redis::Client::open(caisse_testing::redis_url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let entries: redis::Value =
            redis::cmd("XRANGE").arg(&self.stream).arg("-").arg("+").query_async(&mut conn).await.unwrap();
        let mut out = vec![];
        if let redis::Value::Array(items) = entries {
            for item in items {
                if let redis::Value::Array(parts) = item
                    && let Some(redis::Value::Array(fields)) = parts.get(1)
                {
                    let text: Vec<String> =
                        fields.iter().map(|f| redis::from_redis_value::<String>(f).unwrap_or_default()).collect();
                    let get = |name: &str| {
                        text.iter().position(|t| t == name).and_then(|i| text.get(i + 1)).cloned().unwrap_or_default()
                    };
                    if get("type") == kind {
                        out.push(serde_json::from_str(&get("charge")).unwrap());
                    }
                }
            }
        }
        out
    }

    async fn wait_events(&self, kind: &str, n: usize) -> Vec<Value> {
        for _ in 0..200 {
            let e = self.events(kind).await;
            if e.len() >= n {
                return e;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        self.events(kind).await
    }
}

#[tokio::test]
async fn a_full_sale_with_cash_and_change() {
    let s = suite().await;
    let (q1, q2) = (s.quantity(1).await, s.quantity(2).await);
    let cart = s.cart(10, &[(1, 2), (2, 1), (3, 4)]).await;
    // Change a line and remove one, as a cashier would.
    s.call("PUT", format!("{}/api/paniers/{cart}/lignes/2", s.panier), &cashier(10), Some(json!({"quantite": 3})))
        .await;
    s.call("DELETE", format!("{}/api/paniers/{cart}/lignes/3", s.panier), &cashier(10), None).await;
    let res = s
        .checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "500.00"}}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let recu: Value = res.json().await.unwrap();
    let price = |id| produit::seed::demo_price(id);
    let sous_total = price(1) * rust_decimal::Decimal::from(2) + price(2) * rust_decimal::Decimal::from(3);
    let t = vente::domain::totaux(sous_total);
    assert_eq!(recu["sous_total"], t.sous_total.to_string());
    assert_eq!(recu["total"], t.total.to_string());
    let a_payer = vente::domain::arrondi_especes(t.total);
    assert_eq!(recu["paiement"]["a_payer"], a_payer.to_string());
    assert_eq!(recu["paiement"]["monnaie"], (rust_decimal::Decimal::from(500) - a_payer).round_dp(2).to_string());
    assert_eq!(recu["lignes"].as_array().unwrap().len(), 2);
    let id = recu["id"].as_str().unwrap().to_owned();
    // The receipt can be read again.
    let again: Value =
        s.call("GET", format!("{}/api/ventes/{id}", s.ventes[0]), &cashier(10), None).await.json().await.unwrap();
    // Built from memory at checkout, it is exactly the stored one.
    assert_eq!(again, recu, "le reçu de l'encaissement diffère de celui qu'on relit");
    assert_eq!((s.quantity(1).await, s.quantity(2).await), (q1 - 2, q2 - 3));
    let ledger: Value = s
        .call(
            "GET",
            format!("{}/api/stocks/mouvements?reference=vente:{id}", s.stock),
            &bearer(Role::Admin, None),
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["mouvements"].as_array().unwrap().len(), 2);
    let cart_after: Value =
        s.call("GET", format!("{}/api/paniers/{cart}", s.panier), &cashier(10), None).await.json().await.unwrap();
    assert_eq!(cart_after["statut"], "ferme");
    assert_eq!(cart_after["vente_id"], id.as_str());
    // The closed cart is noted in its batch, shortly after the answer.
    let vente = s.vente_db.admin_pool().await;
    let mut noted = false;
    for _ in 0..200 {
        noted = sqlx::query_scalar("SELECT panier_ferme FROM ventes WHERE id = ?")
            .bind(&id)
            .fetch_one(&vente)
            .await
            .unwrap();
        if noted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(noted, "la fermeture du panier n'a pas été notée");
    let events = s.wait_events("SaleCompleted", 1).await;
    assert_eq!(events.iter().filter(|e| e["vente_id"] == id.as_str()).count(), 1);
    s.assert_consistent().await;
}

#[tokio::test]
async fn two_hundred_concurrent_checkouts_never_oversell() {
    let s = Arc::new(suite_with(2, None, None).await);
    s.set_quantity(20, 50).await;
    let mut carts = vec![];
    for i in 0..200 {
        carts.push((100 + i, s.cart(100 + i, &[(20, 1)]).await));
    }
    let mut tasks = vec![];
    for (n, (sub, cart)) in carts.into_iter().enumerate() {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            // A client retries a 503 ("nothing sold") with the same key, as
            // the API says it safely may; a busy machine can make stock miss
            // the checkout deadline.
            let k = key();
            for _ in 0..20 {
                let res = s.checkout(n % 2, sub, &k, json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
                let status = res.status();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                if status != StatusCode::SERVICE_UNAVAILABLE {
                    return (status, body);
                }
            }
            panic!("pas de réponse définitive pour le panier {cart}");
        }));
    }
    let (mut ok, mut short) = (0, 0);
    for t in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => ok += 1,
            StatusCode::CONFLICT => {
                assert_eq!(body["manquants"][0]["produit_id"], 20, "{body}");
                short += 1;
            }
            other => panic!("statut inattendu {other} : {body}"),
        }
    }
    assert_eq!((ok, short), (50, 150));
    assert_eq!(s.quantity(20).await, 0);
    let sales: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ventes WHERE statut = 'terminee'")
        .fetch_one(&s.vente_db.admin_pool().await)
        .await
        .unwrap();
    assert_eq!(sales, 50);
    s.assert_consistent().await;
}

#[tokio::test]
async fn the_same_key_twenty_times_at_once_makes_one_sale() {
    let s = Arc::new(suite().await);
    let cart = s.cart(10, &[(5, 1), (6, 2)]).await;
    let q = s.quantity(5).await;
    let k = key();
    let mut tasks = vec![];
    for _ in 0..20 {
        let (s, k) = (s.clone(), k.clone());
        tasks.push(tokio::spawn(async move {
            let res = s.checkout(0, 10, &k, json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
            (res.status(), res.json::<Value>().await.unwrap())
        }));
    }
    let mut answers = vec![];
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    assert!(answers.iter().all(|a| a == &answers[0]), "réponses différentes : {answers:?}");
    assert_eq!(answers[0].0, StatusCode::CREATED);
    assert_eq!(s.quantity(5).await, q - 1);
    let sales: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ventes").fetch_one(&s.vente_db.admin_pool().await).await.unwrap();
    assert_eq!(sales, 1);
    // The same key from another cashier learns nothing about the sale.
    let stranger = s.checkout(0, 11, &k, json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
    assert_eq!(stranger.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The same key with another body is refused.
    let other =
        s.checkout(0, 10, &k, json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "100"}})).await;
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    s.assert_consistent().await;
}

#[tokio::test]
async fn stock_down_is_a_503_with_no_sale_and_nothing_reserved() {
    let s = suite_with(1, Some("http://127.0.0.1:1"), None).await;
    let cart = s.cart(10, &[(7, 1)]).await;
    let q = s.quantity(7).await;
    let k = key();
    let res = s.checkout(0, 10, &k, json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    // The attempt is kept for the record, abandoned: not a sale, its key free again.
    let rows: Vec<(String, Option<String>)> = sqlx::query_as("SELECT statut, cle_verrou FROM ventes")
        .fetch_all(&s.vente_db.admin_pool().await)
        .await
        .unwrap();
    assert_eq!(rows, vec![("abandonnee".to_owned(), None)], "aucune vente");
    assert_eq!(s.quantity(7).await, q);
    let cart_after: Value =
        s.call("GET", format!("{}/api/paniers/{cart}", s.panier), &cashier(10), None).await.json().await.unwrap();
    assert_eq!(cart_after["statut"], "ouvert", "le panier reste à encaisser");
}

#[tokio::test]
async fn panier_down_is_a_503_and_changes_nothing() {
    let s = suite_with(1, None, Some("http://127.0.0.1:1")).await;
    let q = s.quantity(8).await;
    let res = s.checkout(0, 10, &key(), json!({"panier_id": 1, "paiement": {"mode": "carte"}})).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM ventes").fetch_one(&s.vente_db.admin_pool().await).await.unwrap();
    assert_eq!(rows, 0);
    assert_eq!(s.quantity(8).await, q);
}

#[tokio::test]
async fn cancellation_and_partial_returns_restock_exactly_once() {
    let s = suite().await;
    let (q9, q10) = (s.quantity(9).await, s.quantity(10).await);
    let cart = s.cart(10, &[(9, 5), (10, 2)]).await;
    let recu: Value = s
        .checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
        .await
        .json()
        .await
        .unwrap();
    let id = recu["id"].as_str().unwrap().to_owned();
    let ret_url = format!("{}/api/ventes/{id}/retours", s.ventes[0]);
    let k = key();
    let ret = |body: Value, k: String| {
        let req =
            s.http.post(ret_url.clone()).header("authorization", cashier(10)).header("idempotency-key", k).json(&body);
        async move { req.send().await.unwrap() }
    };
    let first = ret(json!({"lignes": [{"produit_id": 9, "quantite": 2}]}), k.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["statut"], "termine");
    let again = ret(json!({"lignes": [{"produit_id": 9, "quantite": 2}]}), k.clone()).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(s.quantity(9).await, q9 - 5 + 2);
    // 3 of product 9 are left to return: 4 is too many.
    let too_many = ret(json!({"lignes": [{"produit_id": 9, "quantite": 4}]}), key()).await;
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let not_sold = ret(json!({"lignes": [{"produit_id": 11, "quantite": 1}]}), key()).await;
    assert_eq!(not_sold.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Cancelling puts back only what was not returned, once however often it is asked.
    for _ in 0..3 {
        let res = s.call("POST", format!("{}/api/ventes/{id}/annulation", s.ventes[0]), &cashier(10), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["statut"], "annulee");
    }
    assert_eq!((s.quantity(9).await, s.quantity(10).await), (q9, q10));
    let late = ret(json!({"lignes": [{"produit_id": 10, "quantite": 1}]}), key()).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(s.wait_events("SaleCancelled", 1).await.len(), 1);
    assert_eq!(s.wait_events("SaleReturned", 1).await.len(), 1);
    // Stock: sale -7, return +2, cancellation +5.
    let stock = s.stock_db.admin_pool().await;
    let net: i64 = sqlx::query_scalar("SELECT CAST(SUM(delta) AS SIGNED) FROM mouvements WHERE reference LIKE 'vente:%' OR reference LIKE 'retour:%' OR reference LIKE 'annulation:%'")
        .fetch_one(&stock)
        .await
        .unwrap();
    assert_eq!(net, 0);
}

#[tokio::test]
async fn only_the_cashier_or_a_gerant_cancels_and_other_stores_see_nothing() {
    let s = suite().await;
    let cart = s.cart(10, &[(12, 1)]).await;
    let recu: Value = s
        .checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
        .await
        .json()
        .await
        .unwrap();
    let id = recu["id"].as_str().unwrap();
    let url = format!("{}/api/ventes/{id}/annulation", s.ventes[0]);
    assert_eq!(s.call("POST", url.clone(), &cashier(11), None).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        s.call("POST", url.clone(), &bearer_for(12, Role::Caissier, Some(2)), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.call("GET", format!("{}/api/ventes/{id}", s.ventes[0]), &bearer(Role::Gerant, Some(2)), None).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(s.call("POST", url, &bearer(Role::Gerant, Some(1)), None).await.status(), StatusCode::OK);
    let list: Value = s
        .call("GET", format!("{}/api/ventes?limit=10", s.ventes[0]), &bearer(Role::Admin, None), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["ventes"][0]["statut"], "annulee");
}

#[tokio::test]
async fn bad_checkout_input_is_a_4xx_and_sells_nothing() {
    let s = suite().await;
    let cart = s.cart(10, &[(13, 1)]).await;
    let empty = s.cart(10, &[]).await;
    let q = s.quantity(13).await;
    let cases = vec![
        json!({"panier_id": empty, "paiement": {"mode": "carte"}}),
        json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "0.01"}}),
        json!({"panier_id": cart, "paiement": {"mode": "especes"}}),
        json!({"panier_id": cart, "paiement": {"mode": "carte", "montant_recu": "10"}}),
        json!({"panier_id": cart, "paiement": {"mode": "cheque"}}),
        json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "-5"}}),
        json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "1.234"}}),
        json!({"panier_id": "un", "paiement": {"mode": "carte"}}),
        json!({"panier_id": 99999, "paiement": {"mode": "carte"}}),
        json!({"panier_id": -1, "paiement": {"mode": "carte"}}),
        json!({"paiement": {"mode": "carte"}}),
    ];
    for body in cases {
        let res = s.checkout(0, 10, &key(), body.clone()).await;
        assert!(res.status().is_client_error(), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{body}");
    }
    let no_key = s
        .http
        .post(format!("{}/api/ventes", s.ventes[0]))
        .header("authorization", cashier(10))
        .json(&json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
    let other_cashier = s.checkout(0, 11, &key(), json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
    assert!(other_cashier.status().is_client_error());
    for path in [
        "/api/ventes/abc",
        "/api/ventes/6f1c1e0a-0000-4000-8000-000000000001",
        "/api/ventes?du=hier",
        "/api/ventes?limit=0",
    ] {
        let res = s.call("GET", format!("{}{path}", s.ventes[0]), &cashier(10), None).await;
        assert!(res.status().is_client_error(), "{path}");
    }
    assert_eq!(s.quantity(13).await, q);
    let sold: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ventes WHERE statut = 'terminee'")
        .fetch_one(&s.vente_db.admin_pool().await)
        .await
        .unwrap();
    assert_eq!(sold, 0);
    // The cart is still usable: a valid checkout now succeeds.
    let ok = s
        .checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": {"mode": "especes", "montant_recu": "100"}}))
        .await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let _ = &s.produit;
}

#[tokio::test]
async fn bad_return_and_cancellation_input_is_a_4xx() {
    let s = suite().await;
    let cart = s.cart(10, &[(15, 2)]).await;
    let recu: Value = s
        .checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": {"mode": "carte"}}))
        .await
        .json()
        .await
        .unwrap();
    let id = recu["id"].as_str().unwrap();
    let q = s.quantity(15).await;
    let url = format!("{}/api/ventes/{id}/retours", s.ventes[0]);
    for body in [
        r#"{"lignes": []}"#,
        r#"{"lignes": [{"produit_id": 15, "quantite": 0}]}"#,
        r#"{"lignes": [{"produit_id": 15, "quantite": -1}]}"#,
        r#"{"lignes": [{"produit_id": 15, "quantite": "un"}]}"#,
        r#"{"lignes": [{"produit_id": 15, "quantite": 1}, {"produit_id": 15, "quantite": 1}]}"#,
        r#"{"lignes": [{"produit_id": 15, "quantite": 3}]}"#,
        r#"{"lignes": "#,
        r#"{}"#,
    ] {
        let res = s
            .http
            .post(&url)
            .header("authorization", cashier(10))
            .header("idempotency-key", key())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{body}");
    }
    let no_key = s
        .http
        .post(&url)
        .header("authorization", cashier(10))
        .json(&json!({"lignes": [{"produit_id": 15, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), StatusCode::BAD_REQUEST);
    for path in ["/api/ventes/abc/annulation", "/api/ventes/6f1c1e0a-0000-4000-8000-000000000009/annulation"] {
        let res = s.call("POST", format!("{}{path}", s.ventes[0]), &cashier(10), None).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    assert_eq!(s.quantity(15).await, q, "rien n'est revenu en stock");
}

#[tokio::test]
async fn redis_down_never_fails_a_sale_and_the_outbox_catches_up() {
    let mut s = suite_with(0, None, None).await;
    let mut blind = s.vente_config.clone();
    blind.common.redis_url = "redis://127.0.0.1:1".into();
    s.ventes.push(spawn(vente::build(&blind).await.unwrap()).await);
    let cart = s.cart(10, &[(16, 1)]).await;
    let res = s.checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": {"mode": "carte"}})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "Redis en panne ne fait pas échouer la vente");
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let pool = s.vente_db.admin_pool().await;
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE publie_le IS NULL").fetch_one(&pool).await.unwrap();
    assert_eq!(pending, 1, "l'événement attend dans l'outbox");
    let metrics = s.http.get(format!("{}/metrics", s.ventes[0])).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l.starts_with("outbox_backlog") && l.ends_with(" 1")), "{metrics}");
    // A replica that reaches Redis publishes it.
    s.ventes.push(spawn(vente::build(&s.vente_config).await.unwrap()).await);
    let events = s.wait_events("SaleCompleted", 1).await;
    assert_eq!(events.iter().filter(|e| e["vente_id"] == id.as_str()).count(), 1);
    s.assert_consistent().await;
}

mod faults;
mod findings;
mod journal;
mod sessions;
