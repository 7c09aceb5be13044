//! The decisions on a restocking request: approve (fully or per line) or
//! refuse with a reason (logistique, admin — never whoever created it);
//! ship as one transfer from the logistics centre (idempotent by
//! `Idempotency-Key`, all or nothing); receive (the store), a shortfall
//! recorded as an `ecart_reception` movement with its reason.

use axum::{Router, extract::State, routing::post};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::RequestId,
    extract::{IdempotencyKey, Json, OptionalJson, Path, fingerprint},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{
    demandes::{load, with_centre},
    transferts::{Shipment, execute, replay, shortage},
};
use crate::{
    AppState, cache_ns,
    db::{self, ledger::Move},
    domain::{self, Demande, Ligne, QuantiteLigne, StatutDemande, TypeMouvement},
    peers::{self, TypeMagasin},
    tx::{TxError, with_tx},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stocks/demandes/{id}/approbation", post(approve_demande))
        .route("/api/stocks/demandes/{id}/refus", post(refuse_demande))
        .route("/api/stocks/demandes/{id}/expedition", post(ship_demande))
        .route("/api/stocks/demandes/{id}/reception", post(receive_demande))
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Approbation {
    /// Approved quantity per line (0 to the requested one); lines left out
    /// are approved as requested.
    #[serde(default)]
    pub lignes: Vec<QuantiteLigne>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Refus {
    pub motif: String,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Expedition {
    /// The logistics centre shipping (default: the one caisse declares).
    pub source_id: Option<i64>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reception {
    /// Received quantity per line (0 to the shipped one); lines left out
    /// were received in full.
    #[serde(default)]
    pub lignes: Vec<QuantiteLigne>,
    /// Required when something is missing.
    pub motif: Option<String>,
}

/// The 409 of a request not in the status a decision needs.
fn wrong_status(id: i64, statut: StatutDemande, need: StatutDemande) -> ApiError {
    ApiError::conflict(format!(
        "La demande {id} est {} : cette action demande une demande {}.",
        statut.label(),
        need.label()
    ))
}

/// Locks the request and checks it is in `need`; returns its store.
async fn locked_in(
    tx: &mut sqlx::Transaction<'static, sqlx::MySql>,
    id: i64,
    need: StatutDemande,
) -> Result<i64, TxError> {
    let (magasin, statut) = db::demandes::lock(tx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("La demande {id} n'existe pas.")))?;
    if statut != need {
        return Err(TxError::Api(wrong_status(id, statut, need)));
    }
    Ok(magasin)
}

/// Approves a request, fully or per line (logistique, admin; not its author).
#[utoipa::path(post, path = "/api/stocks/demandes/{id}/approbation", request_body = Approbation,
    responses((status = 200, body = Demande), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn approve_demande(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
    body: ApiResult<OptionalJson<Approbation>>,
) -> ApiResult<axum::Json<Demande>> {
    auth.require_role(&[Role::Logistique, Role::Admin])?;
    let OptionalJson(input) = body?;
    let input = input.unwrap_or_default();
    let d = load(&state, id).await?;
    not_author(&d, &auth)?;
    let requested: Vec<(i64, i32)> = d.lignes.iter().map(|l| (l.produit_id, l.quantite_demandee)).collect();
    let approved = domain::approval(&requested, &input.lignes)?;
    let partial = approved.iter().zip(&requested).any(|(a, r)| a.1 < r.1);
    let motif = if partial { "approbation partielle" } else { "" };
    let par = auth.login.clone();
    with_tx(&state.platform.pool, |tx| {
        let (approved, par) = (approved.clone(), par.clone());
        Box::pin(async move {
            locked_in(tx, id, StatutDemande::Creee).await?;
            db::demandes::set_approved(tx, id, &approved).await?;
            db::demandes::transition(tx, id, StatutDemande::APPROVE, &par, motif).await?;
            Ok(())
        })
    })
    .await?;
    tracing::info!(demande = id, partielle = partial, par = %auth.login, "demande approuvée");
    Ok(axum::Json(with_centre(&state, &auth, &rid, load(&state, id).await?).await))
}

/// Separation of duties: whoever asked does not decide.
fn not_author(d: &Demande, auth: &Auth) -> ApiResult<()> {
    if d.cree_par == auth.login {
        return Err(ApiError::Forbidden(format!(
            "Vous avez créé la demande {} : une autre personne doit la traiter.",
            d.id
        )));
    }
    Ok(())
}

/// Refuses a request with a reason (logistique, admin; not its author).
#[utoipa::path(post, path = "/api/stocks/demandes/{id}/refus", request_body = Refus,
    responses((status = 200, body = Demande), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn refuse_demande(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
    body: ApiResult<Json<Refus>>,
) -> ApiResult<axum::Json<Demande>> {
    auth.require_role(&[Role::Logistique, Role::Admin])?;
    let Json(input) = body?;
    let motif = domain::reason("motif", Some(&input.motif))?;
    let d = load(&state, id).await?;
    not_author(&d, &auth)?;
    let par = auth.login.clone();
    with_tx(&state.platform.pool, |tx| {
        let (motif, par) = (motif.clone(), par.clone());
        Box::pin(async move {
            locked_in(tx, id, StatutDemande::Creee).await?;
            db::demandes::set_refusal(tx, id, &motif).await?;
            db::demandes::transition(tx, id, StatutDemande::REFUSE, &par, &motif).await?;
            Ok(())
        })
    })
    .await?;
    tracing::info!(demande = id, par = %auth.login, "demande refusée");
    Ok(axum::Json(with_centre(&state, &auth, &rid, load(&state, id).await?).await))
}

/// Ships the approved quantities from the logistics centre as one transfer
/// (logistique, admin). Requires `Idempotency-Key`: the same key answers the
/// shipped request again, never ships twice; 409 naming the short lines when
/// the centre lacks stock (nothing moved).
#[utoipa::path(post, path = "/api/stocks/demandes/{id}/expedition", request_body = Option<Expedition>,
    params(("Idempotency-Key" = String, Header, description = "Clé unique de l'expédition (UUID)")),
    responses((status = 200, body = Demande), (status = 403), (status = 404),
              (status = 409, description = "stock insuffisant au centre, ou demande pas approuvée"), (status = 422)))]
pub async fn ship_demande(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
    key: ApiResult<IdempotencyKey>,
    body: ApiResult<OptionalJson<Expedition>>,
) -> ApiResult<axum::Json<Demande>> {
    auth.require_role(&[Role::Logistique, Role::Admin])?;
    let OptionalJson(input) = body?;
    let IdempotencyKey(key) = key?;
    let d = load(&state, id).await?;
    let source = match input.and_then(|e| e.source_id) {
        Some(s) => {
            if peers::magasin_type(&state, &auth, &rid, "source_id", s).await? != TypeMagasin::Logistique {
                return Err(ApiError::field("source_id", "la source doit être un centre logistique"));
            }
            s
        }
        None => peers::logistics_centre(&state, &auth, &rid).await?,
    };
    let lignes: Vec<Ligne> = d
        .lignes
        .iter()
        .filter_map(|l| {
            let q = l.quantite_approuvee.unwrap_or(0);
            (q > 0).then_some(Ligne { produit_id: l.produit_id, quantite: i64::from(q) })
        })
        .collect();
    let destination = d.magasin_id;
    let fp = fingerprint(&("demande", id, source, destination, &lignes));
    if let Some(t) = replay(&state, &key, &fp).await? {
        state.transfers.with_label_values(&["rejoue"]).inc();
        tracing::info!(demande = id, transfert = t.id, "expédition rejouée");
        return Ok(axum::Json(with_centre(&state, &auth, &rid, load(&state, id).await?).await));
    }
    if d.statut != StatutDemande::Approuvee {
        return Err(wrong_status(id, d.statut, StatutDemande::Approuvee));
    }
    let par = auth.login.clone();
    let outcome = with_tx(&state.platform.pool, |tx| {
        let (key, fp, lignes, par) = (key.clone(), fp.clone(), lignes.clone(), par.clone());
        Box::pin(async move {
            locked_in(tx, id, StatutDemande::Approuvee).await?;
            let motif = format!("demande {id} : centre {source} → magasin {destination}");
            let shipment = Shipment { key: &key, fingerprint: &fp, source, destination, motif: &motif };
            let transfert = execute(tx, &shipment, &lignes, &par).await?;
            db::demandes::set_transfert(tx, id, transfert).await?;
            db::demandes::transition(tx, id, StatutDemande::SHIP, &par, &format!("transfert {transfert}")).await?;
            Ok(transfert)
        })
    })
    .await;
    match outcome {
        Ok(transfert) => {
            state.platform.invalidate(&cache_ns(source)).await;
            state.platform.invalidate(&cache_ns(destination)).await;
            state.transfers.with_label_values(&["ok"]).inc();
            tracing::info!(demande = id, transfert, par = %auth.login, "demande expédiée");
        }
        Err(e @ ApiError::Conflict { extra: Some(_), .. }) => {
            state.transfers.with_label_values(&["insuffisant"]).inc();
            return Err(e);
        }
        Err(e @ ApiError::Conflict { extra: None, .. }) => {
            // A concurrent shipment with the same key committed first.
            if replay(&state, &key, &fp).await?.is_none() {
                return Err(e);
            }
            state.transfers.with_label_values(&["rejoue"]).inc();
        }
        Err(e) => return Err(e),
    }
    Ok(axum::Json(with_centre(&state, &auth, &rid, load(&state, id).await?).await))
}

/// Confirms reception with the quantities received (gérant of the store,
/// admin). A shortfall is its own movement (`ecart_reception`) with the
/// reason, so the ledger explains the store's quantity.
#[utoipa::path(post, path = "/api/stocks/demandes/{id}/reception", request_body = Option<Reception>,
    responses((status = 200, body = Demande), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn receive_demande(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
    body: ApiResult<OptionalJson<Reception>>,
) -> ApiResult<axum::Json<Demande>> {
    auth.require_role(&[Role::Gerant, Role::Admin])?;
    let OptionalJson(input) = body?;
    let input = input.unwrap_or_default();
    let d = load(&state, id).await?;
    auth.require_magasin(d.magasin_id)?;
    if d.statut != StatutDemande::Expediee {
        return Err(wrong_status(id, d.statut, StatutDemande::Expediee));
    }
    let shipped: Vec<(i64, i32)> =
        d.lignes.iter().filter_map(|l| l.quantite_approuvee.filter(|q| *q > 0).map(|q| (l.produit_id, q))).collect();
    let (received, motif) = domain::reception(&shipped, &input.lignes, input.motif.as_deref())?;
    let (magasin, par) = (d.magasin_id, auth.login.clone());
    with_tx(&state.platform.pool, |tx| {
        let (received, shipped, motif, par) = (received.clone(), shipped.clone(), motif.clone(), par.clone());
        Box::pin(async move {
            locked_in(tx, id, StatutDemande::Expediee).await?;
            let reference = format!("demande:{id}");
            let why = motif.clone().unwrap_or_default();
            let moves: Vec<Move> = received
                .iter()
                .zip(&shipped)
                .filter(|((_, got), (_, sent))| got < sent)
                .map(|((produit_id, got), (_, sent))| Move {
                    magasin_id: magasin,
                    produit_id: *produit_id,
                    delta: i64::from(got - sent),
                    type_mouvement: TypeMouvement::EcartReception,
                    reference: &reference,
                    motif: &why,
                    auteur: &par,
                })
                .collect();
            if let Err(shorts) = db::ledger::apply_batch(tx, &moves).await? {
                return Err(TxError::Api(shortage(magasin, &shorts)));
            }
            db::demandes::set_received(tx, id, &received).await?;
            db::demandes::transition(tx, id, StatutDemande::RECEIVE, &par, &why).await?;
            Ok(())
        })
    })
    .await?;
    state.platform.invalidate(&cache_ns(magasin)).await;
    tracing::info!(demande = id, ecart = motif.is_some(), par = %auth.login, "demande reçue");
    Ok(axum::Json(with_centre(&state, &auth, &rid, load(&state, id).await?).await))
}
