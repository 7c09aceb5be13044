//! Test helpers shared by every crate's tests, as a dev-dependency only (never
//! in a service binary): a fresh schema with its own least-privilege user per
//! test, a unique Redis key prefix, services spawned on port 0, signed test
//! tokens, and [`FaultProxy`], an HTTP proxy that delays, drops, fails or holds
//! chosen requests between two services, and private Redis/MariaDB servers a
//! fault test may kill. Everything real: the MariaDB and Redis of the machine
//! (`MYSQL_ADMIN_URL`, `REDIS_URL`).
//!
//! ```no_run
//! # async fn demo(stock_url: String) {
//! use caisse_testing::{Action, FaultProxy, Rule};
//! let proxy = FaultProxy::start(&stock_url).await;
//! // vente's STOCK_URL = proxy.url(): the first reservation commits in stock
//! // but its answer never reaches vente.
//! let lost = proxy.add(
//!     Rule::any().method("POST").path_exact("/api/stocks/reservations").times(1).then(Action::DropAfterForward),
//! );
//! // … check out through vente, then:
//! lost.wait_forwarded(1).await;
//! // Recovery's calls carry `x-request-id: recuperation-…`: hold them.
//! let recovery = proxy.add(Rule::any().request_id_prefix("recuperation-").then(Action::Hold));
//! recovery.wait_held(1).await;
//! recovery.release();
//! # }
//! ```

use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;

use caisse_common::{
    auth::{Claims, Role, TokenKeys},
    config::{self, CommonConfig},
    provision,
};

mod infra;
mod proxy;
mod rules;
pub mod session;

pub use caisse_common::provision::delete_redis_prefix;
pub use infra::{PrivateMariadb, PrivateRedis};
pub use proxy::{FaultProxy, Seen};
pub use rules::{Action, PathMatch, Rule, RuleHandle};
pub use session::session;

/// Secret used by tests to sign tokens.
pub const TEST_SECRET: &str = "test-secret-0123456789abcdef-0123456789";

pub fn admin_url() -> String {
    config::env_string("MYSQL_ADMIN_URL", "mysql://root@127.0.0.1:3306")
}

pub fn redis_url() -> String {
    config::env_string("REDIS_URL", "redis://127.0.0.1:6379")
}

fn short_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
}

/// A schema and user that exist for the lifetime of the value.
pub struct TestDb {
    pub schema: String,
    pub user: String,
    pub password: String,
    /// URL of the schema as its own user (what the service gets).
    pub url: String,
    /// URL of the schema as the administrator (for assertions).
    pub admin_schema_url: String,
    /// Redis prefixes handed out by `config`, removed on drop.
    prefixes: std::sync::Mutex<Vec<String>>,
}

impl TestDb {
    pub async fn new(service: &str) -> Self {
        caisse_common::telemetry::init(false);
        let id = short_id();
        let schema = format!("t_{service}_{id}");
        let user = format!("t_{id}");
        let password = format!("pw-{id}");
        provision::provision(&admin_url(), &schema, &user, &password, "%")
            .await
            .unwrap_or_else(|e| panic!("provisionnement de test impossible (MariaDB démarrée ?) : {e}"));
        let host = admin_url().rsplit('@').next().unwrap_or("127.0.0.1:3306").to_owned();
        Self {
            url: format!("mysql://{user}:{password}@{host}/{schema}"),
            admin_schema_url: format!("{}/{schema}", admin_url().trim_end_matches('/')),
            schema,
            user,
            password,
            prefixes: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// A common config for `service` pointing at this schema and a fresh Redis prefix.
    pub fn config(&self, service: &'static str) -> CommonConfig {
        CommonConfig {
            service,
            bind_addr: ([127, 0, 0, 1], 0).into(),
            database_url: self.url.clone(),
            redis_url: redis_url(),
            redis_prefix: {
                let prefix = format!("test:{}:", short_id());
                if let Ok(mut p) = self.prefixes.lock() {
                    p.push(prefix.clone());
                }
                prefix
            },
            jwt_secret: TEST_SECRET.into(),
            jwt_previous_secret: None,
            log_json: false,
            db_max_connections: 10,
            outbox_retention: std::time::Duration::from_secs(90 * 24 * 3600),
        }
    }

    /// An administrator pool on this schema, for assertions.
    pub async fn admin_pool(&self) -> sqlx::MySqlPool {
        sqlx::MySqlPool::connect(&self.admin_schema_url).await.unwrap_or_else(|e| panic!("pool admin : {e}"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (schema, user) = (self.schema.clone(), self.user.clone());
        let prefixes = self.prefixes.lock().map(|p| p.clone()).unwrap_or_default();
        // Drop runs inside a runtime; clean up from a thread with its own.
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                let _ = rt.block_on(provision::drop_schema_and_user(&admin_url(), &schema, &user, "%"));
                for prefix in prefixes {
                    let _ = rt.block_on(delete_redis_prefix(&redis_url(), &prefix));
                }
            }
        })
        .join();
    }
}

/// Serves `app` on 127.0.0.1:0 and returns its base URL.
pub async fn spawn(app: Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap_or_else(|e| panic!("bind : {e}"));
    let addr = listener.local_addr().unwrap_or_else(|e| panic!("addr : {e}"));
    tokio::spawn(async move { caisse_common::server::serve(listener, app).await });
    format!("http://{addr}")
}

/// Signs a test token for `role` in `magasin_id`, as `Authorization` value.
pub fn bearer(role: Role, magasin_id: Option<i64>) -> String {
    bearer_for(1, role, magasin_id)
}

pub fn bearer_for(sub: i64, role: Role, magasin_id: Option<i64>) -> String {
    bearer_as(sub, &format!("test-{}", role.as_str()), role, magasin_id)
}

/// A test token for the account `login` (id `sub`): what a trail records as "who".
pub fn bearer_as(sub: i64, login: &str, role: Role, magasin_id: Option<i64>) -> String {
    let keys: Arc<TokenKeys> = TokenKeys::new(TEST_SECRET);
    let now = chrono::Utc::now().timestamp();
    let claims = Claims { sub, login: login.to_owned(), role, magasin_id, iat: now, exp: now + 3600 };
    format!("Bearer {}", keys.sign(&claims).unwrap_or_default())
}
