//! The checkout saga (DESIGN §4). The sale is persisted before each step, so
//! whatever fails — a peer, the network, this process — the row says what
//! is left to do, and the recovery loop or a retry finishes it:
//!
//! 1. replay the answer if the client's idempotency key is known (a second
//!    request with the key waits for the first to finish);
//! 2. read the cart, snapshot names and prices, compute totals and payment,
//!    and record the sale as `en_cours` with that snapshot in one
//!    transaction (a refusal before this records nothing; a crash before
//!    it leaves nothing to undo);
//! 3. reserve every line at stock in one all-or-nothing call keyed by the
//!    sale id — an unknown outcome is compensated by a release;
//! 4. mark the sale `terminee` and write `SaleCompleted` to the outbox in
//!    one transaction;
//! 5. close the cart (retried by recovery if panier is down).

use std::time::{Duration, Instant};

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::{CallCtx, RequestId},
    extract::fingerprint,
};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::{
    AppState, db,
    domain::{self, Mode},
    fault,
    peers::{self, Line},
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

/// What becomes of a recorded sale whose saga stopped early.
enum Fate {
    /// A definite answer (short stock...): stored and replayed for its key.
    Reject(ApiError, &'static str),
    /// A transient failure before stock was touched: forget the sale so the
    /// same key can be retried.
    Forget(ApiError),
    /// Unknown state (a reservation may exist): recovery will finish it.
    Leave(ApiError),
}

/// Runs the saga for one checkout request; returns the sale id on success,
/// or the stored answer of an earlier request with the same key.
pub async fn checkout(
    state: &AppState,
    auth: &Auth,
    rid: &RequestId,
    key: &str,
    input: NouvelleVente,
) -> ApiResult<Result<String, Response>> {
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
    if let Some(answer) = replay(state, auth, key, &fp).await? {
        state.metrics.outcome("replay", started);
        return Ok(answer);
    }
    let ctx = CallCtx { bearer: &auth.bearer, request_id: &rid.0 };
    let mut clock = Instant::now();
    // 2. The cart, its prices, the totals. A refusal here records nothing.
    let (lines, totaux, version) = match snapshot(state, ctx, magasin_id, input.panier_id, input.paiement.mode, recu)
        .await
    {
        Ok(s) => s,
        Err(e) => {
            state.metrics.outcome(if e.status().is_server_error() { "compensated" } else { "rejected_input" }, started);
            return Err(e);
        }
    };
    state.metrics.step("panier", &mut clock);
    // 1. Pending, with its snapshot, before stock is touched.
    let id = uuid::Uuid::new_v4().to_string();
    let new = db::NewSale {
        id: &id,
        key,
        fingerprint: &fp,
        magasin_id,
        caissier_id: auth.sub,
        caissier_login: &auth.login,
        panier_id: input.panier_id,
        mode: input.paiement.mode,
        montant_recu: recu,
    };
    if let Err(e) = db::insert_pending(&state.platform.pool, &new, &lines, &totaux).await {
        if e.as_database_error().is_some_and(|d| d.is_unique_violation()) {
            if let Some(answer) = replay(state, auth, key, &fp).await? {
                state.metrics.outcome("replay", started);
                return Ok(answer);
            }
            return Err(ApiError::conflict(format!(
                "Le panier {} est déjà encaissé ou en cours d'encaissement.",
                input.panier_id
            )));
        }
        return Err(e.into());
    }
    state.metrics.step("enregistrement", &mut clock);
    match reserve_and_complete(state, ctx, &new, &lines, version, &mut clock).await {
        Ok(()) => {
            state.metrics.outcome("completed", started);
            Ok(Ok(id))
        }
        Err(Fate::Reject(e, outcome)) => {
            db::reject(&state.platform.pool, &id, e.status().as_u16(), &e.body()).await?;
            state.metrics.outcome(outcome, started);
            Err(e)
        }
        Err(Fate::Forget(e)) => {
            db::forget(&state.platform.pool, &id).await?;
            state.metrics.outcome("compensated", started);
            Err(e)
        }
        Err(Fate::Leave(e)) => {
            state.metrics.outcome("left_for_recovery", started);
            Err(e)
        }
    }
}

/// Reads the cart and prices it: the lines to sell and the totals.
async fn snapshot(
    state: &AppState,
    ctx: CallCtx<'_>,
    magasin_id: i64,
    panier_id: i64,
    mode: Mode,
    recu: Option<Decimal>,
) -> ApiResult<(Vec<db::SaleLine>, domain::Totaux, i32)> {
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
    Ok((lines, totaux, cart.version))
}

async fn reserve_and_complete(
    state: &AppState,
    ctx: CallCtx<'_>,
    sale: &db::NewSale<'_>,
    lines: &[db::SaleLine],
    cart_version: i32,
    clock: &mut Instant,
) -> Result<(), Fate> {
    let id = sale.id;
    // 3. Reserve, all or nothing.
    let wanted: Vec<Line> =
        lines.iter().map(|l| Line { produit_id: l.produit_id, quantite: i64::from(l.quantite) }).collect();
    match peers::reserve(state, ctx, id, sale.magasin_id, &wanted).await {
        Ok(Ok(())) => {}
        Ok(Err(up)) if up.status == StatusCode::CONFLICT => {
            let detail = up.body["detail"].as_str().unwrap_or("Stock insuffisant.").to_owned();
            let extra = json!({"manquants": up.body["manquants"].clone()});
            return Err(Fate::Reject(ApiError::Conflict { detail, extra: Some(extra) }, "rejected_stock"));
        }
        Ok(Err(up)) if matches!(up.status, StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY) => {
            let detail = up.body["detail"].as_str().unwrap_or("réservation refusée").to_owned();
            let e = if up.status == StatusCode::FORBIDDEN {
                ApiError::Forbidden(detail)
            } else {
                ApiError::BadRequest(detail)
            };
            return Err(Fate::Reject(e, "rejected_input"));
        }
        Ok(Err(up)) => {
            // Any other refusal (an expired token, a proxy's 429...) is not a
            // verdict on the sale: undo whatever may exist and let the client retry.
            tracing::warn!(
                vente = id,
                status = up.status.as_u16(),
                "réservation refusée de façon inattendue : compensation"
            );
            let e = ApiError::Unavailable(format!("Le stock a répondu {} ; réessayez.", up.status));
            return match peers::release(state, ctx, id, sale.magasin_id).await {
                Ok(()) => Err(Fate::Forget(e)),
                Err(_) => Err(Fate::Leave(e)),
            };
        }
        // Never reached stock: nothing can be reserved.
        Err(e @ ApiError::Unreachable(_)) => return Err(Fate::Forget(e)),
        Err(e) => {
            // The reservation may or may not exist: release it (idempotent,
            // and a tombstone stops a late one), then forget the sale.
            tracing::warn!(vente = id, "issue de la réservation inconnue : compensation");
            return match peers::release(state, ctx, id, sale.magasin_id).await {
                Ok(()) => Err(Fate::Forget(e)),
                Err(_) => Err(Fate::Leave(e)),
            };
        }
    }
    state.metrics.step("reservation", clock);
    fault::crash_point("crash_after_reservation");

    // 4. Completed + SaleCompleted, atomically.
    let done = Completed {
        id,
        magasin_id: sale.magasin_id,
        caissier_id: sale.caissier_id,
        mode: sale.mode,
        totaux: domain::totaux(lines.iter().map(|l| l.total_ligne).sum()),
    };
    complete_with(state, &done, lines).await.map_err(Fate::Leave)?;
    state.metrics.step("validation", clock);
    // 5. Close the cart; recovery retries if panier is unreachable now.
    close_cart(state, ctx, sale.panier_id, id, Some((cart_version, &wanted))).await;
    state.metrics.step("fermeture", clock);
    Ok(())
}

/// What the completion event says about a sale.
pub struct Completed<'a> {
    pub id: &'a str,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub mode: Mode,
    pub totaux: domain::Totaux,
}

/// Marks a reserved sale completed (loading it first: recovery's path).
pub async fn complete(state: &AppState, id: &str) -> ApiResult<()> {
    let pool = &state.platform.pool;
    let sale = db::get(pool, id).await?.ok_or_else(|| ApiError::NotFound(format!("vente {id}")))?;
    let (Some(sous_total), Some(tps), Some(tvq), Some(total)) = (sale.sous_total, sale.tps, sale.tvq, sale.total)
    else {
        return Err(ApiError::conflict(format!("La vente {id} n'a pas de totaux.")));
    };
    let lines = db::lines(pool, id).await?;
    let done = Completed {
        id,
        magasin_id: sale.magasin_id,
        caissier_id: sale.caissier_id,
        mode: sale.mode_paiement,
        totaux: domain::Totaux { sous_total, tps, tvq, total },
    };
    complete_with(state, &done, &lines).await
}

/// `en_cours` → `terminee` and its `SaleCompleted` event, in one
/// transaction; a sale another path already completed is left as is.
pub async fn complete_with(state: &AppState, sale: &Completed<'_>, lines: &[db::SaleLine]) -> ApiResult<()> {
    let mut tx = state.platform.pool.begin().await?;
    let res = sqlx::query(
        "UPDATE ventes SET statut = 'terminee', terminee_le = CURRENT_TIMESTAMP(3) WHERE id = ? AND statut = 'en_cours'",
    )
    .bind(sale.id)
    .execute(&mut *tx)
    .await?;
    if res.rows_affected() == 0 {
        tx.rollback().await?;
        let current = db::get(&state.platform.pool, sale.id).await?.map(|s| s.statut).unwrap_or_default();
        return match current.as_str() {
            "terminee" | "annulation" | "annulee" => Ok(()),
            other => Err(ApiError::conflict(format!("La vente {} est {other}.", sale.id))),
        };
    }
    let t = &sale.totaux;
    let payload = json!({
        "vente_id": sale.id,
        "magasin_id": sale.magasin_id,
        "caissier_id": sale.caissier_id,
        "lignes": lines.iter().map(|l| json!({"produit_id": l.produit_id, "quantite": l.quantite, "prix_unitaire": l.prix_unitaire})).collect::<Vec<_>>(),
        "sous_total": t.sous_total, "tps": t.tps, "tvq": t.tvq, "total": t.total,
        "mode_paiement": sale.mode.as_str(),
    });
    db::outbox(&mut tx, "SaleCompleted", sale.id, &payload).await?;
    tx.commit().await?;
    let magasin = sale.magasin_id.to_string();
    state.metrics.sales.with_label_values(&[&magasin]).inc();
    if let Ok(total) = t.total.to_string().parse::<f64>() {
        state.metrics.amount.with_label_values(&[&magasin]).inc_by(total);
    }
    state.outbox_wake.notify_one();
    Ok(())
}

pub async fn close_cart(state: &AppState, ctx: CallCtx<'_>, panier_id: i64, id: &str, sold: Option<(i32, &[Line])>) {
    match peers::close_cart(state, ctx, panier_id, id, sold).await {
        Ok(()) => {
            if let Err(e) = db::mark_cart_closed(&state.platform.pool, id).await {
                tracing::warn!(vente = id, error = %e, "fermeture du panier non notée");
            }
        }
        Err(e) => {
            tracing::warn!(vente = id, panier = panier_id, error = %e, "fermeture du panier reportée")
        }
    }
}

/// The answer already given for `key`, waiting while it is being decided.
async fn replay(state: &AppState, auth: &Auth, key: &str, fp: &str) -> ApiResult<Option<Result<String, Response>>> {
    let deadline = Instant::now() + Duration::from_secs(15);
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
        match sale.statut.as_str() {
            "en_cours" if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(25)).await,
            "en_cours" => {
                return Err(ApiError::Unavailable(
                    "Cette vente est encore en cours de traitement ; réessayez avec la même clé dans un instant."
                        .into(),
                ));
            }
            "rejetee" => {
                let status = sale.reponse_statut.and_then(|s| StatusCode::from_u16(u16::try_from(s).ok()?).ok());
                let body: Value =
                    sale.reponse.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or(Value::Null);
                let mut res = (status.unwrap_or(StatusCode::CONFLICT), axum::Json(body)).into_response();
                res.headers_mut()
                    .insert("content-type", axum::http::HeaderValue::from_static("application/problem+json"));
                return Ok(Some(Err(res)));
            }
            _ => return Ok(Some(Ok(sale.id))),
        }
    }
}
