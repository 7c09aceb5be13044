//! Restocking requests: their types and the rules on approval, reception
//! and suggested quantities (pure functions the unit tests call directly).

use caisse_common::{ApiError, FieldError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Ligne, MAX_LINE_QUANTITY, StatutDemande};

/// A store's request to the logistics centre, with its lines and the trail
/// of its status changes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Demande {
    pub id: i64,
    pub magasin_id: i64,
    pub statut: StatutDemande,
    pub lignes: Vec<LigneDemande>,
    pub motif_refus: Option<String>,
    /// The shipment, once shipped (`/api/stocks/transferts/{id}`).
    pub transfert_id: Option<i64>,
    pub cree_par: String,
    pub cree_le: DateTime<Utc>,
    /// Every status change, oldest first.
    pub historique: Vec<Etape>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LigneDemande {
    pub produit_id: i64,
    pub quantite_demandee: i32,
    /// Set at approval (0: refused for this line).
    pub quantite_approuvee: Option<i32>,
    /// Set at reception.
    pub quantite_recue: Option<i32>,
    /// What the logistics centre holds now (absent when it could not be asked).
    pub quantite_centre: Option<i32>,
}

/// One status change: who, when, and why when there is a reason.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Etape {
    #[serde(skip)]
    #[schema(ignore)]
    pub demande_id: i64,
    pub statut: StatutDemande,
    pub par: String,
    pub le: DateTime<Utc>,
    pub motif: String,
}

/// (produit, quantité) of each line of a request, in product order.
pub type LineQuantities = Vec<(i64, i32)>;

/// Per line, a quantity between 0 and what was requested (approved) or
/// shipped (received); lines left out keep the full quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuantiteLigne {
    pub produit_id: i64,
    pub quantite: i64,
}

/// Checks per-line quantities against `reference` (product → the most each
/// may be) and returns the quantity of every line of `reference`, in its
/// order: the given one, or the full one when the line is left out.
pub fn per_line(reference: &[(i64, i32)], given: &[QuantiteLigne], what: &str) -> Result<LineQuantities, ApiError> {
    let mut errors = vec![];
    let mut out: LineQuantities = reference.to_vec();
    let mut seen = std::collections::BTreeSet::new();
    for (i, g) in given.iter().enumerate() {
        if !seen.insert(g.produit_id) {
            errors.push(FieldError::new(format!("lignes[{i}].produit_id"), "un produit ne peut figurer qu'une fois"));
            continue;
        }
        let Some(slot) = out.iter_mut().find(|(p, _)| *p == g.produit_id) else {
            errors.push(FieldError::new(
                format!("lignes[{i}].produit_id"),
                format!("le produit {} ne figure pas dans la demande", g.produit_id),
            ));
            continue;
        };
        let max = i64::from(reference.iter().find(|(p, _)| *p == g.produit_id).map_or(0, |r| r.1));
        if !(0..=max).contains(&g.quantite) {
            errors.push(FieldError::new(format!("lignes[{i}].quantite"), format!("entre 0 et {max} ({what})")));
            continue;
        }
        slot.1 = i32::try_from(g.quantite).unwrap_or_default();
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::fields(errors)) }
}

/// The approved quantity of each line; at least one must be above zero
/// (approving nothing is a refusal, which takes a reason).
pub fn approval(requested: &[(i64, i32)], given: &[QuantiteLigne]) -> Result<LineQuantities, ApiError> {
    let approved = per_line(requested, given, "quantité demandée au plus")?;
    if approved.iter().all(|(_, q)| *q == 0) {
        return Err(ApiError::field("lignes", "aucune quantité approuvée : refusez la demande avec un motif"));
    }
    Ok(approved)
}

/// A reason: trimmed, 1 to 255 characters.
pub fn reason(champ: &str, motif: Option<&str>) -> Result<String, ApiError> {
    let m = motif.unwrap_or_default().trim();
    if m.is_empty() || m.chars().count() > 255 {
        return Err(ApiError::field(champ, "obligatoire, 255 caractères au plus"));
    }
    Ok(m.to_owned())
}

/// What a reception records: the received quantity of every shipped line,
/// and the reason when some fell short (then required).
pub fn reception(
    shipped: &[(i64, i32)],
    given: &[QuantiteLigne],
    motif: Option<&str>,
) -> Result<(LineQuantities, Option<String>), ApiError> {
    let received = per_line(shipped, given, "quantité expédiée au plus")?;
    let short = received.iter().zip(shipped).any(|((_, r), (_, s))| r < s);
    let motif = if short {
        Some(reason("motif", motif).map_err(|_| {
            ApiError::field("motif", "un écart de réception demande un motif (colis endommagé, manquant, …)")
        })?)
    } else {
        None
    };
    Ok((received, motif))
}

/// Checks a new request's lines (as a transfer's: 1 to 200 distinct
/// products, quantities 1 to 100 000).
pub fn new_lines(lignes: &[Ligne]) -> Result<Vec<Ligne>, ApiError> {
    super::check_lines(lignes)
}

/// The level a suggestion fills an entry up to: its own target, else twice
/// its alert threshold (at least one above it), never above overstock.
pub fn target(seuil_alerte: i32, seuil_surstock: i32, niveau_cible: Option<i32>) -> i32 {
    let t = niveau_cible.unwrap_or_else(|| seuil_alerte.saturating_mul(2).max(seuil_alerte.saturating_add(1)));
    t.min(seuil_surstock)
}

/// The quantity to ask for: up to the target, for an entry at or below its
/// alert threshold only.
pub fn suggested(quantite: i32, seuil_alerte: i32, seuil_surstock: i32, niveau_cible: Option<i32>) -> Option<i32> {
    if quantite > seuil_alerte {
        return None;
    }
    let q = target(seuil_alerte, seuil_surstock, niveau_cible) - quantite;
    (q > 0 && i64::from(q) <= MAX_LINE_QUANTITY).then_some(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(produit_id: i64, quantite: i64) -> QuantiteLigne {
        QuantiteLigne { produit_id, quantite }
    }

    #[test]
    fn approval_is_full_by_default_partial_per_line_and_never_above_the_request() {
        let req = [(1, 10), (2, 5)];
        assert_eq!(approval(&req, &[]).unwrap(), vec![(1, 10), (2, 5)]);
        assert_eq!(approval(&req, &[q(2, 3)]).unwrap(), vec![(1, 10), (2, 3)]);
        assert_eq!(approval(&req, &[q(1, 0)]).unwrap(), vec![(1, 0), (2, 5)]);
        assert!(approval(&req, &[q(1, 0), q(2, 0)]).is_err());
        assert!(approval(&req, &[q(1, 11)]).is_err());
        assert!(approval(&req, &[q(1, -1)]).is_err());
        assert!(approval(&req, &[q(3, 1)]).is_err());
        assert!(approval(&req, &[q(1, 1), q(1, 2)]).is_err());
        assert!(approval(&req, &[q(1, i64::MIN)]).is_err());
    }

    #[test]
    fn a_short_reception_needs_a_reason_and_an_exact_one_does_not() {
        let shipped = [(1, 10), (2, 5)];
        assert_eq!(reception(&shipped, &[], None).unwrap(), (vec![(1, 10), (2, 5)], None));
        assert!(reception(&shipped, &[q(1, 8)], None).is_err());
        assert!(reception(&shipped, &[q(1, 8)], Some("  ")).is_err());
        let (got, motif) = reception(&shipped, &[q(1, 8)], Some(" carton abîmé ")).unwrap();
        assert_eq!(got, vec![(1, 8), (2, 5)]);
        assert_eq!(motif.as_deref(), Some("carton abîmé"));
        assert!(reception(&shipped, &[q(2, 6)], Some("x")).is_err());
    }

    #[test]
    fn suggestions_fill_entries_at_or_below_threshold_up_to_their_target() {
        assert_eq!(suggested(3, 5, 1000, None), Some(7));
        assert_eq!(suggested(0, 5, 1000, Some(40)), Some(40));
        assert_eq!(suggested(5, 5, 1000, None), Some(5));
        assert_eq!(suggested(6, 5, 1000, None), None);
        assert_eq!(suggested(0, 0, 1000, None), Some(1));
        assert_eq!(suggested(2, 5, 8, Some(50)), Some(6));
    }
}
