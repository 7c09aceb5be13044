//! `GET /api/ventes/sessions/{session_id}/totaux`: a cash session's figures
//! for its Z-report (caisse asks once, at closing).

use axum::{Router, extract::State, routing::get};
use caisse_common::{ApiError, ApiResult, Auth, Role, extract::Path};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    AppState,
    db::sessions::{self, SessionSale},
    domain::{self, Mode},
    status::SaleStatus,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/ventes/sessions/{session_id}/totaux", get(get_totaux))
}

/// Sales of one payment mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TotalMode {
    pub mode: Mode,
    pub nombre: i64,
    /// Collected: cash rounded to 0.05 $, cards exact.
    #[schema(value_type = String)]
    pub montant: Decimal,
}

/// Every sale rung up in the session, cancelled ones included (they are
/// also counted in `annulations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TotauxVentes {
    pub nombre: i64,
    pub par_mode: Vec<TotalMode>,
    #[schema(value_type = String)]
    pub sous_total: Decimal,
    #[schema(value_type = String)]
    pub tps: Decimal,
    #[schema(value_type = String)]
    pub tvq: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// Completed returns, or cancellations, of the session's sales.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TotauxRemboursements {
    pub nombre: i64,
    /// Refunded, taxes included.
    #[schema(value_type = String)]
    pub montant: Decimal,
    /// Of which handed back in cash.
    #[schema(value_type = String)]
    pub especes: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TotauxSession {
    pub session_id: i64,
    /// The store of the session's sales (null while it has none).
    pub magasin_id: Option<i64>,
    pub ventes: TotauxVentes,
    pub retours: TotauxRemboursements,
    pub annulations: TotauxRemboursements,
    pub premier_recu: Option<i64>,
    pub dernier_recu: Option<i64>,
    /// Cash charged by the sales (after 0.05 $ rounding), not the amount tendered.
    #[schema(value_type = String)]
    pub especes_encaissees: Decimal,
}

fn zero() -> Decimal {
    Decimal::new(0, 2)
}

/// What the customer paid for a sale: cash rounded to 0.05 $, cards exact.
fn collected(s: &SessionSale) -> Decimal {
    match s.mode_paiement {
        Mode::Especes => domain::arrondi_especes(s.total),
        Mode::Carte => s.total,
    }
}

/// The figures of a session's sales. Returns and cancellations count with
/// the sale they refund. A cancellation refunds what its earlier returns
/// left (refunds telescope to the sale's total, `domain::remboursement`).
pub fn totals(session_id: i64, rows: &[SessionSale]) -> TotauxSession {
    let mut par_mode: Vec<TotalMode> =
        [Mode::Especes, Mode::Carte].into_iter().map(|mode| TotalMode { mode, nombre: 0, montant: zero() }).collect();
    let mut ventes =
        TotauxVentes { nombre: 0, par_mode: vec![], sous_total: zero(), tps: zero(), tvq: zero(), total: zero() };
    let mut retours = TotauxRemboursements { nombre: 0, montant: zero(), especes: zero() };
    let mut annulations = retours.clone();
    let mut especes_encaissees = zero();
    for s in rows {
        ventes.nombre += 1;
        ventes.sous_total += s.sous_total;
        ventes.tps += s.tps;
        ventes.tvq += s.tvq;
        ventes.total += s.total;
        if let Some(m) = par_mode.iter_mut().find(|m| m.mode == s.mode_paiement) {
            m.nombre += 1;
            m.montant += collected(s);
        }
        let cash = s.mode_paiement == Mode::Especes;
        if cash {
            especes_encaissees += collected(s);
        }
        retours.nombre += s.retours;
        retours.montant += s.retours_total;
        if cash {
            retours.especes += s.retours_rembourse;
        }
        if s.statut == SaleStatus::Annulee {
            annulations.nombre += 1;
            annulations.montant += s.total - s.retours_total;
            if cash {
                annulations.especes += collected(s) - s.retours_rembourse;
            }
        }
    }
    ventes.par_mode = par_mode;
    TotauxSession {
        session_id,
        magasin_id: rows.first().map(|s| s.magasin_id),
        ventes,
        retours,
        annulations,
        premier_recu: rows.iter().map(|s| s.numero).min(),
        dernier_recu: rows.iter().map(|s| s.numero).max(),
        especes_encaissees,
    }
}

/// A cash session's figures: sales by payment mode, taxes, returns and
/// cancellations, first and last receipt, cash charged. Service token,
/// admin, or staff of the session's store (another store's: 404).
#[utoipa::path(get, path = "/api/ventes/sessions/{session_id}/totaux",
    responses((status = 200, body = TotauxSession), (status = 403), (status = 404)))]
pub async fn get_totaux(
    State(state): State<AppState>,
    auth: Auth,
    Path(session_id): Path<i64>,
) -> ApiResult<axum::Json<TotauxSession>> {
    auth.require_role(&[Role::Service, Role::Admin, Role::Gerant, Role::Caissier])?;
    if session_id <= 0 {
        return Err(ApiError::NotFound(format!("La session de caisse {session_id} n'existe pas.")));
    }
    let rows = sessions::sales(&state.platform.pool, session_id).await?;
    let t = totals(session_id, &rows);
    if let Some(m) = t.magasin_id
        && !auth.can_access_magasin(m)
    {
        return Err(ApiError::NotFound(format!("La session de caisse {session_id} n'existe pas.")));
    }
    Ok(axum::Json(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn sale(numero: i64, statut: SaleStatus, mode: Mode, sous_total: &str, retours: (i64, &str, &str)) -> SessionSale {
        let t = domain::totaux(d(sous_total));
        SessionSale {
            numero,
            magasin_id: 1,
            statut,
            mode_paiement: mode,
            sous_total: t.sous_total,
            tps: t.tps,
            tvq: t.tvq,
            total: t.total,
            retours: retours.0,
            retours_total: d(retours.1),
            retours_rembourse: d(retours.2),
        }
    }

    #[test]
    fn a_session_adds_up_sales_returns_and_cancellations() {
        // 14.97 → 17.21 (17.20 in cash), one 4.99 returned: 5.74, 5.75 cash.
        // 10.00 → 11.50 by card. 1.00 → 1.15 (1.15 cash), then cancelled.
        let rows = vec![
            sale(3, SaleStatus::Terminee, Mode::Especes, "14.97", (1, "5.74", "5.75")),
            sale(4, SaleStatus::Terminee, Mode::Carte, "10.00", (0, "0.00", "0.00")),
            sale(7, SaleStatus::Annulee, Mode::Especes, "1.00", (0, "0.00", "0.00")),
        ];
        let t = totals(9, &rows);
        assert_eq!(t.ventes.nombre, 3);
        assert_eq!(t.ventes.total, d("29.86"));
        assert_eq!(t.ventes.par_mode[0], TotalMode { mode: Mode::Especes, nombre: 2, montant: d("18.35") });
        assert_eq!(t.ventes.par_mode[1], TotalMode { mode: Mode::Carte, nombre: 1, montant: d("11.50") });
        assert_eq!(t.especes_encaissees, d("18.35"));
        assert_eq!((t.retours.nombre, t.retours.montant, t.retours.especes), (1, d("5.74"), d("5.75")));
        assert_eq!((t.annulations.nombre, t.annulations.montant, t.annulations.especes), (1, d("1.15"), d("1.15")));
        assert_eq!((t.premier_recu, t.dernier_recu, t.magasin_id), (Some(3), Some(7), Some(1)));
        let empty = totals(9, &[]);
        assert_eq!(
            (empty.ventes.nombre, empty.magasin_id, empty.especes_encaissees.to_string()),
            (0, None, "0.00".into())
        );
    }
}
