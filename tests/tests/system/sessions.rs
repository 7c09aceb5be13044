//! Registers and cash sessions through the gateway: a cashier opens a
//! session with a float, sells in cash and by card, refunds a return in
//! cash, and closes on a count short of the drawer; the variance and the
//! Z-report equal the test's own record of the receipts. One open session
//! per register, no cart on a closed session, and every new route answers
//! bad input with a 4xx problem.

use std::str::FromStr;

use reqwest::{Response, StatusCode};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::harness::{Sys, is_problem, key};

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("montant attendu : {v}"))).unwrap()
}

async fn send(sys: &Sys, method: &str, path: &str, auth: &str, body: Option<Value>) -> Response {
    let mut req = sys.http.request(method.parse().unwrap(), sys.url(path)).header("authorization", auth);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// A cart on `session` with `lines`, checked out; the receipt.
async fn sell(sys: &Sys, auth: &str, session: i64, lines: &[(i64, i64)], paiement: Value) -> Value {
    let res = send(sys, "POST", "/api/paniers", auth, Some(json!({"session_id": session}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let cart: Value = res.json().await.unwrap();
    assert_eq!(cart["session_id"], session);
    let id = cart["id"].as_i64().unwrap();
    for (p, q) in lines {
        let res = send(sys, "PUT", &format!("/api/paniers/{id}/lignes/{p}"), auth, Some(json!({"quantite": q}))).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = sys
        .http
        .post(sys.url("/api/ventes"))
        .header("authorization", auth)
        .header("idempotency-key", key())
        .json(&json!({"panier_id": id, "paiement": paiement}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_session_from_float_to_z_report_with_an_exact_variance() {
    let sys = Sys::start().await;
    let cashier = sys.login("caissier1").await;
    let colleague = sys.login("caissier1b").await;
    let gerant = sys.login("gerant1").await;
    let caisses = sys.get_json("/api/caisses", &cashier).await;
    let caisse = caisses["caisses"].as_array().unwrap().iter().find(|c| c["numero"] == 2).unwrap().clone();
    assert!(caisse["session_ouverte"].is_null());
    let register = caisse["id"].as_i64().unwrap();
    let opening = format!("/api/caisses/{register}/sessions");
    let res = send(&sys, "POST", &opening, &cashier, Some(json!({"fond_de_caisse": "150.00"}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let session: Value = res.json().await.unwrap();
    let id = session["id"].as_i64().unwrap();
    assert_eq!((session["numero_caisse"].as_i64(), session["caissier_login"].as_str()), (Some(2), Some("caissier1")));
    // A second open session on the same register: 409 naming the open one.
    let res = send(&sys, "POST", &opening, &colleague, Some(json!({"fond_de_caisse": "100.00"}))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(is_problem(&res));
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["session_id"], id);
    assert!(problem["detail"].as_str().unwrap().contains("caissier1"), "{problem}");

    // Two cash sales, one card sale, a cash return of one item.
    let cash = |amount: &str| json!({"mode": "especes", "montant_recu": amount});
    let r1 = sell(&sys, &cashier, id, &[(1, 3), (2, 1)], cash("100.00")).await;
    let r2 = sell(&sys, &cashier, id, &[(5, 2)], json!({"mode": "carte"})).await;
    let r3 = sell(&sys, &cashier, id, &[(7, 1), (8, 2)], cash("200.00")).await;
    let receipts = [&r1, &r2, &r3];
    for r in receipts {
        assert_eq!((r["session_id"].as_i64(), r["caisse_id"].as_i64()), (Some(id), Some(register)));
    }
    let res = sys
        .http
        .post(sys.url(&format!("/api/ventes/{}/retours", r1["id"].as_str().unwrap())))
        .header("authorization", &cashier)
        .header("idempotency-key", key())
        .json(&json!({"lignes": [{"produit_id": 1, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let retour: Value = res.json().await.unwrap();

    // The test's own record: cash in the drawer = float + cash paid − cash refunded.
    let paid_cash: Decimal = [&r1, &r3].iter().map(|r| dec(&r["paiement"]["a_payer"])).sum();
    let expected = dec(&json!("150.00")) + paid_cash - dec(&retour["rembourse"]);
    let shortage = Decimal::new(-320, 2);
    let counted = expected + shortage;
    let sum = |field: &str| receipts.iter().map(|r| dec(&r[field])).sum::<Decimal>();
    let numeros: Vec<i64> = receipts.iter().map(|r| r["numero"].as_i64().unwrap()).collect();

    // Only its cashier or a gérant closes it.
    let closing = format!("/api/caisses/sessions/{id}/fermeture");
    let res = send(&sys, "POST", &closing, &colleague, Some(json!({"montant_compte": counted.to_string()}))).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = send(&sys, "GET", &format!("/api/caisses/sessions/{id}/rapport-z"), &gerant, None).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "pas de rapport Z avant la fermeture");
    let res = send(&sys, "POST", &closing, &cashier, Some(json!({"montant_compte": counted.to_string()}))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let closed: Value = res.json().await.unwrap();
    assert_eq!(closed["statut"], "fermee");
    assert_eq!(dec(&closed["especes_attendues"]), expected);
    assert_eq!(dec(&closed["montant_compte"]), counted);
    assert_eq!(dec(&closed["ecart"]), shortage);
    let res = send(&sys, "POST", &closing, &cashier, Some(json!({"montant_compte": counted.to_string()}))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "déjà fermée");

    // The Z-report: the receipts' totals, by mode, the return, first and last receipt.
    let z = sys.get_json(&format!("/api/caisses/sessions/{id}/rapport-z"), &gerant).await;
    assert_eq!(z["session"], closed);
    assert_eq!(z["ventes"]["nombre"], 3);
    for field in ["sous_total", "tps", "tvq", "total"] {
        assert_eq!(dec(&z["ventes"][field]), sum(field), "{field}");
    }
    let by_mode =
        |m: &str| z["ventes"]["par_mode"].as_array().unwrap().iter().find(|p| p["mode"] == m).unwrap().clone();
    assert_eq!((by_mode("especes")["nombre"].as_i64(), dec(&by_mode("especes")["montant"])), (Some(2), paid_cash));
    assert_eq!((by_mode("carte")["nombre"].as_i64(), dec(&by_mode("carte")["montant"])), (Some(1), dec(&r2["total"])));
    assert_eq!(
        (z["retours"]["nombre"].as_i64(), dec(&z["retours"]["montant"])),
        (Some(1), dec(&retour["montant"]["total"]))
    );
    assert_eq!(z["annulations"]["nombre"], 0);
    assert_eq!(z["premier_recu"].as_i64(), numeros.iter().min().copied());
    assert_eq!(z["dernier_recu"].as_i64(), numeros.iter().max().copied());
    assert_eq!(dec(&z["especes"]["fond"]), dec(&json!("150.00")));
    assert_eq!(dec(&z["especes"]["ventes"]), paid_cash);
    assert_eq!(dec(&z["especes"]["remboursements"]), dec(&retour["rembourse"]));
    assert_eq!((dec(&z["especes"]["attendu"]), dec(&z["especes"]["ecart"])), (expected, shortage));
    // The report does not change afterwards; it prints as text.
    assert_eq!(sys.get_json(&format!("/api/caisses/sessions/{id}/rapport-z"), &cashier).await, z);
    let printed = send(&sys, "GET", &format!("/api/caisses/sessions/{id}/rapport-z?format=texte"), &gerant, None).await;
    assert_eq!(printed.status(), StatusCode::OK);
    let printed = printed.text().await.unwrap();
    assert!(printed.contains(&format!("{shortage} $")) && printed.contains(&format!("{expected} $")), "{printed}");

    // No cart on the closed session; the register is free for a new one.
    let res = send(&sys, "POST", "/api/paniers", &cashier, Some(json!({"session_id": id}))).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(is_problem(&res));
    assert!(res.text().await.unwrap().contains("fermée"));
    let res = send(&sys, "POST", &opening, &colleague, Some(json!({"fond_de_caisse": "100.00"}))).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let closed_list = sys.get_json("/api/caisses/sessions?statut=fermee", &gerant).await;
    assert_eq!(closed_list["sessions"][0]["id"], id);
    // Another store's staff see none of it.
    let elsewhere = sys.login("gerant2").await;
    for path in [
        format!("/api/caisses/sessions/{id}"),
        format!("/api/caisses/sessions/{id}/rapport-z"),
        format!("/api/ventes/sessions/{id}/totaux"),
    ] {
        assert_eq!(send(&sys, "GET", &path, &elsewhere, None).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

/// Every new route, through the gateway: bad input is a 4xx problem+json, never a 5xx.
#[tokio::test]
async fn bad_input_on_register_and_session_routes_is_a_4xx_problem() {
    let sys = Sys::start().await;
    let gerant = sys.login("gerant1").await;
    let session = sys.session(&gerant).await;
    let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let cases: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", "/api/caisses?magasin_id=abc".into(), None),
        ("GET", "/api/caisses?magasin_id=-1".into(), None),
        ("GET", "/api/caisses?magasin_id=99999999999999999999".into(), None),
        ("GET", "/api/caisses?magasin_id=2".into(), None),
        ("POST", "/api/caisses".into(), Some(json!({}))),
        ("POST", "/api/caisses".into(), Some(json!([]))),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": -4}))),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 1}))),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1, "numero": 5, "nom": "é".repeat(100)}))),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": "un", "numero": 5}))),
        ("POST", "/api/caisses".into(), Some(json!({"magasin_id": 1.5, "numero": 5}))),
        ("POST", "/api/caisses/1/sessions".into(), Some(json!({"fond_de_caisse": "-0.01"}))),
        ("POST", "/api/caisses/1/sessions".into(), Some(json!({"fond_de_caisse": "NaN"}))),
        ("POST", "/api/caisses/1/sessions".into(), Some(json!({"fond_de_caisse": "1e9"}))),
        ("POST", "/api/caisses/1/sessions".into(), Some(json!({"fond_de_caisse": null}))),
        ("POST", "/api/caisses/0/sessions".into(), Some(json!({"fond_de_caisse": "1.00"}))),
        ("POST", "/api/caisses/-7/sessions".into(), Some(json!({"fond_de_caisse": "1.00"}))),
        ("POST", "/api/caisses/9999999999999999999999/sessions".into(), Some(json!({"fond_de_caisse": "1.00"}))),
        ("GET", "/api/caisses/sessions/abc".into(), None),
        ("GET", "/api/caisses/sessions/0".into(), None),
        ("GET", "/api/caisses/sessions?statut=ouvert".into(), None),
        ("GET", "/api/caisses/sessions?limit=101".into(), None),
        ("GET", "/api/caisses/sessions?apres=x".into(), None),
        ("POST", format!("/api/caisses/sessions/{session}/fermeture"), Some(json!({"montant_compte": ""}))),
        ("POST", format!("/api/caisses/sessions/{session}/fermeture"), Some(json!({"montant_compte": "12,50"}))),
        ("POST", format!("/api/caisses/sessions/{session}/fermeture"), Some(json!({"compte": "12.50"}))),
        ("POST", "/api/caisses/sessions/abc/fermeture".into(), Some(json!({"montant_compte": "1.00"}))),
        ("GET", "/api/caisses/sessions/-1/rapport-z".into(), None),
        ("GET", format!("/api/caisses/sessions/{session}/rapport-z"), None),
        ("GET", "/api/ventes/sessions/abc/totaux".into(), None),
        ("GET", "/api/ventes/sessions/-2/totaux".into(), None),
        ("POST", "/api/paniers".into(), Some(json!({}))),
        ("POST", "/api/paniers".into(), Some(json!({"session_id": "x"}))),
        ("POST", "/api/paniers".into(), Some(json!({"session_id": 0}))),
        ("POST", "/api/paniers".into(), Some(json!({"session_id": 987_654}))),
        ("POST", "/api/paniers".into(), Some(json!({"session_id": session, "magasin_id": 2}))),
    ];
    let mut failures = vec![];
    for (method, path, body) in cases {
        let res = send(&sys, method, &path, &gerant, body.clone()).await;
        let status = res.status();
        if !status.is_client_error() || !is_problem(&res) {
            failures.push(format!("{method} {path} {body:?} : {status} {}", res.text().await.unwrap_or_default()));
        }
    }
    for path in ["/api/caisses", "/api/caisses/1/sessions", &format!("/api/caisses/sessions/{session}/fermeture")] {
        for (ct, body) in [("application/json", "{\"x"), ("text/plain", "{}"), ("application/json", deep.as_str())] {
            let res = sys
                .http
                .post(sys.url(path))
                .header("authorization", &gerant)
                .header("content-type", ct)
                .body(body.to_owned())
                .send()
                .await
                .unwrap();
            let status = res.status();
            if !status.is_client_error() || !is_problem(&res) {
                failures.push(format!("POST {path} ({ct}) {body:.20} : {status}"));
            }
        }
    }
    assert!(failures.is_empty(), "réponses hors 4xx problem+json :\n{}", failures.join("\n"));
    // The session survived all of it.
    let s = sys.get_json(&format!("/api/caisses/sessions/{session}"), &gerant).await;
    assert_eq!(s["statut"], "ouverte");
}
