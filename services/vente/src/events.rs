//! vente's events (`evenements:ventes`), typed by `caisse_common::events`:
//! built here from vente's own rows, appended to the shared outbox in the
//! transaction of the change.

use caisse_common::events::{Amount, LineQuantity, PaymentMode, SaleCancelled, SaleCompleted, SaleReturned, SoldLine};
use rust_decimal::Decimal;

use crate::{
    db,
    domain::{Mode, Totaux},
    peers::Line,
};

pub fn mode(m: Mode) -> PaymentMode {
    match m {
        Mode::Especes => PaymentMode::Especes,
        Mode::Carte => PaymentMode::Carte,
    }
}

pub fn amount(t: &Totaux) -> Amount {
    Amount { sous_total: t.sous_total, tps: t.tps, tvq: t.tvq, total: t.total }
}

fn quantities(lines: impl Iterator<Item = (i64, i64)>) -> Vec<LineQuantity> {
    lines.map(|(produit_id, q)| LineQuantity { produit_id, quantite: i32::try_from(q).unwrap_or(i32::MAX) }).collect()
}

/// What a completed sale tells reporting.
pub struct Completion<'a> {
    pub vente_id: &'a str,
    pub numero: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub mode: Mode,
    pub totaux: &'a Totaux,
    pub a_payer: Decimal,
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
}

pub fn completed(c: &Completion<'_>, lines: &[db::SaleLine]) -> SaleCompleted {
    SaleCompleted {
        vente_id: c.vente_id.to_owned(),
        numero: c.numero,
        magasin_id: c.magasin_id,
        caissier_id: c.caissier_id,
        lignes: lines
            .iter()
            .map(|l| SoldLine {
                produit_id: l.produit_id,
                quantite: l.quantite,
                prix_unitaire: l.prix_unitaire,
                total_ligne: l.total_ligne,
            })
            .collect(),
        sous_total: c.totaux.sous_total,
        tps: c.totaux.tps,
        tvq: c.totaux.tvq,
        total: c.totaux.total,
        mode_paiement: mode(c.mode),
        a_payer: c.a_payer,
        caisse_id: c.caisse_id,
        session_id: c.session_id,
    }
}

pub fn cancelled(
    vente_id: &str,
    magasin_id: i64,
    par: &str,
    restocked: &[Line],
    montant: &Totaux,
    rembourse: Decimal,
) -> SaleCancelled {
    SaleCancelled {
        vente_id: vente_id.to_owned(),
        magasin_id,
        par: par.to_owned(),
        lignes: quantities(restocked.iter().map(|l| (l.produit_id, l.quantite))),
        montant: amount(montant),
        rembourse,
    }
}

pub fn returned(
    vente_id: &str,
    retour_id: i64,
    magasin_id: i64,
    lines: impl Iterator<Item = (i64, i64)>,
    montant: &Totaux,
    rembourse: Decimal,
) -> SaleReturned {
    SaleReturned {
        vente_id: vente_id.to_owned(),
        retour_id,
        magasin_id,
        lignes: quantities(lines),
        montant: amount(montant),
        rembourse,
    }
}
