//! stock against real MariaDB and Redis, with real caisse, produit and
//! vente services (each on its own schema) answering its lookups.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

mod ajustements;
mod demandes;
mod evenements;
mod reservations;
mod retours;
mod stocks;
mod transferts;

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

/// Where stock finds vente.
enum Vente {
    /// The real vente service, on its own schema.
    Real,
    /// A port nobody listens on.
    Unreachable,
}

/// Stock without vente: enough for everything but releasing a reservation
/// that holds stock (fewer services, fewer connections per test).
async fn app() -> App {
    app_with(Vente::Unreachable).await
}

async fn app_with(vente: Vente) -> App {
    let caisse_db = TestDb::new("caisse").await;
    let caisse_cfg = caisse::Config::for_test(caisse_db.config("caisse"), "http://127.0.0.1:9".into());
    let caisse_url = spawn(caisse::build(&caisse_cfg).await.expect("caisse")).await;
    caisse::seed::seed(&caisse_db.admin_pool().await).await.expect("seed caisse");
    let produit_db = TestDb::new("produit").await;
    let produit_cfg = produit::Config { common: produit_db.config("produit"), cache_ttl_secs: 60 };
    let produit_url = spawn(produit::build(&produit_cfg).await.expect("produit")).await;
    produit::seed::seed(&produit_db.admin_pool().await).await.expect("seed produit");
    let mut peers = vec![caisse_db, produit_db];
    let vente_url = match vente {
        Vente::Real => {
            // Only answers stock's questions here: no checkout runs, so its
            // own peers are never called.
            let vente_db = TestDb::new("vente").await;
            let nowhere = "http://127.0.0.1:9".to_owned();
            let cfg = vente::Config::for_test(vente_db.config("vente"), nowhere.clone(), nowhere);
            peers.push(vente_db);
            spawn(vente::build(&cfg).await.expect("vente")).await
        }
        Vente::Unreachable => {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            drop(listener);
            url
        }
    };
    let db = TestDb::new("stock").await;
    let config = stock::Config { common: db.config("stock"), cache_ttl_secs: 60, caisse_url, produit_url, vente_url };
    let url = spawn(stock::build(&config).await.expect("stock")).await;
    stock::seed::seed(&db.admin_pool().await).await.expect("seed stock");
    App { url, http: Client::new(), db, _peers: peers }
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
