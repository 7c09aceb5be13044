//! Panier's states and limits: a cart is `ouvert` until the sale that paid
//! it closes it (`ferme`, for good); the only transition is [`StatutPanier::CLOSE`].

use caisse_common::{ApiError, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest quantity of one product in a cart.
pub const MAX_QUANTITE: i64 = 999;
/// Most distinct products in one cart.
pub const MAX_LIGNES: i64 = 100;

/// Where a cart stands: the column `paniers.statut` and the JSON `statut`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatutPanier {
    /// Being built at a register: lines may change.
    Ouvert,
    /// Paid by a sale (its `vente_id`): frozen.
    Ferme,
}

impl StatutPanier {
    /// Closing: the state it must be in, and the state it moves to.
    pub const CLOSE: (Self, Self) = (Self::Ouvert, Self::Ferme);

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ouvert => "ouvert",
            Self::Ferme => "ferme",
        }
    }
}

impl std::str::FromStr for StatutPanier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ouvert" => Ok(Self::Ouvert),
            "ferme" => Ok(Self::Ferme),
            other => Err(format!("statut de panier inconnu « {other} »")),
        }
    }
}

caisse_common::sql_text_enum!(StatutPanier);

/// What remains in a cart once the sold lines are taken out (the lines
/// added while the sale was being paid), positive quantities only.
pub fn left_over(current: &[(i64, i32)], sold: &[(i64, i32)]) -> Vec<(i64, i32)> {
    let sold_of = |p: i64| sold.iter().find(|(s, _)| *s == p).map_or(0, |(_, q)| *q);
    current.iter().map(|(p, q)| (*p, q - sold_of(*p))).filter(|(_, q)| *q > 0).collect()
}

/// Checks the lines a sale says it sold (product, quantity): positive
/// distinct products, quantities a cart can hold, no more lines than a
/// cart has.
pub fn check_sold(lines: &[(i64, i32)]) -> Result<(), ApiError> {
    let mut errors = vec![];
    if i64::try_from(lines.len()).unwrap_or(i64::MAX) > MAX_LIGNES {
        errors.push(FieldError::new("lignes", format!("{MAX_LIGNES} lignes au plus")));
    }
    for (i, (p, q)) in lines.iter().enumerate() {
        if *p <= 0 {
            errors.push(FieldError::new(format!("lignes[{i}].produit_id"), "identifiant de produit invalide"));
        }
        if !(1..=MAX_QUANTITE).contains(&i64::from(*q)) {
            errors.push(FieldError::new(format!("lignes[{i}].quantite"), format!("entier entre 1 et {MAX_QUANTITE}")));
        }
    }
    let mut ids: Vec<i64> = lines.iter().map(|(p, _)| *p).collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        errors.push(FieldError::new("lignes", "un produit ne peut figurer qu'une fois"));
    }
    if errors.is_empty() { Ok(()) } else { Err(ApiError::fields(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cart_states_read_back_what_they_write() {
        for s in [StatutPanier::Ouvert, StatutPanier::Ferme] {
            assert_eq!(s.as_str().parse::<StatutPanier>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert!("vendu".parse::<StatutPanier>().is_err());
    }

    #[test]
    fn left_over_keeps_what_the_sale_did_not_take() {
        assert_eq!(left_over(&[(1, 3), (2, 1), (3, 2)], &[(1, 1), (2, 1)]), vec![(1, 2), (3, 2)]);
        assert!(left_over(&[(1, 1)], &[(1, 1)]).is_empty());
    }

    #[test]
    fn impossible_sold_lines_are_refused() {
        assert!(check_sold(&[(1, 2), (3, 999)]).is_ok());
        for bad in [vec![(-1, 1)], vec![(0, 1)], vec![(1, 0)], vec![(1, 1000)], vec![(1, 1), (1, 2)]] {
            assert!(check_sold(&bad).is_err(), "{bad:?}");
        }
        let many: Vec<(i64, i32)> = (1..=MAX_LIGNES + 1).map(|p| (p, 1)).collect();
        assert!(check_sold(&many).is_err());
    }
}
