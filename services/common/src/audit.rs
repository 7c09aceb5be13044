//! The integrity auditor: checks, across services and through their APIs
//! only (the gateway, an admin token), that stock quantities equal the sum of
//! their movements, that sales, cancellations and returns have exactly their
//! movements and no sale movement lacks its sale, that reporting's stock
//! equals stock's, and that no producer keeps events unpublished for long.
//! Used by `caisse-launcher audit` and `GET /api/rapports/audit`.

use std::collections::{BTreeMap, BTreeSet};

use futures::StreamExt;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::Value;

use crate::events::Producer;

/// One thing that does not add up, with the ids involved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Ecart {
    /// `stock_registre`, `vente_mouvements`, `mouvement_sans_vente`, `rapport_stock`, `rapport_ventes`,
    /// `evenements_en_attente`.
    pub verification: String,
    pub detail: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Audit {
    pub stocks: usize,
    pub mouvements: usize,
    pub ventes: usize,
    pub ecarts: Vec<Ecart>,
    /// What could not be checked, and why.
    pub non_verifie: Vec<String>,
}

/// How to reach the suite.
pub struct Target<'a> {
    pub http: &'a reqwest::Client,
    /// The gateway (every service behind it).
    pub base: &'a str,
    /// `Bearer …` of an admin.
    pub bearer: &'a str,
    /// Published events older than this, still waiting, are a discrepancy.
    pub max_wait_secs: f64,
}

impl Target<'_> {
    async fn get<T: DeserializeOwned>(&self, path: impl AsRef<str>) -> anyhow::Result<T> {
        let path = path.as_ref();
        let res = self.http.get(format!("{}{path}", self.base)).header("authorization", self.bearer).send().await?;
        let status = res.status();
        anyhow::ensure!(status.is_success(), "GET {path} : {status} {}", res.text().await.unwrap_or_default());
        Ok(res.json().await?)
    }

    /// Every item of a keyset-paginated list (`apres` / `suivant`).
    async fn all(&self, path: &str, key: &str, cursor: &str) -> anyhow::Result<Vec<Value>> {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (mut out, mut after) = (Vec::new(), None::<i64>);
        loop {
            let page: Value = match after {
                Some(a) => self.get(format!("{path}{sep}limit=100&{cursor}={a}")).await?,
                None => self.get(format!("{path}{sep}limit=100")).await?,
            };
            out.extend(page[key].as_array().cloned().unwrap_or_default());
            match page["suivant"].as_i64() {
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }
}

fn ecart(verification: &str, detail: String) -> Ecart {
    Ecart { verification: verification.into(), detail }
}

type Key = (i64, i64);

/// Receipts read at the same time.
const RECEIPTS_IN_FLIGHT: usize = 16;

/// Runs every check; an `Err` means the suite could not be read at all.
pub async fn run(t: &Target<'_>) -> anyhow::Result<Audit> {
    let mut audit = Audit::default();
    let magasins = t.all("/api/magasins", "magasins", "apres").await?;
    let mut stock: BTreeMap<Key, i64> = BTreeMap::new();
    for m in &magasins {
        let id = m["id"].as_i64().unwrap_or_default();
        for s in t.all(&format!("/api/stocks/magasins/{id}"), "stocks", "apres").await? {
            stock
                .insert((id, s["produit_id"].as_i64().unwrap_or_default()), s["quantite"].as_i64().unwrap_or_default());
        }
    }
    let movements = t.all("/api/stocks/mouvements", "mouvements", "apres").await?;
    audit.stocks = stock.len();
    audit.mouvements = movements.len();
    check_ledger(&stock, &movements, &mut audit.ecarts);
    let ventes = t.all("/api/ventes", "ventes", "avant").await?;
    audit.ventes = ventes.len();
    // Receipts a few at a time: weeks of history are thousands of them.
    let paths: Vec<String> =
        ventes.iter().map(|v| format!("/api/ventes/{}", v["id"].as_str().unwrap_or_default())).collect();
    let receipts: Vec<Value> = futures::stream::iter(paths)
        .map(|path| t.get::<Value>(path))
        .buffered(RECEIPTS_IN_FLIGHT)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    check_sales(&receipts, &movements, &mut audit.ecarts);
    // reporting's sales per store and day against vente's (reporting follows
    // events: a few seconds to catch up).
    let sold = sales_by_day(&receipts);
    let mut lagging = Vec::new();
    for _ in 0..20 {
        lagging.clear();
        for (day, stores) in &sold {
            let report: Value = t.get(format!("/api/rapports/ventes?du={day}&au={day}")).await?;
            check_reported_sales(day, stores, &report, &mut lagging);
        }
        if lagging.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    audit.ecarts.extend(lagging);
    // reporting follows events: give it a few seconds to catch up.
    let mut lagging = Vec::new();
    for _ in 0..20 {
        lagging.clear();
        let reported: Value = t.get("/api/rapports/stocks?limit=1000").await?;
        check_reported_stock(&stock, &reported, &mut lagging);
        if lagging.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    audit.ecarts.extend(lagging);
    for p in Producer::ALL {
        let res = t
            .http
            .get(format!("{}{}?apres=0&limit=1", t.base, p.feed_path()))
            .header("authorization", t.bearer)
            .send()
            .await;
        match res {
            // A producer that has no feed yet answers 404 (or 400: the path reads as an id).
            Ok(r) if matches!(r.status().as_u16(), 400 | 404) => {
                let status = r.status();
                audit.non_verifie.push(format!("outbox de {} : pas de flux d'événements ({status})", p.as_str()));
            }
            Ok(r) if r.status().is_success() => {
                let page: Value = r.json().await?;
                let waiting = page["attente_max_secondes"].as_f64().unwrap_or_default();
                if waiting > t.max_wait_secs {
                    let n = page["en_attente"].as_i64().unwrap_or_default();
                    let detail = format!(
                        "{} : {n} événement(s) non publié(s), le plus ancien depuis {waiting:.0} s",
                        p.as_str()
                    );
                    audit.ecarts.push(ecart("evenements_en_attente", detail));
                }
            }
            Ok(r) => audit
                .ecarts
                .push(ecart("evenements_en_attente", format!("{} : flux illisible ({})", p.as_str(), r.status()))),
            Err(e) => {
                audit.ecarts.push(ecart("evenements_en_attente", format!("{} : flux injoignable ({e})", p.as_str())))
            }
        }
    }
    Ok(audit)
}

/// Every quantity equals the sum of its movements and its last movement's
/// `quantite_apres`; no movement belongs to an entry that does not exist.
pub fn check_ledger(stock: &BTreeMap<Key, i64>, movements: &[Value], out: &mut Vec<Ecart>) {
    let mut sums: BTreeMap<Key, (i64, i64, i64)> = BTreeMap::new();
    for m in movements {
        let key = (m["magasin_id"].as_i64().unwrap_or_default(), m["produit_id"].as_i64().unwrap_or_default());
        let e = sums.entry(key).or_default();
        e.0 += m["delta"].as_i64().unwrap_or_default();
        let id = m["id"].as_i64().unwrap_or_default();
        if id > e.1 {
            e.1 = id;
            e.2 = m["quantite_apres"].as_i64().unwrap_or_default();
        }
    }
    for (&(magasin, produit), &q) in stock {
        let (sum, last_id, after) = sums.get(&(magasin, produit)).copied().unwrap_or_default();
        if q != sum || (last_id > 0 && q != after) {
            out.push(ecart(
                "stock_registre",
                format!("magasin {magasin}, produit {produit} : quantité {q}, somme des mouvements {sum}, après le mouvement {last_id} : {after}"),
            ));
        }
    }
    for (&(magasin, produit), &(sum, last_id, _)) in &sums {
        if !stock.contains_key(&(magasin, produit)) {
            out.push(ecart(
                "stock_registre",
                format!(
                    "magasin {magasin}, produit {produit} : mouvements (somme {sum}, dernier {last_id}) sans stock"
                ),
            ));
        }
    }
}

fn net_by_reference(movements: &[Value]) -> BTreeMap<String, BTreeMap<i64, i64>> {
    let mut by_ref: BTreeMap<String, BTreeMap<i64, i64>> = BTreeMap::new();
    for m in movements {
        let r = m["reference"].as_str().unwrap_or_default().to_owned();
        *by_ref.entry(r).or_default().entry(m["produit_id"].as_i64().unwrap_or_default()).or_default() +=
            m["delta"].as_i64().unwrap_or_default();
    }
    for lines in by_ref.values_mut() {
        lines.retain(|_, d| *d != 0);
    }
    by_ref
}

/// Sales, cancellations and returns against their movements.
pub fn check_sales(receipts: &[Value], movements: &[Value], out: &mut Vec<Ecart>) {
    let by_ref = net_by_reference(movements);
    let mut known: BTreeSet<String> = BTreeSet::new();
    let empty = BTreeMap::new();
    for r in receipts {
        let id = r["id"].as_str().unwrap_or_default();
        let statut = r["statut"].as_str().unwrap_or_default();
        let lines = r["lignes"].as_array().cloned().unwrap_or_default();
        let q = |l: &Value, k: &str| l[k].as_i64().unwrap_or_default();
        let sold: BTreeMap<i64, i64> = lines.iter().map(|l| (q(l, "produit_id"), -q(l, "quantite"))).collect();
        let mut expect = |reference: String, want: BTreeMap<i64, i64>, what: &str| {
            let got = by_ref.get(&reference).unwrap_or(&empty);
            if *got != want {
                out.push(ecart("vente_mouvements", format!("{what} {reference} : attendu {want:?}, registre {got:?}")));
            }
            known.insert(reference);
        };
        expect(format!("vente:{id}"), sold, "vente");
        let mut returned: BTreeMap<i64, i64> = BTreeMap::new();
        for ret in r["retours"].as_array().cloned().unwrap_or_default() {
            if ret["statut"].as_str() != Some("termine") {
                continue;
            }
            let want: BTreeMap<i64, i64> = ret["lignes"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|l| (q(l, "produit_id"), q(l, "quantite")))
                .collect();
            for (p, n) in &want {
                *returned.entry(*p).or_default() += n;
            }
            expect(format!("retour:{}", q(&ret, "id")), want, "retour");
        }
        if statut == "annulation" {
            // Being cancelled: its restock may be partly done.
            expect(
                format!("annulation:{id}"),
                by_ref.get(&format!("annulation:{id}")).cloned().unwrap_or_default(),
                "annulation",
            );
        }
        if statut == "annulee" {
            let want: BTreeMap<i64, i64> = lines
                .iter()
                .map(|l| {
                    (q(l, "produit_id"), q(l, "quantite") - returned.get(&q(l, "produit_id")).copied().unwrap_or(0))
                })
                .filter(|(_, n)| *n != 0)
                .collect();
            expect(format!("annulation:{id}"), want, "annulation");
        }
    }
    for (reference, net) in &by_ref {
        let sale_kind = ["vente:", "annulation:", "retour:"].iter().any(|p| reference.starts_with(p));
        // A reservation released by compensation nets to zero: nothing to explain.
        if sale_kind && !known.contains(reference) && !net.is_empty() {
            out.push(ecart(
                "mouvement_sans_vente",
                format!("{reference} : {net:?} sans vente terminée ni retour connu"),
            ));
        }
    }
}

type DaySales = BTreeMap<chrono::NaiveDate, BTreeMap<i64, (i64, rust_decimal::Decimal)>>;

/// Completed sales (count, gross) per store day and store, from vente's receipts.
pub fn sales_by_day(receipts: &[Value]) -> DaySales {
    let mut out: DaySales = BTreeMap::new();
    for r in receipts {
        let Some(done) = r["terminee_le"].as_str().and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok()) else {
            continue;
        };
        let total: rust_decimal::Decimal = r["total"].as_str().and_then(|t| t.parse().ok()).unwrap_or_default();
        let e = out
            .entry(crate::calendar::store_day(done))
            .or_default()
            .entry(r["magasin_id"].as_i64().unwrap_or_default())
            .or_default();
        e.0 += 1;
        e.1 += total;
    }
    out
}

/// reporting's count and gross per store on `day` equal vente's.
pub fn check_reported_sales(
    day: &chrono::NaiveDate,
    stores: &BTreeMap<i64, (i64, rust_decimal::Decimal)>,
    report: &Value,
    out: &mut Vec<Ecart>,
) {
    for (magasin, (n, brut)) in stores {
        let row =
            report["magasins"].as_array().and_then(|m| m.iter().find(|s| s["magasin_id"].as_i64() == Some(*magasin)));
        let got = row.map(|r| {
            let b: rust_decimal::Decimal = r["brut"].as_str().and_then(|t| t.parse().ok()).unwrap_or_default();
            (r["nb_ventes"].as_i64().unwrap_or_default(), b)
        });
        if got != Some((*n, *brut)) {
            out.push(ecart(
                "rapport_ventes",
                format!("magasin {magasin}, jour {day} : vente {n} vente(s) pour {brut}, reporting {got:?}"),
            ));
        }
    }
}

/// reporting's stock view equals stock's quantities.
pub fn check_reported_stock(stock: &BTreeMap<Key, i64>, reported: &Value, out: &mut Vec<Ecart>) {
    let rows = reported["stocks"].as_array().cloned().unwrap_or_default();
    let seen: BTreeMap<Key, i64> = rows
        .iter()
        .map(|s| {
            let key = (s["magasin_id"].as_i64().unwrap_or_default(), s["produit_id"].as_i64().unwrap_or_default());
            (key, s["quantite"].as_i64().unwrap_or_default())
        })
        .collect();
    let truncated = reported["tronque"].as_bool().unwrap_or(false);
    for (key, q) in stock {
        match seen.get(key) {
            Some(r) if r == q => {}
            None if truncated => {}
            other => out.push(ecart(
                "rapport_stock",
                format!("magasin {}, produit {} : stock {q}, reporting {other:?}", key.0, key.1),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn mv(id: i64, magasin: i64, produit: i64, delta: i64, after: i64, reference: &str) -> Value {
        json!({"id": id, "magasin_id": magasin, "produit_id": produit, "delta": delta, "quantite_apres": after, "reference": reference})
    }

    #[test]
    fn a_quantity_changed_without_its_movement_is_named() {
        let movements = [mv(1, 1, 7, 10, 10, "reception:1"), mv(2, 1, 7, -2, 8, "vente:a")];
        let mut out = Vec::new();
        check_ledger(&BTreeMap::from([((1, 7), 8)]), &movements, &mut out);
        assert!(out.is_empty(), "{out:?}");
        check_ledger(&BTreeMap::from([((1, 7), 9)]), &movements, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].detail.contains("magasin 1, produit 7 : quantité 9"), "{}", out[0].detail);
    }

    #[test]
    fn sales_need_exactly_their_movements_and_movements_their_sale() {
        let sale = json!({"id": "a", "statut": "annulee", "lignes": [{"produit_id": 7, "quantite": 3}],
            "retours": [{"id": 4, "statut": "termine", "lignes": [{"produit_id": 7, "quantite": 1}]}]});
        let good = [
            mv(1, 1, 7, -3, 7, "vente:a"),
            mv(2, 1, 7, 1, 8, "retour:4"),
            mv(3, 1, 7, 2, 10, "annulation:a"),
            // A compensated sale: reserved, then released.
            mv(4, 1, 7, -1, 9, "vente:b"),
            mv(5, 1, 7, 1, 10, "vente:b"),
        ];
        let mut out = Vec::new();
        check_sales(std::slice::from_ref(&sale), &good, &mut out);
        assert!(out.is_empty(), "{out:?}");
        // The sale row is gone: its movements are unexplained.
        check_sales(&[], &good, &mut out);
        let kinds: Vec<_> =
            out.iter().map(|e| (e.verification.as_str(), e.detail.split(' ').next().unwrap_or(""))).collect();
        assert_eq!(
            kinds,
            [
                ("mouvement_sans_vente", "annulation:a"),
                ("mouvement_sans_vente", "retour:4"),
                ("mouvement_sans_vente", "vente:a")
            ]
        );
        out.clear();
        // A cancellation that restocked too much.
        let mut bad = good.to_vec();
        bad[2] = mv(3, 1, 7, 3, 11, "annulation:a");
        check_sales(&[sale], &bad, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].detail.starts_with("annulation annulation:a"), "{}", out[0].detail);
    }

    #[test]
    fn reported_sales_per_store_day_must_match_the_receipts() {
        // 03:30 UTC on 9 March is still 8 March in Toronto.
        let receipts = [
            json!({"magasin_id": 1, "terminee_le": "2026-03-09T03:30:00Z", "total": "11.50"}),
            json!({"magasin_id": 1, "terminee_le": "2026-03-09T15:00:00Z", "total": "2.30"}),
            json!({"magasin_id": 2, "terminee_le": null, "total": null}),
        ];
        let by_day = sales_by_day(&receipts);
        assert_eq!(by_day.len(), 2);
        let day8: chrono::NaiveDate = "2026-03-08".parse().unwrap();
        let report = json!({"magasins": [{"magasin_id": 1, "nb_ventes": 1, "brut": "11.50"}]});
        let mut out = Vec::new();
        check_reported_sales(&day8, &by_day[&day8], &report, &mut out);
        assert!(out.is_empty(), "{out:?}");
        let wrong = json!({"magasins": [{"magasin_id": 1, "nb_ventes": 2, "brut": "13.80"}]});
        check_reported_sales(&day8, &by_day[&day8], &wrong, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].detail.starts_with("magasin 1, jour 2026-03-08"), "{}", out[0].detail);
    }
}
