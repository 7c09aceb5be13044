//! `/api/stocks/reservations`: the stock side of the checkout saga. One call
//! reserves every line of a sale at one magasin, all or nothing, keyed by the
//! sale id; a release puts it back exactly once, if vente consents.

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::RequestId,
    extract::{Json, Path, fingerprint},
};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, Transaction};
use utoipa::ToSchema;

use crate::{
    AppState, cache_ns,
    db::{self, ledger::Move},
    domain::{self, Ligne, Reservation, StatutReservation, StatutVente, TypeMouvement},
    peers,
    tx::{TxError, with_tx},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stocks/reservations", post(create_reservation))
        .route("/api/stocks/reservations/{vente_id}", get(get_reservation))
        .route("/api/stocks/reservations/{vente_id}/liberation", post(release_reservation))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelleReservation {
    /// The sale's id (UUID): the idempotency key of the reservation.
    pub vente_id: String,
    pub magasin_id: i64,
    pub lignes: Vec<Ligne>,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Liberation {
    pub magasin_id: i64,
}

fn check_vente_id(id: &str) -> ApiResult<()> {
    uuid::Uuid::parse_str(id).map(|_| ()).map_err(|_| ApiError::field("vente_id", "UUID attendu"))
}

/// Reservations, releases and returns move stock on behalf of a sale: only
/// the vente service (its own service token) or an admin may call them, never
/// a cashier's browser.
pub(crate) fn saga_caller(auth: &Auth) -> ApiResult<()> {
    auth.require_role(&[Role::Service, Role::Admin])
}

/// What an earlier call with this sale id decided, if any.
fn replay(existing: (Reservation, String), fingerprint: &str) -> ApiResult<Reservation> {
    let (r, f) = existing;
    if r.statut == StatutReservation::Liberee {
        return Err(ApiError::conflict(format!(
            "La vente {} a été compensée : sa réservation est libérée et ne peut plus être reprise.",
            r.vente_id
        )));
    }
    if f != fingerprint {
        return Err(ApiError::field("vente_id", "cette vente a déjà réservé d'autres lignes"));
    }
    Ok(r)
}

/// Reserves every line of a sale (conditional decrements: never below zero).
#[utoipa::path(post, path = "/api/stocks/reservations", request_body = NouvelleReservation,
    responses((status = 201, body = Reservation), (status = 409, description = "stock insuffisant : lignes manquantes"),
              (status = 422)))]
pub async fn create_reservation(
    State(state): State<AppState>,
    auth: Auth,
    body: ApiResult<Json<NouvelleReservation>>,
) -> ApiResult<(StatusCode, axum::Json<Reservation>)> {
    saga_caller(&auth)?;
    let Json(input) = body?;
    check_vente_id(&input.vente_id)?;
    let lignes = domain::check_lines(&input.lignes)?;
    let fp = fingerprint(&(input.magasin_id, &lignes));
    let pool = &state.platform.pool;
    // No read first: a repeat collides on the sale id and is answered below.
    let (vente_id, magasin_id, auteur) = (input.vente_id.clone(), input.magasin_id, auth.login.clone());
    let outcome = with_tx(pool, |tx| {
        let (vente_id, fp, lignes, auteur) = (vente_id.clone(), fp.clone(), lignes.clone(), auteur.clone());
        Box::pin(async move { reserve(tx, &vente_id, magasin_id, &fp, &lignes, &auteur).await })
    })
    .await;
    match outcome {
        Ok(()) => {}
        Err(e @ ApiError::Conflict { extra: Some(_), .. }) => {
            state.reservations.with_label_values(&["insuffisant"]).inc();
            return Err(e);
        }
        Err(ApiError::Conflict { extra: None, .. }) => {
            // The same sale id committed concurrently: answer what it decided.
            let existing = db::reservations::load(pool, &vente_id)
                .await?
                .ok_or_else(|| ApiError::conflict("Réservation concurrente."))?;
            state.reservations.with_label_values(&["rejoue"]).inc();
            return Ok((StatusCode::CREATED, axum::Json(replay(existing, &fp)?)));
        }
        Err(e) => return Err(e),
    }
    state.platform.invalidate(&cache_ns(magasin_id)).await;
    state.reservations.with_label_values(&["ok"]).inc();
    let statut = StatutReservation::Reservee;
    Ok((StatusCode::CREATED, axum::Json(Reservation { vente_id, magasin_id, statut, lignes })))
}

async fn reserve(
    tx: &mut Transaction<'static, MySql>,
    vente_id: &str,
    magasin_id: i64,
    fp: &str,
    lignes: &[Ligne],
    auteur: &str,
) -> Result<(), TxError> {
    // The reservation first: a repeat of this sale collides on its id here,
    // whatever stock is left since, and is answered as a replay.
    db::reservations::insert(tx, vente_id, magasin_id, fp, lignes, auteur).await?;
    let reference = format!("vente:{vente_id}");
    let moves: Vec<Move> = lignes
        .iter()
        .map(|l| Move {
            magasin_id,
            produit_id: l.produit_id,
            delta: -l.quantite,
            type_mouvement: TypeMouvement::Vente,
            reference: &reference,
            motif: "vente",
            auteur,
        })
        .collect();
    if let Err(shorts) = db::ledger::apply_batch(tx, &moves).await? {
        // Rolls back the reservation and every decrement.
        return Err(TxError::Api(crate::routes::transferts::shortage(magasin_id, &shorts)));
    }
    Ok(())
}

/// A sale's reservation (the saga's recovery asks it).
#[utoipa::path(get, path = "/api/stocks/reservations/{vente_id}", responses((status = 200, body = Reservation), (status = 404)))]
pub async fn get_reservation(
    State(state): State<AppState>,
    auth: Auth,
    Path(vente_id): Path<String>,
) -> ApiResult<axum::Json<Reservation>> {
    // The role first: whether a sale has a reservation is not for others to learn.
    saga_caller(&auth)?;
    check_vente_id(&vente_id)?;
    let (r, _) = db::reservations::load(&state.platform.pool, &vente_id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("Aucune réservation pour la vente {vente_id}.")))?;
    Ok(axum::Json(r))
}

/// Releases a sale's reservation, exactly once, and only if vente says
/// the sale gives its stock back this way (being compensated, refused,
/// abandoned, or unknown to vente): a completed sale's goods come back
/// through vente (cancellation, return), never twice. Releasing an unknown
/// sale leaves a tombstone so a late reservation cannot happen after it.
#[utoipa::path(post, path = "/api/stocks/reservations/{vente_id}/liberation", request_body = Liberation,
    responses((status = 200, body = Reservation, description = "libérée (ou déjà libérée)"),
              (status = 409, description = "la vente est terminée ou en cours : l'annuler par le service vente"),
              (status = 422), (status = 503, description = "vente injoignable : rien n'est libéré, réessayez")))]
pub async fn release_reservation(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(vente_id): Path<String>,
    body: ApiResult<Json<Liberation>>,
) -> ApiResult<axum::Json<Reservation>> {
    saga_caller(&auth)?;
    let Json(input) = body?;
    check_vente_id(&vente_id)?;
    let pool = &state.platform.pool;
    let auteur = auth.login.clone();
    let mut vente_consents = false;
    let released_from = loop {
        let outcome = with_tx(pool, |tx| {
            let (vente_id, auteur) = (vente_id.clone(), auteur.clone());
            Box::pin(async move { release(tx, &vente_id, input.magasin_id, &auteur, vente_consents).await })
        })
        .await?;
        match outcome {
            Release::Done(m) => break m,
            // Asked once: with consent, the next transaction releases.
            Release::NeedsVente => {
                let statut = peers::sale_status(&state, &rid, &vente_id).await?;
                if !domain::may_release(statut) {
                    return Err(refusal(&vente_id, statut));
                }
                vente_consents = true;
            }
        }
    };
    if let Some(m) = released_from {
        state.platform.invalidate(&cache_ns(m)).await;
    }
    let (r, _) =
        db::reservations::load(pool, &vente_id).await?.ok_or_else(|| ApiError::NotFound("réservation".into()))?;
    Ok(axum::Json(r))
}

/// The 409 for a sale whose stock must not come back by a release.
fn refusal(vente_id: &str, statut: Option<StatutVente>) -> ApiError {
    let etat = match statut {
        Some(StatutVente::EnCours) => "est en cours d'encaissement",
        Some(StatutVente::Annulation | StatutVente::Annulee) => "est annulée ou en cours d'annulation",
        _ => "est terminée",
    };
    ApiError::conflict(format!(
        "La vente {vente_id} {etat} : sa réservation ne peut pas être libérée ici. Pour remettre ses articles en \
         stock, annulez la vente (ou faites un retour) par le service vente."
    ))
}

/// What a release transaction did.
enum Release {
    /// Done; the magasin whose stock changed, if any.
    Done(Option<i64>),
    /// The reservation holds stock: vente must consent first.
    NeedsVente,
}

async fn release(
    tx: &mut Transaction<'static, MySql>,
    vente_id: &str,
    magasin_id: i64,
    auteur: &str,
    vente_consents: bool,
) -> Result<Release, TxError> {
    match db::reservations::lock(tx, vente_id).await? {
        None => {
            db::reservations::insert_tombstone(tx, vente_id, magasin_id, auteur).await?;
            Ok(Release::Done(None))
        }
        Some((_, StatutReservation::Liberee)) => Ok(Release::Done(None)),
        Some((m, StatutReservation::Reservee)) => {
            if m != magasin_id {
                return Err(TxError::Api(ApiError::field("magasin_id", "la réservation est dans un autre magasin")));
            }
            if !vente_consents {
                return Ok(Release::NeedsVente);
            }
            let reference = format!("vente:{vente_id}");
            let moves: Vec<Move> = db::reservations::locked_lines(tx, vente_id)
                .await?
                .iter()
                .map(|l| Move {
                    magasin_id: m,
                    produit_id: l.produit_id,
                    delta: l.quantite,
                    type_mouvement: TypeMouvement::Liberation,
                    reference: &reference,
                    motif: "vente compensée",
                    auteur,
                })
                .collect();
            db::ledger::apply_batch(tx, &moves)
                .await?
                .map_err(|_| TxError::Api(ApiError::conflict("libération refusée")))?;
            if !db::reservations::mark_released(tx, vente_id).await? {
                return Err(TxError::Api(ApiError::conflict("libération concurrente")));
            }
            Ok(Release::Done(Some(m)))
        }
    }
}
