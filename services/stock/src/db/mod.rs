//! All SQL of the stock schema, one file per aggregate: entries and their
//! thresholds (`stocks`), the ledger and the only way quantities change
//! (`ledger`), transfers, sale reservations, and keyed adjustments.

pub mod ajustements;
pub mod demandes;
pub mod ledger;
pub mod reservations;
pub mod stocks;
pub mod transferts;
