//! The recovery loop: every replica periodically claims sales, cancellations
//! and returns that stopped half-way (crash, timeout, peer down) and finishes
//! them, so nothing stays half-done. Sales move only through the guarded
//! transitions of `crate::status`, exactly as the saga (`crate::saga`) moves
//! them, so recovery and a late checkout can never both decide a sale.

use caisse_common::{ApiResult, client::CallCtx};

use crate::{
    AppState, aftersale,
    db::{self, Claimable, Note},
    peers::{self, Line, ReservationState},
    saga,
    status::{SaleStatus, Transition},
};

/// Rows handled per kind and pass.
const BATCH: i64 = 50;

pub async fn run(state: AppState) {
    loop {
        tokio::time::sleep(state.config.recovery_interval).await;
        if let Err(e) = pass(&state).await {
            tracing::warn!(error = %e, "passe de récupération interrompue");
        }
    }
}

fn grace_us(state: &AppState) -> i64 {
    i64::try_from(state.config.recovery_grace.as_micros()).unwrap_or(i64::MAX)
}

/// One pass over everything left behind.
pub async fn pass(state: &AppState) -> ApiResult<()> {
    let pool = &state.platform.pool;
    let grace = grace_us(state);
    let bearer = peers::service_bearer(state)?;
    for (id, statut) in db::stale_sales(pool, grace, BATCH).await? {
        if !db::claim(pool, Claimable::Ventes, &id, statut.as_str(), grace).await? {
            continue;
        }
        let rid = format!("recuperation-{id}");
        let ctx = CallCtx { bearer: &bearer, request_id: &rid };
        let done = match statut {
            SaleStatus::EnCours | SaleStatus::Compensation => recover_sale(state, ctx, &id).await,
            SaleStatus::Annulation => aftersale::finish_cancellation(state, ctx, &id).await,
            _ => Ok(()),
        };
        if let Err(e) = done {
            tracing::warn!(vente = %id, statut = %statut, error = %e, "récupération reportée");
        }
    }
    for retour_id in db::retours::stale(pool, grace, BATCH).await? {
        if !db::claim(pool, Claimable::Retours, &retour_id.to_string(), "en_cours", grace).await? {
            continue;
        }
        let rid = format!("recuperation-retour-{retour_id}");
        let ctx = CallCtx { bearer: &bearer, request_id: &rid };
        if let Err(e) = aftersale::finish_return(state, ctx, retour_id).await {
            tracing::warn!(retour = retour_id, error = %e, "retour reporté");
        }
    }
    for id in db::carts_to_close(pool, grace, BATCH).await? {
        if let Some(sale) = db::get(pool, &id).await? {
            let rid = format!("recuperation-{id}");
            close_cart(state, CallCtx { bearer: &bearer, request_id: &rid }, &sale).await?;
        }
    }
    Ok(())
}

/// Closes a sold sale's cart with the version it priced and the lines it
/// sold, so that items scanned since move to a new open cart.
async fn close_cart(state: &AppState, ctx: CallCtx<'_>, sale: &db::Sale) -> ApiResult<()> {
    let lines: Vec<Line> = db::lines(&state.platform.pool, &sale.id)
        .await?
        .iter()
        .map(|l| Line { produit_id: l.produit_id, quantite: i64::from(l.quantite) })
        .collect();
    let sold = sale.panier_version.map(|v| (v, lines.as_slice()));
    saga::close_cart(state, ctx, sale.panier_id, &sale.id, sold).await;
    Ok(())
}

/// Finishes an undecided sale. `en_cours`: completed if stock holds its
/// reservation, otherwise taken over (`→ compensation`). `compensation`
/// (taken over now or earlier, by the saga or by recovery): released, then
/// settled as `rejetee` (a refusal was stored) or `abandonnee`.
pub async fn recover_sale(state: &AppState, ctx: CallCtx<'_>, id: &str) -> ApiResult<()> {
    let pool = &state.platform.pool;
    let Some(sale) = db::get(pool, id).await? else { return Ok(()) };
    let started = std::time::Instant::now();
    if sale.statut == SaleStatus::EnCours {
        if peers::reservation_state(state, ctx, id).await? == ReservationState::Reserved {
            if saga::complete(state, &sale).await? {
                close_cart(state, ctx, &sale).await?;
                state.metrics.outcome("recovered_completed", started);
                tracing::info!(vente = id, "vente interrompue terminée par la récupération");
            }
            return Ok(());
        }
        // No reservation (yet): a tombstone from the release below stops a late one.
        if !db::advance(pool, id, Transition::Compensate, Note::default()).await? {
            return Ok(());
        }
    } else if sale.statut != SaleStatus::Compensation {
        return Ok(());
    }
    peers::release(state, ctx, id, sale.magasin_id).await?;
    db::settle(pool, id).await?;
    state.metrics.outcome("recovered_compensated", started);
    tracing::info!(vente = id, "vente interrompue compensée par la récupération");
    Ok(())
}
