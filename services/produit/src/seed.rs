//! Demo catalogue: 60 products with valid EAN-13 barcodes, fixed ids 1–60
//! (names, prices and barcodes in `caisse_common::demo`, which vente's demo
//! history sells too).
//! Idempotent (`INSERT IGNORE` on fixed ids); each product created comes
//! with its `ProductChanged` event.

use caisse_common::events::{ProductAction, ProductChanged, ProductFields};
use rust_decimal::Decimal;

use crate::{Config, MIGRATOR};

use caisse_common::demo::PRODUITS as NOMS;

/// A valid EAN-13 for demo product `id` (prefix 200: in-store numbering).
pub fn demo_barcode(id: i64) -> String {
    caisse_common::demo::barcode(id)
}

/// Demo price: between 0.99 and 49.99, deterministic.
pub fn demo_price(id: i64) -> Decimal {
    caisse_common::demo::price(id)
}

pub async fn run(config: &Config) -> anyhow::Result<()> {
    let pool = caisse_common::db::connect(&config.common.database_url, 2, &MIGRATOR).await?;
    seed(&pool).await?;
    tracing::info!(produits = NOMS.len(), "catalogue de démonstration prêt");
    Ok(())
}

/// Inserts the products that are missing, each with its creation event
/// (so that consumers such as reporting know the catalogue).
pub async fn seed(pool: &sqlx::MySqlPool) -> anyhow::Result<()> {
    for (i, nom) in NOMS.iter().enumerate() {
        let id = i64::try_from(i).unwrap_or_default() + 1;
        let description = format!("{nom} — produit de démonstration");
        let mut tx = pool.begin().await?;
        if crate::db::seed_insert(&mut tx, id, nom, &description, demo_price(id), &demo_barcode(id)).await? {
            let apres = ProductFields {
                nom: (*nom).to_owned(),
                description,
                prix: demo_price(id),
                code_barres: Some(demo_barcode(id)),
                actif: true,
                version: 1,
            };
            let event = ProductChanged {
                produit_id: id,
                action: ProductAction::Creation,
                par: "seed".into(),
                avant: None,
                apres,
            };
            crate::history::record(&mut tx, &event).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}

/// Number of demo products.
pub fn count() -> usize {
    NOMS.len()
}

#[cfg(test)]
mod tests {
    #[test]
    fn demo_barcodes_are_valid_and_distinct() {
        let codes: std::collections::HashSet<String> = (1..=60).map(super::demo_barcode).collect();
        assert_eq!(codes.len(), 60);
        for c in &codes {
            assert!(c.parse::<crate::domain::CodeBarres>().is_ok(), "{c}");
        }
        assert_eq!(super::count(), 60);
    }
}
