//! `/api/stocks/transferts`: the logistics centre ships stock to a store.
//! Multi-line, all-or-nothing, atomic, idempotent by `Idempotency-Key`.

use axum::{
    Router,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
    routing::{get, post},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::RequestId,
    extract::{IdempotencyKey, Json, Path, fingerprint},
};
use serde::{Deserialize, Serialize};
use sqlx::{MySql, Transaction};
use utoipa::ToSchema;

use crate::{
    AppState, cache_ns,
    db::{
        self,
        ledger::{Move, Short},
    },
    domain::{self, Ligne, Transfert, TypeMouvement},
    peers::{TypeMagasin, magasin_type},
    tx::{TxError, with_tx},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/stocks/transferts", post(create_transfert))
        .route("/api/stocks/transferts/{id}", get(get_transfert))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouveauTransfert {
    /// The logistics centre.
    pub source_id: i64,
    /// The store receiving the goods.
    pub destination_id: i64,
    pub lignes: Vec<Ligne>,
}

/// Ships goods from the logistics centre to a store (logistique, admin).
/// Requires `Idempotency-Key`; the same key returns the same transfer.
#[utoipa::path(post, path = "/api/stocks/transferts", request_body = NouveauTransfert,
    params(("Idempotency-Key" = String, Header, description = "Clé unique de la demande (UUID)")),
    responses((status = 201, body = Transfert), (status = 409, description = "stock insuffisant : lignes manquantes"),
              (status = 422, description = "données invalides")))]
pub async fn create_transfert(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    key: ApiResult<IdempotencyKey>,
    body: ApiResult<Json<NouveauTransfert>>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Logistique, Role::Admin])?;
    // The role is checked before the body is read: a caller without the
    // right gets 403 whatever they sent.
    let Json(input) = body?;
    let IdempotencyKey(key) = key?;
    let lignes = domain::check_lines(&input.lignes)?;
    if input.source_id == input.destination_id {
        return Err(ApiError::field("destination_id", "doit différer de la source"));
    }
    let fingerprint = fingerprint(&(input.source_id, input.destination_id, &lignes));
    if let Some(existing) = replay(&state, &key, &fingerprint).await? {
        state.transfers.with_label_values(&["rejoue"]).inc();
        return Ok((
            StatusCode::CREATED,
            [(header::LOCATION, format!("/api/stocks/transferts/{}", existing.id))],
            axum::Json(existing),
        ));
    }
    if magasin_type(&state, &auth, &rid, "source_id", input.source_id).await? != TypeMagasin::Logistique {
        return Err(ApiError::field("source_id", "la source doit être le centre logistique"));
    }
    if magasin_type(&state, &auth, &rid, "destination_id", input.destination_id).await? != TypeMagasin::Magasin {
        return Err(ApiError::field("destination_id", "la destination doit être un magasin"));
    }
    let (source, destination, auteur) = (input.source_id, input.destination_id, auth.login.clone());
    let outcome = with_tx(&state.platform.pool, |tx| {
        let (key, fingerprint, lignes, auteur) = (key.clone(), fingerprint.clone(), lignes.clone(), auteur.clone());
        Box::pin(async move {
            let motif = format!("transfert {source} → {destination}");
            execute(
                tx,
                &Shipment { key: &key, fingerprint: &fingerprint, source, destination, motif: &motif },
                &lignes,
                &auteur,
            )
            .await
        })
    })
    .await;
    let id = match outcome {
        Ok(id) => id,
        Err(e @ ApiError::Conflict { extra: Some(_), .. }) => {
            state.transfers.with_label_values(&["insuffisant"]).inc();
            return Err(e);
        }
        Err(ApiError::Conflict { extra: None, .. }) => {
            // A concurrent request with the same key committed first.
            let existing =
                replay(&state, &key, &fingerprint).await?.ok_or_else(|| ApiError::conflict("Transfert concurrent."))?;
            state.transfers.with_label_values(&["rejoue"]).inc();
            return Ok((
                StatusCode::CREATED,
                [(header::LOCATION, format!("/api/stocks/transferts/{}", existing.id))],
                axum::Json(existing),
            ));
        }
        Err(e) => return Err(e),
    };
    state.platform.invalidate(&cache_ns(source)).await;
    state.platform.invalidate(&cache_ns(destination)).await;
    state.transfers.with_label_values(&["ok"]).inc();
    let t = load(&state, id).await?.ok_or_else(|| ApiError::NotFound(format!("transfert {id}")))?;
    tracing::info!(transfert = id, source, destination, lignes = t.lignes.len(), par = %auth.login, "transfert effectué");
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/stocks/transferts/{id}"))], axum::Json(t)))
}

/// The 409 listing each short line with what is available.
pub fn shortage(source: i64, shorts: &[Short]) -> ApiError {
    let detail = shorts
        .iter()
        .map(|s| format!("produit {} : {} demandé(s), {} disponible(s)", s.produit_id, s.demande, s.disponible))
        .collect::<Vec<_>>()
        .join(" ; ");
    let manquants: Vec<_> = shorts
        .iter()
        .map(|s| serde_json::json!({"produit_id": s.produit_id, "demande": s.demande, "disponible": s.disponible}))
        .collect();
    ApiError::Conflict {
        detail: format!("Stock insuffisant au magasin {source} : {detail}. Rien n'a été déplacé."),
        extra: Some(serde_json::json!({"manquants": manquants})),
    }
}

/// The transfer already recorded under `key`, if any; 422 if the key was
/// used for a different request.
pub async fn replay(state: &AppState, key: &str, fingerprint: &str) -> ApiResult<Option<Transfert>> {
    match db::transferts::find_by_key(&state.platform.pool, key).await? {
        None => Ok(None),
        Some((_, f)) if f != fingerprint => Err(ApiError::field(
            "Idempotency-Key",
            "cette clé a déjà servi pour une autre demande de transfert : générez-en une nouvelle",
        )),
        Some((id, _)) => load(state, id).await,
    }
}

/// What a transfer moves between whom, under which key (a direct transfer
/// or a restocking request's shipment).
pub struct Shipment<'a> {
    pub key: &'a str,
    pub fingerprint: &'a str,
    pub source: i64,
    pub destination: i64,
    /// The reason written on its movements.
    pub motif: &'a str,
}

/// The transaction: record, decrement the source (guarded), increment the
/// destination, ledger both. Shortages roll everything back (the caller
/// returns the error, so its own writes in `tx` roll back too).
pub async fn execute(
    tx: &mut Transaction<'static, MySql>,
    s: &Shipment<'_>,
    lignes: &[Ligne],
    auteur: &str,
) -> Result<i64, TxError> {
    let (source, destination, motif) = (s.source, s.destination, s.motif);
    let id = db::transferts::insert(tx, s.key, s.fingerprint, source, destination, auteur).await?;
    let reference = format!("transfert:{id}");
    let line = |l: &Ligne, magasin_id, delta, type_mouvement| Move {
        magasin_id,
        produit_id: l.produit_id,
        delta,
        type_mouvement,
        reference: &reference,
        motif,
        auteur,
    };
    // The source's rows, then the destination's, each by product id: one
    // lock order for every transfer.
    let moves: Vec<Move> = lignes
        .iter()
        .map(|l| line(l, source, -l.quantite, TypeMouvement::TransfertSortie))
        .chain(lignes.iter().map(|l| line(l, destination, l.quantite, TypeMouvement::TransfertEntree)))
        .collect();
    if let Err(shorts) = db::ledger::apply_batch(tx, &moves).await? {
        // Returning an error rolls back the record and every decrement.
        return Err(TxError::Api(shortage(source, &shorts)));
    }
    for l in lignes {
        db::transferts::insert_line(tx, id, l).await?;
    }
    Ok(id)
}

async fn load(state: &AppState, id: i64) -> ApiResult<Option<Transfert>> {
    Ok(db::transferts::load(&state.platform.pool, id).await?)
}

/// One transfer (staff of either magasin, logistique, admin).
#[utoipa::path(get, path = "/api/stocks/transferts/{id}", responses((status = 200, body = Transfert), (status = 404)))]
pub async fn get_transfert(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Transfert>> {
    let t = load(&state, id).await?.ok_or_else(|| ApiError::NotFound(format!("Le transfert {id} n'existe pas.")))?;
    if !auth.can_access_magasin(t.source_id) && !auth.can_access_magasin(t.destination_id) {
        return Err(ApiError::NotFound(format!("Le transfert {id} n'existe pas.")));
    }
    Ok(axum::Json(t))
}
