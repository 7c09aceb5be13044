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

/// vente as caisse sees it at closing: `especes` cash taken by the
/// session's sales, `rembourse` cash handed back; no journal (404).
fn vente_stub(especes: &'static str, rembourse: &'static str) -> axum::Router {
    let totals = move |axum::extract::Path(id): axum::extract::Path<i64>| async move {
        axum::Json(json!({
            "session_id": id, "magasin_id": 1,
            "ventes": {"nombre": 2, "par_mode": [{"mode": "especes", "nombre": 1, "montant": especes},
                {"mode": "carte", "nombre": 1, "montant": "11.50"}],
                "sous_total": "30.00", "tps": "1.50", "tvq": "2.99", "total": "34.49"},
            "retours": {"nombre": 1, "montant": rembourse, "especes": rembourse},
            "annulations": {"nombre": 0, "montant": "0.00", "especes": "0.00"},
            "premier_recu": 41, "dernier_recu": 42, "especes_encaissees": especes,
        }))
    };
    axum::Router::new().route("/api/ventes/sessions/{id}/totaux", axum::routing::get(totals))
}

/// caisse with its stores and registers (no staff: tokens are signed here).
async fn registers_app() -> App {
    let db = TestDb::new("caisse").await;
    let vente = spawn(vente_stub("23.00", "5.75")).await;
    let config = caisse::Config::for_test(db.config("caisse"), vente);
    let router = caisse::build(&config).await.expect("build");
    caisse::seed::seed_stores(&db.admin_pool().await).await.expect("seed");
    App { url: spawn(router).await, http: Client::new(), _db: db }
}

impl App {
    async fn call(&self, method: &str, path: &str, auth: &str, body: Option<Value>) -> reqwest::Response {
        let mut req =
            self.http.request(method.parse().unwrap(), format!("{}{path}", self.url)).header("authorization", auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }
}

fn cashier(sub: i64) -> String {
    caisse_testing::bearer_as(sub, &format!("caissier{sub}"), Role::Caissier, Some(1))
}

#[tokio::test]
async fn each_sales_store_has_numbered_registers_and_a_gerant_adds_one() {
    let app = registers_app().await;
    let list: Value = app.call("GET", "/api/caisses", &cashier(10), None).await.json().await.unwrap();
    let numeros: Vec<i64> = list["caisses"].as_array().unwrap().iter().map(|c| c["numero"].as_i64().unwrap()).collect();
    assert_eq!(numeros, vec![1, 2, 3]);
    assert!(list["caisses"].as_array().unwrap().iter().all(|c| c["magasin_id"] == 1 && c["session_ouverte"].is_null()));
    let admin = bearer(Role::Admin, None);
    let store5: Value = app.call("GET", "/api/caisses?magasin_id=5", &admin, None).await.json().await.unwrap();
    assert_eq!(store5["caisses"].as_array().unwrap().len(), 3);
    for (path, auth, status) in [
        ("/api/caisses?magasin_id=2", cashier(10), StatusCode::FORBIDDEN),
        ("/api/caisses", admin.clone(), StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/caisses?magasin_id=6", admin.clone(), StatusCode::OK),
        ("/api/caisses", bearer(Role::Logistique, None), StatusCode::FORBIDDEN),
    ] {
        assert_eq!(app.call("GET", path, &auth, None).await.status(), status, "{path}");
    }
    let gerant = bearer(Role::Gerant, Some(1));
    let res = app.call("POST", "/api/caisses", &gerant, Some(json!({"magasin_id": 1, "numero": 4}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    assert_eq!((created["numero"].as_i64(), created["nom"].as_str()), (Some(4), Some("Caisse 4")));
    let again = app.call("POST", "/api/caisses", &gerant, Some(json!({"magasin_id": 1, "numero": 4}))).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert!(is_problem(&again));
    for (auth, body, status) in [
        (gerant.clone(), json!({"magasin_id": 2, "numero": 9}), StatusCode::FORBIDDEN),
        (cashier(10), json!({"magasin_id": 1, "numero": 9}), StatusCode::FORBIDDEN),
        (admin.clone(), json!({"magasin_id": 6, "numero": 1}), StatusCode::UNPROCESSABLE_ENTITY),
        (admin.clone(), json!({"magasin_id": 999, "numero": 1}), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let res = app.call("POST", "/api/caisses", &auth, Some(body.clone())).await;
        assert_eq!(res.status(), status, "{body}");
        assert!(is_problem(&res));
    }
}

#[tokio::test]
async fn a_register_has_one_open_session_closed_on_the_count_with_its_variance() {
    let app = registers_app().await;
    let caisse = 2;
    let open = |auth: String| {
        let app = &app;
        async move { app.call("POST", "/api/caisses/2/sessions", &auth, Some(json!({"fond_de_caisse": "200.00"}))).await }
    };
    let res = open(cashier(10)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session: Value = res.json().await.unwrap();
    let id = session["id"].as_i64().unwrap();
    assert_eq!((session["statut"].as_str(), session["caisse_id"].as_i64()), (Some("ouverte"), Some(caisse)));
    assert_eq!(
        (session["fond_de_caisse"].as_str(), session["caissier_login"].as_str()),
        (Some("200.00"), Some("caissier10"))
    );
    // A second session on the same register: 409 naming the open one.
    let res = open(cashier(11)).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["session_id"], id);
    assert!(problem["detail"].as_str().unwrap().contains("caissier10"), "{problem}");
    // The schema holds it too: a second open row for the register is refused.
    let pool = app._db.admin_pool().await;
    let dup = sqlx::query(
        "INSERT INTO sessions_caisse (caisse_id, magasin_id, caissier_id, caissier_login, statut, ouverte_caisse_id, \
         fond_de_caisse) VALUES (2, 1, 11, 'x', 'ouverte', 2, 0)",
    )
    .execute(&pool)
    .await;
    assert!(dup.is_err());
    let list: Value = app.call("GET", "/api/caisses", &cashier(11), None).await.json().await.unwrap();
    assert_eq!(list["caisses"][1]["session_ouverte"]["id"], id);
    // Another store's staff do not see it; the Z-report waits for the closing.
    let other = bearer(Role::Gerant, Some(2));
    let path = format!("/api/caisses/sessions/{id}");
    assert_eq!(app.call("GET", &path, &other, None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.call("GET", &path, &bearer(Role::Service, None), None).await.status(), StatusCode::OK);
    assert_eq!(app.call("GET", &format!("{path}/rapport-z"), &cashier(10), None).await.status(), StatusCode::CONFLICT);
    let close = |auth: String, compte: &'static str| {
        let (app, path) = (&app, format!("{path}/fermeture"));
        async move { app.call("POST", &path, &auth, Some(json!({"montant_compte": compte}))).await }
    };
    // Only its cashier, or a gérant of the store, closes it.
    assert_eq!(close(cashier(11), "210.00").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(close(other, "210.00").await.status(), StatusCode::NOT_FOUND);
    // Expected: 200.00 + 23.00 − 5.75 = 217.25; counted 215.00: 2.25 short.
    let res = close(bearer(Role::Gerant, Some(1)), "215.00").await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["statut"], "fermee");
    assert_eq!(closed["fermee_par"], "test-gerant");
    assert_eq!((closed["especes_attendues"].as_str(), closed["ecart"].as_str()), (Some("217.25"), Some("-2.25")));
    assert_eq!(close(cashier(10), "215.00").await.status(), StatusCode::CONFLICT);
    let z: Value = app.call("GET", &format!("{path}/rapport-z"), &cashier(10), None).await.json().await.unwrap();
    assert_eq!(z["session"], closed);
    assert_eq!(
        z["especes"],
        json!({"fond": "200.00", "ventes": "23.00", "remboursements": "5.75",
        "attendu": "217.25", "compte": "215.00", "ecart": "-2.25"})
    );
    assert_eq!((z["premier_recu"].as_i64(), z["dernier_recu"].as_i64()), (Some(41), Some(42)));
    assert_eq!(z["journal"], Value::Null);
    assert_eq!(z["genere_le"], closed["fermee_le"]);
    // Ready to print: the same figures as text.
    let printed = app.call("GET", &format!("{path}/rapport-z?format=texte"), &cashier(10), None).await;
    assert_eq!(printed.status(), StatusCode::OK);
    assert!(printed.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let printed = printed.text().await.unwrap();
    for needle in ["RAPPORT Z", "217.25 $", "215.00 $", "-2.25 $", "Reçus n° 41 à 42", "caissier10", "test-gerant"] {
        assert!(printed.contains(needle), "{needle} absent :\n{printed}");
    }
    let res = app.call("GET", &format!("{path}/rapport-z?format=pdf"), &cashier(10), None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The register is free again; the list of closed sessions holds this one.
    assert_eq!(open(cashier(11)).await.status(), StatusCode::CREATED);
    let fermees: Value =
        app.call("GET", "/api/caisses/sessions?statut=fermee", &cashier(10), None).await.json().await.unwrap();
    assert_eq!(fermees["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(fermees["sessions"][0]["id"], id);
    let all: Value =
        app.call("GET", "/api/caisses/sessions?limit=1", &bearer(Role::Admin, None), None).await.json().await.unwrap();
    assert_eq!(all["sessions"].as_array().unwrap().len(), 1);
    let next = all["suivant"].as_i64().unwrap();
    let rest: Value = app
        .call("GET", &format!("/api/caisses/sessions?limit=1&apres={next}"), &bearer(Role::Admin, None), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["sessions"][0]["id"], id);
}

/// Every new route answers bad input with a 4xx problem, never a 5xx.
#[tokio::test]
async fn bad_register_and_session_input_is_a_4xx_problem() {
    let app = registers_app().await;
    let gerant = bearer(Role::Gerant, Some(1));
    let opened: Value = app
        .call("POST", "/api/caisses/1/sessions", &cashier(10), Some(json!({"fond_de_caisse": "0"})))
        .await
        .json()
        .await
        .unwrap();
    let id = opened["id"].as_i64().unwrap();
    let cases: Vec<(&str, String, Option<Value>, u16)> = vec![
        ("GET", "/api/caisses?magasin_id=abc".into(), None, 400),
        ("GET", "/api/caisses?magasin_id=-1".into(), None, 422),
        ("POST", "/api/caisses".into(), Some(json!({})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 0})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 1000})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 5, "nom": ""})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 5, "nom": "x".repeat(61)})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": "cinq"})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 5, "autre": 1})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 0, "numero": 5})), 422),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 99_999_999_999_i64})), 422),
        ("POST", "/api/caisses/2/sessions".into(), Some(json!({})), 422),
        ("POST", "/api/caisses/2/sessions".into(), Some(json!({"fond_de_caisse": "-5.00"})), 422),
        ("POST", "/api/caisses/2/sessions".into(), Some(json!({"fond_de_caisse": "10000.01"})), 422),
        ("POST", "/api/caisses/2/sessions".into(), Some(json!({"fond_de_caisse": "1.005"})), 422),
        ("POST", "/api/caisses/2/sessions".into(), Some(json!({"fond_de_caisse": 200})), 422),
        ("POST", "/api/caisses/2/sessions".into(), Some(json!({"fond_de_caisse": "deux cents"})), 422),
        ("POST", "/api/caisses/abc/sessions".into(), Some(json!({"fond_de_caisse": "1.00"})), 400),
        ("POST", "/api/caisses/999999/sessions".into(), Some(json!({"fond_de_caisse": "1.00"})), 404),
        ("GET", "/api/caisses/sessions/abc".into(), None, 400),
        ("GET", "/api/caisses/sessions/999999".into(), None, 404),
        ("GET", "/api/caisses/sessions?statut=perdue".into(), None, 422),
        ("GET", "/api/caisses/sessions?limit=0".into(), None, 422),
        ("GET", "/api/caisses/sessions?limite=1000".into(), None, 422),
        ("GET", "/api/caisses/sessions?apres=-3".into(), None, 422),
        ("GET", "/api/caisses/sessions?magasin_id=2".into(), None, 403),
        ("POST", format!("/api/caisses/sessions/{id}/fermeture"), Some(json!({})), 422),
        ("POST", format!("/api/caisses/sessions/{id}/fermeture"), Some(json!({"montant_compte": "-1"})), 422),
        ("POST", format!("/api/caisses/sessions/{id}/fermeture"), Some(json!({"montant_compte": "1000000.01"})), 422),
        ("POST", format!("/api/caisses/sessions/{id}/fermeture"), Some(json!({"montant_compte": 12.5})), 422),
        ("POST", "/api/caisses/sessions/999999/fermeture".into(), Some(json!({"montant_compte": "1.00"})), 404),
        ("GET", "/api/caisses/sessions/999999/rapport-z".into(), None, 404),
        ("GET", format!("/api/caisses/sessions/{id}/rapport-z"), None, 409),
    ];
    for (method, path, body, status) in cases {
        let res = app.call(method, &path, &gerant, body.clone()).await;
        assert_eq!(res.status().as_u16(), status, "{method} {path} {body:?}");
        assert!(is_problem(&res), "{method} {path}");
    }
    // Not JSON, or the wrong content type.
    for path in ["/api/caisses", "/api/caisses/2/sessions", &format!("/api/caisses/sessions/{id}/fermeture")] {
        let res = app
            .http
            .post(format!("{}{path}", app.url))
            .header("authorization", &gerant)
            .header("content-type", "application/json")
            .body("{\"fond")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        let res = app
            .http
            .post(format!("{}{path}", app.url))
            .header("authorization", &gerant)
            .body("x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{path}");
        assert!(is_problem(&res));
    }
}
