//! The integrity auditor (`caisse-launcher audit`, `GET /api/rapports/audit`)
//! finds nothing after real sales, and names what a test breaks directly in
//! a schema: a stock row changed without its movement, a sale row deleted.

use reqwest::StatusCode;
use serde_json::json;

use crate::harness::Sys;

async fn audit(sys: &Sys) -> caisse_common::audit::Audit {
    caisse_launcher::audit(&sys.stack.gateway_url, "admin", "demo1234", 60.0).await.unwrap()
}

#[tokio::test]
async fn the_auditor_finds_nothing_after_sales_and_names_what_is_broken_behind_the_apis() {
    let sys = Sys::start().await;
    let cashier = sys.login("caissier1").await;
    let admin = sys.login("admin").await;
    let kept = sys.sell(&cashier, &[(1, 2), (2, 1)], "especes").await;
    let deleted = sys.sell(&cashier, &[(3, 1)], "carte").await;
    let a = audit(&sys).await;
    assert!(a.ecarts.is_empty(), "{:#?}", a.ecarts);
    assert!(a.non_verifie.is_empty(), "chaque producteur a son flux : {:?}", a.non_verifie);
    assert!(a.ventes >= 2 && a.mouvements > 0 && a.stocks > 0, "{a:?}");
    // The same audit for admins, through reporting.
    let via_api = sys.get_json("/api/rapports/audit", &admin).await;
    assert_eq!(via_api["ecarts"], json!([]), "{via_api}");
    assert_eq!(sys.get("/api/rapports/audit", &sys.login("gerant1").await).await.status(), StatusCode::FORBIDDEN);
    // Break things behind the services' backs.
    let stock = sys.schema_pool("stock").await;
    sqlx::query("UPDATE stocks SET quantite = quantite + 5 WHERE magasin_id = 2 AND produit_id = 7")
        .execute(&stock)
        .await
        .unwrap();
    // stock serves that store from its Redis cache for up to a minute: let it expire now.
    let o = sys.stack.options();
    let redis = redis::Client::open(o.redis_url.as_str()).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("INCR")
        .arg(format!("{}stock:magasin:2:gen", o.redis_prefix))
        .query_async::<i64>(&mut conn)
        .await
        .unwrap();
    let vente = sys.schema_pool("vente").await;
    sqlx::query("DELETE FROM ventes WHERE id = ?").bind(&deleted).execute(&vente).await.unwrap();
    let a = audit(&sys).await;
    let named = |kind: &str, needle: &str| a.ecarts.iter().any(|e| e.verification == kind && e.detail.contains(needle));
    assert!(named("stock_registre", "magasin 2, produit 7"), "{:#?}", a.ecarts);
    assert!(named("mouvement_sans_vente", &format!("vente:{deleted}")), "{:#?}", a.ecarts);
    // reporting still counts the deleted sale: its store's day no longer matches vente's.
    assert!(named("rapport_ventes", "magasin 1, jour"), "{:#?}", a.ecarts);
    assert!(
        !a.ecarts.iter().any(|e| e.detail.contains(&kept)),
        "la vente intacte n'est pas en cause : {:#?}",
        a.ecarts
    );
}
