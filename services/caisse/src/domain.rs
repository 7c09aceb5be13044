//! Domain types of caisse and the validation of their inputs.

use caisse_common::{ApiError, FieldError, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a magasin is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TypeMagasin {
    /// A store with registers.
    Magasin,
    /// The logistics centre that restocks stores.
    Logistique,
    /// Head office.
    MaisonMere,
}

impl TypeMagasin {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Magasin => "magasin",
            Self::Logistique => "logistique",
            Self::MaisonMere => "maison_mere",
        }
    }
}

impl std::str::FromStr for TypeMagasin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "magasin" => Ok(Self::Magasin),
            "logistique" => Ok(Self::Logistique),
            "maison_mere" => Ok(Self::MaisonMere),
            other => Err(format!("type de magasin inconnu « {other} »")),
        }
    }
}

caisse_common::sql_text_enum!(TypeMagasin);

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Magasin {
    pub id: i64,
    pub nom: String,
    #[serde(rename = "type")]
    #[sqlx(rename = "type")]
    pub type_magasin: TypeMagasin,
    pub adresse: String,
    pub ville: String,
    pub version: i32,
    pub cree_le: DateTime<Utc>,
    pub modifie_le: DateTime<Utc>,
}

/// A staff account as shown to clients (never the hash).
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct Employe {
    pub id: i64,
    pub login: String,
    pub nom: String,
    pub role: Role,
    pub magasin_id: Option<i64>,
    pub actif: bool,
}

/// Trims and bounds a required text field.
pub fn text(champ: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let v = value.trim();
    if v.is_empty() {
        errors.push(FieldError::new(champ, "obligatoire, ne peut pas être vide"));
    } else if v.chars().count() > max {
        errors.push(FieldError::new(champ, format!("{max} caractères au plus")));
    }
    v.to_owned()
}

/// Checks a new password: 8 to 128 characters.
pub fn password(value: &str, errors: &mut Vec<FieldError>) {
    let n = value.chars().count();
    if !(8..=128).contains(&n) {
        errors.push(FieldError::new("mot_de_passe", "entre 8 et 128 caractères"));
    }
}

/// Store staff must belong to a store; others must not.
pub fn role_scope(role: Role, magasin_id: Option<i64>, errors: &mut Vec<FieldError>) {
    match (role.is_store_scoped(), magasin_id) {
        (true, None) => errors.push(FieldError::new("magasin_id", "obligatoire pour un caissier ou un gérant")),
        (false, Some(_)) => errors.push(FieldError::new("magasin_id", "réservé aux caissiers et gérants")),
        _ => {}
    }
}

pub fn finish(errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() { Ok(()) } else { Err(ApiError::fields(errors)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_and_overlong_text_are_rejected() {
        let mut e = vec![];
        text("nom", "   ", 10, &mut e);
        text("ville", &"x".repeat(11), 10, &mut e);
        assert_eq!(e.len(), 2);
        assert_eq!(text("nom", " Laval ", 10, &mut vec![]), "Laval");
    }

    #[test]
    fn cashiers_need_a_store_and_admins_have_none() {
        let mut e = vec![];
        role_scope(Role::Caissier, None, &mut e);
        role_scope(Role::Admin, Some(1), &mut e);
        role_scope(Role::Gerant, Some(1), &mut e);
        role_scope(Role::Logistique, None, &mut e);
        assert_eq!(e.len(), 2);
    }
}
