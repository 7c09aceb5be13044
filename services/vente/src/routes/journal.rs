//! `/api/ventes/journal`: the tamper-evident journal's head (the Z-report
//! prints it), its verification and its entries (`crate::journal`).

use axum::{Json, Router, extract::State, routing::get};
use caisse_common::{ApiError, ApiResult, Auth, Role, extract::Query};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    db::journal as sql,
    journal::{GENESIS, Walk},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/ventes/journal", get(list_journal))
        .route("/api/ventes/journal/tete", get(get_tete))
        .route("/api/ventes/journal/verification", get(get_verification))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct MagasinParams {
    /// The store (`magasin_id` is accepted too). Store staff: their own, by default.
    #[serde(alias = "magasin_id")]
    pub magasin: Option<i64>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct PageParams {
    /// The store (`magasin_id` is accepted too).
    #[serde(alias = "magasin_id")]
    pub magasin: Option<i64>,
    /// Cursor: the `suivant` of the previous page (a sequence; 0 for the start).
    pub apres: Option<i64>,
    /// 1 to 1000 (default 100; `limit` is accepted too).
    #[serde(alias = "limit")]
    pub limite: Option<u32>,
}

pub const MAX_LIMITE: u32 = 1000;

/// The store a request is about: named (store staff only their own, 403
/// otherwise) or, for store staff, theirs.
fn store(auth: &Auth, magasin: Option<i64>) -> ApiResult<i64> {
    let m = match (magasin, auth.role.is_store_scoped()) {
        (Some(m), _) => m,
        (None, true) => auth.magasin_id.ok_or_else(|| ApiError::Forbidden("Compte sans magasin.".into()))?,
        (None, false) => {
            return Err(ApiError::field("magasin", "obligatoire : l'identifiant du magasin (ex. ?magasin=1)"));
        }
    };
    if m < 1 {
        return Err(ApiError::field("magasin", format!("{m} n'est pas un identifiant de magasin (entier positif)")));
    }
    auth.require_magasin(m)?;
    Ok(m)
}

/// The head of a store's chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Tete {
    pub magasin_id: i64,
    /// Entries in the chain (0 when empty).
    pub sequence: i64,
    /// The last entry's `empreinte` (64 zeros when empty).
    pub empreinte: String,
}

/// The head of a store's chain, every committed entry chained (printed on
/// the Z-report: a later verification must find the same entry there).
/// Admin, service, staff of the store.
#[utoipa::path(get, path = "/api/ventes/journal/tete", params(MagasinParams),
    responses((status = 200, body = Tete)))]
pub async fn get_tete(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<MagasinParams>,
) -> ApiResult<Json<Tete>> {
    auth.require_role(&[Role::Caissier, Role::Gerant, Role::Admin, Role::Service])?;
    let magasin_id = store(&auth, p.magasin)?;
    state.journal.catch_up(magasin_id).await?;
    let (sequence, empreinte) =
        sql::head(&state.platform.pool, magasin_id).await?.unwrap_or_else(|| (0, GENESIS.to_owned()));
    Ok(Json(Tete { magasin_id, sequence, empreinte }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Maillon {
    pub sequence: i64,
    pub empreinte: String,
}

/// The first entry that does not hold.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Rupture {
    pub sequence: i64,
    /// The sale's id (`vente`, `annulation`) or the return's id (`retour`).
    pub reference: String,
    pub raison: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Verification {
    pub magasin_id: i64,
    /// Entries read.
    pub entrees: i64,
    pub valide: bool,
    /// The last entry as stored (compare with the Z-reports printed since).
    pub tete: Option<Maillon>,
    pub premiere_rupture: Option<Rupture>,
}

/// Rows read per query while verifying.
const VERIFY_PAGE: i64 = 1000;

/// Recomputes a store's chain from its first entry and names the first
/// entry that breaks it (missing, out of place, linked to the wrong
/// hash, or whose content no longer matches its hash). Admin.
#[utoipa::path(get, path = "/api/ventes/journal/verification", params(MagasinParams),
    responses((status = 200, body = Verification)))]
pub async fn get_verification(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<MagasinParams>,
) -> ApiResult<Json<Verification>> {
    auth.require_role(&[Role::Admin])?;
    let magasin_id = store(&auth, p.magasin)?;
    state.journal.catch_up(magasin_id).await?;
    let mut walk = Walk::new(magasin_id);
    let mut after = 0;
    loop {
        let rows = sql::page(&state.platform.pool, magasin_id, after, VERIFY_PAGE).await?;
        for e in &rows {
            walk.push(e);
        }
        match rows.last() {
            Some(last) if rows.len() as i64 == VERIFY_PAGE => after = last.sequence,
            _ => break,
        }
    }
    Ok(Json(Verification {
        magasin_id,
        entrees: walk.entries,
        valide: walk.first_break.is_none(),
        tete: walk.head.map(|(sequence, empreinte)| Maillon { sequence, empreinte }),
        premiere_rupture: walk.first_break.map(|b| Rupture {
            sequence: b.sequence,
            reference: b.reference,
            raison: b.raison,
        }),
    }))
}

/// An entry as stored.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Entree {
    pub sequence: i64,
    /// `vente`, `retour` or `annulation`.
    #[serde(rename = "type")]
    pub kind: String,
    pub reference: String,
    /// The canonical payload (JSON text), exactly the bytes hashed.
    pub charge: String,
    pub precedente: String,
    pub empreinte: String,
    pub cree_le: DateTime<Utc>,
    pub chainee_le: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PageJournal {
    pub magasin_id: i64,
    pub entrees: Vec<Entree>,
    /// `apres` for the next page; absent on the last one.
    pub suivant: Option<i64>,
}

/// A store's entries in chain order, keyset paginated on `sequence`. Admin.
#[utoipa::path(get, path = "/api/ventes/journal", params(PageParams),
    responses((status = 200, body = PageJournal)))]
pub async fn list_journal(
    State(state): State<AppState>,
    auth: Auth,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<PageJournal>> {
    auth.require_role(&[Role::Admin])?;
    let magasin_id = store(&auth, p.magasin)?;
    let apres = p.apres.unwrap_or(0);
    if apres < 0 {
        return Err(ApiError::field("apres", "une séquence, 0 ou plus"));
    }
    let limite = p.limite.unwrap_or(100);
    if !(1..=MAX_LIMITE).contains(&limite) {
        return Err(ApiError::field("limite", format!("entre 1 et {MAX_LIMITE}")));
    }
    state.journal.catch_up(magasin_id).await?;
    let mut rows = sql::page(&state.platform.pool, magasin_id, apres, i64::from(limite) + 1).await?;
    let suivant = if rows.len() > limite as usize {
        rows.truncate(limite as usize);
        rows.last().map(|e| e.sequence)
    } else {
        None
    };
    let entrees = rows
        .into_iter()
        .map(|e| Entree {
            sequence: e.sequence,
            kind: e.kind,
            reference: e.reference,
            charge: e.charge,
            precedente: e.precedente,
            empreinte: e.empreinte,
            cree_le: e.cree_le,
            chainee_le: e.chainee_le,
        })
        .collect();
    Ok(Json(PageJournal { magasin_id, entrees, suivant }))
}
