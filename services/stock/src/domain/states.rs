//! The kinds and states the stock schema stores as text, each with its SQL
//! and JSON text written once, and the one rule that depends on a sale's
//! status at vente.

use caisse_common::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Implements `as_str` / `FromStr` / the SQL text mapping of a unit enum
/// from one table of (variant, text): the text is the column's and the
/// JSON's value, written once.
macro_rules! text_enum {
    ($t:ident, $what:literal, { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl std::str::FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok(Self::$v),)+
                    other => Err(format!(concat!($what, " inconnu « {} »"), other)),
                }
            }
        }
        caisse_common::sql_text_enum!($t);
    };
}

/// What caused a movement: the column `type` of `mouvements`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypeMouvement {
    /// Goods received (and the demo stock).
    Reception,
    TransfertSortie,
    TransfertEntree,
    /// A correction after a count, breakage, theft.
    Ajustement,
    /// A sale's reservation.
    Vente,
    /// A compensated sale's reservation put back.
    Liberation,
    /// Returned or cancelled goods put back.
    Retour,
    /// Goods shipped for a restocking request that did not arrive.
    EcartReception,
}

text_enum!(TypeMouvement, "type de mouvement", {
    Reception => "reception",
    TransfertSortie => "transfert_sortie",
    TransfertEntree => "transfert_entree",
    Ajustement => "ajustement",
    Vente => "vente",
    Liberation => "liberation",
    Retour => "retour",
    EcartReception => "ecart_reception",
});

/// A restocking request: `creee`, then `approuvee` (fully or partly) or
/// `refusee`; an approved one is `expediee`, then `recue`. The transitions
/// are the constants below; a guarded `UPDATE … WHERE statut = ?` applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatutDemande {
    Creee,
    Approuvee,
    Refusee,
    Expediee,
    Recue,
}

text_enum!(StatutDemande, "statut de demande", {
    Creee => "creee",
    Approuvee => "approuvee",
    Refusee => "refusee",
    Expediee => "expediee",
    Recue => "recue",
});

impl StatutDemande {
    pub const APPROVE: (Self, Self) = (Self::Creee, Self::Approuvee);
    pub const REFUSE: (Self, Self) = (Self::Creee, Self::Refusee);
    pub const SHIP: (Self, Self) = (Self::Approuvee, Self::Expediee);
    pub const RECEIVE: (Self, Self) = (Self::Expediee, Self::Recue);

    /// Still waiting for something (its lines count as open).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Refusee | Self::Recue)
    }

    /// How the status reads in a message.
    pub fn label(self) -> &'static str {
        match self {
            Self::Creee => "créée",
            Self::Approuvee => "approuvée",
            Self::Refusee => "refusée",
            Self::Expediee => "expédiée",
            Self::Recue => "reçue",
        }
    }
}

/// The two kinds of hand-made movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypeAjustement {
    /// A correction (admin), either sign.
    Ajustement,
    /// Goods received (logistique or admin), positive only.
    Reception,
}

impl TypeAjustement {
    pub fn type_mouvement(self) -> TypeMouvement {
        match self {
            Self::Ajustement => TypeMouvement::Ajustement,
            Self::Reception => TypeMouvement::Reception,
        }
    }

    /// Who may make one.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Self::Ajustement => &[Role::Admin],
            Self::Reception => &[Role::Admin, Role::Logistique],
        }
    }
}

/// A sale's reservation: `reservee` until released, then `liberee` for
/// good (the only transition, [`StatutReservation::release`]). A release
/// of an unknown sale creates it `liberee` (a tombstone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatutReservation {
    Reservee,
    Liberee,
}

text_enum!(StatutReservation, "statut de réservation", {
    Reservee => "reservee",
    Liberee => "liberee",
});

impl StatutReservation {
    /// The state a release moves to, from the state it must be in.
    pub const RELEASE: (Self, Self) = (Self::Reservee, Self::Liberee);
}

/// A sale's status as vente reports it (`GET /api/ventes/{id}/etat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatutVente {
    EnCours,
    Compensation,
    Terminee,
    Rejetee,
    Annulation,
    Annulee,
    Abandonnee,
}

text_enum!(StatutVente, "statut de vente", {
    EnCours => "en_cours",
    Compensation => "compensation",
    Terminee => "terminee",
    Rejetee => "rejetee",
    Annulation => "annulation",
    Annulee => "annulee",
    Abandonnee => "abandonnee",
});

/// Whether stock may put back a sale's reservation, given what vente says
/// of the sale (`None`: vente never heard of it). Only a sale being
/// compensated, refused or abandoned gives its stock back by a release; a
/// completed or cancelled sale's goods come back through vente (a return or
/// a cancellation), never twice.
pub fn may_release(vente: Option<StatutVente>) -> bool {
    matches!(vente, None | Some(StatutVente::Compensation | StatutVente::Rejetee | StatutVente::Abandonnee))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_compensated_refused_abandoned_or_unknown_sale_may_be_released() {
        use StatutVente::*;
        assert!(may_release(None));
        for s in [Compensation, Rejetee, Abandonnee] {
            assert!(may_release(Some(s)), "{s:?}");
        }
        for s in [EnCours, Terminee, Annulation, Annulee] {
            assert!(!may_release(Some(s)), "{s:?}");
        }
    }

    #[test]
    fn kinds_and_states_read_back_what_they_write() {
        for t in [TypeMouvement::Reception, TypeMouvement::TransfertSortie, TypeMouvement::Liberation] {
            assert_eq!(t.as_str().parse::<TypeMouvement>(), Ok(t));
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
        }
        assert_eq!("liberee".parse::<StatutReservation>(), Ok(StatutReservation::Liberee));
        assert_eq!("en_cours".parse::<StatutVente>(), Ok(StatutVente::EnCours));
        assert!("vendue".parse::<StatutVente>().is_err());
    }
}
