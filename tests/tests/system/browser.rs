//! Browser tests: Debian's headless Chromium, driven by playwright-core
//! scripts in tests/browser (node deps from its committed lockfile, installed
//! by tests/run), against a whole native stack through nginx. Each script
//! checks what the page shows and prints a JSON summary on its last line;
//! the test then checks through the API what the clicks did.

use std::path::PathBuf;

use serde_json::Value;

use crate::harness::Sys;

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser")
}

/// Runs `tests/browser/<script>` against the stack; its last stdout line is JSON.
async fn run_script(sys: &Sys, script: &str) -> Value {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core absent : lancez tests/run (npm ci dans tests/browser) ou `npm ci --prefix tests/browser`"
    );
    let out = tokio::process::Command::new("node")
        .arg(dir.join(script))
        .env("CAISSE_URL", &sys.stack.gateway_url)
        .current_dir(&dir)
        .kill_on_drop(true)
        .output()
        .await
        .expect("node (installez nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} a échoué ({}):\n{stdout}\n{stderr}", out.status);
    let last =
        stdout.lines().rev().find(|l| l.starts_with('{')).unwrap_or_else(|| panic!("pas de résumé JSON :\n{stdout}"));
    serde_json::from_str(last).expect("résumé JSON")
}

#[tokio::test]
async fn browser_cashier_scans_searches_pays_cash_and_reprints_one_sale_per_click() {
    let sys = Sys::start().await;
    let gerant = sys.login("gerant1").await;
    let stock_before = sys.get_json("/api/stocks/magasins/1/produits/1", &gerant).await["quantite"].as_i64().unwrap();
    let summary = run_script(&sys, "caisse.mjs").await;

    // Every sale the page reported exists once, with the totals it showed.
    let sales = summary["ventes"].as_array().expect("ventes");
    assert!(!sales.is_empty());
    let listed = sys.get_json("/api/ventes?magasin_id=1&limit=100", &gerant).await;
    let listed = listed["ventes"].as_array().unwrap();
    let mine: Vec<&Value> = listed.iter().filter(|v| v["caissier_login"] == "caissier1").collect();
    assert_eq!(mine.len(), sales.len(), "une vente par encaissement, même double-cliqué : {mine:?}");
    for s in sales {
        let recu = sys.get_json(&format!("/api/ventes/{}", s["id"].as_str().unwrap()), &gerant).await;
        assert_eq!(recu["total"], s["total_affiche"], "le total affiché avant l'encaissement est celui de la vente");
    }
    // The double-clicked checkout sold its lines once; the return put one back (restocked once).
    let sold = summary["vendus_produit_1"].as_i64().unwrap();
    let returned = summary["retour_produit_1"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = sys.get_json("/api/stocks/magasins/1/produits/1", &gerant).await["quantite"].as_i64().unwrap();
        if now == stock_before - sold + returned {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stock {now}, attendu {}", stock_before - sold + returned);
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // Every sale belongs to the register session the page opened.
    let session = summary["session"].as_i64().expect("session");
    for s in sales {
        let v = sys.get_json(&format!("/api/ventes/{}", s["id"].as_str().unwrap()), &gerant).await;
        assert_eq!(v["session_id"], session, "{v}");
    }
    // The register was closed with a 5 $ shortage: caisse's figures are the page's and the sales'.
    let closed = sys.get_json(&format!("/api/caisses/sessions/{session}"), &gerant).await;
    assert_eq!(closed["statut"], "fermee");
    assert_eq!(closed["fermee_par"], "caissier1");
    assert_eq!(closed["especes_attendues"], summary["attendu"]);
    assert_eq!(closed["montant_compte"], summary["compte"]);
    assert_eq!(closed["ecart"], "-5.00");
    let z = sys.get_json(&format!("/api/caisses/sessions/{session}/rapport-z"), &gerant).await;
    let cash = sys.get_json(&format!("/api/ventes/{}", summary["vente_especes"].as_str().unwrap()), &gerant).await;
    let card = sys.get_json(&format!("/api/ventes/{}", summary["vente_annulee"].as_str().unwrap()), &gerant).await;
    let cents = |v: &Value| -> i64 {
        let s = v.as_str().unwrap_or_else(|| panic!("montant : {v}"));
        let (units, frac) = s.split_once('.').unwrap_or((s, "0"));
        let sign = if units.starts_with('-') { -1 } else { 1 };
        sign * (units.trim_start_matches('-').parse::<i64>().unwrap() * 100
            + format!("{frac:0<2}").parse::<i64>().unwrap())
    };
    // Two sales (the cancelled card sale still counts, and once more in the cancellations), one return.
    assert_eq!(z["ventes"]["nombre"], 2, "{z}");
    assert_eq!(cents(&z["ventes"]["total"]), cents(&cash["total"]) + cents(&card["total"]), "{z}");
    assert_eq!(z["annulations"]["nombre"], 1, "{z}");
    assert_eq!(cents(&z["annulations"]["montant"]), cents(&card["total"]), "{z}");
    let retour = &cash["retours"][0];
    assert_eq!(z["retours"]["nombre"], 1, "{z}");
    assert_eq!(cents(&z["retours"]["montant"]), cents(&retour["montant"]["total"]), "{z}");
    let by_mode = |m: &str| z["ventes"]["par_mode"].as_array().unwrap().iter().find(|x| x["mode"] == m).cloned();
    assert_eq!(cents(&by_mode("especes").expect("espèces")["montant"]), cents(&cash["paiement"]["a_payer"]), "{z}");
    assert_eq!(cents(&by_mode("carte").expect("carte")["montant"]), cents(&card["total"]), "{z}");
    assert_eq!(
        cents(&z["especes"]["attendu"]),
        20000 + cents(&cash["paiement"]["a_payer"]) - cents(&retour["rembourse"]),
        "fond + espèces encaissées − remboursement en espèces : {z}"
    );
    assert_eq!(z["especes"]["ecart"], "-5.00");

    // The gérant's cancellation of the card sale put its item back, once.
    let cancelled = sys.get_json(&format!("/api/ventes/{}", summary["vente_annulee"].as_str().unwrap()), &gerant).await;
    assert_eq!(cancelled["statut"], "annulee");
    let before_3 = summary["produit_3_avant"].as_i64().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let now = sys.get_json("/api/stocks/magasins/1/produits/3", &gerant).await["quantite"].as_i64().unwrap();
        if now == before_3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "stock du produit 3 : {now}, attendu {before_3}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn browser_manager_closes_a_register_left_open_and_prints_its_z_report() {
    let sys = Sys::start().await;
    let summary = run_script(&sys, "sessions.mjs").await;
    let gerant = sys.login("gerant1").await;
    let id = summary["session"].as_i64().unwrap();
    let s = sys.get_json(&format!("/api/caisses/sessions/{id}"), &gerant).await;
    assert_eq!(s["statut"], "fermee");
    assert_eq!(s["caissier_login"], "caissier1");
    assert_eq!(s["fermee_par"], "gerant1", "fermée par le gérant, pas par le caissier");
    assert_eq!(s["fond_de_caisse"], "150.00");
    assert_eq!(s["especes_attendues"], summary["attendu"]);
    assert_eq!(s["ecart"], "0.25");
    let z = sys.get_json(&format!("/api/caisses/sessions/{id}/rapport-z"), &gerant).await;
    let vente = sys.get_json(&format!("/api/ventes/{}", summary["vente"].as_str().unwrap()), &gerant).await;
    assert_eq!(z["ventes"]["nombre"], 1, "{z}");
    assert_eq!(z["ventes"]["total"], vente["total"], "{z}");
    assert_eq!(z["especes"]["ventes"], vente["paiement"]["a_payer"], "{z}");
    assert_eq!(z["especes"]["compte"], summary["compte"]);
    // Nothing else was sold in that session: the refused scan opened no cart in it.
    let carts = sys.get_json("/api/paniers", &sys.login("caissier1").await).await;
    assert!(carts["paniers"].as_array().unwrap().iter().all(|p| p["session_id"] != id), "{carts}");
}

#[tokio::test]
async fn browser_head_office_edits_a_price_seen_at_the_register_and_a_concurrent_edit_shows_the_conflict() {
    let sys = Sys::start().await;
    let summary = run_script(&sys, "produits.mjs").await;
    let admin = sys.login("admin").await;
    let p = sys.get_json("/api/produits/7", &admin).await;
    // The admin kept their price over the other edit, whose name stays: nothing lost.
    assert_eq!(p["prix"], summary["prix"]);
    assert_eq!(p["nom"], summary["nom"]);
    assert!(p["nom"].as_str().unwrap().ends_with("(format familial)"));
    assert_eq!(p["version"], 4, "création, prix, renommage concurrent, prix après le conflit");
}

#[tokio::test]
async fn browser_dashboard_shows_every_store_side_by_side_the_trend_chart_stock_alerts_and_csv() {
    let sys = Sys::start().await;
    let summary = run_script(&sys, "tableau.mjs").await;
    // The CSV downloaded through the page has a header and one line per store at least.
    assert!(summary["csv_lignes"].as_i64().unwrap() >= 6, "{summary}");
}

#[tokio::test]
async fn browser_offline_register_queues_three_sales_and_records_each_once_after_an_interrupted_sync() {
    let sys = Sys::start().await;
    let gerant = sys.login("gerant2").await;
    let stock_of = |p: i64| format!("/api/stocks/magasins/2/produits/{p}");
    let mut before = vec![];
    for p in [11, 12, 13] {
        before.push(sys.get_json(&stock_of(p), &gerant).await["quantite"].as_i64().unwrap());
    }
    let summary = run_script(&sys, "hors-ligne.mjs").await;
    assert_eq!(summary["enregistrees_pendant_interruption"], 2, "la réponse perdue concernait une vente enregistrée");
    let session = summary["session"].as_i64().expect("session");

    // Three sales by caissier2, one per queued checkout, each with its lines once.
    let listed = sys.get_json("/api/ventes?magasin_id=2&limit=100", &gerant).await;
    let mine: Vec<&Value> =
        listed["ventes"].as_array().unwrap().iter().filter(|v| v["caissier_login"] == "caissier2").collect();
    assert_eq!(mine.len(), 3, "{mine:?}");
    // Rung up offline, each belongs to the session that was open on the register.
    for v in &mine {
        let v = sys.get_json(&format!("/api/ventes/{}", v["id"].as_str().unwrap()), &gerant).await;
        assert_eq!(v["session_id"], session, "{v}");
    }
    for (i, p) in [11, 12, 13].into_iter().enumerate() {
        let sold = summary["ventes"][i]["quantite"].as_i64().unwrap();
        assert_eq!(sys.get_json(&stock_of(p), &gerant).await["quantite"].as_i64().unwrap(), before[i] - sold);
    }
    // The sale refused at sync moved nothing.
    let refused = &summary["refuse"];
    let p = refused["produit_id"].as_i64().unwrap();
    assert_eq!(sys.get_json(&stock_of(p), &gerant).await["quantite"], refused["stock"]);
}

#[tokio::test]
async fn browser_logistics_ships_to_a_store_once_per_click_and_the_store_stock_rises() {
    let sys = Sys::start().await;
    let auth = sys.login("logistique").await;
    let store = sys.login("gerant2").await;
    let centre_before = sys.get_json("/api/stocks/magasins/6/produits/9", &auth).await["quantite"].as_i64().unwrap();
    let store_before = sys.get_json("/api/stocks/magasins/2/produits/9", &store).await["quantite"].as_i64().unwrap();
    let summary = run_script(&sys, "logistique.mjs").await;
    let shipped = summary["expedie"].as_i64().unwrap();
    // A double-clicked shipment moved the goods once; the refused one moved nothing.
    assert_eq!(
        sys.get_json("/api/stocks/magasins/2/produits/9", &store).await["quantite"].as_i64().unwrap(),
        store_before + shipped
    );
    assert_eq!(
        sys.get_json("/api/stocks/magasins/6/produits/9", &auth).await["quantite"].as_i64().unwrap(),
        centre_before - shipped
    );
}

#[tokio::test]
async fn browser_restocking_request_suggested_approved_partly_shipped_once_and_received_with_a_shortfall() {
    let sys = Sys::start().await;
    let store = sys.login("gerant2").await;
    let logi = sys.login("logistique").await;
    let suggestion = sys.get_json("/api/stocks/demandes/suggestion", &store).await;
    let mut before = vec![];
    for l in suggestion["lignes"].as_array().unwrap() {
        let p = l["produit_id"].as_i64().unwrap();
        before.push((
            p,
            l["quantite"].as_i64().unwrap(),
            quantity(&sys, 2, p, &store).await,
            quantity(&sys, 6, p, &logi).await,
        ));
    }
    let summary = run_script(&sys, "reappro.mjs").await;
    let id = summary["demande"].as_i64().unwrap();
    let first = summary["produit"].as_i64().unwrap();
    let (approved, received) = (summary["approuve"].as_i64().unwrap(), summary["recu"].as_i64().unwrap());
    let d = sys.get_json(&format!("/api/stocks/demandes/{id}"), &logi).await;
    assert_eq!(d["statut"], "recue");
    // One shipment for the double click: two movements (out, in) per line.
    let t = d["transfert_id"].as_i64().unwrap();
    let moves = sys.get_json(&format!("/api/stocks/mouvements?reference=transfert:{t}&limit=100"), &logi).await;
    assert_eq!(moves["mouvements"].as_array().unwrap().len(), 2 * before.len());
    for (p, asked, store_before, centre_before) in before {
        let shipped = if p == first { approved } else { asked };
        let kept = if p == first { received } else { asked };
        assert_eq!(quantity(&sys, 6, p, &logi).await, centre_before - shipped, "centre, produit {p}");
        assert_eq!(quantity(&sys, 2, p, &store).await, store_before + kept, "magasin 2, produit {p}");
    }
    let ecart = sys.get_json(&format!("/api/stocks/mouvements?reference=demande:{id}"), &store).await;
    assert_eq!(ecart["mouvements"][0]["delta"], received - approved);
    assert_eq!(ecart["mouvements"][0]["motif"], "carton endommagé");
    let a = caisse_launcher::audit(&sys.stack.gateway_url, "admin", "demo1234", 60.0).await.unwrap();
    assert!(a.ecarts.is_empty(), "{:#?}", a.ecarts);
}

async fn quantity(sys: &Sys, magasin: i64, produit: i64, auth: &str) -> i64 {
    sys.get_json(&format!("/api/stocks/magasins/{magasin}/produits/{produit}"), auth).await["quantite"]
        .as_i64()
        .unwrap()
}
