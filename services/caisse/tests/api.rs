//! caisse against a real MariaDB schema of its own.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use caisse_common::Role;
use caisse_testing::{TestDb, bearer, spawn};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct App {
    url: String,
    http: Client,
    _db: TestDb,
}

async fn app() -> App {
    app_with(caisse::LoginLock::default()).await
}

async fn app_with(login_lock: caisse::LoginLock) -> App {
    let db = TestDb::new("caisse").await;
    let config =
        caisse::Config { login_lock, ..caisse::Config::for_test(db.config("caisse"), "http://127.0.0.1:9".into()) };
    let router = caisse::build(&config).await.expect("build");
    let pool = db.admin_pool().await;
    caisse::seed::seed(&pool).await.expect("seed");
    App { url: spawn(router).await, http: Client::new(), _db: db }
}

impl App {
    async fn login(&self, login: &str, password: &str) -> reqwest::Response {
        self.http
            .post(format!("{}/api/auth/login", self.url))
            .json(&json!({"login": login, "mot_de_passe": password}))
            .send()
            .await
            .expect("login")
    }
}

fn is_problem(res: &reqwest::Response) -> bool {
    res.headers().get("content-type").and_then(|v| v.to_str().ok()) == Some("application/problem+json")
}

#[tokio::test]
async fn login_returns_a_token_carrying_role_and_store() {
    let app = app().await;
    let res = app.login("caissier1", caisse::seed::DEMO_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["employe"]["role"], "caissier");
    assert_eq!(body["employe"]["magasin_id"], 1);
    let token = body["jeton"].as_str().unwrap();
    let me: Value =
        app.http.get(format!("{}/api/auth/me", app.url)).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["login"], "caissier1");
    assert!(me.get("mot_de_passe_hash").is_none());
    let verify = app.http.get(format!("{}/api/auth/verification", app.url)).bearer_auth(token).send().await.unwrap();
    assert_eq!(verify.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn wrong_password_and_unknown_login_get_the_same_401() {
    let app = app().await;
    let a = app.login("caissier1", "mauvais-mot").await;
    let b = app.login("personne", "mauvais-mot").await;
    assert_eq!(a.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(b.status(), StatusCode::UNAUTHORIZED);
    assert!(is_problem(&a));
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a["detail"], b["detail"]);
}

#[tokio::test]
async fn a_login_is_locked_after_ten_failures_in_a_row_even_with_the_right_password() {
    let app = app().await;
    let good = caisse::seed::DEMO_PASSWORD;
    // Nine failures, then a success: the count starts again.
    for _ in 0..9 {
        assert_eq!(app.login("caissier1", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login("caissier1", good).await.status(), StatusCode::OK);
    for _ in 0..9 {
        assert_eq!(app.login("caissier1", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login("caissier1", good).await.status(), StatusCode::OK, "9 échecs après un succès : pas bloqué");
    // Ten in a row: the tenth still says 401, the next one is refused.
    for _ in 0..10 {
        assert_eq!(app.login("caissier1", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    }
    let res = app.login("caissier1", good).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(is_problem(&res));
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((880..=900).contains(&retry), "Retry-After {retry}");
    let body: Value = res.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("réessayez dans 15 min"), "{body}");
    // Other logins are not affected; an unknown login locks the same way.
    assert_eq!(app.login("caissier2", good).await.status(), StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(app.login("personne", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(app.login("personne", "mauvais-mot").await.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_lock_runs_out_and_the_count_starts_again() {
    let app = app_with(caisse::LoginLock { max_failures: 3, lock_secs: 1 }).await;
    let good = caisse::seed::DEMO_PASSWORD;
    for _ in 0..3 {
        assert_eq!(app.login("gerant1", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = app.login("gerant1", good).await;
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.headers()["retry-after"], "1");
    // Wait for the lock to run out (it lasts one second).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut status = StatusCode::TOO_MANY_REQUESTS;
    while status == StatusCode::TOO_MANY_REQUESTS && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        status = app.login("gerant1", "mauvais-mot").await.status();
    }
    // The first failure after the lock counts as the first of a new series.
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("gerant1", "mauvais-mot").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("gerant1", good).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn requests_without_a_valid_token_get_401() {
    let app = app().await;
    let res = app.http.get(format!("{}/api/magasins", app.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(is_problem(&res));
    let res = app.http.get(format!("{}/api/magasins", app.url)).bearer_auth("abc.def.ghi").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn magasins_are_listed_filtered_and_paginated() {
    let app = app().await;
    let auth = bearer(Role::Caissier, Some(1));
    let all: Value = app
        .http
        .get(format!("{}/api/magasins?limit=3", app.url))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(all["magasins"].as_array().unwrap().len(), 3);
    assert_eq!(all["suivant"], 3);
    let logistique: Value = app
        .http
        .get(format!("{}/api/magasins?type=logistique", app.url))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let list = logistique["magasins"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["type"], "logistique");
    let bad = app
        .http
        .get(format!("{}/api/magasins?type=entrepot", app.url))
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(is_problem(&bad));
}

#[tokio::test]
async fn only_admins_create_and_update_magasins_with_versions() {
    let app = app().await;
    let body = json!({"nom": "Caisse Sherbrooke", "type": "magasin", "ville": "Sherbrooke"});
    let denied = app
        .http
        .post(format!("{}/api/magasins", app.url))
        .header("authorization", bearer(Role::Gerant, Some(1)))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    let admin = bearer(Role::Admin, None);
    let created = app
        .http
        .post(format!("{}/api/magasins", app.url))
        .header("authorization", &admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let etag = created.headers()["etag"].to_str().unwrap().to_owned();
    let m: Value = created.json().await.unwrap();
    let dup = app
        .http
        .post(format!("{}/api/magasins", app.url))
        .header("authorization", &admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    let url = format!("{}/api/magasins/{}", app.url, m["id"]);
    let update = json!({"nom": "Caisse Sherbrooke-Nord", "type": "magasin"});
    let ok = app.http.put(&url).header("authorization", &admin).header("if-match", &etag).json(&update).send().await;
    assert_eq!(ok.unwrap().status(), StatusCode::OK);
    let stale = app.http.put(&url).header("authorization", &admin).header("if-match", &etag).json(&update).send().await;
    assert_eq!(stale.unwrap().status(), StatusCode::PRECONDITION_FAILED);
    let missing = app.http.put(&url).header("authorization", &admin).json(&update).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::PRECONDITION_REQUIRED);
}

#[tokio::test]
async fn bad_magasin_input_is_a_4xx_problem_and_changes_nothing() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let cases: Vec<(&str, StatusCode)> = vec![
        ("{\"nom\": ", StatusCode::BAD_REQUEST),
        (r#"{"nom": 12, "type": "magasin"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"type": "magasin"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"nom": "  ", "type": "magasin"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (r#"{"nom": "X", "type": "entrepot"}"#, StatusCode::UNPROCESSABLE_ENTITY),
        (
            r#"{"nom": "X'; DROP TABLE magasins; --", "type": "magasin", "inconnu": 1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (body, expected) in cases {
        let res = app
            .http
            .post(format!("{}/api/magasins", app.url))
            .header("authorization", &admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected, "{body}");
        assert!(is_problem(&res), "{body}");
    }
    let count: Value = app
        .http
        .get(format!("{}/api/magasins", app.url))
        .header("authorization", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(count["magasins"].as_array().unwrap().len(), caisse::seed::MAGASINS.len());
}

#[tokio::test]
async fn staff_accounts_are_created_by_admins_and_can_log_in() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let bad = app
        .http
        .post(format!("{}/api/employes", app.url))
        .header("authorization", &admin)
        .json(&json!({"login": "nouveau", "nom": "N", "role": "caissier", "mot_de_passe": "court"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = bad.json().await.unwrap();
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["champ"].as_str().unwrap()).collect();
    assert!(fields.contains(&"mot_de_passe") && fields.contains(&"magasin_id"), "{fields:?}");
    let ok = app
        .http
        .post(format!("{}/api/employes", app.url))
        .header("authorization", &admin)
        .json(
            &json!({"login": "nouveau", "nom": "N", "role": "caissier", "magasin_id": 2, "mot_de_passe": "assez-long"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    assert_eq!(app.login("nouveau", "assez-long").await.status(), StatusCode::OK);
    let service = app
        .http
        .post(format!("{}/api/employes", app.url))
        .header("authorization", &admin)
        .json(&json!({"login": "robot", "nom": "R", "role": "service", "mot_de_passe": "assez-long"}))
        .send()
        .await
        .unwrap();
    assert_eq!(service.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn health_metrics_and_openapi_are_served() {
    let app = app().await;
    assert_eq!(app.http.get(format!("{}/health/live", app.url)).send().await.unwrap().status(), 200);
    assert_eq!(app.http.get(format!("{}/health/ready", app.url)).send().await.unwrap().status(), 200);
    let _ = app
        .http
        .get(format!("{}/api/magasins/1", app.url))
        .header("authorization", bearer(Role::Admin, None))
        .send()
        .await;
    let metrics = app.http.get(format!("{}/metrics", app.url)).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"route="/api/magasins/{id}""#), "{metrics}");
    let doc: Value = app.http.get(format!("{}/openapi.json", app.url)).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/auth/login"].is_object());
    let docs = app.http.get(format!("{}/docs/", app.url)).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    let unknown = app.http.get(format!("{}/api/rien", app.url)).send().await.unwrap();
    assert_eq!(unknown.status(), 404);
    assert!(is_problem(&unknown));
}

#[tokio::test]
async fn demo_cashiers_have_the_ids_and_stores_the_demo_history_sells_under() {
    let app = app().await;
    for (magasin, id, login) in caisse_common::demo::CAISSIERS {
        let res = app.login(login, caisse::seed::DEMO_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "{login}");
        let employe = &res.json::<Value>().await.unwrap()["employe"];
        assert_eq!((employe["id"].as_i64(), employe["magasin_id"].as_i64()), (Some(*id), Some(*magasin)), "{login}");
    }
}
