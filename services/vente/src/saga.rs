//! The checkout saga (DESIGN §4), top to bottom. The sale's states and the
//! only moves between them are in `crate::status`; every move below is a
//! guarded `db::advance`, so whoever moves a sale first decides its fate
//! and everyone else reads that decision (`decided`).
//!
//! 1. A key already seen replays its answer; while its sale is undecided
//!    (`en_cours`, `compensation`) a retry waits for the decision.
//! 2. The cart is read and priced; refusals here record nothing.
//! 3. The sale is recorded `en_cours` with that snapshot.
//! 4. Stock reserves every line in one call keyed by the sale id, within
//!    the checkout deadline. Its answer, as a `ReserveOutcome`:
//!    - reserved → `en_cours → terminee` with `SaleCompleted` in the outbox,
//!      one transaction; then the cart is closed (carry-over of lines
//!      scanned meanwhile). 201.
//!    - short / refused → `en_cours → compensation` storing the refusal,
//!      release (a tombstone stops a late duplicate of the reservation),
//!      `→ rejetee`. The refusal is the answer, now and for every retry.
//!    - never reached → `en_cours → compensation → abandonnee`. 503, nothing sold.
//!    - unknown (timeout, lost answer, 5xx) → `en_cours → compensation`,
//!      release, `→ abandonnee`. 503, nothing sold; if the release itself
//!      failed, the sale stays in `compensation` and recovery finishes the
//!      release — nothing is sold either way, and a retry with the same key
//!      waits for it, then starts a fresh attempt.
//!    - already released → someone else (recovery) owns the sale: `decided`.
//! 5. A checkout that loses a race (its guarded move finds the sale moved)
//!    answers what the winner decided: 201 if recovery completed it, the
//!    stored refusal, or 503 "nothing sold".
//!
//! The recovery loop (`crate::recovery::recover_sale`) takes over sales left
//! `en_cours` past the grace period (a crash, a hung request): it completes
//! them if stock holds their reservation, otherwise compensates them the
//! same way.

use std::time::{Duration, Instant};

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::{CallCtx, RequestId},
    error::is_retryable_tx_error,
    extract::fingerprint,
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{
    AppState,
    db::{self, Note},
    domain::{self, Mode},
    events, fault, journal,
    peers::{self, Line, ReserveOutcome},
    status::{SaleStatus, Transition},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouvelleVente {
    pub panier_id: i64,
    pub paiement: Paiement,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Paiement {
    pub mode: Mode,
    /// Cash tendered (required for `especes`), e.g. "20.00".
    pub montant_recu: Option<String>,
}

/// The final answer to a checkout.
pub enum Answer {
    /// The sale (this id) is sold: answer its receipt.
    Sold(String),
    /// This attempt sold it: the sale and its lines as just committed, so
    /// the receipt needs no read back.
    SoldNow(Box<(db::Sale, Vec<db::SaleLine>)>),
    /// A refusal decided earlier for this key, replayed as it was.
    Stored(Response),
}

/// How many times a checkout retries recording its sale when the key or
/// the cart is held by an attempt that is being abandoned.
const RECORD_ATTEMPTS: usize = 3;

/// Runs the saga for one checkout request.
pub async fn checkout(
    state: &AppState,
    auth: &Auth,
    rid: &RequestId,
    key: &str,
    input: NouvelleVente,
) -> ApiResult<Answer> {
    let started = Instant::now();
    auth.require_role(&[Role::Caissier, Role::Gerant, Role::Admin])?;
    let magasin_id = auth
        .magasin_id
        .ok_or_else(|| ApiError::Forbidden("Seul un compte rattaché à un magasin peut encaisser.".into()))?;
    if input.panier_id <= 0 {
        return Err(ApiError::field("panier_id", "identifiant de panier invalide"));
    }
    let recu = match (input.paiement.mode, input.paiement.montant_recu.as_deref()) {
        (Mode::Especes, Some(raw)) => {
            Some(domain::montant(raw).map_err(|e| ApiError::field("paiement.montant_recu", e))?)
        }
        (Mode::Especes, None) => {
            return Err(ApiError::field("paiement.montant_recu", "obligatoire pour un paiement en espèces"));
        }
        (Mode::Carte, Some(_)) => {
            return Err(ApiError::field("paiement.montant_recu", "sans objet pour un paiement par carte"));
        }
        (Mode::Carte, None) => None,
    };
    let fp = fingerprint(&(input.panier_id, input.paiement.mode, &input.paiement.montant_recu));
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    for _ in 0..RECORD_ATTEMPTS {
        // 1. A known key answers what was decided for it.
        if let Some(answer) = replay(state, auth, key, &fp).await? {
            state.metrics.outcome("replay", started);
            return Ok(answer);
        }
        let mut clock = Instant::now();
        // 2. The cart and its prices. A refusal here records nothing.
        let (lines, totaux, cart) =
            match snapshot(state, ctx, magasin_id, input.panier_id, input.paiement.mode, recu).await {
                Ok(s) => s,
                Err(e) => {
                    // A concurrent request with this key may have sold the
                    // cart meanwhile (closing it): its answer is ours.
                    if e.status() == StatusCode::CONFLICT
                        && let Some(answer) = replay(state, auth, key, &fp).await?
                    {
                        state.metrics.outcome("replay", started);
                        return Ok(answer);
                    }
                    let outcome = if e.status().is_server_error() { "unavailable" } else { "rejected_input" };
                    state.metrics.outcome(outcome, started);
                    return Err(e);
                }
            };
        state.metrics.step("panier", &mut clock);
        // 3. Pending, with its snapshot, before stock is touched.
        let id = uuid::Uuid::new_v4().to_string();
        let new = db::NewSale {
            id: &id,
            key,
            fingerprint: &fp,
            magasin_id,
            caissier_id: auth.sub,
            caissier_login: &auth.login,
            panier_id: input.panier_id,
            panier_version: cart.version,
            caisse_id: cart.caisse_id,
            session_id: cart.session_id,
            mode: input.paiement.mode,
            montant_recu: recu,
            cree_le: caisse_common::db::now_ms(),
        };
        match db::insert_pending(&state.platform.pool, &new, &lines, &totaux).await {
            Ok(numero) => {
                state.metrics.step("enregistrement", &mut clock);
                let answer = run(state, ctx, &new, numero, &lines, &mut clock).await;
                let outcome = match &answer {
                    Ok(Answer::Sold(_) | Answer::SoldNow(_)) => "completed",
                    Ok(Answer::Stored(_)) => "replay",
                    Err(e) if e.status().is_client_error() => "rejected",
                    Err(_) => "compensated",
                };
                state.metrics.outcome(outcome, started);
                return answer;
            }
            // The key or the cart is held by another attempt: replay it
            // (waiting for its decision), or try again if it was abandoned.
            Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => continue,
            // Concurrent inserts on the same unique keys can deadlock: retry.
            Err(e) if is_retryable_tx_error(&e) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::conflict(format!("Le panier {} est déjà encaissé ou en cours d'encaissement.", input.panier_id)))
}

/// Reads the cart and prices it: the lines to sell, the totals, the version priced.
async fn snapshot(
    state: &AppState,
    ctx: CallCtx<'_>,
    magasin_id: i64,
    panier_id: i64,
    mode: Mode,
    recu: Option<Decimal>,
) -> ApiResult<(Vec<db::SaleLine>, domain::Totaux, CartRef)> {
    let cart = match peers::cart(state, ctx, panier_id).await? {
        Ok(c) => c,
        Err(up) if up.status == StatusCode::NOT_FOUND => {
            return Err(ApiError::field(
                "panier_id",
                format!("le panier {panier_id} n'existe pas ou n'est pas le vôtre"),
            ));
        }
        Err(up) => return Err(ApiError::BadRequest(format!("panier : {}", up.body["detail"]))),
    };
    if cart.magasin_id != magasin_id {
        return Err(ApiError::Forbidden(format!("Le panier {panier_id} appartient au magasin {}.", cart.magasin_id)));
    }
    if cart.statut != "ouvert" {
        return Err(ApiError::conflict(format!(
            "Le panier {panier_id} est déjà encaissé (vente {}).",
            cart.vente_id.unwrap_or_default()
        )));
    }
    if cart.lignes.is_empty() {
        return Err(ApiError::field("panier_id", "le panier est vide : rien à encaisser"));
    }
    if let Some(l) = cart.lignes.iter().find(|l| !l.actif) {
        return Err(ApiError::field("panier_id", format!("« {} » n'est plus vendu : retirez-le du panier", l.nom)));
    }
    let lines: Vec<db::SaleLine> = cart
        .lignes
        .iter()
        .map(|l| db::SaleLine {
            produit_id: l.produit_id,
            nom: l.nom.clone(),
            code_barres: l.code_barres.clone(),
            prix_unitaire: l.prix_unitaire,
            quantite: l.quantite,
            total_ligne: l.prix_unitaire * Decimal::from(l.quantite),
            quantite_retournee: 0,
        })
        .collect();
    let totaux = domain::totaux(lines.iter().map(|l| l.total_ligne).sum());
    domain::regler(totaux.total, mode, recu).map_err(|e| ApiError::field("paiement.montant_recu", e))?;
    Ok((lines, totaux, CartRef { version: cart.version, caisse_id: cart.caisse_id, session_id: cart.session_id }))
}

/// What the sale keeps of its cart: the version priced, its register and session.
struct CartRef {
    version: i32,
    caisse_id: Option<i64>,
    session_id: Option<i64>,
}

/// The row of a sale this attempt recorded and completed, as committed.
fn sold(sale: &db::NewSale<'_>, numero: i64, t: &domain::Totaux, terminee_le: DateTime<Utc>) -> db::Sale {
    db::Sale {
        id: sale.id.to_owned(),
        numero,
        cle_idempotence: sale.key.to_owned(),
        empreinte: sale.fingerprint.to_owned(),
        magasin_id: sale.magasin_id,
        caissier_id: sale.caissier_id,
        caissier_login: sale.caissier_login.to_owned(),
        panier_id: sale.panier_id,
        panier_version: Some(sale.panier_version),
        caisse_id: sale.caisse_id,
        session_id: sale.session_id,
        statut: SaleStatus::Terminee,
        sous_total: Some(t.sous_total),
        tps: Some(t.tps),
        tvq: Some(t.tvq),
        total: Some(t.total),
        mode_paiement: sale.mode,
        montant_recu: sale.montant_recu,
        reponse_statut: None,
        reponse: None,
        panier_ferme: false,
        cree_le: sale.cree_le,
        terminee_le: Some(terminee_le),
        annulee_le: None,
        annulee_par: None,
    }
}

/// Steps 4 and 5 for a recorded sale.
async fn run(
    state: &AppState,
    ctx: CallCtx<'_>,
    sale: &db::NewSale<'_>,
    numero: i64,
    lines: &[db::SaleLine],
    clock: &mut Instant,
) -> ApiResult<Answer> {
    let id = sale.id;
    let wanted: Vec<Line> =
        lines.iter().map(|l| Line { produit_id: l.produit_id, quantite: i64::from(l.quantite) }).collect();
    let reserve = peers::reserve(state, ctx, id, sale.magasin_id, &wanted);
    let outcome = match tokio::time::timeout(state.config.checkout_deadline, reserve).await {
        Ok(o) => o,
        Err(_) => ReserveOutcome::Unknown(ApiError::Unavailable("Le stock n'a pas répondu à temps.".into())),
    };
    state.metrics.step("reservation", clock);
    match outcome {
        ReserveOutcome::Reserved => {
            fault::crash_point("crash_after_reservation");
            let done = Completed {
                id,
                numero,
                magasin_id: sale.magasin_id,
                caissier_id: sale.caissier_id,
                mode: sale.mode,
                totaux: domain::totaux(lines.iter().map(|l| l.total_ligne).sum()),
                caisse_id: sale.caisse_id,
                session_id: sale.session_id,
            };
            let Some(terminee_le) = complete_with(state, &done, lines).await? else {
                return decided(state, id).await;
            };
            state.metrics.step("validation", clock);
            close_cart(state, ctx, sale.panier_id, id, Some((sale.panier_version, &wanted))).await;
            state.metrics.step("fermeture", clock);
            Ok(Answer::SoldNow(Box::new((sold(sale, numero, &done.totaux, terminee_le), lines.to_vec()))))
        }
        ReserveOutcome::Short { detail, manquants } => {
            let e = ApiError::Conflict { detail, extra: Some(json!({ "manquants": manquants })) };
            refuse(state, ctx, sale, e).await
        }
        ReserveOutcome::Refused(e) => refuse(state, ctx, sale, e).await,
        ReserveOutcome::AlreadyReleased => decided(state, id).await,
        ReserveOutcome::NotReached(e) => {
            // Stock never saw it: nothing to release.
            if !db::advance(&state.platform.pool, id, Transition::Compensate, Note::default()).await? {
                return decided(state, id).await;
            }
            db::settle(&state.platform.pool, id).await?;
            Err(nothing_sold(&e))
        }
        ReserveOutcome::Unknown(e) => {
            tracing::warn!(vente = id, error = %e, "issue de la réservation inconnue : compensation");
            if !db::advance(&state.platform.pool, id, Transition::Compensate, Note::default()).await? {
                return decided(state, id).await;
            }
            if release(state, ctx, id, sale.magasin_id).await {
                db::settle(&state.platform.pool, id).await?;
            }
            Err(nothing_sold(&e))
        }
    }
}

/// A definite refusal: stored with the move to `compensation`, so that it
/// is the answer for this key from now on; then the release, then `rejetee`.
async fn refuse(state: &AppState, ctx: CallCtx<'_>, sale: &db::NewSale<'_>, e: ApiError) -> ApiResult<Answer> {
    let body = e.body().to_string();
    let note = Note { answer: Some((e.status().as_u16(), &body)), ..Note::default() };
    if !db::advance(&state.platform.pool, sale.id, Transition::Compensate, note).await? {
        return decided(state, sale.id).await;
    }
    if release(state, ctx, sale.id, sale.magasin_id).await {
        db::settle(&state.platform.pool, sale.id).await?;
    }
    Err(e)
}

/// Releases a sale this party moved to `compensation`, within a bounded
/// time; `false` leaves it to the recovery loop.
async fn release(state: &AppState, ctx: CallCtx<'_>, id: &str, magasin_id: i64) -> bool {
    let limit = state.config.checkout_deadline.min(Duration::from_secs(3));
    match tokio::time::timeout(limit, peers::release(state, ctx, id, magasin_id)).await {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(vente = id, error = %e, "libération reportée à la récupération");
            false
        }
        Err(_) => {
            tracing::warn!(vente = id, "libération trop lente : reportée à la récupération");
            false
        }
    }
}

/// 503 for an attempt that sold nothing and never will.
fn nothing_sold(cause: &ApiError) -> ApiError {
    ApiError::Unavailable(format!(
        "Rien n'a été vendu : {} Réessayez (la même clé d'idempotence est sûre).",
        cause.body()["detail"].as_str().unwrap_or("le stock n'a pas répondu.")
    ))
}

/// The answer for a sale another party decided (or is deciding).
async fn decided(state: &AppState, id: &str) -> ApiResult<Answer> {
    let sale = db::get(&state.platform.pool, id).await?.ok_or_else(|| ApiError::NotFound(format!("vente {id}")))?;
    if sale.statut.is_sold() {
        return Ok(Answer::Sold(sale.id));
    }
    if let Some(stored) = stored_answer(&sale) {
        return Ok(Answer::Stored(stored));
    }
    Err(nothing_sold(&ApiError::Unavailable("la vente a été compensée.".into())))
}

/// The refusal stored for a sale, if any (`rejetee`, or on its way there).
fn stored_answer(sale: &db::Sale) -> Option<Response> {
    let status = StatusCode::from_u16(u16::try_from(sale.reponse_statut?).ok()?).ok()?;
    let body: Value = sale.reponse.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
    let mut res = (status, axum::Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    Some(res)
}

/// What the completion event says about a sale.
pub struct Completed<'a> {
    pub id: &'a str,
    pub numero: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub mode: Mode,
    pub totaux: domain::Totaux,
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
}

/// Completes a pending sale loaded from the database (recovery's path);
/// `false` if it was no longer pending.
pub async fn complete(state: &AppState, sale: &db::Sale) -> ApiResult<bool> {
    let (Some(sous_total), Some(tps), Some(tvq), Some(total)) = (sale.sous_total, sale.tps, sale.tvq, sale.total)
    else {
        return Err(ApiError::Internal(anyhow::anyhow!("la vente {} n'a pas de totaux", sale.id)));
    };
    let lines = db::lines(&state.platform.pool, &sale.id).await?;
    let done = Completed {
        id: &sale.id,
        numero: sale.numero,
        magasin_id: sale.magasin_id,
        caissier_id: sale.caissier_id,
        mode: sale.mode_paiement,
        totaux: domain::Totaux { sous_total, tps, tvq, total },
        caisse_id: sale.caisse_id,
        session_id: sale.session_id,
    };
    Ok(complete_with(state, &done, &lines).await?.is_some())
}

/// `en_cours → terminee` and its `SaleCompleted` event in one transaction;
/// the completion time, or `None` (nothing written) if the sale was no
/// longer `en_cours`.
async fn complete_with(
    state: &AppState,
    sale: &Completed<'_>,
    lines: &[db::SaleLine],
) -> ApiResult<Option<DateTime<Utc>>> {
    let now = caisse_common::db::now_ms();
    let mut tx = state.platform.pool.begin().await?;
    if !db::advance(&mut *tx, sale.id, Transition::Complete, Note { at: Some(now), ..Note::default() }).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    let t = &sale.totaux;
    let a_payer = match sale.mode {
        Mode::Especes => domain::arrondi_especes(t.total),
        Mode::Carte => t.total,
    };
    let completion = events::Completion {
        vente_id: sale.id,
        numero: sale.numero,
        magasin_id: sale.magasin_id,
        caissier_id: sale.caissier_id,
        mode: sale.mode,
        totaux: t,
        a_payer,
        caisse_id: sale.caisse_id,
        session_id: sale.session_id,
    };
    caisse_common::outbox::append(&mut tx, &events::completed(&completion, lines)).await?;
    journal::append(&mut tx, &journal::sale(&completion, lines, now)).await?;
    tx.commit().await?;
    let magasin = sale.magasin_id.to_string();
    state.metrics.sales.with_label_values(&[&magasin]).inc();
    if let Ok(total) = t.total.to_string().parse::<f64>() {
        state.metrics.amount.with_label_values(&[&magasin]).inc_by(total);
    }
    state.outbox.notify();
    state.journal.notify();
    Ok(Some(now))
}

/// Closes the cart of a sold sale; with the version priced and the lines
/// sold, panier moves anything scanned since to a new open cart. Recovery
/// retries it while panier is unreachable.
pub async fn close_cart(state: &AppState, ctx: CallCtx<'_>, panier_id: i64, id: &str, sold: Option<(i32, &[Line])>) {
    match peers::close_cart(state, ctx, panier_id, id, sold).await {
        Ok(()) => state.closed_carts.mark(id),
        Err(e) => {
            tracing::warn!(vente = id, panier = panier_id, error = %e, "fermeture du panier reportée")
        }
    }
}

/// The answer already decided for `key`, waiting (bounded) while undecided.
async fn replay(state: &AppState, auth: &Auth, key: &str, fp: &str) -> ApiResult<Option<Answer>> {
    let deadline = Instant::now() + state.config.checkout_deadline + Duration::from_secs(2);
    loop {
        let Some(sale) = db::by_key(&state.platform.pool, key).await? else {
            return Ok(None);
        };
        // A key answers only its own cashier: anyone else reusing it learns nothing.
        if sale.empreinte != fp || sale.caissier_id != auth.sub || Some(sale.magasin_id) != auth.magasin_id {
            return Err(ApiError::field(
                "Idempotency-Key",
                "cette clé a déjà servi pour un autre encaissement : générez-en une nouvelle",
            ));
        }
        if sale.statut.is_sold() {
            return Ok(Some(Answer::Sold(sale.id)));
        }
        if let Some(stored) = stored_answer(&sale) {
            return Ok(Some(Answer::Stored(stored)));
        }
        debug_assert!(sale.statut.is_pending() || sale.statut == SaleStatus::Abandonnee);
        if Instant::now() >= deadline {
            return Err(ApiError::Unavailable(
                "Cet encaissement est encore en cours de règlement ; réessayez avec la même clé dans un instant."
                    .into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
