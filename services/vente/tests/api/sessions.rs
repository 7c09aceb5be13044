//! A cash session's figures (`GET /api/ventes/sessions/{id}/totaux`) and
//! its closing at a real caisse, which asks this vente for them.

use std::str::FromStr;

use caisse_common::Role;
use caisse_testing::{bearer, bearer_for};
use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{cashier, key, suite};

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("montant attendu : {v}"))).unwrap()
}

/// Cash and card sales, a cash return, a cancelled cash sale: vente's totals
/// equal the test's own record of the receipts, the sales carry their
/// register and session, and caisse closes the session on a count 1.35 $
/// short with that exact variance and a Z-report of the same figures.
#[tokio::test]
async fn a_sessions_totals_and_its_z_report_match_the_receipts() {
    let s = suite().await;
    let session: Value = s
        .call("GET", format!("{}/api/caisses/sessions/{}", s.caisse, s.session), &cashier(10), None)
        .await
        .json()
        .await
        .unwrap();
    let fond = dec(&session["fond_de_caisse"]);
    let pay = |mode: &str| match mode {
        "especes" => json!({"mode": "especes", "montant_recu": "500.00"}),
        _ => json!({"mode": "carte"}),
    };
    let mut receipts = vec![];
    for (lines, mode) in [
        (vec![(1, 2), (2, 1)], "especes"),
        (vec![(3, 1)], "carte"),
        (vec![(5, 3)], "especes"),
        (vec![(6, 1), (7, 2)], "carte"),
    ] {
        let cart = s.cart(10, &lines).await;
        let res = s.checkout(0, 10, &key(), json!({"panier_id": cart, "paiement": pay(mode)})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let recu: Value = res.json().await.unwrap();
        assert_eq!(recu["session_id"], s.session);
        assert_eq!(recu["caisse_id"], session["caisse_id"]);
        receipts.push(recu);
    }
    // A cash return of one product 1 from the first sale.
    let first = receipts[0]["id"].as_str().unwrap().to_owned();
    let res = s
        .http
        .post(format!("{}/api/ventes/{first}/retours", s.ventes[0]))
        .header("authorization", cashier(10))
        .header("idempotency-key", key())
        .json(&json!({"lignes": [{"produit_id": 1, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let retour: Value = res.json().await.unwrap();
    // The third (cash) sale is cancelled: its whole payment goes back.
    let third = receipts[2]["id"].as_str().unwrap().to_owned();
    let gerant = bearer(Role::Gerant, Some(1));
    let res = s.call("POST", format!("{}/api/ventes/{third}/annulation", s.ventes[0]), &gerant, None).await;
    assert_eq!(res.status(), StatusCode::OK);

    // The test's own record.
    let cash: Vec<&Value> = receipts.iter().filter(|r| r["paiement"]["mode"] == "especes").collect();
    let card: Vec<&Value> = receipts.iter().filter(|r| r["paiement"]["mode"] == "carte").collect();
    let paid = |rs: &[&Value]| rs.iter().map(|r| dec(&r["paiement"]["a_payer"])).sum::<Decimal>();
    let sum = |field: &str| receipts.iter().map(|r| dec(&r[field])).sum::<Decimal>();
    let cash_in = paid(&cash);
    let cash_out = dec(&retour["rembourse"]) + dec(&receipts[2]["paiement"]["a_payer"]);
    let numeros: Vec<i64> = receipts.iter().map(|r| r["numero"].as_i64().unwrap()).collect();

    let url = format!("{}/api/ventes/sessions/{}/totaux", s.ventes[0], s.session);
    let t: Value = s.call("GET", url.clone(), &bearer(Role::Service, None), None).await.json().await.unwrap();
    assert_eq!(t["magasin_id"], 1);
    assert_eq!(t["ventes"]["nombre"], 4);
    assert_eq!(dec(&t["ventes"]["total"]), sum("total"));
    assert_eq!(dec(&t["ventes"]["sous_total"]), sum("sous_total"));
    assert_eq!(dec(&t["ventes"]["tps"]), sum("tps"));
    assert_eq!(dec(&t["ventes"]["tvq"]), sum("tvq"));
    let mode = |m: &str| t["ventes"]["par_mode"].as_array().unwrap().iter().find(|p| p["mode"] == m).unwrap().clone();
    assert_eq!((mode("especes")["nombre"].as_i64(), dec(&mode("especes")["montant"])), (Some(2), cash_in));
    assert_eq!((mode("carte")["nombre"].as_i64(), dec(&mode("carte")["montant"])), (Some(2), paid(&card)));
    assert_eq!(dec(&t["especes_encaissees"]), cash_in);
    assert_eq!((t["retours"]["nombre"].as_i64(), dec(&t["retours"]["especes"])), (Some(1), dec(&retour["rembourse"])));
    assert_eq!(t["annulations"]["nombre"], 1);
    assert_eq!(dec(&t["annulations"]["montant"]), dec(&receipts[2]["total"]));
    assert_eq!(t["premier_recu"].as_i64(), numeros.iter().min().copied());
    assert_eq!(t["dernier_recu"].as_i64(), numeros.iter().max().copied());
    // Store staff of the store read it; another store's get a 404; logistics a 403.
    assert_eq!(s.call("GET", url.clone(), &cashier(10), None).await.status(), StatusCode::OK);
    let other = bearer_for(30, Role::Gerant, Some(2));
    assert_eq!(s.call("GET", url.clone(), &other, None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(s.call("GET", url, &bearer(Role::Logistique, None), None).await.status(), StatusCode::FORBIDDEN);
    // The completion events carry the register and session.
    let events = s.wait_events("SaleCompleted", 4).await;
    assert!(events.iter().all(|e| e["session_id"] == s.session && e["caisse_id"] == session["caisse_id"]));
    // The totals query reads the sales by session.
    let keys: Vec<Option<String>> =
        sqlx::query_scalar("SELECT INDEX_NAME FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'ventes' AND COLUMN_NAME = 'session_id' AND SEQ_IN_INDEX = 1")
            .fetch_all(&s.vente_db.admin_pool().await)
            .await
            .unwrap();
    assert_eq!(keys, vec![Some("ix_ventes_session".to_owned())]);

    // Closing at caisse on a count 1.35 $ short of what the drawer should hold.
    let expected = fond + cash_in - cash_out;
    let counted = expected - Decimal::new(135, 2);
    let res = s
        .call(
            "POST",
            format!("{}/api/caisses/sessions/{}/fermeture", s.caisse, s.session),
            &cashier(10),
            Some(json!({"montant_compte": counted.to_string()})),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["statut"], "fermee");
    assert_eq!(dec(&closed["especes_attendues"]), expected);
    assert_eq!(dec(&closed["montant_compte"]), counted);
    assert_eq!(dec(&closed["ecart"]), Decimal::new(-135, 2));
    let z: Value = s
        .call("GET", format!("{}/api/caisses/sessions/{}/rapport-z", s.caisse, s.session), &cashier(10), None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(z["session"], closed);
    assert_eq!(z["ventes"], t["ventes"]);
    assert_eq!(z["retours"]["nombre"], 1);
    assert_eq!(z["annulations"]["nombre"], 1);
    assert_eq!((dec(&z["especes"]["attendu"]), dec(&z["especes"]["ecart"])), (expected, Decimal::new(-135, 2)));
    // The head of the store's journal, or null from a vente without one.
    assert!(z["journal"].is_null() || z["journal"]["sequence"].as_i64() >= Some(4), "{}", z["journal"]);
}
