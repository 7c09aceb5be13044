//! `/api/paniers`: open a cart, set or remove lines (each at the price of
//! its scan), read it.

use std::collections::HashMap;

use axum::{
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use caisse_common::{
    ApiError, ApiResult, Auth, Role,
    client::{CallCtx, RequestId},
    extract::{IdempotencyKey, Json, OptionalJson, Path},
};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState, db,
    domain::{MAX_LIGNES, MAX_QUANTITE, StatutPanier},
};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LignePanier {
    pub produit_id: i64,
    pub nom: String,
    pub code_barres: Option<String>,
    #[schema(value_type = String, example = "3.49")]
    pub prix_unitaire: Decimal,
    pub quantite: i32,
    #[schema(value_type = String, example = "6.98")]
    pub total_ligne: Decimal,
    /// False when the product was deactivated after being added.
    pub actif: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Panier {
    pub id: i64,
    pub magasin_id: i64,
    pub caissier_id: i64,
    /// The register and cash session the cart is rung up on (null for carts
    /// opened before registers existed).
    pub caisse_id: Option<i64>,
    pub session_id: Option<i64>,
    pub statut: StatutPanier,
    pub vente_id: Option<String>,
    pub lignes: Vec<LignePanier>,
    pub nombre_articles: i64,
    #[schema(value_type = String, example = "12.50")]
    pub sous_total: Decimal,
    pub version: i32,
    pub modifie_le: DateTime<Utc>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PanierList {
    pub paniers: Vec<Panier>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NouveauPanier {
    /// Defaults to the magasin of the cashier's account (or of the session).
    pub magasin_id: Option<i64>,
    /// The open cash session of the register (`POST /api/caisses/{id}/sessions`).
    #[schema(required = true)]
    pub session_id: Option<i64>,
}

/// A cash session as caisse shows it (what panier checks).
#[derive(Debug, Deserialize)]
struct SessionRef {
    caisse_id: i64,
    magasin_id: i64,
    numero_caisse: i64,
    statut: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantite {
    pub quantite: i64,
}

#[derive(Debug, Deserialize)]
struct ProduitRef {
    id: i64,
    nom: String,
    code_barres: Option<String>,
    prix: Decimal,
    actif: bool,
}

impl ProduitRef {
    fn shown(&self) -> db::Shown {
        db::Shown { nom: self.nom.clone(), code_barres: self.code_barres.clone(), prix: self.prix }
    }
}

#[derive(Debug, Deserialize)]
struct ProduitList {
    produits: Vec<ProduitRef>,
}

pub(crate) fn not_found(id: i64) -> ApiError {
    ApiError::NotFound(format!("Le panier {id} n'existe pas ou n'est pas le vôtre."))
}

/// A cart is visible to its cashier, the gérant of its store, and admins.
pub(crate) fn visible(auth: &Auth, cart: &db::Cart) -> bool {
    match auth.role {
        Role::Admin | Role::Service => true,
        Role::Gerant => auth.magasin_id == Some(cart.magasin_id),
        Role::Caissier => auth.magasin_id == Some(cart.magasin_id) && auth.sub == cart.caissier_id,
        Role::Logistique => false,
    }
}

fn ctx<'a>(auth: &'a Auth, rid: &'a RequestId) -> CallCtx<'a> {
    CallCtx { bearer: &auth.bearer, request_id: &rid.0 }
}

/// The cart as the register shows it: each line at the price of its scan.
/// Lines scanned before prices were kept at scan are priced from the
/// catalogue (one call for all of them).
async fn view(
    state: &AppState,
    auth: &Auth,
    rid: &RequestId,
    cart: db::Cart,
    rows: Vec<db::Line>,
) -> ApiResult<Panier> {
    let unpriced: Vec<String> = rows.iter().filter(|l| l.shown().is_none()).map(|l| l.produit_id.to_string()).collect();
    let mut products = HashMap::new();
    if !unpriced.is_empty() {
        let (base, path) = (&state.config.produit_url, format!("/api/produits?ids={}", unpriced.join(",")));
        match state.platform.client.get_json::<ProduitList>("produit", base, &path, ctx(auth, rid)).await? {
            Ok(list) => products.extend(list.produits.into_iter().map(|p| (p.id, p))),
            Err(up) => {
                return Err(ApiError::Unavailable(format!("produit a répondu {} au panier {}", up.status, cart.id)));
            }
        }
    }
    let mut lignes = Vec::with_capacity(rows.len());
    for row in rows {
        let (shown, actif) = match row.shown() {
            // Scanned while it was sold: the line stands as the customer saw it.
            Some(shown) => (Some(shown), true),
            None => {
                let p = products.get(&row.produit_id);
                (p.map(ProduitRef::shown), p.is_some_and(|p| p.actif))
            }
        };
        let prix = shown.as_ref().map(|s| s.prix).unwrap_or_default();
        lignes.push(LignePanier {
            produit_id: row.produit_id,
            nom: shown.as_ref().map_or_else(|| format!("produit {}", row.produit_id), |s| s.nom.clone()),
            code_barres: shown.and_then(|s| s.code_barres),
            prix_unitaire: prix,
            quantite: row.quantite,
            total_ligne: prix * Decimal::from(row.quantite),
            actif,
        });
    }
    Ok(Panier {
        id: cart.id,
        magasin_id: cart.magasin_id,
        caissier_id: cart.caissier_id,
        caisse_id: cart.caisse_id,
        session_id: cart.session_id,
        statut: cart.statut,
        vente_id: cart.vente_id,
        nombre_articles: lignes.iter().map(|l| i64::from(l.quantite)).sum(),
        sous_total: lignes.iter().map(|l| l.total_ligne).sum(),
        lignes,
        version: cart.version,
        modifie_le: cart.modifie_le,
    })
}

/// The open session `session_id` of `magasin_id` (or of the store it
/// names), asked once of caisse with panier's own service token (so that
/// another store's session is told apart from an unknown one).
async fn open_session(
    state: &AppState,
    rid: &RequestId,
    session_id: i64,
    named: Option<i64>,
) -> ApiResult<(i64, db::Till)> {
    let bearer = state.platform.keys.service_bearer("panier")?;
    let ctx = CallCtx { bearer: &bearer, request_id: &rid.0 };
    let (base, path) = (&state.config.caisse_url, format!("/api/caisses/sessions/{session_id}"));
    let session = match state.platform.client.get_json::<SessionRef>("caisse", base, &path, ctx).await? {
        Ok(s) => s,
        Err(up) if up.status == StatusCode::NOT_FOUND => {
            return Err(ApiError::field(
                "session_id",
                format!("la session de caisse {session_id} n'existe pas : ouvrez une session sur la caisse"),
            ));
        }
        Err(up) => {
            return Err(ApiError::Unavailable(format!("caisse a répondu {} pour la session {session_id}", up.status)));
        }
    };
    if let Some(m) = named
        && m != session.magasin_id
    {
        return Err(ApiError::Forbidden(format!(
            "La session {session_id} appartient au magasin {} : ouvrez le panier sur une caisse du magasin {m}.",
            session.magasin_id
        )));
    }
    if session.statut != "ouverte" {
        return Err(ApiError::conflict(format!(
            "La session {session_id} de la caisse {} est fermée : ouvrez une session sur la caisse.",
            session.numero_caisse
        )));
    }
    Ok((session.magasin_id, db::Till { caisse_id: Some(session.caisse_id), session_id: Some(session_id) }))
}

/// Opens a cart for the caller on an open cash session of their store
/// (checked once with caisse, here). With an `Idempotency-Key`, the same
/// caller sending the same key again gets the same cart (201 again): the
/// gateway or the register may retry a creation whose answer was lost.
#[utoipa::path(post, path = "/api/paniers", request_body = NouveauPanier,
    params(("Idempotency-Key" = Option<String>, Header, description = "optionnelle : la même clé rend le même panier")),
    responses((status = 201, body = Panier), (status = 403, description = "autre magasin (celui nommé ou celui de la session)"),
        (status = 409, description = "la session est fermée"),
        (status = 422, description = "session_id absent ou inconnu, ou clé déjà utilisée pour un autre magasin")))]
pub async fn create_panier(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    cle: Option<IdempotencyKey>,
    OptionalJson(body): OptionalJson<NouveauPanier>,
) -> ApiResult<impl IntoResponse> {
    auth.require_role(&[Role::Caissier, Role::Gerant, Role::Admin])?;
    let body = body.unwrap_or_default();
    let requested = body.magasin_id;
    if let Some(m) = requested {
        if m <= 0 {
            return Err(ApiError::field("magasin_id", "identifiant invalide"));
        }
        auth.require_magasin(m)?;
    }
    let session_id = body.session_id.ok_or_else(|| {
        ApiError::field("session_id", "obligatoire : la session ouverte de la caisse (POST /api/caisses/{id}/sessions)")
    })?;
    if session_id <= 0 {
        return Err(ApiError::field("session_id", "identifiant invalide"));
    }
    let (magasin_id, till) = open_session(&state, &rid, session_id, requested.or(auth.magasin_id)).await?;
    auth.require_magasin(magasin_id)?;
    let cle = cle.map(|c| c.0);
    let now = caisse_common::db::now_ms();
    let id = db::insert(&state.platform.pool, magasin_id, auth.sub, till, cle.as_deref(), now).await?;
    let (cart, rows) = match cle {
        // A key may name a cart opened earlier: read it as it stands.
        Some(_) => {
            let cart = db::get(&state.platform.pool, id).await?.ok_or_else(|| not_found(id))?;
            if cart.magasin_id != magasin_id {
                return Err(ApiError::field(
                    "Idempotency-Key",
                    "cette clé a déjà ouvert un panier dans un autre magasin",
                ));
            }
            (cart, db::lines(&state.platform.pool, id).await?)
        }
        // Without one, the cart is the row just inserted.
        None => {
            let (caisse_id, session_id) = (till.caisse_id, till.session_id);
            let statut = StatutPanier::Ouvert;
            let cart = db::Cart {
                id,
                magasin_id,
                caissier_id: auth.sub,
                caisse_id,
                session_id,
                statut,
                vente_id: None,
                version: 1,
                modifie_le: now,
            };
            (cart, vec![])
        }
    };
    let p = view(&state, &auth, &rid, cart, rows).await?;
    Ok((StatusCode::CREATED, [(header::LOCATION, format!("/api/paniers/{id}"))], axum::Json(p)))
}

/// The caller's open carts at their store, newest first (to resume after a reload).
#[utoipa::path(get, path = "/api/paniers", responses((status = 200, body = PanierList)))]
pub async fn list_paniers(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
) -> ApiResult<axum::Json<PanierList>> {
    let Some(magasin_id) = auth.magasin_id else {
        return Ok(axum::Json(PanierList { paniers: vec![] }));
    };
    let mut paniers = vec![];
    for cart in db::list_open(&state.platform.pool, auth.sub, magasin_id).await? {
        let rows = db::lines(&state.platform.pool, cart.id).await?;
        paniers.push(view(&state, &auth, &rid, cart, rows).await?);
    }
    Ok(axum::Json(PanierList { paniers }))
}

/// One cart, priced.
#[utoipa::path(get, path = "/api/paniers/{id}", responses((status = 200, body = Panier), (status = 404)))]
pub async fn get_panier(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Panier>> {
    let (cart, rows) = db::get_with_lines(&state.platform.pool, id)
        .await?
        .filter(|(c, _)| visible(&auth, c))
        .ok_or_else(|| not_found(id))?;
    Ok(axum::Json(view(&state, &auth, &rid, cart, rows).await?))
}

/// The product being scanned, as the register will show it; refused when
/// it is unknown or no longer sold.
async fn active_product(state: &AppState, auth: &Auth, rid: &RequestId, produit_id: i64) -> ApiResult<db::Shown> {
    let (base, path) = (&state.config.produit_url, format!("/api/produits/{produit_id}"));
    match state.platform.client.get_json::<ProduitRef>("produit", base, &path, ctx(auth, rid)).await? {
        Ok(p) if p.actif => Ok(p.shown()),
        Ok(_) => Err(ApiError::field("produit_id", format!("le produit {produit_id} n'est plus vendu"))),
        Err(up) if up.status == StatusCode::NOT_FOUND => {
            Err(ApiError::field("produit_id", format!("le produit {produit_id} n'existe pas")))
        }
        Err(up) => Err(ApiError::Unavailable(format!("produit a répondu {}", up.status))),
    }
}

/// Runs `change` on an open cart the caller may edit, in one transaction
/// that also moves the cart to its next version. `change` gets the cart's
/// lines as they stand and leaves them as it made them, so the answer (the
/// cart as committed) needs no read after the change.
async fn edit<F>(state: &AppState, auth: &Auth, rid: &RequestId, id: i64, change: F) -> ApiResult<axum::Json<Panier>>
where
    F: for<'t> FnOnce(
        &'t mut sqlx::Transaction<'static, sqlx::MySql>,
        &'t mut Vec<db::Line>,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ApiResult<()>> + Send + 't>>,
{
    let mut tx = state.platform.pool.begin().await?;
    // The version moves first: the update locks the cart row for the whole
    // transaction, and the one read that follows sees the cart and its lines
    // as they stand (with the new version). A cart the caller may not edit,
    // or a closed one, rolls it back.
    db::touch(&mut tx, id, caisse_common::db::now_ms()).await?;
    let (cart, mut rows) =
        db::get_with_lines(&mut *tx, id).await?.filter(|(c, _)| visible(auth, c)).ok_or_else(|| not_found(id))?;
    if cart.statut != StatutPanier::Ouvert {
        return Err(ApiError::conflict(format!(
            "Le panier {id} est fermé (vente {}).",
            cart.vente_id.unwrap_or_default()
        )));
    }
    change(&mut tx, &mut rows).await?;
    tx.commit().await?;
    db::sort_lines(&mut rows);
    Ok(axum::Json(view(state, auth, rid, cart, rows).await?))
}

/// Sets the quantity of a product in the cart (1 to 999), adding the line
/// if needed, at the product's price now: the price the register shows at
/// this scan is the one the cart keeps (a price changed later applies when
/// the product is scanned again).
#[utoipa::path(put, path = "/api/paniers/{id}/lignes/{produit_id}", request_body = Quantite,
    responses((status = 200, body = Panier), (status = 404), (status = 409, description = "panier fermé"), (status = 422)))]
pub async fn set_ligne(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path((id, produit_id)): Path<(i64, i64)>,
    Json(q): Json<Quantite>,
) -> ApiResult<axum::Json<Panier>> {
    if !(1..=MAX_QUANTITE).contains(&q.quantite) {
        return Err(ApiError::field("quantite", format!("entier entre 1 et {MAX_QUANTITE} (retirez la ligne pour 0)")));
    }
    if produit_id <= 0 {
        return Err(ApiError::field("produit_id", "identifiant invalide"));
    }
    // The product first, outside the cart's transaction (no row lock held
    // across a call); the cart's existence, visibility and status are
    // checked under its lock.
    let shown = active_product(&state, &auth, &rid, produit_id).await?;
    let quantite = i32::try_from(q.quantite).unwrap_or(1);
    edit(&state, &auth, &rid, id, |tx, rows| {
        Box::pin(async move {
            let existing = rows.iter().position(|l| l.produit_id == produit_id);
            if existing.is_none() && i64::try_from(rows.len()).unwrap_or(i64::MAX) >= MAX_LIGNES {
                return Err(ApiError::field("produit_id", format!("un panier compte {MAX_LIGNES} produits au plus")));
            }
            let now = caisse_common::db::now_ms();
            db::set_line(tx, id, produit_id, quantite, Some(&shown), now).await?;
            let line = db::Line {
                produit_id,
                quantite,
                nom: Some(shown.nom),
                code_barres: shown.code_barres,
                prix_unitaire: Some(shown.prix),
                ajoute_le: now,
            };
            match existing {
                // An existing line keeps its place in the cart.
                Some(i) => rows[i] = db::Line { ajoute_le: rows[i].ajoute_le, ..line },
                None => rows.push(line),
            }
            Ok(())
        })
    })
    .await
}

/// Removes a product from the cart.
#[utoipa::path(delete, path = "/api/paniers/{id}/lignes/{produit_id}", responses((status = 200, body = Panier), (status = 404), (status = 409)))]
pub async fn remove_ligne(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path((id, produit_id)): Path<(i64, i64)>,
) -> ApiResult<axum::Json<Panier>> {
    edit(&state, &auth, &rid, id, |tx, rows| {
        Box::pin(async move {
            db::remove_line(tx, id, Some(produit_id)).await?;
            rows.retain(|l| l.produit_id != produit_id);
            Ok(())
        })
    })
    .await
}

/// Empties the cart.
#[utoipa::path(delete, path = "/api/paniers/{id}/lignes", responses((status = 200, body = Panier), (status = 404), (status = 409)))]
pub async fn empty_panier(
    State(state): State<AppState>,
    auth: Auth,
    rid: RequestId,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<Panier>> {
    edit(&state, &auth, &rid, id, |tx, rows| {
        Box::pin(async move {
            db::remove_line(tx, id, None).await?;
            rows.clear();
            Ok(())
        })
    })
    .await
}
