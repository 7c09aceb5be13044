//! HTTP routes of stock, its OpenAPI document, and the lookups it makes at
//! caisse and produit on behalf of the caller.

pub mod ajustements;
pub mod mouvements;
pub mod reservations;
pub mod stocks;
pub mod transferts;

use axum::Router;
use caisse_common::{
    ApiError, ApiResult, Auth,
    client::{CallCtx, RequestId},
    server::BearerAuth,
};
use serde::Deserialize;
use utoipa::OpenApi;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Caisse — service stock", description = "Stocks par magasin, transferts, ajustements, alertes, registre des mouvements."),
    paths(
        stocks::list_stocks, stocks::get_stock, stocks::list_alertes, stocks::update_seuils,
        transferts::create_transfert, transferts::get_transfert,
        ajustements::create_ajustement, mouvements::list_mouvements,
        reservations::create_reservation, reservations::get_reservation, reservations::release_reservation,
        reservations::create_retour,
    ),
    components(schemas(
        crate::domain::Stock, crate::domain::Mouvement, crate::domain::Niveau, crate::domain::Ligne,
        stocks::StockList, stocks::Alerte, stocks::AlerteList, stocks::Seuils,
        transferts::NouveauTransfert, transferts::Transfert, ajustements::NouvelAjustement,
        mouvements::MouvementList, reservations::NouvelleReservation, reservations::Reservation,
        reservations::Liberation, reservations::NouveauRetour, caisse_common::FieldError,
    )),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(stocks::router())
        .merge(transferts::router())
        .merge(ajustements::router())
        .merge(mouvements::router())
        .merge(reservations::router())
        .with_state(state)
}

#[derive(Debug, Deserialize)]
struct MagasinRef {
    #[serde(rename = "type")]
    type_magasin: String,
}

/// The type of magasin `id` according to caisse; 422 when it does not exist.
pub async fn magasin_type(state: &AppState, auth: &Auth, rid: &RequestId, champ: &str, id: i64) -> ApiResult<String> {
    let url = format!("{}/api/magasins/{id}", state.config.caisse_url);
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<MagasinRef>("caisse", &url, ctx).await? {
        Ok(m) => Ok(m.type_magasin),
        Err(up) if up.status == 404 => Err(ApiError::field(champ, format!("le magasin {id} n'existe pas"))),
        Err(up) => Err(ApiError::Unavailable(format!("caisse a répondu {} pour le magasin {id}", up.status))),
    }
}

/// Checks that product `id` exists at produit; 422 otherwise.
pub async fn require_produit(state: &AppState, auth: &Auth, rid: &RequestId, id: i64) -> ApiResult<()> {
    let url = format!("{}/api/produits/{id}", state.config.produit_url);
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    match state.platform.client.get_json::<serde_json::Value>("produit", &url, ctx).await? {
        Ok(_) => Ok(()),
        Err(up) if up.status == 404 => Err(ApiError::field("produit_id", format!("le produit {id} n'existe pas"))),
        Err(up) => Err(ApiError::Unavailable(format!("produit a répondu {} pour le produit {id}", up.status))),
    }
}

/// Runs `f` in a transaction, retried on deadlock or lock timeout.
pub async fn with_tx<T, F>(pool: &sqlx::MySqlPool, mut f: F) -> ApiResult<T>
where
    F: for<'t> FnMut(
        &'t mut sqlx::Transaction<'static, sqlx::MySql>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, TxError>> + Send + 't>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut tx = pool.begin().await?;
        match f(&mut tx).await {
            Ok(v) => {
                tx.commit().await?;
                return Ok(v);
            }
            Err(TxError::Sql(e)) if attempt < 4 && caisse_common::error::is_retryable_tx_error(&e) => {
                let _ = tx.rollback().await;
                tokio::time::sleep(std::time::Duration::from_millis(10 * attempt)).await;
            }
            Err(e) => {
                let _ = tx.rollback().await;
                return Err(e.into());
            }
        }
    }
}

/// A failure inside a transaction: SQL (maybe retryable) or a decision.
#[derive(Debug)]
pub enum TxError {
    Sql(sqlx::Error),
    Api(ApiError),
}

impl From<sqlx::Error> for TxError {
    fn from(e: sqlx::Error) -> Self {
        TxError::Sql(e)
    }
}

impl From<ApiError> for TxError {
    fn from(e: ApiError) -> Self {
        TxError::Api(e)
    }
}

impl From<TxError> for ApiError {
    fn from(e: TxError) -> Self {
        match e {
            TxError::Sql(e) => e.into(),
            TxError::Api(e) => e,
        }
    }
}
