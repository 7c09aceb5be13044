//! Least privilege: each service's MySQL user reads its own schema only.

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
