//! Sales reports through the gateway, against totals the test computes
//! itself from what it sold (catalogue prices, quantities, Québec taxes):
//! a scripted day; reporting stopped during 200 sales; every event delivered
//! twice; a Redis FLUSHALL between two batches; `reporting rebuild`.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use caisse_common::calendar;
use reqwest::StatusCode;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Value, json};

use crate::harness::{Sys, key};

fn cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

/// Taxes included: TPS 5 % and TVQ 9.975 % on the subtotal, each to the cent.
fn with_taxes(sous_total: Decimal) -> Decimal {
    let st = cents(sous_total);
    st + cents(st * Decimal::new(5, 2)) + cents(st * Decimal::new(9975, 5))
}

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap_or_else(|| panic!("montant attendu : {v}")).parse().unwrap()
}

/// What the test expects, per store and mode.
#[derive(Debug, Default, Clone, PartialEq)]
struct Figures {
    nb_ventes: i64,
    brut: Decimal,
    nb_retours: i64,
    retours: Decimal,
    nb_annulations: i64,
    annulations: Decimal,
}

#[derive(Default)]
struct Ledger {
    prices: BTreeMap<i64, Decimal>,
    /// (magasin, mode) -> figures.
    figures: BTreeMap<(i64, &'static str), Figures>,
    /// produit -> (net quantity, net amount before taxes).
    products: BTreeMap<i64, (i64, Decimal)>,
}

impl Ledger {
    async fn price(&mut self, sys: &Sys, auth: &str, produit: i64) -> Decimal {
        if let Some(p) = self.prices.get(&produit) {
            return *p;
        }
        let p = dec(&sys.get_json(&format!("/api/produits/{produit}"), auth).await["prix"]);
        self.prices.insert(produit, p);
        p
    }

    fn value(&self, lines: &[(i64, i64)]) -> Decimal {
        lines.iter().map(|(p, q)| self.prices[p] * Decimal::from(*q)).sum()
    }

    fn products(&mut self, lines: &[(i64, i64)], sign: i64) {
        for (p, q) in lines {
            let e = self.products.entry(*p).or_default();
            e.0 += sign * q;
            e.1 += Decimal::from(sign * q) * self.prices[p];
        }
    }
}

async fn sell(
    sys: &Sys,
    ledger: &mut Ledger,
    cashier: &str,
    magasin: i64,
    lines: &[(i64, i64)],
    mode: &'static str,
) -> String {
    for (p, _) in lines {
        ledger.price(sys, cashier, *p).await;
    }
    let res = sys.post_cart(cashier).await.unwrap();
    let status = res.status();
    let cart: Value = res.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{cart}");
    let cart = cart["id"].as_i64().unwrap();
    for (p, q) in lines {
        let res = sys
            .http
            .put(sys.url(&format!("/api/paniers/{cart}/lignes/{p}")))
            .header("authorization", cashier)
            .json(&json!({"quantite": q}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let paiement = if mode == "especes" {
        json!({"mode": "especes", "montant_recu": "2000.00"})
    } else {
        json!({"mode": "carte"})
    };
    let k = key();
    let mut res;
    loop {
        res = sys
            .http
            .post(sys.url("/api/ventes"))
            .header("authorization", cashier)
            .header("idempotency-key", &k)
            .json(&json!({"panier_id": cart, "paiement": paiement}))
            .send()
            .await
            .unwrap();
        // A busy database may answer 503 "réessayez": retry with the same key, as a till does.
        if res.status() != StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    let brut = with_taxes(ledger.value(lines));
    let f = ledger.figures.entry((magasin, mode)).or_default();
    f.nb_ventes += 1;
    f.brut += brut;
    ledger.products(lines, 1);
    id
}

fn period() -> String {
    let today = calendar::today();
    format!("du={}&au={}", today.pred_opt().unwrap(), today.succ_opt().unwrap())
}

/// Polls the sales report until it shows `expected` (reporting follows events).
async fn wait_for_report(sys: &Sys, admin: &str, ledger: &Ledger) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let report = sys.get_json(&format!("/api/rapports/ventes?{}", period()), admin).await;
        let mismatch = compare(&report, ledger);
        if mismatch.is_none() {
            return report;
        }
        assert!(Instant::now() < deadline, "{}\n{report:#}", mismatch.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn compare(report: &Value, ledger: &Ledger) -> Option<String> {
    let mut total = Figures::default();
    for m in report["magasins"].as_array().unwrap() {
        let magasin = m["magasin_id"].as_i64().unwrap();
        let mut store = Figures::default();
        for mode in ["especes", "carte"] {
            let want = ledger.figures.get(&(magasin, mode)).cloned().unwrap_or_default();
            let got = &m["par_mode"][mode];
            let got = Figures {
                nb_ventes: got["nb_ventes"].as_i64().unwrap(),
                brut: dec(&got["brut"]),
                nb_retours: got["nb_retours"].as_i64().unwrap(),
                retours: dec(&got["retours"]),
                nb_annulations: got["nb_annulations"].as_i64().unwrap(),
                annulations: dec(&got["annulations"]),
            };
            if got != want {
                return Some(format!("magasin {magasin} {mode} : attendu {want:?}, rapport {got:?}"));
            }
            store.nb_ventes += want.nb_ventes;
            store.brut += want.brut;
            store.retours += want.retours;
            store.annulations += want.annulations;
        }
        let net = store.brut - store.retours - store.annulations;
        if dec(&m["net"]) != net || m["nb_ventes"].as_i64() != Some(store.nb_ventes) {
            return Some(format!("magasin {magasin} : net attendu {net}, rapport {}", m["net"]));
        }
        if store.nb_ventes > 0 {
            let avg = cents(store.brut / Decimal::from(store.nb_ventes));
            if dec(&m["panier_moyen"]) != avg {
                return Some(format!("magasin {magasin} : panier moyen attendu {avg}, rapport {}", m["panier_moyen"]));
            }
        }
        total.nb_ventes += store.nb_ventes;
        total.brut += store.brut;
    }
    if report["total"]["nb_ventes"].as_i64() != Some(total.nb_ventes) || dec(&report["total"]["brut"]) != total.brut {
        return Some(format!(
            "total : attendu {} ventes, {} brut ; rapport {}",
            total.nb_ventes, total.brut, report["total"]
        ));
    }
    None
}

#[tokio::test]
async fn a_scripted_day_reports_exactly_what_was_sold_returned_and_cancelled() {
    let sys = Sys::start().await;
    let (c1, c2) = (sys.login("caissier1").await, sys.login("caissier2").await);
    let (admin, gerant2, logistique) =
        (sys.login("admin").await, sys.login("gerant2").await, sys.login("logistique").await);
    let mut l = Ledger::default();
    let a = sell(&sys, &mut l, &c1, 1, &[(1, 2), (2, 1)], "especes").await;
    sell(&sys, &mut l, &c1, 1, &[(3, 1), (4, 2)], "carte").await;
    let c = sell(&sys, &mut l, &c2, 2, &[(5, 3)], "carte").await;
    sell(&sys, &mut l, &c2, 2, &[(1, 1), (6, 1)], "especes").await;
    // A partial return of sale A: one of product 1.
    let res = sys
        .http
        .post(sys.url(&format!("/api/ventes/{a}/retours")))
        .header("authorization", &c1)
        .header("idempotency-key", key())
        .json(&json!({"lignes": [{"produit_id": 1, "quantite": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let f = l.figures.entry((1, "especes")).or_default();
    f.nb_retours += 1;
    f.retours += with_taxes(l.prices[&1]);
    l.products(&[(1, 1)], -1);
    // Sale C cancelled whole.
    let res = sys
        .http
        .post(sys.url(&format!("/api/ventes/{c}/annulation")))
        .header("authorization", &gerant2)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{}", res.text().await.unwrap());
    let f = l.figures.entry((2, "carte")).or_default();
    f.nb_annulations += 1;
    f.annulations += with_taxes(l.prices[&5] * Decimal::from(3));
    l.products(&[(5, 3)], -1);
    // A transfer and an adjustment: stock, not sales.
    let res = sys
        .http
        .post(sys.url("/api/stocks/transferts"))
        .header("authorization", &logistique)
        .header("idempotency-key", key())
        .json(&json!({"source_id": 6, "destination_id": 2, "lignes": [{"produit_id": 9, "quantite": 12}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = sys
        .http
        .post(sys.url("/api/stocks/ajustements"))
        .header("authorization", &admin)
        .header("idempotency-key", key())
        .json(&json!({"magasin_id": 1, "produit_id": 7, "delta": -2, "motif": "casse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    wait_for_report(&sys, &admin, &l).await;
    // Top products, net of the return and the cancellation.
    let top = sys.get_json(&format!("/api/rapports/produits?{}&limite=100", period()), &admin).await;
    let got: BTreeMap<i64, (i64, Decimal)> = top["par_quantite"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["produit_id"].as_i64().unwrap(), (p["quantite"].as_i64().unwrap(), dec(&p["montant"]))))
        .collect();
    let want: BTreeMap<i64, (i64, Decimal)> =
        l.products.iter().filter(|(_, (q, _))| *q > 0).map(|(p, v)| (*p, *v)).collect();
    assert_eq!(got, want);
    // The gérant of store 2 sees store 2 only, with the same figures.
    let g = sys.get_json(&format!("/api/rapports/tableau-de-bord?{}", period()), &sys.login("gerant2").await).await;
    assert_eq!(g["ventes"]["magasins"].as_array().unwrap().len(), 1);
    assert_eq!(g["ventes"]["magasins"][0]["nb_ventes"], 2);
    // Today's trend adds up to the day's gross.
    let trend = sys.get_json("/api/rapports/tendance?jours=2", &admin).await;
    let day = trend["jours"].as_array().unwrap().last().unwrap().clone();
    let brut: Decimal = l.figures.values().map(|f| f.brut).sum();
    assert_eq!(dec(&day["total"]["brut"]), brut, "{day}");
    // The CSV's total line says the same.
    let csv = sys.get(&format!("/api/rapports/ventes.csv?{}", period()), &admin).await.text().await.unwrap();
    let total_line = csv.lines().find(|l| l.contains(";total;;tous;")).unwrap_or_else(|| panic!("{csv}"));
    assert!(total_line.contains(&format!(";{brut};")), "{total_line}");
    let audit = caisse_launcher::audit(&sys.stack.gateway_url, "admin", "demo1234", 60.0).await.unwrap();
    assert!(audit.ecarts.is_empty(), "{:#?}", audit.ecarts);
    assert!(audit.non_verifie.is_empty(), "{:?}", audit.non_verifie);
}

async fn batch(sys: &Sys, l: &mut Ledger, cashiers: &[(String, i64)], n: usize) {
    let mut done = 0;
    while done < n {
        // Four tills at a time, each keeping its own account, merged after.
        let chunk = (n - done).min(4);
        let mut ledgers: Vec<Ledger> =
            (0..chunk).map(|_| Ledger { prices: l.prices.clone(), ..Default::default() }).collect();
        let lines: Vec<[(i64, i64); 1]> = (0..chunk).map(|i| [(1 + ((done + i) % 5) as i64, 1)]).collect();
        {
            let mut futures = Vec::new();
            for (i, (sub, lines)) in ledgers.iter_mut().zip(&lines).enumerate() {
                let (cashier, magasin) = &cashiers[(done + i) % cashiers.len()];
                let mode = if (done + i) % 3 == 0 { "especes" } else { "carte" };
                futures.push(sell(sys, sub, cashier, *magasin, lines, mode));
            }
            futures::future::join_all(futures).await;
        }
        for sub in ledgers {
            l.prices.extend(sub.prices);
            for (k, f) in sub.figures {
                let e = l.figures.entry(k).or_default();
                e.nb_ventes += f.nb_ventes;
                e.brut += f.brut;
            }
            for (p, (q, m)) in sub.products {
                let e = l.products.entry(p).or_default();
                e.0 += q;
                e.1 += m;
            }
        }
        done += chunk;
    }
}

#[tokio::test]
async fn reporting_catches_up_after_a_stop_ignores_redeliveries_backfills_a_flush_and_rebuilds_the_same() {
    let mut sys = Sys::start_private_redis().await;
    let admin = sys.login("admin").await;
    let cashiers =
        vec![(sys.login("caissier1").await, 1), (sys.login("caissier2").await, 2), (sys.login("caissier3").await, 3)];
    let mut l = Ledger::default();
    for p in 1..=5 {
        l.price(&sys, &admin, p).await;
    }
    // Enough stock for every sale: the logistics centre restocks the three stores.
    let logistique = sys.login("logistique").await;
    for magasin in 1..=3 {
        let lignes: Vec<Value> = (1..=5).map(|p| json!({"produit_id": p, "quantite": 40})).collect();
        let res = sys
            .http
            .post(sys.url("/api/stocks/transferts"))
            .header("authorization", &logistique)
            .header("idempotency-key", key())
            .json(&json!({"source_id": 6, "destination_id": magasin, "lignes": lignes}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    // reporting is down while 200 sales happen.
    sys.stack.kill_replica("reporting", 0).unwrap();
    sys.stack.kill_replica("reporting", 1).unwrap();
    batch(&sys, &mut l, &cashiers, 200).await;
    sys.stack.restart_replica("reporting", 0, &[]).await.unwrap();
    sys.stack.restart_replica("reporting", 1, &[]).await.unwrap();
    let before = wait_for_report(&sys, &admin, &l).await;
    // Every event of the stream delivered a second time.
    let o = sys.stack.options();
    let client = redis::Client::open(o.redis_url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let stream = format!("{}evenements:ventes", o.redis_prefix);
    let entries: Vec<(String, Vec<(String, String)>)> =
        redis::cmd("XRANGE").arg(&stream).arg("-").arg("+").query_async(&mut conn).await.unwrap();
    assert!(entries.len() >= 200, "{} entrées", entries.len());
    for (_, fields) in &entries {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&stream).arg("*");
        for (k, v) in fields {
            cmd.arg(k).arg(v);
        }
        cmd.query_async::<String>(&mut conn).await.unwrap();
    }
    let metric = || async {
        let mut n = 0;
        for url in sys.stack.replica_urls("reporting") {
            let text = sys.http.get(format!("{url}/metrics")).send().await.unwrap().text().await.unwrap();
            n += text
                .lines()
                .filter(|l| l.starts_with("reporting_events_total{flux=\"evenements:ventes\",issue=\"doublon\""))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
                .sum::<u64>();
        }
        n
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while metric().await < 200 {
        assert!(Instant::now() < deadline, "les doublons n'ont pas été lus");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        sys.get_json(&format!("/api/rapports/ventes?{}", period()), &admin).await,
        before,
        "doublons sans effet"
    );
    // Redis loses everything between two batches.
    batch(&sys, &mut l, &cashiers, 10).await;
    sys.flush_redis().await;
    batch(&sys, &mut l, &cashiers, 10).await;
    let after_flush = wait_for_report(&sys, &admin, &l).await;
    // A rebuild from the producers' feeds gives the same numbers.
    let out = sys.stack.run_once("reporting", &["rebuild"]).unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(wait_for_report(&sys, &admin, &l).await, after_flush);
}
