//! Money rules of a sale: Québec taxes and cash rounding.
//!
//! Taxes are computed once per sale on the subtotal (not per line), each
//! rounded to the cent half away from zero: TPS 5 %, TVQ 9.975 %, both on the
//! subtotal. Many cheap lines therefore pay the same tax as one line of the
//! same amount. Cash totals are rounded to the nearest 0.05 $ (Canada has no
//! cent coin since 2013); cards pay the exact total.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub const TPS_RATE: Decimal = Decimal::from_parts(5, 0, 0, false, 2); // 0.05
pub const TVQ_RATE: Decimal = Decimal::from_parts(9975, 0, 0, false, 5); // 0.09975

fn cents(d: Decimal) -> Decimal {
    let mut r = d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(2);
    r
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Totaux {
    #[schema(value_type = String)]
    pub sous_total: Decimal,
    #[schema(value_type = String)]
    pub tps: Decimal,
    #[schema(value_type = String)]
    pub tvq: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// Taxes and total of a subtotal.
pub fn totaux(sous_total: Decimal) -> Totaux {
    let sous_total = cents(sous_total);
    let tps = cents(sous_total * TPS_RATE);
    let tvq = cents(sous_total * TVQ_RATE);
    Totaux { sous_total, tps, tvq, total: sous_total + tps + tvq }
}

/// What a cash customer pays: the total rounded to the nearest 0.05 $.
pub fn arrondi_especes(total: Decimal) -> Decimal {
    let twenty = Decimal::from(20);
    let mut r = (total * twenty).round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero) / twenty;
    r.rescale(2);
    r
}

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Especes,
    Carte,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Especes => "especes",
            Mode::Carte => "carte",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "especes" => Ok(Mode::Especes),
            "carte" => Ok(Mode::Carte),
            other => Err(format!("mode de paiement inconnu « {other} »")),
        }
    }
}

caisse_common::sql_text_enum!(Mode);

/// Parses an amount of money: non-negative, at most two decimals.
pub fn montant(raw: &str) -> Result<Decimal, String> {
    let d =
        Decimal::from_str_exact(raw.trim()).map_err(|_| format!("« {raw} » n'est pas un montant (ex. \"20.00\")"))?;
    if d.is_sign_negative() || d.normalize().scale() > 2 || d > Decimal::from(1_000_000) {
        return Err("montant positif, deux décimales au plus, 1 000 000 au plus".into());
    }
    Ok(cents(d))
}

/// Payment settled: what is due, what was tendered, the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reglement {
    pub mode: Mode,
    /// Amount due after cash rounding (equal to the total for cards).
    #[schema(value_type = String)]
    pub a_payer: Decimal,
    #[schema(value_type = String)]
    pub arrondi: Decimal,
    #[schema(value_type = Option<String>)]
    pub montant_recu: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub monnaie: Option<Decimal>,
}

/// Settles `total`; `Err` when cash tendered does not cover it.
pub fn regler(total: Decimal, mode: Mode, recu: Option<Decimal>) -> Result<Reglement, String> {
    match mode {
        Mode::Carte => {
            Ok(Reglement { mode, a_payer: total, arrondi: cents(Decimal::ZERO), montant_recu: None, monnaie: None })
        }
        Mode::Especes => {
            let a_payer = arrondi_especes(total);
            let recu = recu.ok_or("montant_recu obligatoire pour un paiement en espèces")?;
            if recu < a_payer {
                return Err(format!("montant reçu {recu} $ insuffisant : {a_payer} $ à payer"));
            }
            Ok(Reglement {
                mode,
                a_payer,
                arrondi: a_payer - total,
                montant_recu: Some(recu),
                monnaie: Some(recu - a_payer),
            })
        }
    }
}

/// What a return refunds, given the subtotal already returned before it
/// and the subtotal it returns: the taxes-included total of everything
/// returned after it, minus the same before it. Over any sequence of
/// returns and a final cancellation this telescopes to exactly the sale's
/// total — never more, whatever the order or size of the pieces, and each
/// line can only be returned up to what was sold. A cash refund is the
/// difference of the cash-rounded amounts (0.05 $), so cash refunds add up
/// to what the customer paid in cash; a card refund is exact.
pub fn remboursement(mode: Mode, deja_retourne: Decimal, retourne_ici: Decimal) -> (Totaux, Decimal) {
    let before = totaux(deja_retourne);
    let after = totaux(deja_retourne + retourne_ici);
    let montant = Totaux {
        sous_total: after.sous_total - before.sous_total,
        tps: after.tps - before.tps,
        tvq: after.tvq - before.tvq,
        total: after.total - before.total,
    };
    let rembourse = match mode {
        Mode::Carte => montant.total,
        Mode::Especes => arrondi_especes(after.total) - arrondi_especes(before.total),
    };
    (montant, rembourse)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refunds of `pieces` returned one after the other (subtotals).
    fn refunds(mode: Mode, pieces: &[&str]) -> (Decimal, Decimal) {
        let (mut done, mut total, mut cash) = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for p in pieces {
            let (m, r) = remboursement(mode, done, d(p));
            assert!(m.total >= Decimal::ZERO && r >= Decimal::ZERO, "{p}: {m:?} {r}");
            assert_eq!(m.sous_total + m.tps + m.tvq, m.total);
            done += d(p);
            total += m.total;
            cash += r;
        }
        (total, cash)
    }

    #[test]
    fn single_returns_never_refund_more_than_was_paid() {
        // 10 × 0.10 $ sold for 1.15 $: returned one at a time, 1.15 $ back, not 1.20 $.
        let sale = totaux(d("1.00"));
        assert_eq!(sale.total, d("1.15"));
        assert_eq!(refunds(Mode::Carte, &["0.10"; 10]), (d("1.15"), d("1.15")));
        // 3 × 4.99 $ paid 17.20 $ cash: three single returns give back 17.20 $, not 17.22 $.
        let sale = totaux(d("14.97"));
        assert_eq!((sale.total, arrondi_especes(sale.total)), (d("17.21"), d("17.20")));
        let (total, cash) = refunds(Mode::Especes, &["4.99", "4.99", "4.99"]);
        assert_eq!((total, cash), (d("17.21"), d("17.20")));
        // Every cash refund is a multiple of 0.05 $.
        let (_, first) = remboursement(Mode::Especes, Decimal::ZERO, d("4.99"));
        assert_eq!(first, d("5.75"));
    }

    #[test]
    fn returns_then_a_cancellation_add_up_to_the_sale() {
        // Two returns, then the cancellation refunds what is left.
        for mode in [Mode::Carte, Mode::Especes] {
            let (total, cash) = refunds(mode, &["0.33", "1.99", "7.07"]);
            let sale = totaux(d("9.39"));
            assert_eq!(total, sale.total);
            let paid = if mode == Mode::Especes { arrondi_especes(sale.total) } else { sale.total };
            assert_eq!(cash, paid, "{mode:?}");
        }
    }

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    /// Receipts computed by hand.
    #[test]
    fn known_receipts() {
        let cases = [
            ("10.00", "0.50", "1.00", "11.50"),
            ("1.00", "0.05", "0.10", "1.15"),
            ("19.99", "1.00", "1.99", "22.98"),
            ("0.10", "0.01", "0.01", "0.12"),
            ("123.45", "6.17", "12.31", "141.93"),
            ("4.99", "0.25", "0.50", "5.74"),
        ];
        for (st, tps, tvq, total) in cases {
            let t = totaux(d(st));
            assert_eq!(
                (t.tps.to_string(), t.tvq.to_string(), t.total.to_string()),
                (tps.into(), tvq.into(), total.into()),
                "{st}"
            );
        }
    }

    #[test]
    fn many_small_lines_are_taxed_on_the_subtotal() {
        let sous_total: Decimal = std::iter::repeat_n(d("0.01"), 100).sum();
        let t = totaux(sous_total);
        // Per-line rounding would have charged no tax at all.
        assert_eq!((t.tps, t.tvq, t.total), (d("0.05"), d("0.10"), d("1.15")));
        let t = totaux(std::iter::repeat_n(d("0.33"), 7).sum());
        assert_eq!((t.sous_total, t.tps, t.tvq, t.total), (d("2.31"), d("0.12"), d("0.23"), d("2.66")));
    }

    #[test]
    fn cash_is_rounded_to_five_cents_and_gives_change() {
        assert_eq!(arrondi_especes(d("22.98")), d("23.00"));
        assert_eq!(arrondi_especes(d("22.97")), d("22.95"));
        assert_eq!(arrondi_especes(d("0.12")), d("0.10"));
        assert_eq!(arrondi_especes(d("11.50")), d("11.50"));
        let r = regler(d("22.98"), Mode::Especes, Some(d("50.00"))).unwrap();
        assert_eq!((r.a_payer, r.arrondi, r.monnaie), (d("23.00"), d("0.02"), Some(d("27.00"))));
        assert!(regler(d("22.98"), Mode::Especes, Some(d("22.95"))).is_err());
        assert!(regler(d("22.98"), Mode::Especes, None).is_err());
        let card = regler(d("22.98"), Mode::Carte, None).unwrap();
        assert_eq!((card.a_payer, card.monnaie), (d("22.98"), None));
    }

    #[test]
    fn amounts_are_checked() {
        assert_eq!(montant("20").unwrap().to_string(), "20.00");
        assert!(montant("-1").is_err());
        assert!(montant("1.001").is_err());
        assert!(montant("abc").is_err());
    }
}
