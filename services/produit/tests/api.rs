//! produit against real MariaDB and Redis: search, cache invalidation across
//! replicas, versions, validation, and Redis down.

#![allow(clippy::unwrap_used)] // Tests fail loudly on purpose.

use caisse_common::Role;
use caisse_testing::{TestDb, bearer, spawn};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

struct App {
    urls: Vec<String>,
    http: Client,
    db: TestDb,
}

async fn app_with(replicas: usize, redis_url: Option<&str>) -> App {
    let db = TestDb::new("produit").await;
    let mut common = db.config("produit");
    if let Some(r) = redis_url {
        common.redis_url = r.into();
    }
    let config = produit::Config { common, cache_ttl_secs: 60 };
    let mut urls = vec![];
    for _ in 0..replicas {
        urls.push(spawn(produit::build(&config).await.expect("build")).await);
    }
    produit::seed::seed(&db.admin_pool().await).await.expect("seed");
    App { urls, http: Client::new(), db }
}

async fn app() -> App {
    app_with(1, None).await
}

impl App {
    async fn get(&self, replica: usize, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.urls[replica]))
            .header("authorization", bearer(Role::Caissier, Some(1)))
            .send()
            .await
            .expect("get")
    }

    async fn get_json(&self, replica: usize, path: &str) -> Value {
        let res = self.get(replica, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.json().await.expect("json")
    }

    async fn patch(&self, id: i64, etag: Option<&str>, body: Value, role: Role) -> reqwest::Response {
        let mut req = self
            .http
            .patch(format!("{}/api/produits/{id}", self.urls[0]))
            .header("authorization", bearer(role, None))
            .json(&body);
        if let Some(e) = etag {
            req = req.header("if-match", e);
        }
        req.send().await.expect("patch")
    }
}

fn ids(list: &Value) -> Vec<i64> {
    list["produits"].as_array().unwrap().iter().map(|p| p["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn search_matches_name_id_and_barcode() {
    let app = app().await;
    let by_name = app.get_json(0, "/api/produits?q=croissant").await;
    assert_eq!(ids(&by_name), vec![2]);
    let by_id = app.get_json(0, "/api/produits?q=7").await;
    assert!(ids(&by_id).contains(&7));
    let code = produit::seed::demo_barcode(12);
    let by_code = app.get_json(0, &format!("/api/produits?q={code}")).await;
    assert_eq!(ids(&by_code), vec![12]);
    let page = app.get_json(0, "/api/produits?limit=10").await;
    assert_eq!(ids(&page).len(), 10);
    assert_eq!(page["suivant"], 10);
    let next = app.get_json(0, "/api/produits?limit=10&apres=10").await;
    assert_eq!(ids(&next)[0], 11);
    let price = &by_name["produits"][0]["prix"];
    assert!(price.is_string(), "money is a decimal string: {price}");
}

#[tokio::test]
async fn products_are_fetched_by_id_list_for_carts() {
    let app = app().await;
    assert_eq!(ids(&app.get_json(0, "/api/produits?ids=5,2,2,60").await), vec![2, 5, 60]);
    for bad in ["/api/produits?ids=1,x", "/api/produits?ids=", "/api/produits?ids=-3"] {
        assert_eq!(app.get(0, bad).await.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let many = (1..=101).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    assert_eq!(app.get(0, &format!("/api/produits?ids={many}")).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn sql_looking_and_wildcard_queries_match_literally() {
    let app = app().await;
    // A literal % matches only the names that contain one.
    assert_eq!(ids(&app.get_json(0, "/api/produits?q=%25").await), vec![3, 35]);
    for q in ["%27%20OR%201%3D1%20--", "_", "%5C", "1%3B%20DROP%20TABLE%20produits"] {
        let list = app.get_json(0, &format!("/api/produits?q={q}")).await;
        assert!(ids(&list).is_empty(), "{q}: {list}");
    }
    let all = app.get_json(0, "/api/produits?limit=100").await;
    assert_eq!(ids(&all).len(), 60);
}

#[tokio::test]
async fn a_price_change_is_seen_at_once_by_every_replica() {
    let app = app_with(2, None).await;
    // Warm both replicas' view of the shared cache.
    for r in 0..2 {
        assert_eq!(app.get_json(r, "/api/produits/3").await["prix"], produit::seed::demo_price(3).to_string());
        app.get_json(r, "/api/produits?q=lait").await;
    }
    let res = app.get(0, "/api/produits/3").await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = app.patch(3, Some(&etag), json!({"prix": "4.29"}), Role::Admin).await;
    assert_eq!(res.status(), StatusCode::OK);
    for r in 0..2 {
        assert_eq!(app.get_json(r, "/api/produits/3").await["prix"], "4.29");
        assert_eq!(app.get_json(r, "/api/produits?q=lait").await["produits"][0]["prix"], "4.29");
    }
}

#[tokio::test]
async fn two_admins_with_the_same_version_one_wins_one_gets_412() {
    let app = app().await;
    let etag = app.get(0, "/api/produits/5").await.headers()["etag"].to_str().unwrap().to_owned();
    let (a, b) = tokio::join!(
        app.patch(5, Some(&etag), json!({"prix": "5.00"}), Role::Admin),
        app.patch(5, Some(&etag), json!({"prix": "6.00"}), Role::Admin),
    );
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);
    let p = app.get_json(0, "/api/produits/5").await;
    assert_eq!(p["version"], 2);
    let missing = app.patch(5, None, json!({"prix": "7.00"}), Role::Admin).await;
    assert_eq!(missing.status(), StatusCode::PRECONDITION_REQUIRED);
}

#[tokio::test]
async fn cashiers_cannot_edit_prices() {
    let app = app().await;
    let res = app.patch(1, Some("\"1\""), json!({"prix": "0.01"}), Role::Caissier).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_json(0, "/api/produits/1").await["prix"], produit::seed::demo_price(1).to_string());
}

#[tokio::test]
async fn deactivated_products_stay_readable_but_leave_search() {
    let app = app().await;
    let delete = |if_match: Option<&'static str>| {
        let mut req = app
            .http
            .delete(format!("{}/api/produits/2", app.urls[0]))
            .header("authorization", bearer(Role::Admin, None));
        if let Some(v) = if_match {
            req = req.header("if-match", v);
        }
        req.send()
    };
    // Like every other edit: without the version read, nothing happens.
    let res = delete(None).await.unwrap();
    assert_eq!(res.status(), StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.get_json(0, "/api/produits/2").await["actif"], true);
    assert_eq!(delete(Some("\"7\"")).await.unwrap().status(), StatusCode::PRECONDITION_FAILED);
    assert_eq!(app.get_json(0, "/api/produits/2").await["actif"], true);
    let res = delete(Some("\"1\"")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get_json(0, "/api/produits/2").await["actif"], false);
    assert!(ids(&app.get_json(0, "/api/produits?q=croissant").await).is_empty());
    assert_eq!(ids(&app.get_json(0, "/api/produits?q=croissant&inclure_inactifs=true").await), vec![2]);
}

#[tokio::test]
async fn bad_product_input_is_a_4xx_problem_and_changes_nothing() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    let big = format!(r#"{{"nom": "{}", "prix": "1.00"}}"#, "x".repeat(300 * 1024));
    let cases: Vec<(String, u16)> = vec![
        ("{\"nom\": \"x\", ".into(), 400),
        (r#"{"nom": "x", "prix": 12.5}"#.into(), 422),
        (r#"{"nom": "x"}"#.into(), 422),
        (r#"{"nom": "x", "prix": "-1.00"}"#.into(), 422),
        (r#"{"nom": "x", "prix": "1.999"}"#.into(), 422),
        (r#"{"nom": "x", "prix": "1e9"}"#.into(), 422),
        (r#"{"nom": "", "prix": "1.00"}"#.into(), 422),
        (r#"{"nom": "x", "prix": "1.00", "code_barres": "4006381333932"}"#.into(), 422),
        (format!(r#"{{"nom": "x", "prix": "1.00", "code_barres": "{}"}}"#, produit::seed::demo_barcode(1)), 409),
        (r#"[1, 2]"#.into(), 422),
        (big, 413),
    ];
    for (body, expected) in cases {
        let res = app
            .http
            .post(format!("{}/api/produits", app.urls[0]))
            .header("authorization", &admin)
            .header("content-type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), expected, "{}", &body[..body.len().min(80)]);
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let not_json = app
        .http
        .post(format!("{}/api/produits", app.urls[0]))
        .header("authorization", &admin)
        .body("nom=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    for path in ["/api/produits/999999", "/api/produits/abc", "/api/produits?limit=0", "/api/produits?limit=x"] {
        let res = app.get(0, path).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM produits").fetch_one(&app.db.admin_pool().await).await.unwrap();
    assert_eq!(count, 60);
}

#[tokio::test]
async fn redis_down_serves_from_mysql_and_counts_errors() {
    // Port 1 on loopback: nothing listens, connections are refused at once.
    let app = app_with(1, Some("redis://127.0.0.1:1")).await;
    assert_eq!(ids(&app.get_json(0, "/api/produits?q=croissant").await), vec![2]);
    let metrics = app.http.get(format!("{}/metrics", app.urls[0])).send().await.unwrap().text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("cache_operations_total") && l.contains(r#"result="error""#)),
        "{metrics}"
    );
    let ready = app.http.get(format!("{}/health/ready", app.urls[0])).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
}

async fn feed(app: &App, role: Role, query: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/produits/evenements{query}", app.urls[0]))
        .header("authorization", bearer(role, None))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_edit_is_an_event_naming_who_with_old_and_new_values() {
    let app = app().await;
    let etag = app.get(0, "/api/produits/3").await.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(app.patch(3, Some(&etag), json!({"prix": "4.29"}), Role::Admin).await.status(), StatusCode::OK);
    let stale = app.patch(3, Some(&etag), json!({"prix": "9.99"}), Role::Admin).await;
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED, "refused edits leave no event");
    let created = app
        .http
        .post(format!("{}/api/produits", app.urls[0]))
        .header("authorization", bearer(Role::Admin, None))
        .json(&json!({"nom": "Brioche", "prix": "3.50"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let new_id = created.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // Events enter the feed once the relay has numbered them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut page: caisse_common::outbox::FeedPage = loop {
        let res = feed(&app, Role::Admin, "?apres=0&limit=1000").await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: caisse_common::outbox::FeedPage = res.json().await.unwrap();
        if page.dernier >= 62 || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // The demo catalogue comes with one creation event per product.
    let seeded = page.evenements.drain(..60).map(|e| e.decode().unwrap());
    assert!(seeded.enumerate().all(|(i, p)| matches!(p,
        caisse_common::events::Payload::ProductChanged(c) if c.produit_id == i as i64 + 1 && c.avant.is_none())));
    let events: Vec<_> = page.evenements.iter().map(|e| (e.id, e.decode().unwrap())).collect();
    assert_eq!(events.len(), 2, "{events:?}");
    let caisse_common::events::Payload::ProductChanged(change) = &events[0].1 else { panic!("{events:?}") };
    assert_eq!((events[0].0, change.produit_id, change.par.as_str()), (61, 3, "test-admin"));
    let (avant, apres) = (change.avant.as_ref().unwrap(), &change.apres);
    assert_eq!((avant.prix, apres.prix), (produit::seed::demo_price(3), "4.29".parse().unwrap()));
    assert_eq!((avant.version, apres.version), (1, 2));
    let caisse_common::events::Payload::ProductChanged(creation) = &events[1].1 else { panic!("{events:?}") };
    assert_eq!((events[1].0, creation.produit_id, creation.avant.is_none()), (62, new_id, true));
    assert_eq!(creation.apres.nom, "Brioche");
    // The feed is for admins and services only, with checked parameters.
    assert_eq!(feed(&app, Role::Caissier, "").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(feed(&app, Role::Gerant, "").await.status(), StatusCode::FORBIDDEN);
    for q in ["?apres=-1", "?limit=0", "?limit=5000", "?apres=abc"] {
        let res = feed(&app, Role::Service, q).await;
        assert!(res.status().is_client_error(), "{q} : {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{q}");
    }
}

async fn history(app: &App, id: i64, auth: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/api/produits/{id}/historique", app.urls[0]))
        .header("authorization", auth)
        .send()
        .await
        .unwrap()
}

async fn patch_as(app: &App, id: i64, auth: &str, body: Value) -> reqwest::Response {
    let etag = app.get(0, &format!("/api/produits/{id}")).await.headers()["etag"].to_str().unwrap().to_owned();
    app.http
        .patch(format!("{}/api/produits/{id}", app.urls[0]))
        .header("authorization", auth)
        .header("if-match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn two_edits_leave_two_history_entries_with_old_and_new_values_and_the_editors_login() {
    let app = app().await;
    let alice = caisse_testing::bearer_as(11, "alice.admin", Role::Admin, None);
    let bob = caisse_testing::bearer_as(12, "bob.admin", Role::Admin, None);
    let before: Value = app.get_json(0, "/api/produits/4").await;
    assert_eq!(patch_as(&app, 4, &alice, json!({"prix": "7.35"})).await.status(), StatusCode::OK);
    assert_eq!(patch_as(&app, 4, &bob, json!({"nom": "Baguette de tradition"})).await.status(), StatusCode::OK);
    // A refused edit (stale version) leaves no entry.
    let stale = app
        .http
        .patch(format!("{}/api/produits/4", app.urls[0]))
        .header("authorization", &alice)
        .header("if-match", "\"1\"")
        .json(&json!({"prix": "1.00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), StatusCode::PRECONDITION_FAILED);

    let res = history(&app, 4, &bearer(Role::Gerant, Some(1))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let h: Value = res.json().await.unwrap();
    let entries = h["changements"].as_array().unwrap();
    // The seed's creation, then the two edits.
    assert_eq!(entries.len(), 3, "{h}");
    assert_eq!(entries[0]["action"], "creation");
    assert_eq!(entries[0]["par"], "seed");
    assert!(entries[0]["avant"].is_null());
    let (first, second) = (&entries[1], &entries[2]);
    assert_eq!(first["action"], "modification");
    assert_eq!(first["par"], "alice.admin");
    assert_eq!(first["avant"]["prix"], before["prix"]);
    assert_eq!(first["apres"]["prix"], "7.35");
    assert_eq!(first["champs"], json!(["prix"]));
    assert_eq!(second["par"], "bob.admin");
    assert_eq!(second["avant"]["nom"], before["nom"]);
    assert_eq!(second["apres"]["nom"], "Baguette de tradition");
    assert_eq!(second["avant"]["prix"], "7.35");
    assert_eq!(second["champs"], json!(["nom"]));
    assert!(first["le"].as_str().unwrap() <= second["le"].as_str().unwrap());
    // Written with the change: as many history rows as ProductChanged events.
    let pool = app.db.admin_pool().await;
    let rows: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM historique WHERE produit_id = 4").fetch_one(&pool).await.unwrap();
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE cle = 'produit:4'").fetch_one(&pool).await.unwrap();
    assert_eq!((rows, events), (3, 3));
}

#[tokio::test]
async fn creation_and_deactivation_are_in_the_history_too() {
    let app = app().await;
    let admin = caisse_testing::bearer_as(11, "alice.admin", Role::Admin, None);
    let res = app
        .http
        .post(format!("{}/api/produits", app.urls[0]))
        .header("authorization", &admin)
        .json(&json!({"nom": "Tisane", "prix": "3.10"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let del = app
        .http
        .delete(format!("{}/api/produits/{id}", app.urls[0]))
        .header("authorization", &admin)
        .header("if-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::OK);
    let h: Value = history(&app, id, &admin).await.json().await.unwrap();
    let actions: Vec<&str> =
        h["changements"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["creation", "desactivation"]);
    assert_eq!(h["changements"][1]["avant"]["actif"], true);
    assert_eq!(h["changements"][1]["apres"]["actif"], false);
    assert_eq!(h["changements"][1]["champs"], json!(["actif"]));
}

#[tokio::test]
async fn history_answers_bad_input_and_forbidden_callers_with_a_4xx_problem() {
    let app = app().await;
    let admin = bearer(Role::Admin, None);
    for (path, want) in [
        ("/api/produits/999999/historique", StatusCode::NOT_FOUND),
        ("/api/produits/abc/historique", StatusCode::BAD_REQUEST),
        ("/api/produits/1/historique?limit=0", StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/produits/1/historique?limit=100000", StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/produits/1/historique?apres=x", StatusCode::BAD_REQUEST),
        ("/api/produits/-1/historique", StatusCode::NOT_FOUND),
        ("/api/produits/99999999999999999999/historique", StatusCode::BAD_REQUEST),
    ] {
        let res = app.http.get(format!("{}{path}", app.urls[0])).header("authorization", &admin).send().await.unwrap();
        assert_eq!(res.status(), want, "{path}");
        assert_eq!(res.headers()["content-type"], "application/problem+json", "{path}");
    }
    assert_eq!(history(&app, 1, &bearer(Role::Caissier, Some(1))).await.status(), StatusCode::FORBIDDEN);
    let anon = app.http.get(format!("{}/api/produits/1/historique", app.urls[0])).send().await.unwrap();
    assert_eq!(anon.status(), StatusCode::UNAUTHORIZED);
}
