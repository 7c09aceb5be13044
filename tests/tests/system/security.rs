//! Least privilege and secrets: each service's MySQL user reaches its own
//! schema only; passwords never reach the logs.

use caisse_testing::TestDb;
use sqlx::Connection;

#[tokio::test]
async fn a_service_user_cannot_read_another_services_schema() {
    let produit = TestDb::new("produit").await;
    let caisse = TestDb::new("caisse").await;
    let admin = caisse.admin_pool().await;
    sqlx::query("CREATE TABLE employes (id INT PRIMARY KEY, mot_de_passe_hash TEXT)").execute(&admin).await.unwrap();
    let mut conn = sqlx::MySqlConnection::connect(&produit.url).await.expect("connexion produit");
    sqlx::query("CREATE TABLE essai (id INT)").execute(&mut conn).await.expect("own schema is writable");
    let err =
        sqlx::query(&format!("SELECT * FROM `{}`.employes", caisse.schema)).fetch_all(&mut conn).await.unwrap_err();
    let code = err.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned());
    // 42000: access denied (ER_TABLEACCESS_DENIED_ERROR 1142).
    assert_eq!(code.as_deref(), Some("42000"), "{err}");
    let err = sqlx::query(&format!("USE `{}`", caisse.schema)).execute(&mut conn).await.unwrap_err();
    assert!(err.to_string().contains("denied"), "{err}");
}

/// Every service's MySQL user, against every other service's schema: no
/// read, no write, no user creation.
#[tokio::test]
async fn no_service_user_reads_or_writes_another_services_schema_nor_creates_users() {
    const SERVICES: [&str; 6] = ["caisse", "produit", "stock", "panier", "vente", "reporting"];
    let mut dbs = Vec::new();
    for s in SERVICES {
        let db = TestDb::new(s).await;
        sqlx::query("CREATE TABLE secret (id INT PRIMARY KEY)").execute(&db.admin_pool().await).await.unwrap();
        dbs.push((s, db));
    }
    let mut checked = 0;
    for (who, db) in &dbs {
        let mut conn = sqlx::MySqlConnection::connect(&db.url).await.expect("connexion");
        sqlx::query("INSERT INTO secret VALUES (1)").execute(&mut conn).await.expect("own schema is writable");
        let create_user = format!("CREATE USER 'intrus_{who}'@'%' IDENTIFIED BY 'x'");
        let err = sqlx::query(&create_user).execute(&mut conn).await.unwrap_err();
        assert!(err.to_string().contains("denied"), "{who} : CREATE USER : {err}");
        for (other, odb) in &dbs {
            if other == who {
                continue;
            }
            for sql in [
                format!("SELECT * FROM `{}`.secret", odb.schema),
                format!("INSERT INTO `{}`.secret VALUES (2)", odb.schema),
                format!("DELETE FROM `{}`.secret", odb.schema),
                format!("CREATE TABLE `{}`.intrus (id INT)", odb.schema),
            ] {
                let err = sqlx::query(&sql).execute(&mut conn).await.unwrap_err();
                assert!(err.to_string().contains("denied"), "{who} → {other} : {sql} : {err}");
                checked += 1;
            }
        }
    }
    println!("{checked} accès refusés vérifiés (6 utilisateurs × 5 autres schémas × 4 ordres)");
}

/// A run's logs (every service and nginx) never contain a password.
#[tokio::test]
async fn passwords_never_reach_the_logs() {
    let sys = crate::harness::Sys::start().await;
    let _ = sys.login("caissier1").await;
    let res = sys
        .http
        .post(sys.url("/api/auth/login"))
        .json(&serde_json::json!({"login": "caissier1", "mot_de_passe": "mauvais-secret-42"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    let run_dir = sys.stack.options().run_dir.clone();
    let mut files = vec![run_dir.join("nginx-access.log"), run_dir.join("nginx-error.log")];
    files.extend(std::fs::read_dir(run_dir.join("logs")).unwrap().map(|e| e.unwrap().path()));
    let mut read = 0;
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        read += text.len();
        for secret in ["demo1234", "mauvais-secret-42"] {
            assert!(!text.contains(secret), "mot de passe « {secret} » dans {}", f.display());
        }
    }
    assert!(read > 0, "aucun journal lu dans {}", run_dir.display());
}
