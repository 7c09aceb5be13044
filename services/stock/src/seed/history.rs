//! stock's part of the demo history (`caisse_common::demo::history`): each
//! store receives on the first morning of each week what it sells that week,
//! then every sale reserves its lines, returns and cancellations put goods
//! back — the very movements the checkout, return and cancellation paths
//! write, in the order they happened, dated then, each with its event.
//! Written once, in one transaction.

use std::collections::BTreeMap;

use caisse_common::{
    demo::history::{AUTHOR, History, MARK, Sale},
    extract::fingerprint,
};
use chrono::{DateTime, Utc};
use sqlx::MySqlPool;

use crate::{
    db::{
        ledger::{self, Move},
        reservations,
    },
    domain::{Ligne, TypeMouvement},
};

/// What the history does to stock, in time order.
enum Step<'a> {
    Reception { magasin_id: i64, reference: String, lines: Vec<(i64, i64)> },
    Sale(&'a Sale),
    Return(&'a Sale),
    Cancel(&'a Sale),
}

fn steps<'a>(h: &History, sales: &'a [Sale]) -> Vec<(DateTime<Utc>, Step<'a>)> {
    let mut weekly: BTreeMap<(i64, i64), BTreeMap<i64, i64>> = BTreeMap::new();
    for s in sales {
        let week = h.week_of(caisse_common::calendar::store_day(s.at));
        for (p, q) in &s.lines {
            *weekly.entry((week, s.magasin_id)).or_default().entry(*p).or_default() += i64::from(*q);
        }
    }
    let mut out: Vec<(DateTime<Utc>, Step<'a>)> = weekly
        .into_iter()
        .map(|((week, magasin_id), lines)| {
            let at = h.week_start(week);
            let reference = format!("{MARK}:{}", caisse_common::calendar::store_day(at));
            (at, Step::Reception { magasin_id, reference, lines: lines.into_iter().collect() })
        })
        .collect();
    for s in sales {
        out.push((s.at, Step::Sale(s)));
        if let Some(r) = &s.retour {
            out.push((r.at, Step::Return(s)));
        }
        if let Some((at, _)) = s.annulation {
            out.push((at, Step::Cancel(s)));
        }
    }
    // Stable: a week's receptions (07:00) come before its first sale.
    out.sort_by_key(|(at, _)| *at);
    out
}

async fn apply(
    tx: &mut sqlx::Transaction<'static, sqlx::MySql>,
    at: DateTime<Utc>,
    mv: Move<'_>,
) -> anyhow::Result<()> {
    ledger::apply_at(tx, mv, Some(at))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
        .map_err(|s| anyhow::anyhow!("historique : stock insuffisant {s:?}"))?;
    Ok(())
}

/// Writes the history's movements unless they are there; `false` when
/// skipped (already written, or real returns exist whose ids the history's
/// returns would take — vente skips in that case too).
pub async fn seed(pool: &MySqlPool, h: &History) -> anyhow::Result<bool> {
    let done: Option<i64> = sqlx::query_scalar("SELECT id FROM mouvements WHERE reference LIKE ? LIMIT 1")
        .bind(format!("{MARK}:%"))
        .fetch_optional(pool)
        .await?;
    let returns: Option<i64> = sqlx::query_scalar("SELECT id FROM mouvements WHERE reference LIKE 'retour:%' LIMIT 1")
        .fetch_optional(pool)
        .await?;
    if done.is_some() || returns.is_some() {
        return Ok(false);
    }
    let sales = h.sales();
    let mut tx = pool.begin().await?;
    for (at, step) in steps(h, &sales) {
        let (magasin_id, kind, reference, motif, lines) = match step {
            Step::Reception { magasin_id, reference, lines } => {
                (magasin_id, TypeMouvement::Reception, reference, "réception hebdomadaire", lines)
            }
            Step::Sale(s) => {
                let lignes: Vec<Ligne> =
                    s.lines.iter().map(|(p, q)| Ligne { produit_id: *p, quantite: i64::from(*q) }).collect();
                let fp = fingerprint(&(s.magasin_id, &lignes));
                reservations::insert(&mut tx, &s.id, s.magasin_id, &fp, &lignes, AUTHOR).await?;
                let lines = s.lines.iter().map(|(p, q)| (*p, -i64::from(*q))).collect();
                (s.magasin_id, TypeMouvement::Vente, format!("vente:{}", s.id), "vente", lines)
            }
            Step::Return(s) => {
                let r = s.retour.as_ref().map(|r| (r.id, r.lines.clone())).unwrap_or_default();
                let lines = r.1.iter().map(|(p, q)| (*p, i64::from(*q))).collect();
                (s.magasin_id, TypeMouvement::Retour, format!("retour:{}", r.0), "retour client", lines)
            }
            Step::Cancel(s) => {
                let lines = s.lines.iter().map(|(p, q)| (*p, i64::from(*q))).collect();
                (s.magasin_id, TypeMouvement::Retour, format!("annulation:{}", s.id), "annulation de la vente", lines)
            }
        };
        for (produit_id, delta) in lines {
            let mv = Move {
                magasin_id,
                produit_id,
                delta,
                type_mouvement: kind,
                reference: &reference,
                motif,
                auteur: AUTHOR,
            };
            apply(&mut tx, at, mv).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}
