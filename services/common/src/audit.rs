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
    /// How far reporting has applied each producer's events, when the
    /// auditor can know it (it runs inside reporting): once reporting has
    /// applied every event behind what was read, what it disagrees on is
    /// reported at once instead of after [`CATCH_UP`].
    pub applied: Option<&'a Applied<'a>>,
}

/// Reads reporting's cursors (see [`Target::applied`]).
pub type Applied<'a> = dyn Fn() -> AppliedCursors<'a> + Send + Sync + 'a;
pub type AppliedCursors<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<Vec<(Producer, i64)>>> + Send + 'a>>;

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
                Some(a) => self.get(format!("{path}{sep}limit={PAGE}&{cursor}={a}")).await?,
                None => self.get(format!("{path}{sep}limit={PAGE}")).await?,
            };
            out.extend(page[key].as_array().cloned().unwrap_or_default());
            match page["suivant"].as_i64() {
                Some(n) => after = Some(n),
                None => return Ok(out),
            }
        }
    }

    /// Every item of a list paginated on an integer key (`id` after `apres`,
    /// or `numero` before `avant`), [`PAGES_IN_FLIGHT`] pages at a time: the
    /// pages of a wave start [`PAGE`] keys apart. A full page holds `PAGE`
    /// distinct keys beyond its start, so it reaches the next page's start
    /// (gaps in the keys only make pages overlap); a page that is not full
    /// reaches the end. Items come back once each, in key order.
    async fn all_by_key(&self, path: &str, list: &str, order: KeyOrder) -> anyhow::Result<Vec<Value>> {
        let (item_key, cursor, step) = match order {
            KeyOrder::IdAfter => ("id", "apres", PAGE),
            KeyOrder::NumeroBefore => ("numero", "avant", -PAGE),
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items: BTreeMap<i64, Value> = BTreeMap::new();
        let mut keep = |page: &Value| {
            for item in page[list].as_array().into_iter().flatten() {
                items.insert(item[item_key].as_i64().unwrap_or_default(), item.clone());
            }
            page["suivant"].as_i64()
        };
        // The first page has no cursor (`avant`: the newest is not known).
        let mut next = keep(&self.get::<Value>(format!("{path}{sep}limit={PAGE}")).await?);
        while let Some(from) = next {
            let starts: Vec<i64> =
                (0..PAGES_IN_FLIGHT).map(|k| from + k * step).take_while(|s| *s > 0 || step > 0).collect();
            let pages: Vec<Value> = futures::future::try_join_all(
                starts.iter().map(|s| self.get::<Value>(format!("{path}{sep}limit={PAGE}&{cursor}={s}"))),
            )
            .await?;
            next = None;
            for page in &pages {
                next = keep(page);
                if next.is_none() {
                    break;
                }
            }
            // `avant` at or below 1 holds nothing: the last page reached the end.
            if starts.len() < PAGES_IN_FLIGHT as usize {
                next = None;
            }
        }
        let mut out: Vec<Value> = items.into_values().collect();
        if step < 0 {
            out.reverse();
        }
        Ok(out)
    }
}

/// The integer key a list is paginated on.
#[derive(Debug, Clone, Copy)]
enum KeyOrder {
    /// `id` ascending, cursor `apres` (stock's ledger).
    IdAfter,
    /// `numero` descending, cursor `avant` (vente's sales).
    NumeroBefore,
}

fn ecart(verification: &str, detail: String) -> Ecart {
    Ecart { verification: verification.into(), detail }
}

type Key = (i64, i64);

/// Page size of the lists (the APIs' largest).
const PAGE: i64 = 100;
/// Pages of one list read at the same time.
const PAGES_IN_FLIGHT: i64 = 8;
/// Receipts read at the same time.
const RECEIPTS_IN_FLIGHT: usize = 32;
/// Days of reporting's sales report read at the same time.
const DAYS_IN_FLIGHT: usize = 8;

/// How long each part of an audit took (logged at the end).
struct Phases(std::time::Instant, Vec<(&'static str, u128)>);

impl Phases {
    fn start() -> Self {
        Self(std::time::Instant::now(), Vec::new())
    }

    fn done(&mut self, phase: &'static str) {
        self.1.push((phase, self.0.elapsed().as_millis()));
    }
}

/// How long reporting may take to agree with vente and stock.
const CATCH_UP: std::time::Duration = std::time::Duration::from_secs(10);
/// Between two reads of what reporting still disagrees on.
const RETRY: std::time::Duration = std::time::Duration::from_millis(500);

/// reporting has applied every event of what was read before this call:
/// every producer has numbered and published all its events and reporting's
/// cursors have reached them. Always `false` without [`Target::applied`].
async fn settled(t: &Target<'_>) -> anyhow::Result<bool> {
    let Some(applied) = t.applied else {
        return Ok(false);
    };
    let mut last = Vec::new();
    for p in Producer::ALL {
        let Ok(page) = t.get::<Value>(format!("{}?apres=0&limit=1", p.feed_path())).await else {
            return Ok(false);
        };
        if page["en_attente"].as_i64() != Some(0) {
            return Ok(false);
        }
        last.push((p, page["dernier"].as_i64().unwrap_or(i64::MAX)));
    }
    // Read after the feeds: a cursor at or beyond `dernier` covers all of it.
    let cursors = applied().await?;
    Ok(last.iter().all(|(p, d)| cursors.iter().any(|(q, c)| q == p && c >= d)))
}

/// reporting's sales per store day against vente's receipts, and its stock
/// against stock's: what still disagrees once reporting has caught up, or
/// at `deadline`. Only what disagrees is read again.
async fn reported_lag(
    t: &Target<'_>,
    receipts: &[Value],
    stock: &BTreeMap<Key, i64>,
    deadline: tokio::time::Instant,
) -> anyhow::Result<Vec<Ecart>> {
    let sold = sales_by_day(receipts);
    let mut days: Vec<chrono::NaiveDate> = sold.keys().copied().collect();
    let mut stock_lags = true;
    loop {
        // Before the reports: if reporting had applied everything then, the
        // reports read next show all of it.
        let settled = settled(t).await?;
        let sales = async {
            let reports: Vec<Value> = futures::stream::iter(days.clone())
                .map(|day| t.get::<Value>(format!("/api/rapports/ventes?du={day}&au={day}")))
                .buffered(DAYS_IN_FLIGHT)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<anyhow::Result<_>>()?;
            let (mut lagging, mut still) = (Vec::new(), Vec::new());
            for (day, report) in days.iter().zip(&reports) {
                let before = lagging.len();
                check_reported_sales(day, &sold[day], report, &mut lagging);
                if lagging.len() > before {
                    still.push(*day);
                }
            }
            anyhow::Ok((lagging, still))
        };
        let stocks = async {
            let mut lagging = Vec::new();
            if stock_lags {
                let reported: Value = t.get("/api/rapports/stocks?limit=1000").await?;
                check_reported_stock(stock, &reported, &mut lagging);
            }
            anyhow::Ok(lagging)
        };
        let ((mut lagging, still), stock_lagging) = tokio::try_join!(sales, stocks)?;
        stock_lags = !stock_lagging.is_empty();
        lagging.extend(stock_lagging);
        if lagging.is_empty() || settled || tokio::time::Instant::now() + RETRY > deadline {
            return Ok(lagging);
        }
        days = still;
        tokio::time::sleep(RETRY).await;
    }
}

/// Runs every check; an `Err` means the suite could not be read at all.
///
/// The lists are read a few pages at a time, stock, ledger and receipts at
/// the same time, receipts [`RECEIPTS_IN_FLIGHT`] at a time: weeks of
/// history are thousands of sales, each its own receipt.
pub async fn run(t: &Target<'_>) -> anyhow::Result<Audit> {
    let mut phases = Phases::start();
    let mut audit = Audit::default();
    let magasins = t.all("/api/magasins", "magasins", "apres").await?;
    let stock = async {
        let per_store = futures::future::try_join_all(magasins.iter().map(|m| async move {
            let id = m["id"].as_i64().unwrap_or_default();
            let rows = t.all(&format!("/api/stocks/magasins/{id}"), "stocks", "apres").await?;
            anyhow::Ok(rows.into_iter().map(move |s| {
                ((id, s["produit_id"].as_i64().unwrap_or_default()), s["quantite"].as_i64().unwrap_or_default())
            }))
        }))
        .await?;
        anyhow::Ok(per_store.into_iter().flatten().collect::<BTreeMap<Key, i64>>())
    };
    let movements = t.all_by_key("/api/stocks/mouvements", "mouvements", KeyOrder::IdAfter);
    let receipts = async {
        let ventes = t.all_by_key("/api/ventes", "ventes", KeyOrder::NumeroBefore).await?;
        let paths: Vec<String> =
            ventes.iter().map(|v| format!("/api/ventes/{}", v["id"].as_str().unwrap_or_default())).collect();
        futures::stream::iter(paths)
            .map(|path| t.get::<Value>(path))
            .buffered(RECEIPTS_IN_FLIGHT)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<Value>>>()
    };
    let (stock, movements, receipts) = tokio::try_join!(stock, movements, receipts)?;
    phases.done("lectures");
    audit.stocks = stock.len();
    audit.mouvements = movements.len();
    audit.ventes = receipts.len();
    check_ledger(&stock, &movements, &mut audit.ecarts);
    check_sales(&receipts, &movements, &mut audit.ecarts);
    // reporting follows events: it gets [`CATCH_UP`] to agree with vente's
    // sales per store day and stock's quantities, both checked at the same
    // time, unless it is known to have applied everything.
    let deadline = tokio::time::Instant::now() + CATCH_UP;
    audit.ecarts.extend(reported_lag(t, &receipts, &stock, deadline).await?);
    phases.done("rapports");
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
    phases.done("flux");
    tracing::info!(
        ventes = audit.ventes,
        mouvements = audit.mouvements,
        ecarts = audit.ecarts.len(),
        etapes_ms = ?phases.1,
        "audit terminé"
    );
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

    /// A list of `keys` paginated like stock's ledger (`apres`) and vente's
    /// sales (`avant`), served on a free port.
    async fn paginated(keys: Vec<i64>) -> String {
        use axum::{Json, Router, extract::Query, routing::get};
        let app = Router::new().route(
            "/l",
            get(move |Query(q): Query<BTreeMap<String, i64>>| {
                let keys = keys.clone();
                async move {
                    let limit = usize::try_from(q["limit"]).unwrap();
                    let mut page: Vec<i64> = match (q.get("apres"), q.get("avant")) {
                        (Some(a), _) => keys.iter().copied().filter(|k| k > a).collect(),
                        (None, Some(b)) => keys.iter().rev().copied().filter(|k| k < b).collect(),
                        (None, None) if q.contains_key("desc") => keys.iter().rev().copied().collect(),
                        (None, None) => keys.clone(),
                    };
                    let suivant = (page.len() > limit).then(|| page[limit - 1]);
                    page.truncate(limit);
                    let items: Vec<Value> = page.iter().map(|k| json!({"id": k, "numero": k})).collect();
                    Json(json!({"items": items, "suivant": suivant}))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    }

    #[tokio::test]
    async fn lists_read_a_wave_of_pages_at_a_time_miss_nothing_and_repeat_nothing() {
        // Gaps of every size: rolled-back ids, failed sales' numbers.
        let keys: Vec<i64> =
            (1..=2345).filter(|k| k % 7 != 0 && !(300..650).contains(k) && !(1990..2001).contains(k)).collect();
        let http = reqwest::Client::new();
        let base = paginated(keys.clone()).await;
        let t = Target { http: &http, base: &base, bearer: "Bearer x", max_wait_secs: 60.0, applied: None };
        let ids = |items: Vec<Value>| items.iter().map(|i| i["id"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(ids(t.all_by_key("/l", "items", KeyOrder::IdAfter).await.unwrap()), keys);
        let mut newest_first = keys.clone();
        newest_first.reverse();
        assert_eq!(ids(t.all_by_key("/l?desc=1", "items", KeyOrder::NumeroBefore).await.unwrap()), newest_first);
        // Shorter than a page, exactly a wave, nothing.
        for n in [5, 800, 0] {
            let keys: Vec<i64> = (1..=n).collect();
            let base = paginated(keys.clone()).await;
            let t = Target { http: &http, base: &base, bearer: "Bearer x", max_wait_secs: 60.0, applied: None };
            assert_eq!(ids(t.all_by_key("/l", "items", KeyOrder::IdAfter).await.unwrap()), keys, "{n}");
            let desc = ids(t.all_by_key("/l?desc=1", "items", KeyOrder::NumeroBefore).await.unwrap());
            assert_eq!(desc, keys.iter().rev().copied().collect::<Vec<_>>(), "{n}");
        }
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
