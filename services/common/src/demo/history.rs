//! The demo sales history: weeks of past sales in the five stores, cash and
//! card, with some partial returns and cancellations. vente's seed writes
//! the sales (rows and events) and stock's seed their movements (and weekly
//! receptions that cover them), each from this same plan: a pure function
//! of the last day and the number of days, which the launcher passes to
//! both (`DEMO_HISTORY_END`, `DEMO_HISTORY_DAYS`). Reporting then learns
//! the history from the events, like any sale, and the auditor finds every
//! sale with exactly its movements.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::{calendar, events::PaymentMode};

/// Environment of the seeds: how many days of history (0: none).
pub const ENV_DAYS: &str = "DEMO_HISTORY_DAYS";
/// Environment of the seeds: the last day of history (`YYYY-MM-DD`, default yesterday).
pub const ENV_END: &str = "DEMO_HISTORY_END";
/// Marker of history rows: sales' idempotency keys, stock references.
pub const MARK: &str = "historique";
/// Who history rows are by, where a row names its author.
pub const AUTHOR: &str = "seed";

/// Which days the history covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct History {
    /// The last day (a past store day).
    pub end: NaiveDate,
    pub days: u32,
}

/// A return of some lines of a history sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    /// The return's id at vente (its stock reference is `retour:<id>`).
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `(produit_id, quantite)`.
    pub lines: Vec<(i64, i32)>,
}

/// One past sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sale {
    /// A UUID, stable for (day, store, rank).
    pub id: String,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caissier_login: &'static str,
    pub at: DateTime<Utc>,
    pub mode: PaymentMode,
    /// `(produit_id, quantite)`, by product, each product once.
    pub lines: Vec<(i64, i32)>,
    pub retour: Option<Return>,
    /// Cancelled then, by whom.
    pub annulation: Option<(DateTime<Utc>, &'static str)>,
}

impl History {
    /// From the environment; `None` when no history is asked.
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let days: u32 = crate::config::env_or(ENV_DAYS, 0)?;
        if days == 0 {
            return Ok(None);
        }
        anyhow::ensure!(days <= 366, "{ENV_DAYS} : entre 0 et 366 jours");
        let end = match std::env::var(ENV_END) {
            Ok(raw) if !raw.trim().is_empty() => raw
                .trim()
                .parse::<NaiveDate>()
                .map_err(|e| anyhow::anyhow!("{ENV_END} : date AAAA-MM-JJ attendue ({e})"))?,
            _ => calendar::today() - Duration::days(1),
        };
        anyhow::ensure!(end < calendar::today(), "{ENV_END} : l'historique s'arrête avant aujourd'hui");
        Ok(Some(Self { end, days }))
    }

    pub fn first_day(&self) -> NaiveDate {
        self.end - Duration::days(i64::from(self.days) - 1)
    }

    /// Every sale of the history, oldest first; returns numbered 1.. in
    /// the order they happen.
    pub fn sales(&self) -> Vec<Sale> {
        let mut sales = Vec::new();
        for day in self.first_day().iter_days().take_while(|d| *d <= self.end) {
            for m in crate::demo::STORES {
                sales.extend(day_of_store(day, self.end, m));
            }
        }
        sales.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        let mut returns: Vec<(DateTime<Utc>, usize)> =
            sales.iter().enumerate().filter_map(|(i, s)| s.retour.as_ref().map(|r| (r.at, i))).collect();
        returns.sort();
        for (n, (_, i)) in returns.into_iter().enumerate() {
            if let Some(r) = sales[i].retour.as_mut() {
                r.id = i64::try_from(n).unwrap_or_default() + 1;
            }
        }
        sales
    }

    /// Which week of the history a day is in (0 for the first seven days):
    /// stock receives each store's goods of a week on its first morning.
    pub fn week_of(&self, day: NaiveDate) -> i64 {
        (day - self.first_day()).num_days().div_euclid(7)
    }

    /// 07:00 on the first day of week `week` (the weekly reception).
    pub fn week_start(&self, week: i64) -> DateTime<Utc> {
        local(self.first_day() + Duration::days(week * 7), 7 * 60)
    }
}

/// A deterministic pseudo-random stream (SplitMix64).
struct Rng(u64);

impl Rng {
    fn new(parts: &[u64]) -> Self {
        let mut r = Rng(0x5eed_ca15_5e00_0001);
        for p in parts {
            r.0 ^= *p;
            r.next();
        }
        r
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// In `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A local time (minutes after midnight) of a store day, as UTC.
fn local(day: NaiveDate, minutes: u32) -> DateTime<Utc> {
    let t = day.and_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default();
    match calendar::STORE_TZ.from_local_datetime(&t) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => calendar::day_start(day),
    }
}

fn day_of_store(day: NaiveDate, end: NaiveDate, magasin_id: i64) -> Vec<Sale> {
    let ordinal = u64::try_from(day.num_days_from_ce()).unwrap_or_default();
    let store = u64::try_from(magasin_id).unwrap_or_default();
    let mut rng = Rng::new(&[ordinal, store]);
    let weekday = day.weekday().num_days_from_monday();
    // Longueuil is closed on Sundays.
    if magasin_id == 4 && weekday == 6 {
        return vec![];
    }
    let base: u64 = [12, 9, 7, 5, 8][usize::try_from(magasin_id - 1).unwrap_or_default() % 5];
    let busy = match weekday {
        4 | 5 => base * 3 / 2,
        6 => base * 2 / 3,
        _ => base,
    };
    let n = busy + rng.below(5);
    let cashiers: Vec<_> = crate::demo::CAISSIERS.iter().filter(|c| c.0 == magasin_id).collect();
    let mut minutes: Vec<u32> = (0..n).map(|_| 8 * 60 + u32::try_from(rng.below(13 * 60)).unwrap_or(0)).collect();
    minutes.sort_unstable();
    let mut out = Vec::with_capacity(minutes.len());
    for (k, minute) in minutes.into_iter().enumerate() {
        let at = local(day, minute);
        let (_, caissier_id, caissier_login) =
            *cashiers[usize::try_from(rng.below(cashiers.len() as u64)).unwrap_or(0)];
        let mode = if rng.below(100) < 65 { PaymentMode::Carte } else { PaymentMode::Especes };
        let mut lines: Vec<(i64, i32)> = Vec::new();
        for _ in 0..1 + rng.below(4) {
            // A few products sell much more than the others.
            let r = rng.below(60 * 60);
            let produit = 1 + i64::try_from(r * r / (60 * 60 * 60)).unwrap_or(0);
            let quantite = 1 + i32::try_from(rng.below(3)).unwrap_or(0);
            if !lines.iter().any(|(p, _)| *p == produit) {
                lines.push((produit, quantite));
            }
        }
        lines.sort_unstable();
        let id =
            format!("{:04}{:02}{:02}-{:04}-4000-8000-{:012}", day.year(), day.month(), day.day(), magasin_id, k + 1);
        let roll = rng.below(100);
        let several = lines.len() > 1 || lines[0].1 > 1;
        let mut sale =
            Sale { id, magasin_id, caissier_id, caissier_login, at, mode, lines, retour: None, annulation: None };
        if roll < 4 && several {
            // One unit of the first line comes back the same evening or up to
            // two days later (never after the history's last day).
            let (produit, _) = sale.lines[0];
            let back = (day + Duration::days(i64::try_from(rng.below(3)).unwrap_or(0))).min(end);
            let minute =
                if back == day { minute + 90 } else { 10 * 60 + u32::try_from(rng.below(9 * 60)).unwrap_or(0) };
            let at = local(back, minute);
            sale.retour = Some(Return { id: 0, at, lines: vec![(produit, 1)] });
        } else if (4..6).contains(&roll) {
            let by = if magasin_id <= 2 {
                ["gerant1", "gerant2"][usize::try_from(magasin_id - 1).unwrap_or(0)]
            } else {
                caissier_login
            };
            sale.annulation = Some((at + Duration::minutes(3 + i64::try_from(rng.below(25)).unwrap_or(0)), by));
        }
        out.push(sale);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn five_weeks() -> History {
        History { end: "2026-11-24".parse().unwrap(), days: 35 }
    }

    #[test]
    fn the_plan_is_the_same_every_time() {
        assert_eq!(five_weeks().sales(), five_weeks().sales());
    }

    #[test]
    fn five_weeks_have_sales_returns_and_cancellations_in_every_store() {
        let h = five_weeks();
        let sales = h.sales();
        assert!((1000..3000).contains(&sales.len()), "{}", sales.len());
        for m in crate::demo::STORES {
            let days: std::collections::BTreeSet<_> =
                sales.iter().filter(|s| s.magasin_id == m).map(|s| calendar::store_day(s.at)).collect();
            assert!(days.len() >= 30, "magasin {m}: {} jours", days.len());
        }
        let returns: Vec<i64> = sales.iter().filter_map(|s| s.retour.as_ref().map(|r| r.id)).collect();
        assert!(returns.len() >= 20, "{}", returns.len());
        let mut sorted = returns.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (1..=i64::try_from(returns.len()).unwrap()).collect::<Vec<_>>());
        assert!(sales.iter().filter(|s| s.annulation.is_some()).count() >= 10);
        for mode in PaymentMode::ALL {
            assert!(sales.iter().filter(|s| s.mode == mode).count() > 300);
        }
    }

    #[test]
    fn everything_happens_in_the_past_on_store_days_in_opening_hours() {
        let h = five_weeks();
        for s in h.sales() {
            let day = calendar::store_day(s.at);
            assert!(day >= h.first_day() && day <= h.end, "{}", s.id);
            let hour = s.at.with_timezone(&calendar::STORE_TZ).format("%H").to_string();
            assert!(("08".."21").contains(&hour.as_str()), "{} {hour}", s.id);
            assert!(uuid::Uuid::parse_str(&s.id).is_ok());
            assert!(!s.lines.is_empty() && s.lines.windows(2).all(|w| w[0].0 < w[1].0));
            if let Some(r) = &s.retour {
                assert!(r.at > s.at && calendar::store_day(r.at) <= h.end);
                // Partial: something of the sale stays sold.
                let sold: i32 = s.lines.iter().map(|l| l.1).sum();
                assert!(r.lines.iter().map(|l| l.1).sum::<i32>() < sold);
                assert!(s.annulation.is_none());
            }
            if let Some((at, _)) = s.annulation {
                assert_eq!(calendar::store_day(at), day);
            }
        }
    }
}
