//! A product's change history: each create, edit and deactivation with who,
//! when and the fields before and after. [`record`] writes the history row
//! and the `ProductChanged` event together, in the change's transaction.

use caisse_common::{
    ApiError, ApiResult,
    events::{ProductAction, ProductChanged, ProductFields},
    pagination::Page,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, MySqlPool, Transaction};
use utoipa::ToSchema;

/// One change of a product.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Changement {
    pub id: i64,
    pub produit_id: i64,
    pub action: ProductAction,
    /// The login of whoever made the change.
    pub par: String,
    pub le: DateTime<Utc>,
    /// The fields before (absent for a creation).
    pub avant: Option<ProductFields>,
    pub apres: ProductFields,
    /// The names of the fields that changed (every field for a creation).
    pub champs: Vec<String>,
}

/// Records `change` in the history and on `evenements:produits`, inside `tx`.
pub async fn record(tx: &mut Transaction<'_, MySql>, change: &ProductChanged) -> ApiResult<()> {
    let avant = change.avant.as_ref().map(serde_json::to_string).transpose().map_err(anyhow::Error::from)?;
    let apres = serde_json::to_string(&change.apres).map_err(anyhow::Error::from)?;
    sqlx::query("INSERT INTO historique (produit_id, action, par, avant, apres) VALUES (?, ?, ?, ?, ?)")
        .bind(change.produit_id)
        .bind(action_text(change.action))
        .bind(&change.par)
        .bind(avant)
        .bind(apres)
        .execute(&mut **tx)
        .await?;
    caisse_common::outbox::append(tx, change).await?;
    Ok(())
}

fn action_text(a: ProductAction) -> &'static str {
    match a {
        ProductAction::Creation => "creation",
        ProductAction::Modification => "modification",
        ProductAction::Desactivation => "desactivation",
    }
}

type Row = (i64, i64, String, String, Option<String>, String, DateTime<Utc>);

/// The changes of product `id`, oldest first.
pub async fn list(pool: &MySqlPool, id: i64, page: Page) -> ApiResult<Vec<Changement>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, produit_id, action, par, avant, apres, le FROM historique \
         WHERE produit_id = ? AND id > ? ORDER BY id LIMIT ?",
    )
    .bind(id)
    .bind(page.apres)
    .bind(page.fetch())
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(decode).collect()
}

fn decode((id, produit_id, action, par, avant, apres, le): Row) -> ApiResult<Changement> {
    let bad = |e: serde_json::Error| ApiError::Internal(anyhow::anyhow!("historique {id} illisible : {e}"));
    let action = serde_json::from_value(serde_json::Value::String(action)).map_err(bad)?;
    let avant: Option<ProductFields> = avant.as_deref().map(serde_json::from_str).transpose().map_err(bad)?;
    let apres: ProductFields = serde_json::from_str(&apres).map_err(bad)?;
    let champs = changed_fields(avant.as_ref(), &apres);
    Ok(Changement { id, produit_id, action, par, le, avant, apres, champs })
}

/// The fields that differ between `avant` and `apres` (the version aside).
pub fn changed_fields(avant: Option<&ProductFields>, apres: &ProductFields) -> Vec<String> {
    let mut out = vec![];
    let mut diff = |name: &str, changed: bool| {
        if changed {
            out.push(name.to_owned());
        }
    };
    diff("nom", avant.is_none_or(|a| a.nom != apres.nom));
    diff("description", avant.is_none_or(|a| a.description != apres.description));
    diff("prix", avant.is_none_or(|a| a.prix != apres.prix));
    diff("code_barres", avant.is_none_or(|a| a.code_barres != apres.code_barres));
    diff("actif", avant.is_none_or(|a| a.actif != apres.actif));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(prix: &str, actif: bool) -> ProductFields {
        ProductFields {
            nom: "Pain".into(),
            description: String::new(),
            prix: prix.parse().unwrap_or_default(),
            code_barres: None,
            actif,
            version: 1,
        }
    }

    #[test]
    fn changed_fields_name_only_what_differs() {
        assert_eq!(changed_fields(Some(&fields("1.00", true)), &fields("1.50", true)), vec!["prix"]);
        assert_eq!(changed_fields(Some(&fields("1.00", true)), &fields("1.00", false)), vec!["actif"]);
        assert_eq!(changed_fields(None, &fields("1.00", true)).len(), 5);
    }
}
