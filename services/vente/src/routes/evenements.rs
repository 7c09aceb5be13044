//! `GET /api/ventes/evenements`: sales, returns and cancellations events
//! after `apres`, for admins and services (a consumer that lost some).

use axum::{Router, extract::State, routing::get};
use caisse_common::{
    ApiResult, Auth,
    events::Producer,
    extract::Query,
    outbox::{self, FeedPage, FeedParams},
};

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/ventes/evenements", get(list_evenements))
}

/// Sale events after `apres` (ids dense and increasing).
#[utoipa::path(get, path = "/api/ventes/evenements", params(FeedParams),
    responses((status = 200, body = FeedPage), (status = 403), (status = 422)))]
pub async fn list_evenements(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<FeedParams>,
) -> ApiResult<axum::Json<FeedPage>> {
    Ok(axum::Json(outbox::feed_page(&state.platform.pool, Producer::Vente, &auth, p).await?))
}
