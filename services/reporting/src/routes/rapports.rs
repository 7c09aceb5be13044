//! `/api/rapports`: thin handlers over the read model.

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use caisse_common::{ApiResult, Auth, extract::Query};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    db::reports::{self as db, Rank},
    domain::{self, LigneStock, RapportVentes},
    params::{PeriodParams, bounded, last_days, scope},
    snapshots::{Answer, Question},
};

/// The stores a report covers: one, or every store with registers.
async fn stores(state: &AppState, magasin_id: Option<i64>) -> ApiResult<Vec<(i64, String)>> {
    Ok(match magasin_id {
        Some(id) => {
            let s = state.stores.find(state, id).await?;
            vec![(s.id, s.nom)]
        }
        None => state.stores.get(state).await?.iter().filter(|s| s.sells()).map(|s| (s.id, s.nom.clone())).collect(),
    })
}

async fn sales(state: &AppState, magasin_id: Option<i64>, du: NaiveDate, au: NaiveDate) -> ApiResult<RapportVentes> {
    let stores = stores(state, magasin_id).await?;
    let rows = db::sales(&state.platform.pool, magasin_id, du, au).await?;
    Ok(domain::sales_report(du, au, &stores, &rows))
}

/// Sales per store over a period: count, gross, returns, cancellations, net,
/// average basket, per payment mode; every store side by side.
#[utoipa::path(get, path = "/api/rapports/ventes", params(PeriodParams),
    responses((status = 200, body = RapportVentes), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn get_ventes(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<PeriodParams>,
) -> ApiResult<axum::Json<RapportVentes>> {
    let magasin_id = scope(&auth, p.magasin_id)?;
    let (du, au) = p.period()?;
    Ok(axum::Json(sales(&state, magasin_id, du, au).await?))
}

/// The sales report as CSV (UTF-8, header line, `;` separator, CRLF).
#[utoipa::path(get, path = "/api/rapports/ventes.csv", params(PeriodParams),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403), (status = 422)))]
pub async fn get_ventes_csv(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<PeriodParams>,
) -> ApiResult<Response> {
    let magasin_id = scope(&auth, p.magasin_id)?;
    let (du, au) = p.period()?;
    let report = sales(&state, magasin_id, du, au).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8; header=present".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"ventes_{du}_{au}.csv\"")),
        ],
        domain::sales_csv(&report),
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TopParams {
    pub du: Option<String>,
    pub au: Option<String>,
    pub magasin_id: Option<i64>,
    /// How many products per ranking, 1 to 100 (default 10).
    pub limite: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProduitClasse {
    pub produit_id: i64,
    pub nom: Option<String>,
    pub quantite: i64,
    /// Before taxes, net of returns.
    #[schema(value_type = String)]
    pub montant: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TopProduits {
    pub du: NaiveDate,
    pub au: NaiveDate,
    pub magasin_id: Option<i64>,
    pub par_quantite: Vec<ProduitClasse>,
    pub par_montant: Vec<ProduitClasse>,
}

async fn top(
    state: &AppState,
    magasin_id: Option<i64>,
    du: NaiveDate,
    au: NaiveDate,
    limit: u32,
) -> ApiResult<TopProduits> {
    if let Some(id) = magasin_id {
        state.stores.find(state, id).await?;
    }
    let pool = &state.platform.pool;
    let convert = |rows: Vec<db::ProductRow>| {
        rows.into_iter()
            .map(|r| ProduitClasse { produit_id: r.produit_id, nom: r.nom, quantite: r.quantite, montant: r.montant })
            .collect()
    };
    Ok(TopProduits {
        du,
        au,
        magasin_id,
        par_quantite: convert(db::top_products(pool, magasin_id, du, au, Rank::Quantity, limit).await?),
        par_montant: convert(db::top_products(pool, magasin_id, du, au, Rank::Amount, limit).await?),
    })
}

/// Best-selling products by quantity and by amount, per store or overall.
#[utoipa::path(get, path = "/api/rapports/produits", params(TopParams),
    responses((status = 200, body = TopProduits), (status = 403), (status = 404), (status = 422)))]
pub async fn get_top_produits(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<TopParams>,
) -> ApiResult<axum::Json<TopProduits>> {
    let magasin_id = scope(&auth, p.magasin_id)?;
    let (du, au) = PeriodParams { du: p.du, au: p.au, magasin_id }.period()?;
    let limit = bounded("limite", p.limite, 10, 100)?;
    Ok(axum::Json(top(&state, magasin_id, du, au, limit).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TrendParams {
    /// Days up to today, 1 to 366 (default 7).
    pub jours: Option<u32>,
    pub magasin_id: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct PointMagasin {
    pub magasin_id: i64,
    pub nb_ventes: i64,
    #[schema(value_type = String)]
    pub brut: Decimal,
    #[schema(value_type = String)]
    pub net: Decimal,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JourTendance {
    pub jour: NaiveDate,
    pub magasins: Vec<PointMagasin>,
    pub total: PointMagasin,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Tendance {
    pub du: NaiveDate,
    pub au: NaiveDate,
    pub jours: Vec<JourTendance>,
}

async fn trend(state: &AppState, magasin_id: Option<i64>, jours: u32) -> ApiResult<Tendance> {
    let stores = stores(state, magasin_id).await?;
    let (du, au) = last_days(jours);
    let rows = db::days(&state.platform.pool, magasin_id, du, au).await?;
    let days = du.iter_days().take_while(|d| *d <= au).map(|jour| {
        let magasins: Vec<PointMagasin> = stores
            .iter()
            .map(|(id, _)| {
                let mut p = PointMagasin { magasin_id: *id, ..Default::default() };
                for r in rows.iter().filter(|r| r.jour == jour && r.magasin_id == *id) {
                    p.nb_ventes += r.nb_ventes;
                    p.brut += r.brut;
                    p.net += r.brut - r.retours - r.annulations;
                }
                p.brut.rescale(2);
                p.net.rescale(2);
                p
            })
            .collect();
        let mut total = PointMagasin::default();
        for m in &magasins {
            total.nb_ventes += m.nb_ventes;
            total.brut += m.brut;
            total.net += m.net;
        }
        total.brut.rescale(2);
        total.net.rescale(2);
        JourTendance { jour, magasins, total }
    });
    Ok(Tendance { du, au, jours: days.collect() })
}

/// Sales per day over the last `jours` days, per store and in total.
#[utoipa::path(get, path = "/api/rapports/tendance", params(TrendParams),
    responses((status = 200, body = Tendance), (status = 403), (status = 404), (status = 422)))]
pub async fn get_tendance(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<TrendParams>,
) -> ApiResult<axum::Json<Tendance>> {
    let magasin_id = scope(&auth, p.magasin_id)?;
    let jours = bounded("jours", p.jours, 7, 366)?;
    Ok(axum::Json(trend(&state, magasin_id, jours).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StockParams {
    pub magasin_id: Option<i64>,
    /// Only entries out of stock, at or below their threshold, or overstocked.
    pub alertes: Option<bool>,
    /// 1 to 1000 (default 500).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Stocks {
    pub stocks: Vec<LigneStock>,
    /// More entries exist than `limit`.
    pub tronque: bool,
}

async fn stock(state: &AppState, magasin_id: Option<i64>, alerts_only: bool, limit: u32) -> ApiResult<Stocks> {
    if let Some(id) = magasin_id {
        state.stores.find(state, id).await?;
    }
    let mut rows = db::stocks(&state.platform.pool, magasin_id, alerts_only, limit + 1).await?;
    let tronque = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    Ok(Stocks { stocks: rows.into_iter().map(LigneStock::from).collect(), tronque })
}

/// Stock per store with its status (rupture, sous_le_seuil, surstock, normal).
#[utoipa::path(get, path = "/api/rapports/stocks", params(StockParams),
    responses((status = 200, body = Stocks), (status = 403), (status = 404), (status = 422)))]
pub async fn get_stocks(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<StockParams>,
) -> ApiResult<axum::Json<Stocks>> {
    let magasin_id = scope(&auth, p.magasin_id)?;
    let limit = bounded("limit", p.limit, 500, 1000)?;
    Ok(axum::Json(stock(&state, magasin_id, p.alertes.unwrap_or(false), limit).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DashboardParams {
    pub du: Option<String>,
    pub au: Option<String>,
    pub magasin_id: Option<i64>,
    /// Days of the trend (1 to 366, default 7).
    pub jours: Option<u32>,
    /// Products per ranking (1 to 100, default 10).
    pub limite: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TableauDeBord {
    pub magasin_id: Option<i64>,
    pub ventes: RapportVentes,
    pub produits: TopProduits,
    pub tendance: Tendance,
    /// At most 100 entries in alert.
    pub alertes_stock: Stocks,
}

/// Head office's dashboard: every report in one answer, for one store when
/// asked (a gérant's always), every store otherwise. An answer reflects
/// every event reporting applied at least 250 ms before the request; it
/// carries an `ETag`, and `If-None-Match` naming it is answered 304.
#[utoipa::path(get, path = "/api/rapports/tableau-de-bord", params(DashboardParams),
    responses((status = 200, body = TableauDeBord, headers(("ETag" = String, description = "Version de la réponse"))),
        (status = 304, description = "Inchangé depuis l'ETag envoyé dans If-None-Match"),
        (status = 403), (status = 404), (status = 422)))]
pub async fn get_tableau_de_bord(
    State(state): State<AppState>,
    auth: Auth,
    headers: HeaderMap,
    Query(p): Query<DashboardParams>,
) -> ApiResult<Response> {
    let magasin_id = scope(&auth, p.magasin_id)?;
    let (du, au) = PeriodParams { du: p.du, au: p.au, magasin_id }.period()?;
    let jours = bounded("jours", p.jours, 7, 366)?;
    let limite = bounded("limite", p.limite, 10, 100)?;
    if let Some(id) = magasin_id {
        // An unknown store is a 404 whether or not an answer is kept.
        state.stores.find(&state, id).await?;
    }
    // The same question at the same read-model version has the same answer.
    let question = Question { magasin_id, du, au, jours, limite, today: caisse_common::calendar::today() };
    let pool = &state.platform.pool;
    let mut version = state.read_model.version(pool).await?;
    let answer = match state.snapshots.get(&question, version) {
        Some(a) => a,
        None => {
            // One computation per question: the requests that arrive meanwhile wait for it.
            let lock = state.snapshots.computing(&question);
            let _computing = lock.lock().await;
            version = state.read_model.version(pool).await?;
            match state.snapshots.get(&question, version) {
                Some(a) => a,
                None => {
                    let answer = Answer::new(dashboard(&state, magasin_id, du, au, jours, limite).await?);
                    state.snapshots.put(question, version, answer.clone());
                    answer
                }
            }
        }
    };
    let revalidated =
        headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| answer.matches(v));
    let etag = HeaderValue::from_str(&answer.etag).map_err(|e| caisse_common::ApiError::Internal(e.into()))?;
    let cache = HeaderValue::from_static("private, no-cache");
    if revalidated {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag), (header::CACHE_CONTROL, cache)]).into_response());
    }
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        answer.body,
    )
        .into_response())
}

/// The dashboard computed from the read model, serialised.
async fn dashboard(
    state: &AppState,
    magasin_id: Option<i64>,
    du: NaiveDate,
    au: NaiveDate,
    jours: u32,
    limite: u32,
) -> ApiResult<Bytes> {
    let (ventes, produits, tendance, alertes_stock) = tokio::try_join!(
        sales(state, magasin_id, du, au),
        top(state, magasin_id, du, au, limite),
        trend(state, magasin_id, jours),
        stock(state, magasin_id, true, 100),
    )?;
    let answer = TableauDeBord { magasin_id, ventes, produits, tendance, alertes_stock };
    Ok(Bytes::from(serde_json::to_vec(&answer).map_err(|e| caisse_common::ApiError::Internal(e.into()))?))
}
