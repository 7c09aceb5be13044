//! Stock types and the rules on their inputs (pure functions the unit
//! tests call directly); the kinds and states stored as text in `states`.

mod demandes;
mod states;

pub use demandes::*;
pub use states::*;

use caisse_common::{ApiError, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest quantity a single line may move.
pub const MAX_LINE_QUANTITY: i64 = 100_000;
/// Most lines in one transfer.
pub const MAX_LINES: usize = 200;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Stock {
    pub magasin_id: i64,
    pub produit_id: i64,
    pub quantite: i32,
    pub seuil_alerte: i32,
    pub seuil_surstock: i32,
    /// The level a suggested restocking request fills up to (absent: the
    /// default, twice the alert threshold).
    pub niveau_cible: Option<i32>,
    pub modifie_le: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Mouvement {
    pub id: i64,
    pub magasin_id: i64,
    pub produit_id: i64,
    pub delta: i32,
    pub quantite_apres: i32,
    #[serde(rename = "type")]
    #[sqlx(rename = "type")]
    pub type_mouvement: TypeMouvement,
    pub reference: String,
    pub motif: String,
    pub auteur: String,
    pub cree_le: DateTime<Utc>,
}

/// A transfer from the logistics centre to a store.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transfert {
    pub id: i64,
    pub source_id: i64,
    pub destination_id: i64,
    pub lignes: Vec<Ligne>,
    pub auteur: String,
    pub cree_le: DateTime<Utc>,
}

/// A sale's reservation at one magasin.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Reservation {
    pub vente_id: String,
    pub magasin_id: i64,
    pub statut: StatutReservation,
    pub lignes: Vec<Ligne>,
}

/// How far an entry is from its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Niveau {
    /// Nothing left.
    Rupture,
    /// At or below the alert threshold.
    Bas,
    /// Above the overstock threshold.
    Surstock,
}

/// The alert level of a quantity, if any.
pub fn niveau(quantite: i32, seuil_alerte: i32, seuil_surstock: i32) -> Option<Niveau> {
    if quantite == 0 {
        Some(Niveau::Rupture)
    } else if quantite <= seuil_alerte {
        Some(Niveau::Bas)
    } else if quantite > seuil_surstock {
        Some(Niveau::Surstock)
    } else {
        None
    }
}

/// One line to move: a product and a positive quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ligne {
    pub produit_id: i64,
    pub quantite: i64,
}

/// Checks lines: 1..=MAX_LINES, distinct positive ids, quantities in range.
/// Returns them sorted by product id, the order rows are locked in.
pub fn check_lines(lignes: &[Ligne]) -> Result<Vec<Ligne>, ApiError> {
    let mut errors = vec![];
    if lignes.is_empty() || lignes.len() > MAX_LINES {
        errors.push(FieldError::new("lignes", format!("entre 1 et {MAX_LINES} lignes")));
    }
    for (i, l) in lignes.iter().enumerate() {
        if l.produit_id <= 0 {
            errors.push(FieldError::new(format!("lignes[{i}].produit_id"), "identifiant de produit invalide"));
        }
        if !(1..=MAX_LINE_QUANTITY).contains(&l.quantite) {
            errors.push(FieldError::new(
                format!("lignes[{i}].quantite"),
                format!("entier entre 1 et {MAX_LINE_QUANTITY}"),
            ));
        }
    }
    let mut sorted = lignes.to_vec();
    sorted.sort_by_key(|l| l.produit_id);
    if sorted.windows(2).any(|w| w[0].produit_id == w[1].produit_id) {
        errors.push(FieldError::new("lignes", "un produit ne peut figurer qu'une fois"));
    }
    if errors.is_empty() { Ok(sorted) } else { Err(ApiError::fields(errors)) }
}

/// Checks a hand-made movement and returns its trimmed reason. The delta
/// is compared without taking its absolute value (`i64::MIN` has none).
pub fn check_ajustement(kind: TypeAjustement, magasin_id: i64, delta: i64, motif: &str) -> Result<String, ApiError> {
    let mut errors = vec![];
    if delta == 0 || !(-MAX_LINE_QUANTITY..=MAX_LINE_QUANTITY).contains(&delta) {
        errors.push(FieldError::new(
            "delta",
            format!("entier non nul entre -{MAX_LINE_QUANTITY} et {MAX_LINE_QUANTITY}"),
        ));
    } else if kind == TypeAjustement::Reception && delta < 0 {
        errors.push(FieldError::new("delta", "une réception est positive"));
    }
    let motif = motif.trim();
    if motif.is_empty() || motif.chars().count() > 255 {
        errors.push(FieldError::new("motif", "obligatoire, 255 caractères au plus"));
    }
    if magasin_id <= 0 {
        errors.push(FieldError::new("magasin_id", "identifiant invalide"));
    }
    if errors.is_empty() { Ok(motif.to_owned()) } else { Err(ApiError::fields(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_levels_follow_thresholds() {
        assert_eq!(niveau(0, 5, 100), Some(Niveau::Rupture));
        assert_eq!(niveau(5, 5, 100), Some(Niveau::Bas));
        assert_eq!(niveau(6, 5, 100), None);
        assert_eq!(niveau(101, 5, 100), Some(Niveau::Surstock));
    }

    #[test]
    fn lines_are_bounded_at_max_lines_and_quantities_at_max_line_quantity() {
        let lines = |n: i64, q: i64| (1..=n).map(|p| Ligne { produit_id: p, quantite: q }).collect::<Vec<_>>();
        assert_eq!(check_lines(&lines(MAX_LINES as i64, MAX_LINE_QUANTITY)).unwrap().len(), MAX_LINES);
        let err = check_lines(&lines(MAX_LINES as i64 + 1, 1)).unwrap_err();
        assert_eq!(err.body()["errors"][0]["champ"], "lignes");
        let err = check_lines(&lines(1, MAX_LINE_QUANTITY + 1)).unwrap_err();
        assert_eq!(err.body()["errors"][0]["champ"], "lignes[0].quantite");
    }

    #[test]
    fn zero_negative_huge_and_duplicate_lines_are_rejected() {
        let l = |p, q| Ligne { produit_id: p, quantite: q };
        assert!(check_lines(&[]).is_err());
        assert!(check_lines(&[l(1, 0)]).is_err());
        assert!(check_lines(&[l(1, -3)]).is_err());
        assert!(check_lines(&[l(1, MAX_LINE_QUANTITY + 1)]).is_err());
        assert!(check_lines(&[l(1, 1), l(1, 2)]).is_err());
        assert_eq!(check_lines(&[l(3, 1), l(1, 2)]).unwrap()[0].produit_id, 1);
    }

    #[test]
    fn adjustment_deltas_are_bounded_without_overflow() {
        let adj = TypeAjustement::Ajustement;
        for delta in [i64::MIN, i64::MIN + 1, i64::MAX, -MAX_LINE_QUANTITY - 1, MAX_LINE_QUANTITY + 1, 0] {
            let err = check_ajustement(adj, 1, delta, "casse").unwrap_err();
            assert_eq!(err.body()["errors"][0]["champ"], "delta", "{delta}");
        }
        assert!(check_ajustement(adj, 1, -MAX_LINE_QUANTITY, "casse").is_ok());
        assert!(check_ajustement(TypeAjustement::Reception, 1, -1, "x").is_err());
        assert_eq!(check_ajustement(adj, 1, 3, "  inventaire ").unwrap(), "inventaire");
        assert!(check_ajustement(adj, 1, 3, " ").is_err());
        assert!(check_ajustement(adj, 0, 3, "x").is_err());
    }
}
