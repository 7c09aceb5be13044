//! `/api/ventes`: checkout, receipts, lists, cancellations and returns.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use caisse_common::{
    ApiError, ApiResult, Auth,
    client::{CallCtx, RequestId},
    extract::{IdempotencyKey, Json, Path, Query},
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    aftersale::{self, NouveauRetour, Retour},
    db::{self, SaleLine},
    domain::{self, Reglement, Totaux},
    saga::{self, Answer, NouvelleVente},
    status::SaleStatus,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/ventes", post(create_vente).get(list_ventes))
        .route("/api/ventes/{id}", get(get_vente))
        .route("/api/ventes/{id}/etat", get(get_etat))
        .route("/api/ventes/{id}/annulation", post(cancel_vente))
        .route("/api/ventes/{id}/retours", post(create_retour))
}

/// A receipt.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Recu {
    pub id: String,
    /// Receipt number.
    pub numero: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caissier_login: String,
    /// The register and cash session it was rung up on (null for sales made before registers).
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
    /// `terminee`, `annulation` (in progress) or `annulee`.
    pub statut: SaleStatus,
    pub cree_le: DateTime<Utc>,
    pub terminee_le: Option<DateTime<Utc>>,
    pub annulee_le: Option<DateTime<Utc>>,
    pub annulee_par: Option<String>,
    pub lignes: Vec<SaleLine>,
    #[serde(flatten)]
    pub totaux: Totaux,
    pub paiement: Reglement,
    pub retours: Vec<Retour>,
}

/// The receipt of a sold sale; anything else has none.
async fn receipt(state: &AppState, sale: db::Sale) -> ApiResult<Recu> {
    let lignes = db::lines(&state.platform.pool, &sale.id).await?;
    let retours = aftersale::returns_of(state, &sale.id).await?;
    receipt_of(sale, lignes, retours)
}

/// The receipt of a sold sale from its row, lines and returns.
fn receipt_of(sale: db::Sale, lignes: Vec<SaleLine>, retours: Vec<Retour>) -> ApiResult<Recu> {
    let (true, Some(sous_total), Some(tps), Some(tvq), Some(total)) =
        (sale.statut.is_sold(), sale.sous_total, sale.tps, sale.tvq, sale.total)
    else {
        return Err(ApiError::NotFound(format!("La vente {} n'est pas terminée.", sale.id)));
    };
    let paiement = domain::regler(total, sale.mode_paiement, sale.montant_recu)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("règlement incohérent de {} : {e}", sale.id)))?;
    Ok(Recu {
        lignes,
        retours,
        id: sale.id,
        numero: sale.numero,
        magasin_id: sale.magasin_id,
        caissier_id: sale.caissier_id,
        caissier_login: sale.caissier_login,
        caisse_id: sale.caisse_id,
        session_id: sale.session_id,
        statut: sale.statut,
        cree_le: sale.cree_le,
        terminee_le: sale.terminee_le,
        annulee_le: sale.annulee_le,
        annulee_par: sale.annulee_par,
        totaux: Totaux { sous_total, tps, tvq, total },
        paiement,
    })
}

async fn visible_sale(state: &AppState, auth: &Auth, id: &str) -> ApiResult<db::Sale> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Err(ApiError::BadRequest(format!("« {id} » n'est pas un identifiant de vente (UUID).")));
    }
    db::get(&state.platform.pool, id)
        .await?
        .filter(|s| aftersale::can_see(auth, s) && s.statut.is_sold())
        .ok_or_else(|| ApiError::NotFound(format!("La vente {id} n'existe pas.")))
}

/// Checks out a cart: reserves stock, records the sale, closes the cart.
///
/// `Idempotency-Key` is required: one key per checkout attempt, reused for
/// every retry of it. What each answer lets the client assume:
/// - **201**: sold, now and for every retry with this key (which answers 201
///   with the same receipt).
/// - **409 / 422 / 403**: nothing sold, and never will be for this key (a
///   retry replays the same answer). 409 with `manquants`: the short lines.
/// - **503**: nothing sold. Retrying with the same key is safe: it waits
///   while the attempt is being undone, then tries again from the cart.
#[utoipa::path(post, path = "/api/ventes", request_body = NouvelleVente,
    params(("Idempotency-Key" = String, Header, description = "Une clé par encaissement, réutilisée pour chaque nouvel essai")),
    responses(
        (status = 201, body = Recu, description = "vendu : cette clé rendra toujours ce reçu"),
        (status = 409, description = "rien n'est vendu : stock insuffisant (`manquants`) ou panier déjà encaissé ; définitif pour cette clé"),
        (status = 422, description = "rien n'est vendu : panier vide, montant insuffisant, clé déjà servie pour une autre demande ; définitif"),
        (status = 503, description = "rien n'est vendu ; réessayez avec la même clé (sûr)")))]
pub async fn create_vente(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    IdempotencyKey(key): IdempotencyKey,
    Json(input): Json<NouvelleVente>,
) -> ApiResult<Response> {
    match saga::checkout(&state, &auth, &rid, &key, input).await? {
        Answer::Sold(id) => {
            let sale = db::get(&state.platform.pool, &id).await?.ok_or_else(|| ApiError::NotFound(id.clone()))?;
            Ok(created(receipt(&state, sale).await?))
        }
        // Sold by this request: the receipt from what it just committed, in
        // the order a read gives (a fresh sale has no returns yet).
        Answer::SoldNow(done) => {
            let (sale, mut lignes) = *done;
            lignes.sort_by_key(|l| l.produit_id);
            Ok(created(receipt_of(sale, lignes, vec![])?))
        }
        Answer::Stored(stored) => Ok(stored),
    }
}

fn created(recu: Recu) -> Response {
    let location = format!("/api/ventes/{}", recu.id);
    (StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(recu)).into_response()
}

/// Where a sale stands in the saga (`crate::status`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EtatVente {
    pub id: String,
    pub statut: SaleStatus,
}

/// A sale's state, for stock (which releases a reservation only for a sale
/// that is not sold) and for admins. Service token or admin.
#[utoipa::path(get, path = "/api/ventes/{id}/etat", responses((status = 200, body = EtatVente), (status = 404)))]
pub async fn get_etat(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<EtatVente>> {
    auth.require_role(&[caisse_common::Role::Service, caisse_common::Role::Admin])?;
    if uuid::Uuid::parse_str(&id).is_err() {
        return Err(ApiError::BadRequest(format!("« {id} » n'est pas un identifiant de vente (UUID).")));
    }
    let sale = db::get(&state.platform.pool, &id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("La vente {id} n'existe pas.")))?;
    Ok(axum::Json(EtatVente { id: sale.id, statut: sale.statut }))
}

/// A receipt (staff of the sale's store, admins).
#[utoipa::path(get, path = "/api/ventes/{id}", responses((status = 200, body = Recu), (status = 404)))]
pub async fn get_vente(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Recu>> {
    let sale = visible_sale(&state, &auth, &id).await?;
    Ok(axum::Json(receipt(&state, sale).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Store (store staff always see their own).
    pub magasin_id: Option<i64>,
    /// From (inclusive): RFC 3339 time or date `AAAA-MM-JJ` (UTC).
    pub du: Option<String>,
    /// To (exclusive): RFC 3339 time or date `AAAA-MM-JJ` (UTC).
    pub au: Option<String>,
    /// 1 to 100 (default 50).
    pub limit: Option<u32>,
    /// Cursor: the `suivant` of the previous page (receipt number).
    pub avant: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ResumeVente {
    pub id: String,
    pub numero: i64,
    pub magasin_id: i64,
    pub caissier_login: String,
    pub statut: SaleStatus,
    #[schema(value_type = Option<String>)]
    pub total: Option<rust_decimal::Decimal>,
    pub cree_le: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VenteList {
    pub ventes: Vec<ResumeVente>,
    pub suivant: Option<i64>,
}

fn parse_time(champ: &str, raw: &str) -> ApiResult<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    // A date is a store day: it starts at midnight in America/Toronto.
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .map(caisse_common::calendar::day_start)
        .ok_or_else(|| ApiError::field(champ, "date AAAA-MM-JJ ou horodatage RFC 3339 attendu"))
}

/// Sales, newest first, by store and period.
#[utoipa::path(get, path = "/api/ventes", params(ListParams), responses((status = 200, body = VenteList)))]
pub async fn list_ventes(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<ListParams>,
) -> ApiResult<axum::Json<VenteList>> {
    auth.require_role(&[caisse_common::Role::Caissier, caisse_common::Role::Gerant, caisse_common::Role::Admin])?;
    // Store staff list their own store; naming another one is a 403.
    if let (true, Some(m)) = (auth.role.is_store_scoped(), p.magasin_id) {
        auth.require_magasin(m)?;
    }
    let magasin_id = if auth.role.is_store_scoped() { auth.magasin_id } else { p.magasin_id };
    let limit = caisse_common::pagination::Page::parse(p.limit, None)?.limit;
    let from = p.du.as_deref().map(|d| parse_time("du", d)).transpose()?;
    let to = p.au.as_deref().map(|d| parse_time("au", d)).transpose()?;
    let mut rows = db::list(&state.platform.pool, magasin_id, from, to, p.avant, i64::from(limit) + 1).await?;
    let suivant = if rows.len() > limit as usize {
        rows.truncate(limit as usize);
        rows.last().map(|s| s.numero)
    } else {
        None
    };
    let ventes = rows
        .into_iter()
        .map(|s| ResumeVente {
            id: s.id,
            numero: s.numero,
            magasin_id: s.magasin_id,
            caissier_login: s.caissier_login,
            statut: s.statut,
            total: s.total,
            cree_le: s.cree_le,
        })
        .collect();
    Ok(axum::Json(VenteList { ventes, suivant }))
}

/// Cancels a whole sale: its goods go back to stock, once.
#[utoipa::path(post, path = "/api/ventes/{id}/annulation",
    responses((status = 200, body = Recu), (status = 403, description = "un gérant est requis"), (status = 409)))]
pub async fn cancel_vente(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<Recu>> {
    visible_sale(&state, &auth, &id).await?;
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    aftersale::cancel(&state, &auth, ctx, &id).await?;
    let sale = visible_sale(&state, &auth, &id).await?;
    Ok(axum::Json(receipt(&state, sale).await?))
}

/// Returns some lines of a sale (`Idempotency-Key` required).
#[utoipa::path(post, path = "/api/ventes/{id}/retours", request_body = NouveauRetour,
    responses((status = 201, body = Retour), (status = 422, description = "plus que le retournable"), (status = 409)))]
pub async fn create_retour(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<String>,
    IdempotencyKey(key): IdempotencyKey,
    Json(input): Json<NouveauRetour>,
) -> ApiResult<(StatusCode, axum::Json<Retour>)> {
    visible_sale(&state, &auth, &id).await?;
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    let (created, retour) = aftersale::create_return(&state, &auth, ctx, &id, &key, input).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, axum::Json(retour)))
}
