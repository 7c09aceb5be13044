//! Demo stock: plenty at the logistics centre (6), some in every store (1–5),
//! each as a `reception` movement so the ledger explains every quantity.
//! Idempotent: one movement per (magasin, produit) under reference `seed`.
//! When the launcher asks for it, the demo sales history's movements too
//! ([`history`]).

pub mod history;

use crate::{
    Config, MIGRATOR,
    db::ledger::{self, Move},
    domain::TypeMouvement,
};

pub const LOGISTIQUE: i64 = 6;
pub const MAGASINS: std::ops::RangeInclusive<i64> = 1..=5;
pub const PRODUITS: std::ops::RangeInclusive<i64> = 1..=60;

pub fn demo_quantity(magasin_id: i64, produit_id: i64) -> i64 {
    if magasin_id == LOGISTIQUE { 1_000 } else { (magasin_id * 7 + produit_id * 13) % 60 + 1 }
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let pool = caisse_common::db::connect(&config.common.database_url, 2, &MIGRATOR).await?;
    if let Some(h) = caisse_common::demo::history::History::from_env()? {
        let started = std::time::Instant::now();
        let written = history::seed(&pool, &h).await?;
        let ms = started.elapsed().as_millis();
        tracing::info!(jours = h.days, fin = %h.end, ecrit = written, ms, "historique de démonstration (stock)");
    }
    seed(&pool).await?;
    tracing::info!("stock de démonstration prêt");
    Ok(())
}

pub async fn seed(pool: &sqlx::MySqlPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for m in MAGASINS.chain(std::iter::once(LOGISTIQUE)) {
        for p in PRODUITS {
            if ledger::has_cause(&mut *tx, TypeMouvement::Reception, "seed", Some((m, p))).await? {
                continue;
            }
            let mv = Move {
                magasin_id: m,
                produit_id: p,
                delta: demo_quantity(m, p),
                type_mouvement: TypeMouvement::Reception,
                reference: "seed",
                motif: "stock initial de démonstration",
                auteur: "seed",
            };
            ledger::apply(&mut tx, mv)
                .await
                .map_err(|e| anyhow::anyhow!("{e:?}"))?
                .map_err(|s| anyhow::anyhow!("stock initial refusé : {s:?}"))?;
        }
    }
    tx.commit().await?;
    Ok(())
}
