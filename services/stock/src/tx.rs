//! Transactions of the stock service: a failure inside one is either SQL
//! (maybe worth retrying) or a decision; deadlocks and lock timeouts are
//! retried a few times.

use caisse_common::{ApiError, ApiResult};

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
