//! Every ledger movement and threshold change is an event on
//! `evenements:stocks`, served by the admin/service feed.

use std::time::{Duration, Instant};

use caisse_common::{Role, events::Payload, outbox::FeedPage};
use caisse_testing::bearer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use stock::seed::LOGISTIQUE;

use crate::{app, key};

#[tokio::test]
async fn every_movement_and_threshold_change_is_an_event_in_the_feed() {
    let app = app().await;
    let res = app
        .transfer(
            &key(),
            json!({"source_id": LOGISTIQUE, "destination_id": 1, "lignes": [{"produit_id": 5, "quantite": 3}]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .http
        .put(format!("{}/api/stocks/magasins/1/produits/5/seuils", app.url))
        .header("authorization", bearer(Role::Gerant, Some(1)))
        .json(&json!({"seuil_alerte": 7, "seuil_surstock": 70}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Movements, as the ledger lists them.
    let mut movements: Vec<Value> = Vec::new();
    let mut after = 0;
    loop {
        let page: Value = app
            .get(&format!("/api/stocks/mouvements?limit=100&apres={after}"), &bearer(Role::Admin, None))
            .await
            .json()
            .await
            .unwrap();
        movements.extend(page["mouvements"].as_array().unwrap().iter().cloned());
        match page["suivant"].as_i64() {
            Some(n) => after = n,
            None => break,
        }
    }
    let expected = movements.len() + 1;
    let deadline = Instant::now() + Duration::from_secs(20);
    let events = loop {
        let mut events = Vec::new();
        let mut apres = 0;
        loop {
            let res = app
                .get(&format!("/api/stocks/evenements?apres={apres}&limit=1000"), &bearer(Role::Service, None))
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            let page: FeedPage = res.json().await.unwrap();
            events.extend(page.evenements);
            match page.suivant {
                Some(n) => apres = n,
                None => break,
            }
        }
        if events.len() >= expected || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(events.len(), expected, "un événement par mouvement, plus les seuils");
    assert!(events.iter().enumerate().all(|(i, e)| e.id == i as i64 + 1), "identifiants denses");
    for m in &movements {
        let found = events.iter().any(|e| match e.decode().unwrap() {
            Payload::StockChanged(s) => {
                s.mouvement_id == m["id"].as_i64().unwrap()
                    && i64::from(s.delta) == m["delta"].as_i64().unwrap()
                    && i64::from(s.quantite) == m["quantite_apres"].as_i64().unwrap()
                    && s.type_mouvement == m["type"].as_str().unwrap()
                    && s.reference == m["reference"].as_str().unwrap()
            }
            _ => false,
        });
        assert!(found, "mouvement sans événement : {m}");
    }
    let Payload::StockThresholdsChanged(t) = events.last().unwrap().decode().unwrap() else { panic!("seuils") };
    assert_eq!(
        (t.magasin_id, t.produit_id, t.seuil_alerte, t.seuil_surstock, t.par.as_str()),
        (1, 5, 7, 70, "test-gerant")
    );
    assert_eq!(app.get("/api/stocks/evenements", &bearer(Role::Gerant, Some(1))).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/stocks/evenements?limit=0", &bearer(Role::Admin, None)).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}
