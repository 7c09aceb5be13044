//! The recovery loop: every replica periodically claims sales, cancellations
//! and returns that stopped half-way (crash, timeout, peer down) and finishes
//! or compensates them, so nothing stays half-done.

use caisse_common::{ApiResult, client::CallCtx};

use crate::{AppState, aftersale, db, peers, saga};

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

/// Claims a row for this replica for one grace period; `false` if another has it.
async fn claim(state: &AppState, table: &str, id: &str, statut: &str) -> ApiResult<bool> {
    let sql = format!(
        "UPDATE {table} SET tentative_le = CURRENT_TIMESTAMP(3) WHERE id = ? AND statut = ? \
         AND (tentative_le IS NULL OR tentative_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND)"
    );
    let res = sqlx::query(&sql).bind(id).bind(statut).bind(grace_us(state)).execute(&state.platform.pool).await?;
    Ok(res.rows_affected() == 1)
}

/// Pending sales past the grace period, and compensations to retry.
async fn stale_sales(state: &AppState) -> ApiResult<Vec<(String, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, statut FROM ventes WHERE statut IN ('en_cours', 'compensation') \
         AND cree_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND LIMIT 50",
    )
    .bind(grace_us(state))
    .fetch_all(&state.platform.pool)
    .await?)
}

async fn stale(state: &AppState, sql: &str) -> ApiResult<Vec<String>> {
    Ok(sqlx::query_scalar(sql).bind(grace_us(state)).fetch_all(&state.platform.pool).await?)
}

/// One pass over everything left behind.
pub async fn pass(state: &AppState) -> ApiResult<()> {
    let bearer = peers::service_bearer(state)?;
    fn ctx<'a>(bearer: &'a str, rid: &'a str) -> CallCtx<'a> {
        CallCtx { bearer, request_id: rid }
    }
    for (id, statut) in stale_sales(state).await? {
        if claim(state, "ventes", &id, &statut).await? {
            let rid = format!("recuperation-{id}");
            if let Err(e) = recover_sale(state, ctx(&bearer, &rid), &id).await {
                tracing::warn!(vente = %id, error = %e, "récupération reportée");
            }
        }
    }
    for id in stale(state, "SELECT id FROM ventes WHERE statut = 'annulation' AND (tentative_le IS NULL OR tentative_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND) LIMIT 50").await? {
        if claim(state, "ventes", &id, "annulation").await? {
            let rid = format!("recuperation-{id}");
            if let Err(e) = aftersale::finish_cancellation(state, ctx(&bearer, &rid), &id).await {
                tracing::warn!(vente = %id, error = %e, "annulation reportée");
            }
        }
    }
    for id in stale(state, "SELECT CAST(id AS CHAR) FROM retours WHERE statut = 'en_cours' AND cree_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND LIMIT 50").await? {
        if claim(state, "retours", &id, "en_cours").await? {
            let rid = format!("recuperation-retour-{id}");
            if let Err(e) = aftersale::finish_return(state, ctx(&bearer, &rid), id.parse().unwrap_or_default()).await {
                tracing::warn!(retour = %id, error = %e, "retour reporté");
            }
        }
    }
    for id in stale(state, "SELECT id FROM ventes WHERE statut IN ('terminee', 'annulation', 'annulee') AND NOT panier_ferme AND terminee_le < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND LIMIT 50").await? {
        if let Some(sale) = db::get(&state.platform.pool, &id).await? {
            let rid = format!("recuperation-{id}");
            saga::close_cart(state, ctx(&bearer, &rid), sale.panier_id, &id, None).await;
        }
    }
    Ok(())
}

/// Completes a pending sale whose stock is reserved. Otherwise first takes
/// the decision away from the saga (`en_cours` → `compensation`, so an
/// in-flight checkout can no longer complete it), then releases any
/// reservation and forgets the sale (its key can be retried).
async fn recover_sale(state: &AppState, ctx: CallCtx<'_>, id: &str) -> ApiResult<()> {
    let pool = &state.platform.pool;
    let Some(sale) = db::get(pool, id).await? else { return Ok(()) };
    let started = std::time::Instant::now();
    if sale.statut == "en_cours" {
        if peers::reservation_status(state, ctx, id).await?.as_deref() == Some("reservee") && sale.total.is_some() {
            saga::complete(state, id).await?;
            saga::close_cart(state, ctx, sale.panier_id, id, None).await;
            state.metrics.outcome("recovered_completed", started);
            tracing::info!(vente = id, "vente interrompue terminée par la récupération");
            return Ok(());
        }
        let res = sqlx::query("UPDATE ventes SET statut = 'compensation' WHERE id = ? AND statut = 'en_cours'")
            .bind(id)
            .execute(pool)
            .await?;
        if res.rows_affected() == 0 {
            // The saga completed or settled it meanwhile.
            return Ok(());
        }
    }
    peers::release(state, ctx, id, sale.magasin_id).await?;
    db::forget(pool, id).await?;
    state.metrics.outcome("recovered_compensated", started);
    tracing::info!(vente = id, "vente interrompue compensée par la récupération");
    Ok(())
}
