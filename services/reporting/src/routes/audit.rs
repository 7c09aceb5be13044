//! `GET /api/rapports/audit`: the integrity auditor for admins, run through
//! the gateway with the caller's own token (see `caisse_common::audit`).

use axum::extract::State;
use caisse_common::{ApiError, ApiResult, Auth, Role, audit};

use crate::AppState;

/// Checks stock against its ledger, sales against their movements,
/// reporting's stock against stock's, and the producers' unpublished events.
#[utoipa::path(get, path = "/api/rapports/audit",
    responses((status = 200, body = audit::Audit), (status = 401), (status = 403), (status = 503)))]
pub async fn get_audit(State(state): State<AppState>, auth: Auth) -> ApiResult<axum::Json<audit::Audit>> {
    auth.require_role(&[Role::Admin])?;
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| ApiError::Internal(e.into()))?;
    // What this replica's read model has applied: once it covers every
    // event behind what the auditor read, a disagreement is reported at once.
    let pool = &state.platform.pool;
    let applied =
        move || -> audit::AppliedCursors<'_> { Box::pin(async move { Ok(crate::db::reports::cursors(pool).await?) }) };
    // The gateway: every service is behind it.
    let target = audit::Target {
        http: &http,
        base: &state.config.gateway_url,
        bearer: &auth.bearer,
        max_wait_secs: 60.0,
        applied: Some(&applied),
    };
    let report = audit::run(&target).await.map_err(|e| ApiError::Unavailable(format!("Audit impossible : {e:#}")))?;
    Ok(axum::Json(report))
}
