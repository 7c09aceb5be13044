//! Demo catalogue: 60 products with valid EAN-13 barcodes, fixed ids 1–60.
//! Idempotent (`INSERT IGNORE` on fixed ids); each product created comes
//! with its `ProductChanged` event.

use caisse_common::events::{ProductAction, ProductChanged, ProductFields};
use rust_decimal::Decimal;

use crate::{Config, MIGRATOR, domain::gs1_check_digit};

const NOMS: &[&str] = &[
    "Baguette",
    "Croissant",
    "Lait 2 % 1 L",
    "Beurre salé 454 g",
    "Œufs calibre gros (12)",
    "Fromage cheddar 400 g",
    "Yogourt nature 750 g",
    "Café moulu 340 g",
    "Thé vert (20 sachets)",
    "Jus d'orange 1,75 L",
    "Eau pétillante 1 L",
    "Sirop d'érable 540 ml",
    "Pommes Cortland (sac 3 lb)",
    "Bananes (lb)",
    "Carottes 2 lb",
    "Pommes de terre 10 lb",
    "Oignons jaunes 3 lb",
    "Tomates en grappe (lb)",
    "Laitue romaine",
    "Brocoli",
    "Poulet entier (kg)",
    "Bœuf haché mi-maigre (kg)",
    "Saumon atlantique (kg)",
    "Jambon tranché 175 g",
    "Tofu ferme 454 g",
    "Pâtes spaghetti 900 g",
    "Riz basmati 2 kg",
    "Farine tout usage 2,5 kg",
    "Sucre blanc 2 kg",
    "Huile d'olive 1 L",
    "Sauce tomate 680 ml",
    "Soupe poulet et nouilles",
    "Céréales avoine 525 g",
    "Biscuits à l'avoine",
    "Chocolat noir 70 %",
    "Croustilles nature 235 g",
    "Maïs soufflé 3 sacs",
    "Savon à vaisselle 740 ml",
    "Détergent à lessive 2,03 L",
    "Papier hygiénique (12)",
    "Essuie-tout (6)",
    "Dentifrice 100 ml",
    "Shampoing 400 ml",
    "Piles AA (8)",
    "Ampoule DEL 60 W",
    "Sacs poubelle (40)",
    "Papier d'aluminium 25 m",
    "Crayons HB (12)",
    "Cahier ligné 200 p.",
    "Ruban adhésif",
    "Bloc-notes adhésifs",
    "Chargeur USB-C 20 W",
    "Écouteurs filaires",
    "Câble USB-C 1 m",
    "Bouteille isotherme 500 ml",
    "Tasse en céramique",
    "Chandelle parfumée",
    "Carte-cadeau 25 $",
    "Journal du jour",
    "Sac réutilisable",
];

/// A valid EAN-13 for demo product `id` (prefix 200: in-store numbering).
pub fn demo_barcode(id: i64) -> String {
    let body = format!("200{:09}", id * 7919);
    let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    format!("{body}{}", gs1_check_digit(&digits))
}

/// Demo price: between 0.99 and 49.99, deterministic.
pub fn demo_price(id: i64) -> Decimal {
    Decimal::new(99 + (id * 373) % 4900, 2)
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
