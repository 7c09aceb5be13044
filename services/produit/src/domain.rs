//! Catalogue types parsed at the edge: prices with two decimals at most,
//! barcodes with a valid GS1 check digit, bounded texts.

use std::str::FromStr;

use caisse_common::{ApiError, FieldError};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Produit {
    pub id: i64,
    pub nom: String,
    pub description: String,
    /// Price as a decimal string, e.g. "12.50".
    #[schema(value_type = String, example = "12.50")]
    pub prix: Decimal,
    pub code_barres: Option<String>,
    pub actif: bool,
    pub version: i32,
    pub modifie_le: DateTime<Utc>,
}

/// Highest accepted price (DECIMAL(12,2) holds more; a typo guard).
pub const PRIX_MAX: Decimal = Decimal::from_parts(9_999_999, 0, 0, false, 2);

/// A price: non-negative, at most two decimals, at most 99,999.99.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prix(Decimal);

impl Prix {
    pub fn value(self) -> Decimal {
        self.0
    }
}

impl FromStr for Prix {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let d = Decimal::from_str_exact(raw.trim())
            .map_err(|_| format!("« {raw} » n'est pas un montant : attendu par exemple \"12.50\""))?;
        if d.is_sign_negative() && !d.is_zero() {
            return Err("ne peut pas être négatif".into());
        }
        if d.normalize().scale() > 2 {
            return Err("deux décimales au plus (des cents)".into());
        }
        if d > PRIX_MAX {
            return Err(format!("ne peut pas dépasser {PRIX_MAX}"));
        }
        let mut d = d.abs();
        d.rescale(2);
        Ok(Prix(d))
    }
}

/// A GS1 barcode (EAN-8, UPC-A or EAN-13) whose check digit is right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBarres(String);

impl CodeBarres {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 check digit of `body` (all digits but the last).
pub fn gs1_check_digit(body: &[u8]) -> u8 {
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 }).sum();
    u8::try_from((10 - sum % 10) % 10).unwrap_or(0)
}

impl FromStr for CodeBarres {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if !matches!(raw.len(), 8 | 12 | 13) || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err("8, 12 ou 13 chiffres attendus (EAN-8, UPC-A, EAN-13)".into());
        }
        let digits: Vec<u8> = raw.bytes().map(|b| b - b'0').collect();
        let (body, check) = digits.split_at(digits.len() - 1);
        if gs1_check_digit(body) != check[0] {
            return Err(format!("chiffre de contrôle invalide (attendu {})", gs1_check_digit(body)));
        }
        Ok(CodeBarres(raw.to_owned()))
    }
}

/// Fields of a product as received, checked together so every error is listed.
#[derive(Debug, Default)]
pub struct Checked {
    pub nom: Option<String>,
    pub description: Option<String>,
    pub prix: Option<Prix>,
    pub code_barres: Option<CodeBarres>,
}

pub fn check(
    nom: Option<&str>,
    description: Option<&str>,
    prix: Option<&str>,
    code_barres: Option<&str>,
) -> Result<Checked, ApiError> {
    let mut errors = vec![];
    let mut out = Checked::default();
    if let Some(n) = nom {
        let n = n.trim();
        if n.is_empty() || n.chars().count() > 200 {
            errors.push(FieldError::new("nom", "obligatoire, 200 caractères au plus"));
        }
        out.nom = Some(n.to_owned());
    }
    if let Some(d) = description {
        if d.chars().count() > 2000 {
            errors.push(FieldError::new("description", "2000 caractères au plus"));
        }
        out.description = Some(d.trim().to_owned());
    }
    if let Some(p) = prix {
        match p.parse() {
            Ok(p) => out.prix = Some(p),
            Err(e) => errors.push(FieldError::new("prix", e)),
        }
    }
    if let Some(c) = code_barres {
        match c.parse() {
            Ok(c) => out.code_barres = Some(c),
            Err(e) => errors.push(FieldError::new("code_barres", e)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::fields(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_exact_with_two_decimals() {
        assert_eq!("12.5".parse::<Prix>().unwrap().value().to_string(), "12.50");
        assert_eq!("0".parse::<Prix>().unwrap().value().to_string(), "0.00");
        assert_eq!("12.500".parse::<Prix>().unwrap().value().to_string(), "12.50");
        assert!("12.345".parse::<Prix>().is_err());
        assert!("-1".parse::<Prix>().is_err());
        assert!("1e3".parse::<Prix>().is_err());
        assert!("abc".parse::<Prix>().is_err());
        assert!("100000".parse::<Prix>().is_err());
        assert_eq!("99999.99".parse::<Prix>().unwrap().value(), PRIX_MAX);
    }

    #[test]
    fn barcodes_need_a_valid_check_digit() {
        assert!("4006381333931".parse::<CodeBarres>().is_ok()); // EAN-13
        assert!("036000291452".parse::<CodeBarres>().is_ok()); // UPC-A
        assert!("96385074".parse::<CodeBarres>().is_ok()); // EAN-8
        assert!("4006381333932".parse::<CodeBarres>().is_err());
        assert!("40063813339".parse::<CodeBarres>().is_err());
        assert!("40063813339a1".parse::<CodeBarres>().is_err());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = check(Some(""), None, Some("-2"), Some("123")).unwrap_err();
        assert_eq!(err.body()["errors"].as_array().map(Vec::len), Some(3));
    }
}
