//! The reports' shapes and the pure rules that build them from read-model
//! rows: totals, net, average basket, stock status, CSV.

use std::collections::BTreeMap;

use caisse_common::events::PaymentMode;
use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::reports::{SalesRow, StockRow};

/// Sales figures; amounts are taxes included.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct Chiffres {
    pub nb_ventes: i64,
    #[schema(value_type = String)]
    pub brut: Decimal,
    pub nb_retours: i64,
    #[schema(value_type = String)]
    pub retours: Decimal,
    pub nb_annulations: i64,
    #[schema(value_type = String)]
    pub annulations: Decimal,
    /// brut − retours − annulations.
    #[schema(value_type = String)]
    pub net: Decimal,
    /// brut ÷ nb_ventes, to the cent.
    #[schema(value_type = String)]
    pub panier_moyen: Decimal,
}

impl Chiffres {
    pub fn add(&mut self, r: &SalesRow) {
        self.nb_ventes += r.nb_ventes;
        self.brut += r.brut;
        self.nb_retours += r.nb_retours;
        self.retours += r.retours;
        self.nb_annulations += r.nb_annulations;
        self.annulations += r.annulations;
        self.finish();
    }

    fn finish(&mut self) {
        self.net = self.brut - self.retours - self.annulations;
        self.panier_moyen = if self.nb_ventes == 0 {
            Decimal::ZERO
        } else {
            (self.brut / Decimal::from(self.nb_ventes))
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
        };
        for d in [&mut self.brut, &mut self.retours, &mut self.annulations, &mut self.net, &mut self.panier_moyen] {
            d.rescale(2);
        }
    }

    pub fn zero() -> Self {
        let mut c = Self::default();
        c.finish();
        c
    }
}

/// One store's figures, in total and per payment mode.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct VentesMagasin {
    pub magasin_id: i64,
    pub magasin: String,
    #[serde(flatten)]
    pub chiffres: Chiffres,
    /// `especes` and `carte`, always both.
    pub par_mode: BTreeMap<String, Chiffres>,
}

/// The sales report: every store side by side, and their total.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RapportVentes {
    pub du: NaiveDate,
    pub au: NaiveDate,
    pub magasins: Vec<VentesMagasin>,
    pub total: Chiffres,
    pub total_par_mode: BTreeMap<String, Chiffres>,
}

fn by_mode() -> BTreeMap<String, Chiffres> {
    PaymentMode::ALL.iter().map(|m| (m.as_str().to_owned(), Chiffres::zero())).collect()
}

/// Builds the report for `stores` (id, name), from per-store-and-mode rows.
pub fn sales_report(du: NaiveDate, au: NaiveDate, stores: &[(i64, String)], rows: &[SalesRow]) -> RapportVentes {
    let mut total = Chiffres::zero();
    let mut total_par_mode = by_mode();
    let magasins = stores
        .iter()
        .map(|(id, nom)| {
            let mut m = VentesMagasin {
                magasin_id: *id,
                magasin: nom.clone(),
                chiffres: Chiffres::zero(),
                par_mode: by_mode(),
            };
            for r in rows.iter().filter(|r| r.magasin_id == *id) {
                m.chiffres.add(r);
                total.add(r);
                if let Some(mode) = r.mode_paiement {
                    m.par_mode.entry(mode.as_str().to_owned()).or_insert_with(Chiffres::zero).add(r);
                    total_par_mode.entry(mode.as_str().to_owned()).or_insert_with(Chiffres::zero).add(r);
                }
            }
            m
        })
        .collect();
    RapportVentes { du, au, magasins, total, total_par_mode }
}

/// Where a stock entry stands against its thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatutStock {
    Rupture,
    SousLeSeuil,
    Surstock,
    Normal,
}

pub fn stock_status(quantite: i32, seuil_alerte: i32, seuil_surstock: i32) -> StatutStock {
    if quantite <= 0 {
        StatutStock::Rupture
    } else if quantite <= seuil_alerte {
        StatutStock::SousLeSeuil
    } else if quantite > seuil_surstock {
        StatutStock::Surstock
    } else {
        StatutStock::Normal
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LigneStock {
    pub magasin_id: i64,
    pub produit_id: i64,
    pub nom: Option<String>,
    pub quantite: i32,
    pub seuil_alerte: i32,
    pub seuil_surstock: i32,
    pub statut: StatutStock,
}

impl From<StockRow> for LigneStock {
    fn from(r: StockRow) -> Self {
        Self {
            statut: stock_status(r.quantite, r.seuil_alerte, r.seuil_surstock),
            magasin_id: r.magasin_id,
            produit_id: r.produit_id,
            nom: r.nom,
            quantite: r.quantite,
            seuil_alerte: r.seuil_alerte,
            seuil_surstock: r.seuil_surstock,
        }
    }
}

/// The CSV separator: `;`, as spreadsheets expect in French locales
/// (amounts keep a decimal point).
pub const CSV_SEPARATOR: char = ';';

fn csv_field(s: &str) -> String {
    if s.contains([CSV_SEPARATOR, '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// The sales report as CSV: a header, then per store one line per payment
/// mode and one `tous` line, then the `total` lines.
pub fn sales_csv(r: &RapportVentes) -> String {
    let header = [
        "du",
        "au",
        "magasin_id",
        "magasin",
        "mode_paiement",
        "nb_ventes",
        "brut",
        "nb_retours",
        "retours",
        "nb_annulations",
        "annulations",
        "net",
        "panier_moyen",
    ];
    let sep = CSV_SEPARATOR.to_string();
    let mut out = header.join(&sep) + "\r\n";
    let mut line = |id: &str, nom: &str, mode: &str, c: &Chiffres| {
        let fields = [
            r.du.to_string(),
            r.au.to_string(),
            id.to_owned(),
            csv_field(nom),
            mode.to_owned(),
            c.nb_ventes.to_string(),
            c.brut.to_string(),
            c.nb_retours.to_string(),
            c.retours.to_string(),
            c.nb_annulations.to_string(),
            c.annulations.to_string(),
            c.net.to_string(),
            c.panier_moyen.to_string(),
        ];
        out.push_str(&fields.join(&sep));
        out.push_str("\r\n");
    };
    for m in &r.magasins {
        for (mode, c) in &m.par_mode {
            line(&m.magasin_id.to_string(), &m.magasin, mode, c);
        }
        line(&m.magasin_id.to_string(), &m.magasin, "tous", &m.chiffres);
    }
    for (mode, c) in &r.total_par_mode {
        line("total", "", mode, c);
    }
    line("total", "", "tous", &r.total);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(magasin_id: i64, mode: PaymentMode, n: i64, brut: &str, retours: &str) -> SalesRow {
        SalesRow {
            magasin_id,
            mode_paiement: Some(mode),
            nb_ventes: n,
            brut: brut.parse().unwrap(),
            nb_retours: 1,
            retours: retours.parse().unwrap(),
            nb_annulations: 0,
            annulations: Decimal::ZERO,
        }
    }

    #[test]
    fn stores_without_sales_appear_with_zeros_and_totals_add_up() {
        let day: NaiveDate = "2026-03-01".parse().unwrap();
        let rows = [row(1, PaymentMode::Especes, 2, "10.00", "1.00"), row(1, PaymentMode::Carte, 1, "5.01", "0")];
        let r = sales_report(day, day, &[(1, "Un".into()), (2, "Deux".into())], &rows);
        assert_eq!(r.magasins[0].chiffres.nb_ventes, 3);
        assert_eq!(r.magasins[0].chiffres.net.to_string(), "14.01");
        assert_eq!(r.magasins[0].chiffres.panier_moyen.to_string(), "5.00");
        assert_eq!(r.magasins[1].chiffres, Chiffres::zero());
        assert_eq!(r.magasins[1].par_mode.len(), 2);
        assert_eq!(r.total.brut.to_string(), "15.01");
        assert_eq!(r.total_par_mode["carte"].brut.to_string(), "5.01");
    }

    #[test]
    fn stock_status_follows_thresholds() {
        assert_eq!(stock_status(0, 5, 100), StatutStock::Rupture);
        assert_eq!(stock_status(5, 5, 100), StatutStock::SousLeSeuil);
        assert_eq!(stock_status(6, 5, 100), StatutStock::Normal);
        assert_eq!(stock_status(101, 5, 100), StatutStock::Surstock);
    }

    #[test]
    fn csv_has_a_header_and_quotes_names_with_separators() {
        let day: NaiveDate = "2026-03-01".parse().unwrap();
        let r = sales_report(day, day, &[(1, "Dépôt; \"Nord\"".into())], &[]);
        let csv = sales_csv(&r);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[0].starts_with("du;au;magasin_id;magasin;mode_paiement;nb_ventes"));
        assert!(lines[1].contains("\"Dépôt; \"\"Nord\"\"\""), "{}", lines[1]);
        assert_eq!(lines.iter().filter(|l| !l.is_empty()).count(), 1 + 3 + 3);
    }
}
