//! SQL of a cash session's figures: its sales (by `ix_ventes_session`) with
//! their completed returns.

use caisse_common::ApiResult;
use rust_decimal::Decimal;
use sqlx::MySqlPool;

use crate::{domain::Mode, status::SaleStatus};

/// A sold sale of a session and what its completed returns gave back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionSale {
    pub numero: i64,
    pub magasin_id: i64,
    pub statut: SaleStatus,
    pub mode_paiement: Mode,
    pub sous_total: Decimal,
    pub tps: Decimal,
    pub tvq: Decimal,
    pub total: Decimal,
    pub retours: i64,
    pub retours_total: Decimal,
    pub retours_rembourse: Decimal,
}

/// The session's sold sales (completed, being cancelled or cancelled), by receipt number.
pub async fn sales(pool: &MySqlPool, session_id: i64) -> ApiResult<Vec<SessionSale>> {
    Ok(sqlx::query_as(
        "SELECT v.numero, v.magasin_id, v.statut, v.mode_paiement, v.sous_total, v.tps, v.tvq, v.total, \
         CAST(COUNT(r.id) AS SIGNED) AS retours, \
         CAST(COALESCE(SUM(r.total), 0) AS DECIMAL(12, 2)) AS retours_total, \
         CAST(COALESCE(SUM(r.rembourse), 0) AS DECIMAL(12, 2)) AS retours_rembourse \
         FROM ventes v FORCE INDEX (ix_ventes_session) \
         LEFT JOIN retours r ON r.vente_id = v.id AND r.statut = 'termine' \
         WHERE v.session_id = ? AND v.statut IN ('terminee', 'annulation', 'annulee') \
         GROUP BY v.id ORDER BY v.numero",
    )
    .bind(session_id)
    .fetch_all(pool)
    .await?)
}
