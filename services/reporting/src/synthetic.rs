//! `reporting fill <n>`: puts `n` synthetic sales into the read model for
//! the dashboard benchmark (`tests/bench`), through the same projection as
//! real `SaleCompleted` events (`db::projection::sales_completed`, a
//! thousand at a time) without moving any producer's cursor. They are
//! spread over the last 90 store days in the five stores, cash and card;
//! their ids start with `b0000000-` and the command tops up to `n` of
//! them, so running it again adds none.
//! Not for a real deployment: vente knows nothing of them, so the auditor
//! reports their days; `reporting rebuild` removes them.

use caisse_common::{
    calendar,
    events::{PaymentMode, SaleCompleted, SoldLine},
};
use chrono::{Duration, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::{AppState, Config, db::projection};

const PREFIX: &str = "b0000000-";
const DAYS: i64 = 90;
const BATCH: u64 = 1000;

/// A synthetic sale number `k`: deterministic store, time, lines and mode.
fn sale(k: u64) -> (chrono::DateTime<Utc>, SaleCompleted) {
    let mut x = k.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed;
    let mut next = |n: u64| {
        x ^= x >> 33;
        x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
        x ^= x >> 29;
        x % n
    };
    let magasin_id = 1 + i64::try_from(next(5)).unwrap_or(0);
    let days_ago = i64::try_from(next(u64::try_from(DAYS).unwrap_or(1))).unwrap_or(0);
    let at = calendar::day_start(calendar::today() - Duration::days(days_ago))
        + Duration::minutes(8 * 60 + i64::try_from(next(13 * 60)).unwrap_or(0));
    let at = at.min(Utc::now());
    let mut lignes: Vec<SoldLine> = Vec::new();
    for _ in 0..1 + next(4) {
        let produit_id = 1 + i64::try_from(next(60)).unwrap_or(0);
        if lignes.iter().any(|l| l.produit_id == produit_id) {
            continue;
        }
        let quantite = 1 + i32::try_from(next(3)).unwrap_or(0);
        let prix_unitaire = caisse_common::demo::price(produit_id);
        lignes.push(SoldLine {
            produit_id,
            quantite,
            prix_unitaire,
            total_ligne: prix_unitaire * Decimal::from(quantite),
        });
    }
    let sous_total: Decimal = lignes.iter().map(|l| l.total_ligne).sum();
    let cents = |d: Decimal| d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    let (tps, tvq) = (cents(sous_total * Decimal::new(5, 2)), cents(sous_total * Decimal::new(9975, 5)));
    let total = sous_total + tps + tvq;
    let mode_paiement = if next(3) == 0 { PaymentMode::Especes } else { PaymentMode::Carte };
    let vente_id = format!("{PREFIX}0000-4000-8000-{k:012}");
    let s = SaleCompleted {
        vente_id,
        numero: i64::try_from(k).unwrap_or(0),
        magasin_id,
        caissier_id: 0,
        lignes,
        sous_total,
        tps,
        tvq,
        total,
        mode_paiement,
        a_payer: total,
        caisse_id: None,
        session_id: None,
    };
    (at, s)
}

/// Tops the read model up to `n` synthetic sales; prints how many it added.
pub async fn fill(config: &Config, n: u64) -> anyhow::Result<()> {
    let state = AppState::new(config).await?;
    let pool = &state.platform.pool;
    let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ventes WHERE vente_id LIKE ?")
        .bind(format!("{PREFIX}%"))
        .fetch_one(pool)
        .await?;
    let started = std::time::Instant::now();
    let from = u64::try_from(have).unwrap_or(0);
    let mut k = from;
    while k < n {
        let sales: Vec<_> = (k..(k + BATCH).min(n)).map(sale).collect();
        let mut tx = pool.begin().await?;
        projection::sales_completed(&mut tx, &sales).await?;
        tx.commit().await?;
        k = (k + BATCH).min(n);
    }
    println!(
        "{} ventes synthétiques ajoutées ({from} déjà là) en {:.1} s",
        n.saturating_sub(from),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
