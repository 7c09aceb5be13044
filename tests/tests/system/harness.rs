//! Starts a stack per test and talks to it through the gateway.

use caisse_launcher::{Options, Stack};
use caisse_testing::PrivateRedis;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};

pub struct Sys {
    pub stack: Stack,
    pub http: Client,
    /// A Redis of this stack only (stopped after the stack), when asked for.
    private_redis: Option<PrivateRedis>,
}

impl Sys {
    pub async fn start() -> Sys {
        Self::start_with(Options::for_test().expect("options")).await
    }

    /// A stack with adjusted options (private Redis/MariaDB, a proxy in front
    /// of a service, extra environment).
    pub async fn start_with(opts: Options) -> Sys {
        Self::start_owning(opts, None).await
    }

    async fn start_owning(opts: Options, private_redis: Option<PrivateRedis>) -> Sys {
        let stack = Stack::start(opts).await.unwrap_or_else(|e| panic!("démarrage de la pile : {e:#}"));
        Sys { stack, http: Client::builder().pool_max_idle_per_host(64).build().expect("client"), private_redis }
    }

    /// A stack with its own Redis, which [`Sys::flush_redis`] may empty.
    pub async fn start_private_redis() -> Sys {
        let redis = PrivateRedis::start().await.expect("redis-server privé");
        let mut opts = Options::for_test().expect("options");
        opts.redis_url = redis.url();
        Self::start_owning(opts, Some(redis)).await
    }

    /// FLUSHALL on this stack's private Redis.
    pub async fn flush_redis(&self) {
        assert!(self.private_redis.is_some(), "FLUSHALL seulement sur un Redis privé");
        let client = redis::Client::open(self.stack.options().redis_url.as_str()).expect("redis");
        let mut conn = client.get_multiplexed_async_connection().await.expect("redis");
        redis::cmd("FLUSHALL").query_async::<()>(&mut conn).await.expect("FLUSHALL");
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.stack.gateway_url)
    }

    /// Logs in through the gateway and returns `Bearer <jeton>`.
    pub async fn login(&self, login: &str) -> String {
        let res = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&json!({"login": login, "mot_de_passe": "demo1234"}))
            .send()
            .await
            .expect("login");
        assert_eq!(res.status(), StatusCode::OK, "connexion de {login}");
        let body: Value = res.json().await.expect("json");
        format!("Bearer {}", body["jeton"].as_str().expect("jeton"))
    }

    pub async fn get(&self, path: &str, auth: &str) -> Response {
        self.http.get(self.url(path)).header("authorization", auth).send().await.expect("get")
    }

    pub async fn get_json(&self, path: &str, auth: &str) -> Value {
        let res = self.get(path, auth).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.expect("json")
    }

    /// The open cash session of `auth`'s store, opened if there is none:
    /// every cart is opened on one.
    pub async fn session(&self, auth: &str) -> i64 {
        caisse_tests::session(&self.http, &self.stack.gateway_url, auth, None)
            .await
            .unwrap_or_else(|e| panic!("session de caisse : {e:#}"))
    }

    /// `POST /api/paniers` on the open cash session of `auth`'s store.
    pub async fn post_cart(&self, auth: &str) -> reqwest::Result<Response> {
        let session = self.session(auth).await;
        self.http
            .post(self.url("/api/paniers"))
            .header("authorization", auth)
            .json(&json!({"session_id": session}))
            .send()
            .await
    }

    /// A cart of `auth`'s store on its open cash session, with `lines`
    /// (product, quantity) set; its id.
    pub async fn open_cart(&self, auth: &str, lines: &[(i64, i64)]) -> i64 {
        let res = self.post_cart(auth).await.unwrap();
        let status = res.status();
        let cart: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{cart}");
        let id = cart["id"].as_i64().unwrap();
        for (p, q) in lines {
            let res = self
                .http
                .put(self.url(&format!("/api/paniers/{id}/lignes/{p}")))
                .header("authorization", auth)
                .json(&json!({"quantite": q}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK);
        }
        id
    }

    /// One sale of `lines` by `auth`, paid `mode` (`especes`: 500.00 $
    /// tendered; `carte`); the sale's id.
    pub async fn sell(&self, auth: &str, lines: &[(i64, i64)], mode: &str) -> String {
        let cart = self.open_cart(auth, lines).await;
        let paiement = if mode == "especes" {
            json!({"mode": "especes", "montant_recu": "500.00"})
        } else {
            json!({"mode": "carte"})
        };
        let res = self
            .http
            .post(self.url("/api/ventes"))
            .header("authorization", auth)
            .header("idempotency-key", key())
            .json(&json!({"panier_id": cart, "paiement": paiement}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// An administrator pool on one service's schema, for invariant checks.
    pub async fn schema_pool(&self, service: &str) -> sqlx::MySqlPool {
        let o = self.stack.options();
        let url = format!("{}/{}{service}", o.mysql_admin_url.trim_end_matches('/'), o.schema_prefix);
        sqlx::MySqlPool::connect(&url).await.expect("pool admin")
    }
}

pub fn is_problem(res: &Response) -> bool {
    res.headers().get("content-type").and_then(|v| v.to_str().ok()) == Some("application/problem+json")
}

pub fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}
