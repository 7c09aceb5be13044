//! The life of a sale, written down once: its states, who may move it from
//! one to the next, and what each state lets the client assume.
//!
//! ```text
//!            reserve ok                 cancel            restocked
//! en_cours ───────────────▶ terminee ───────────▶ annulation ───────────▶ annulee
//!    │
//!    │ refusal, unknown outcome, recovery
//!    ▼                     release confirmed, answer stored
//! compensation ─────────────────────────────────▶ rejetee     (final: the stored 4xx is replayed)
//!    │           release confirmed, nothing to tell
//!    └──────────────────────────────────────────▶ abandonnee  (final: nothing sold, key free again)
//! ```
//!
//! Every move is one guarded `UPDATE … WHERE id = ? AND statut = <from>`
//! (`db::advance`), so of two parties racing for a sale exactly one wins,
//! and the loser reads what the winner decided. Only the party that moved a
//! sale to `compensation` releases its stock; nobody completes a sale once
//! it is there. Only `terminee` (and the cancellation states that follow it)
//! are sales: they, and nothing else, have their stock taken.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a sale is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Recorded with its snapshot; the checkout request (or, after the grace
    /// period, the recovery loop) is reserving its stock.
    EnCours,
    /// Someone decided to undo it: its reservation is being released. It
    /// will never be completed.
    Compensation,
    /// Sold: stock taken, `SaleCompleted` written.
    Terminee,
    /// Refused (short stock...): the stored answer is replayed for its key.
    Rejetee,
    /// Nothing sold and nothing held; the key may be used again.
    Abandonnee,
    /// A cancellation is putting the goods back.
    Annulation,
    /// Cancelled: the goods are back.
    Annulee,
}

/// A move from one state to the next, with the party allowed to make it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Stock holds the reservation: the saga or recovery completes the sale.
    Complete,
    /// The saga (refusal, unknown outcome) or recovery takes the sale over to undo it.
    Compensate,
    /// The release is confirmed and a refusal was stored.
    Reject,
    /// The release is confirmed (or stock was never reached): nothing sold.
    Abandon,
    /// A cashier or gérant cancels a completed sale.
    RequestCancel,
    /// The cancelled goods are back in stock.
    FinishCancel,
}

impl Transition {
    /// The one state this transition leaves, and the one it enters.
    pub const fn edge(self) -> (SaleStatus, SaleStatus) {
        use SaleStatus::*;
        match self {
            Transition::Complete => (EnCours, Terminee),
            Transition::Compensate => (EnCours, Compensation),
            Transition::Reject => (Compensation, Rejetee),
            Transition::Abandon => (Compensation, Abandonnee),
            Transition::RequestCancel => (Terminee, Annulation),
            Transition::FinishCancel => (Annulation, Annulee),
        }
    }

    pub const ALL: [Transition; 6] = [
        Transition::Complete,
        Transition::Compensate,
        Transition::Reject,
        Transition::Abandon,
        Transition::RequestCancel,
        Transition::FinishCancel,
    ];
}

impl SaleStatus {
    pub const ALL: [SaleStatus; 7] = [
        SaleStatus::EnCours,
        SaleStatus::Compensation,
        SaleStatus::Terminee,
        SaleStatus::Rejetee,
        SaleStatus::Abandonnee,
        SaleStatus::Annulation,
        SaleStatus::Annulee,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SaleStatus::EnCours => "en_cours",
            SaleStatus::Compensation => "compensation",
            SaleStatus::Terminee => "terminee",
            SaleStatus::Rejetee => "rejetee",
            SaleStatus::Abandonnee => "abandonnee",
            SaleStatus::Annulation => "annulation",
            SaleStatus::Annulee => "annulee",
        }
    }

    /// A sale: its stock was taken (and may be coming back by cancellation).
    pub const fn is_sold(self) -> bool {
        matches!(self, SaleStatus::Terminee | SaleStatus::Annulation | SaleStatus::Annulee)
    }

    /// Not decided yet: a retry with the same key must wait.
    pub const fn is_pending(self) -> bool {
        matches!(self, SaleStatus::EnCours | SaleStatus::Compensation)
    }

    /// Whether stock may put this sale's reservation back (stock asks vente).
    pub const fn may_release(self) -> bool {
        matches!(self, SaleStatus::Compensation | SaleStatus::Rejetee | SaleStatus::Abandonnee)
    }

    /// The transition from `self` to `next`, if the table allows it.
    pub fn transition_to(self, next: SaleStatus) -> Option<Transition> {
        Transition::ALL.into_iter().find(|t| t.edge() == (self, next))
    }
}

impl std::fmt::Display for SaleStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SaleStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SaleStatus::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("statut de vente inconnu « {s} »"))
    }
}

caisse_common::sql_text_enum!(SaleStatus);

#[cfg(test)]
mod tests {
    use super::{SaleStatus::*, *};

    #[test]
    fn only_the_table_s_moves_are_allowed() {
        let allowed: Vec<(SaleStatus, SaleStatus)> = Transition::ALL.iter().map(|t| t.edge()).collect();
        for from in SaleStatus::ALL {
            for to in SaleStatus::ALL {
                assert_eq!(from.transition_to(to).is_some(), allowed.contains(&(from, to)), "{from} → {to}");
            }
        }
    }

    #[test]
    fn a_sale_under_compensation_can_never_be_completed() {
        assert_eq!(Compensation.transition_to(Terminee), None);
        // The only ways out of compensation are the two final "nothing sold" states.
        let exits: Vec<_> = SaleStatus::ALL.into_iter().filter(|s| Compensation.transition_to(*s).is_some()).collect();
        assert_eq!(exits, vec![Rejetee, Abandonnee]);
        assert!(exits.iter().all(|s| !s.is_sold()));
    }

    #[test]
    fn only_undecided_or_unsold_sales_may_be_released() {
        for s in SaleStatus::ALL {
            assert_eq!(s.may_release(), !s.is_sold() && s != EnCours, "{s}");
        }
    }

    #[test]
    fn statuses_round_trip_through_their_text() {
        for s in SaleStatus::ALL {
            assert_eq!(s.as_str().parse::<SaleStatus>(), Ok(s));
        }
        assert!("vendue".parse::<SaleStatus>().is_err());
    }
}
