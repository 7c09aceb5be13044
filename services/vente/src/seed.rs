//! `vente seed`: vente has no demo rows of its own, except the demo sales
//! history when the launcher asks for it (`caisse_common::demo::history`):
//! weeks of past sales in the five stores, written as they ended up — each
//! with its lines snapshotted from the demo catalogue, the same taxes,
//! cash rounding and refunds as the till (`crate::domain`), and its events
//! (`SaleCompleted`, `SaleReturned`, `SaleCancelled`) and journal entries
//! dated when they happened, so reporting learns them like any sale (and
//! the chainer chains them, in that order, once vente runs). stock's seed
//! writes the same plan's movements. Written once, in one transaction.

use caisse_common::demo::{
    self,
    history::{History, MARK, Sale},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{MySql, MySqlPool, Transaction};

use crate::{
    Config, MIGRATOR,
    db::{
        self,
        history::{self as sql, PastReturn, PastSale},
    },
    domain::{self, Mode},
    events, journal,
    peers::Line,
};

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let Some(h) = History::from_env()? else {
        return Ok(());
    };
    let pool = caisse_common::db::connect(&config.common.database_url, 2, &MIGRATOR).await?;
    let started = std::time::Instant::now();
    let written = seed_history(&pool, &h).await?;
    let ms = started.elapsed().as_millis();
    tracing::info!(jours = h.days, fin = %h.end, ecrit = written, ms, "historique de démonstration (vente)");
    Ok(())
}

/// What the history does at vente, in time order.
enum Step<'a> {
    Sale(&'a Sale),
    Return(&'a Sale),
    Cancel(&'a Sale),
}

/// Writes the history unless it is there; `false` when skipped (already
/// written, or returns exist whose ids the history's would take — stock
/// skips in that case too).
pub async fn seed_history(pool: &MySqlPool, h: &History) -> anyhow::Result<bool> {
    let mut tx = pool.begin().await?;
    if sql::exists(&mut tx, MARK).await? || sql::any_return(&mut tx).await? {
        return Ok(false);
    }
    let sales = h.sales();
    let mut steps: Vec<(DateTime<Utc>, Step<'_>)> = Vec::with_capacity(sales.len() + 100);
    for s in &sales {
        steps.push((s.at, Step::Sale(s)));
        if let Some(r) = &s.retour {
            steps.push((r.at, Step::Return(s)));
        }
        if let Some((at, _)) = s.annulation {
            steps.push((at, Step::Cancel(s)));
        }
    }
    steps.sort_by_key(|(at, _)| *at);
    for (at, step) in steps {
        match step {
            Step::Sale(s) => sale(&mut tx, s).await?,
            Step::Return(s) => give_back(&mut tx, s, at).await?,
            Step::Cancel(s) => cancel(&mut tx, s, at).await?,
        }
    }
    tx.commit().await?;
    Ok(true)
}

fn mode(s: &Sale) -> Mode {
    match s.mode {
        caisse_common::events::PaymentMode::Especes => Mode::Especes,
        caisse_common::events::PaymentMode::Carte => Mode::Carte,
    }
}

fn lines(s: &Sale) -> Vec<db::SaleLine> {
    s.lines
        .iter()
        .map(|&(produit_id, quantite)| db::SaleLine {
            produit_id,
            nom: demo::name(produit_id).to_owned(),
            code_barres: Some(demo::barcode(produit_id)),
            prix_unitaire: demo::price(produit_id),
            quantite,
            total_ligne: demo::price(produit_id) * Decimal::from(quantite),
            quantite_retournee: 0,
        })
        .collect()
}

fn key(s: &Sale) -> String {
    format!("{MARK}:{}", s.id)
}

async fn sale(tx: &mut Transaction<'_, MySql>, s: &Sale) -> anyhow::Result<()> {
    let lines = lines(s);
    let totaux = domain::totaux(lines.iter().map(|l| l.total_ligne).sum());
    let mode = mode(s);
    let a_payer = match mode {
        Mode::Especes => domain::arrondi_especes(totaux.total),
        Mode::Carte => totaux.total,
    };
    // Cash: the customer hands the next multiple of 5 $.
    let five = Decimal::from(5);
    let montant_recu = (mode == Mode::Especes).then(|| {
        let mut r = (a_payer / five).ceil() * five;
        r.rescale(2);
        r
    });
    let k = key(s);
    let past = PastSale {
        id: &s.id,
        key: &k,
        magasin_id: s.magasin_id,
        caissier_id: s.caissier_id,
        caissier_login: s.caissier_login,
        mode,
        montant_recu,
        totaux: &totaux,
        at: s.at,
    };
    let numero = sql::insert_sale(tx, &past, &lines).await?;
    let completion = events::Completion {
        vente_id: &s.id,
        numero,
        magasin_id: s.magasin_id,
        caissier_id: s.caissier_id,
        mode,
        totaux: &totaux,
        a_payer,
        // Past sales predate registers: no register, no session.
        caisse_id: None,
        session_id: None,
    };
    caisse_common::outbox::append_at(tx, &events::completed(&completion, &lines), Some(s.at)).await?;
    journal::append(tx, &journal::sale(&completion, &lines, s.at)).await?;
    Ok(())
}

async fn give_back(tx: &mut Transaction<'_, MySql>, s: &Sale, at: DateTime<Utc>) -> anyhow::Result<()> {
    let Some(r) = &s.retour else { return Ok(()) };
    let pairs: Vec<(i64, i64)> = r.lines.iter().map(|(p, q)| (*p, i64::from(*q))).collect();
    let ici: Decimal = pairs.iter().map(|(p, q)| demo::price(*p) * Decimal::from(*q)).sum();
    let (montant, rembourse) = domain::remboursement(mode(s), Decimal::ZERO, ici);
    let k = format!("{MARK}:retour:{}", r.id);
    let by = s.caissier_login;
    let past = PastReturn { id: r.id, vente_id: &s.id, key: &k, montant: &montant, rembourse, by, lines: &pairs, at };
    sql::insert_return(tx, &past).await?;
    let event = events::returned(&s.id, r.id, s.magasin_id, pairs.iter().copied(), &montant, rembourse);
    caisse_common::outbox::append_at(tx, &event, Some(at)).await?;
    let entry = journal::returned(r.id, &s.id, s.magasin_id, pairs.iter().copied(), &montant, rembourse, at);
    journal::append(tx, &entry).await?;
    Ok(())
}

async fn cancel(tx: &mut Transaction<'_, MySql>, s: &Sale, at: DateTime<Utc>) -> anyhow::Result<()> {
    let Some((_, by)) = s.annulation else { return Ok(()) };
    let restocked: Vec<Line> = s.lines.iter().map(|(p, q)| Line { produit_id: *p, quantite: i64::from(*q) }).collect();
    let left: Decimal = restocked.iter().map(|l| demo::price(l.produit_id) * Decimal::from(l.quantite)).sum();
    let (montant, rembourse) = domain::remboursement(mode(s), Decimal::ZERO, left);
    sql::cancel_sale(tx, &s.id, by, at).await?;
    let event = events::cancelled(&s.id, s.magasin_id, by, &restocked, &montant, rembourse);
    caisse_common::outbox::append_at(tx, &event, Some(at)).await?;
    journal::append(tx, &journal::cancelled(&s.id, s.magasin_id, by, &restocked, &montant, rembourse, at)).await?;
    Ok(())
}
