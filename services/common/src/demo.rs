//! Demo data that several services' seeds share: the catalogue (names,
//! prices and barcodes of products 1–60, created by produit, sold by vente's
//! history) and the cashiers of the five demo stores. The sales history
//! itself is in [`history`].

pub mod history;

use rust_decimal::Decimal;

/// Names of the demo products; product `id` is `PRODUITS[id - 1]`.
pub const PRODUITS: &[&str] = &[
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

/// The name of demo product `id` (1-based).
pub fn name(id: i64) -> &'static str {
    usize::try_from(id - 1).ok().and_then(|i| PRODUITS.get(i)).copied().unwrap_or("produit")
}

/// Demo price: between 0.99 and 49.99, deterministic.
pub fn price(id: i64) -> Decimal {
    Decimal::new(99 + (id * 373) % 4900, 2)
}

/// The GS1 check digit of a barcode body (produit checks scanned codes with its own).
fn gs1_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 }).sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

/// A valid EAN-13 for demo product `id` (prefix 200: in-store numbering).
pub fn barcode(id: i64) -> String {
    let body = format!("200{:09}", id * 7919);
    let digits: Vec<u8> = body.bytes().map(|b| b - b'0').collect();
    format!("{body}{}", gs1_check_digit(&digits))
}

/// The stores that sell (1–5; 6 is the logistics centre, 7 head office).
pub const STORES: std::ops::RangeInclusive<i64> = 1..=5;

/// The cashiers of each store: (magasin, employee id, login), as caisse's
/// seed creates them in a fresh schema (its test checks the ids).
pub const CAISSIERS: &[(i64, i64, &str)] = &[
    (1, 5, "caissier1"),
    (1, 6, "caissier1b"),
    (2, 7, "caissier2"),
    (3, 8, "caissier3"),
    (4, 9, "caissier4"),
    (5, 10, "caissier5"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn demo_barcodes_are_distinct_thirteen_digits() {
        let codes: std::collections::HashSet<String> = (1..=60).map(super::barcode).collect();
        assert_eq!(codes.len(), 60);
        assert!(codes.iter().all(|c| c.len() == 13));
        assert_eq!(super::PRODUITS.len(), 60);
        assert_eq!(super::name(3), "Lait 2 % 1 L");
    }
}
