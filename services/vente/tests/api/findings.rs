//! Issue 9's findings about money and after-sale events, each reproduced
//! through vente's API against real stock, panier and produit.

use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Role, Suite, bearer, cashier, key, suite, suite_with};

fn d(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("montant attendu : {v}")).parse().unwrap()
}

impl Suite {
    /// A new product at `prix`, with `stock` units at store 1.
    async fn product(&self, nom: &str, prix: &str, stock: i64) -> i64 {
        let admin = bearer(Role::Admin, None);
        let res = self
            .call("POST", format!("{}/api/produits", self.produit), &admin, Some(json!({"nom": nom, "prix": prix})))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
        let res = self
            .call(
                "POST",
                format!("{}/api/stocks/ajustements", self.stock),
                &admin,
                Some(json!({"magasin_id": 1, "produit_id": id, "delta": stock, "motif": "mise en place du test"})),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        id
    }

    async fn sell(&self, lines: &[(i64, i64)], paiement: Value) -> Value {
        let cart = self.cart(10, lines).await;
        let res = self.checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": paiement})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }

    async fn return_lines(&self, vente: &str, lines: Value) -> Value {
        let res = self
            .http
            .post(format!("{}/api/ventes/{vente}/retours", self.ventes[0]))
            .header("authorization", cashier(10))
            .header("idempotency-key", key())
            .json(&json!({ "lignes": lines }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        res.json().await.unwrap()
    }
}

#[tokio::test]
async fn single_returns_never_refund_more_than_was_paid() {
    let s = suite().await;
    // 3 × 4.99 $ paid 17.20 $ in cash (total 17.21 $ rounded to 0.05 $).
    let savon = s.product("Savon 4,99", "4.99", 10).await;
    let recu = s.sell(&[(savon, 3)], json!({"mode": "especes", "montant_recu": "20.00"})).await;
    assert_eq!(
        (d(&recu["total"]), d(&recu["paiement"]["a_payer"])),
        ("17.21".parse().unwrap(), "17.20".parse().unwrap())
    );
    let id = recu["id"].as_str().unwrap();
    let mut refunded = Decimal::ZERO;
    for _ in 0..3 {
        let r = s.return_lines(id, json!([{"produit_id": savon, "quantite": 1}])).await;
        let cash = d(&r["rembourse"]);
        assert_eq!(cash % Decimal::new(5, 2), Decimal::ZERO, "remboursement en espèces arrondi à 0,05 $ : {cash}");
        refunded += cash;
    }
    assert_eq!(refunded, d(&recu["paiement"]["a_payer"]), "on rend exactement ce qui a été payé");

    // 10 × 0.10 $ by card (1.15 $): ten single returns give back 1.15 $, not 1.20 $.
    let bonbon = s.product("Bonbon", "0.10", 20).await;
    let recu = s.sell(&[(bonbon, 10)], json!({"mode": "carte"})).await;
    let id = recu["id"].as_str().unwrap();
    let mut refunded = Decimal::ZERO;
    for _ in 0..10 {
        let r = s.return_lines(id, json!([{"produit_id": bonbon, "quantite": 1}])).await;
        assert_eq!(d(&r["rembourse"]), d(&r["montant"]["total"]), "une carte est remboursée au cent près");
        refunded += d(&r["rembourse"]);
    }
    assert_eq!(refunded, d(&recu["total"]));
    s.assert_consistent().await;
}

#[tokio::test]
async fn a_cancellation_after_returns_refunds_only_what_is_left() {
    let s = suite().await;
    let a = s.product("Article A", "3.33", 10).await;
    let b = s.product("Article B", "7.77", 10).await;
    let recu = s.sell(&[(a, 2), (b, 1)], json!({"mode": "especes", "montant_recu": "50.00"})).await;
    let id = recu["id"].as_str().unwrap();
    let returned = s.return_lines(id, json!([{"produit_id": b, "quantite": 1}])).await;
    let res = s.call("POST", format!("{}/api/ventes/{id}/annulation", s.ventes[0]), &cashier(10), None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cancelled = s.wait_events("SaleCancelled", 1).await;
    let event = cancelled.iter().find(|e| e["vente_id"] == id).expect("SaleCancelled de la vente");
    // The event carries what this cancellation refunds: the sale minus the return.
    assert_eq!(d(&event["montant"]["total"]) + d(&returned["montant"]["total"]), d(&recu["total"]));
    assert_eq!(d(&event["rembourse"]) + d(&returned["rembourse"]), d(&recu["paiement"]["a_payer"]));
    assert_eq!(event["lignes"], json!([{"produit_id": a, "quantite": 2}]));
    s.assert_consistent().await;
}

/// Finding 12: recovery took 50 stale rows per pass with no order, so 50
/// rows that keep failing could starve every other one.
#[tokio::test]
async fn recovery_takes_the_least_recently_tried_sales_first() {
    // No vente replica: no recovery loop touching the rows under test.
    let s = suite_with(0, None, None).await;
    let pool = s.vente_db.admin_pool().await;
    vente::MIGRATOR.run(&pool).await.unwrap();
    let insert = |n: usize, tried: bool| {
        let pool = pool.clone();
        async move {
            for _ in 0..n {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query(
                    "INSERT INTO ventes (id, cle_idempotence, cle_verrou, empreinte, magasin_id, caissier_id, \
                     caissier_login, panier_id, statut, mode_paiement, cree_le, tentative_le) \
                     VALUES (?, ?, ?, '', 1, 10, 'c', 1, 'en_cours', 'carte', \
                     CURRENT_TIMESTAMP(3) - INTERVAL 1 HOUR, IF(?, CURRENT_TIMESTAMP(3) - INTERVAL 10 MINUTE, NULL))",
                )
                .bind(&id)
                .bind(&id)
                .bind(&id)
                .bind(tried)
                .execute(&pool)
                .await
                .unwrap();
            }
        }
    };
    // 50 rows recovery keeps failing on (tried 10 minutes ago), then 5 never tried.
    insert(50, true).await;
    insert(5, false).await;
    let grace_us = 1_000_000;
    let batch = vente::db::stale_sales(&pool, grace_us, 50).await.unwrap();
    let never_tried: Vec<String> =
        sqlx::query_scalar("SELECT id FROM ventes WHERE tentative_le IS NULL").fetch_all(&pool).await.unwrap();
    for id in &never_tried {
        assert!(batch.iter().any(|(b, _)| b == id), "la vente jamais tentée {id} doit passer avant les autres");
    }
}
