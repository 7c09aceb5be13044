//! Sale reservations and their release.

use super::*;

async fn reserve(app: &App, vente: &str, magasin: i64, lignes: Value) -> reqwest::Response {
    app.http
        .post(format!("{}/api/stocks/reservations", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(&json!({"vente_id": vente, "magasin_id": magasin, "lignes": lignes}))
        .send()
        .await
        .unwrap()
}

async fn release(app: &App, vente: &str, magasin: i64) -> reqwest::Response {
    app.http
        .post(format!("{}/api/stocks/reservations/{vente}/liberation", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(&json!({"magasin_id": magasin}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_reservation_is_all_or_nothing_and_never_applied_twice() {
    let app = app().await;
    let (q1, q2) = (app.quantity(1, 1).await, app.quantity(1, 2).await);
    let vente = key();
    let lignes = json!([{"produit_id": 1, "quantite": 1}, {"produit_id": 2, "quantite": 2}]);
    let first = reserve(&app, &vente, 1, lignes.clone()).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    for _ in 0..3 {
        assert_eq!(reserve(&app, &vente, 1, lignes.clone()).await.status(), StatusCode::CREATED);
    }
    assert_eq!((app.quantity(1, 1).await, app.quantity(1, 2).await), (q1 - 1, q2 - 2));
    // Short on one line: 409 listing it, nothing reserved.
    let short =
        reserve(&app, &key(), 1, json!([{"produit_id": 1, "quantite": 1}, {"produit_id": 3, "quantite": 100000}]))
            .await;
    assert_eq!(short.status(), StatusCode::CONFLICT);
    let body: Value = short.json().await.unwrap();
    assert_eq!(body["manquants"][0]["produit_id"], 3);
    assert_eq!(app.quantity(1, 1).await, q1 - 1);
    // Only the vente service (or an admin) moves stock for sales: a cashier's
    // own token, even of this store, is refused.
    let other = app
        .http
        .post(format!("{}/api/stocks/reservations", app.url))
        .header("authorization", bearer(Role::Caissier, Some(1)))
        .json(&json!({"vente_id": key(), "magasin_id": 1, "lignes": lignes}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_release_restocks_exactly_once_and_blocks_a_late_reservation() {
    let app = app_with(Vente::Real).await;
    let q = app.quantity(1, 5).await;
    let vente = key();
    let lignes = json!([{"produit_id": 5, "quantite": 3}]);
    assert_eq!(reserve(&app, &vente, 1, lignes.clone()).await.status(), StatusCode::CREATED);
    for _ in 0..3 {
        let r = release(&app, &vente, 1).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.json::<Value>().await.unwrap()["statut"], "liberee");
    }
    assert_eq!(app.quantity(1, 5).await, q);
    assert_eq!(reserve(&app, &vente, 1, lignes.clone()).await.status(), StatusCode::CONFLICT);
    // Releasing a sale that never reserved leaves a tombstone: a late reservation is refused.
    let ghost = key();
    assert_eq!(release(&app, &ghost, 1).await.status(), StatusCode::OK);
    assert_eq!(reserve(&app, &ghost, 1, lignes).await.status(), StatusCode::CONFLICT);
    assert_eq!(app.quantity(1, 5).await, q);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn concurrent_reservations_of_the_same_sale_decrement_once() {
    let app = std::sync::Arc::new(app().await);
    let q = app.quantity(2, 8).await;
    let vente = key();
    let mut tasks = vec![];
    for _ in 0..10 {
        let (app, vente) = (app.clone(), vente.clone());
        tasks.push(tokio::spawn(async move {
            reserve(&app, &vente, 2, json!([{"produit_id": 8, "quantite": 1}])).await.status()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    assert_eq!(app.quantity(2, 8).await, q - 1);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn bad_reservation_input_is_a_4xx_and_moves_nothing() {
    let app = app().await;
    let q = app.quantity(1, 1).await;
    for body in [
        json!({"vente_id": "pas-un-uuid", "magasin_id": 1, "lignes": [{"produit_id": 1, "quantite": 1}]}),
        json!({"vente_id": key(), "magasin_id": 1, "lignes": []}),
        json!({"vente_id": key(), "magasin_id": 1, "lignes": [{"produit_id": 1, "quantite": 0}]}),
        json!({"vente_id": key(), "magasin_id": 1, "lignes": [{"produit_id": 1, "quantite": 1_000_000_000_000i64}]}),
        json!({"vente_id": key(), "lignes": [{"produit_id": 1, "quantite": 1}]}),
        json!({"vente_id": key(), "magasin_id": "un", "lignes": [{"produit_id": 1, "quantite": 1}]}),
    ] {
        let res = app
            .http
            .post(format!("{}/api/stocks/reservations", app.url))
            .header("authorization", bearer(Role::Service, None))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{body}: {}", res.status());
        assert_eq!(res.headers()["content-type"], "application/problem+json");
    }
    let res = app
        .http
        .post(format!("{}/api/stocks/reservations/pas-un-uuid/liberation", app.url))
        .header("authorization", bearer(Role::Service, None))
        .json(&json!({"magasin_id": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.quantity(1, 1).await, q);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_reserved_sale_is_not_released_while_vente_cannot_say_what_became_of_it() {
    let app = app_with(Vente::Unreachable).await;
    let q = app.quantity(2, 11).await;
    let vente = key();
    assert_eq!(
        reserve(&app, &vente, 2, json!([{"produit_id": 11, "quantite": 2}])).await.status(),
        StatusCode::CREATED
    );
    let res = release(&app, &vente, 2).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    assert_eq!(app.quantity(2, 11).await, q - 2, "rien n'est remis en stock sans l'accord de vente");
    let r: Value =
        app.get(&format!("/api/stocks/reservations/{vente}"), &bearer(Role::Service, None)).await.json().await.unwrap();
    assert_eq!(r["statut"], "reservee");
    // A sale that never reserved needs no answer from vente: its tombstone is laid.
    let ghost = key();
    assert_eq!(release(&app, &ghost, 2).await.status(), StatusCode::OK);
    assert_eq!(
        reserve(&app, &ghost, 2, json!([{"produit_id": 11, "quantite": 1}])).await.status(),
        StatusCode::CONFLICT
    );
    app.assert_ledger_balances().await;
}

/// A sale's movements, as `(id, produit_id, delta, quantite_apres)` in id order.
async fn sale_movements(app: &App, vente: &str) -> Vec<(i64, i64, i32, i32)> {
    sqlx::query_as("SELECT id, produit_id, delta, quantite_apres FROM mouvements WHERE reference = ? ORDER BY id")
        .bind(format!("vente:{vente}"))
        .fetch_all(&app.db.admin_pool().await)
        .await
        .unwrap()
}

/// A sale's `StockChanged` events, in outbox order.
async fn sale_events(app: &App, vente: &str) -> Vec<caisse_common::events::StockChanged> {
    let charges: Vec<String> = sqlx::query_scalar("SELECT charge FROM outbox WHERE type = 'StockChanged' ORDER BY id")
        .fetch_all(&app.db.admin_pool().await)
        .await
        .unwrap();
    let reference = format!("vente:{vente}");
    charges
        .iter()
        .map(|c| serde_json::from_str::<caisse_common::events::StockChanged>(c).unwrap())
        .filter(|e| e.reference == reference)
        .collect()
}

#[tokio::test]
async fn a_multi_line_reservation_writes_one_movement_and_one_event_per_line() {
    let app = app().await;
    let before = [app.quantity(1, 1).await, app.quantity(1, 2).await, app.quantity(1, 3).await];
    let vente = key();
    // Given out of order: lines are applied by product id.
    let lignes = json!([
        {"produit_id": 3, "quantite": 3}, {"produit_id": 1, "quantite": 1}, {"produit_id": 2, "quantite": 2}
    ]);
    assert_eq!(reserve(&app, &vente, 1, lignes).await.status(), StatusCode::CREATED);
    let movements = sale_movements(&app, &vente).await;
    let expected: Vec<(i64, i32, i32)> =
        (1..=3).map(|p| (p, -(p as i32), (before[p as usize - 1] - p) as i32)).collect();
    assert_eq!(movements.iter().map(|&(_, p, d, q)| (p, d, q)).collect::<Vec<_>>(), expected);
    let events = sale_events(&app, &vente).await;
    assert_eq!(events.len(), 3, "un événement par ligne");
    for (e, &(id, produit_id, delta, apres)) in events.iter().zip(&movements) {
        assert_eq!(
            (e.mouvement_id, e.magasin_id, e.produit_id, e.delta, e.quantite),
            (id, 1, produit_id, delta, apres),
            "l'événement porte l'identifiant et la quantité de son mouvement"
        );
        assert_eq!(
            (e.type_mouvement.as_str(), e.motif.as_str(), e.auteur.as_str()),
            ("vente", "vente", "test-service")
        );
    }
    // Two short lines among three: both listed, nothing written at all.
    let (short_sale, q) = (key(), [app.quantity(1, 1).await, app.quantity(1, 2).await, app.quantity(1, 3).await]);
    let lignes = json!([
        {"produit_id": 1, "quantite": 1}, {"produit_id": 2, "quantite": 100000}, {"produit_id": 3, "quantite": 100000}
    ]);
    let res = reserve(&app, &short_sale, 1, lignes).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body: Value = res.json().await.unwrap();
    let manquants: Vec<i64> =
        body["manquants"].as_array().unwrap().iter().map(|m| m["produit_id"].as_i64().unwrap()).collect();
    assert_eq!(manquants, [2, 3]);
    assert_eq!([app.quantity(1, 1).await, app.quantity(1, 2).await, app.quantity(1, 3).await], q);
    assert!(sale_movements(&app, &short_sale).await.is_empty(), "aucun mouvement d'une réservation refusée");
    assert!(sale_events(&app, &short_sale).await.is_empty(), "aucun événement d'une réservation refusée");
    let r = app.get(&format!("/api/stocks/reservations/{short_sale}"), &bearer(Role::Service, None)).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    app.assert_ledger_balances().await;
}

#[tokio::test]
async fn a_repeated_reservation_is_a_replay_even_once_its_stock_has_gone() {
    let app = app().await;
    let vente = key();
    let lignes = json!([{"produit_id": 4, "quantite": 2}, {"produit_id": 6, "quantite": 1}]);
    assert_eq!(reserve(&app, &vente, 2, lignes.clone()).await.status(), StatusCode::CREATED);
    // Another sale takes all that is left of both products.
    let (q4, q6) = (app.quantity(2, 4).await, app.quantity(2, 6).await);
    let rest = json!([{"produit_id": 4, "quantite": q4}, {"produit_id": 6, "quantite": q6}]);
    assert_eq!(reserve(&app, &key(), 2, rest).await.status(), StatusCode::CREATED);
    // The first sale's retry is answered with what it reserved, not a shortage.
    let again = reserve(&app, &vente, 2, lignes).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.json::<Value>().await.unwrap()["statut"], "reservee");
    assert_eq!((app.quantity(2, 4).await, app.quantity(2, 6).await), (0, 0));
    app.assert_ledger_balances().await;
}
