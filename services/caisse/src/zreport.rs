//! The Z-report of a cash session: the session's figures as vente knows
//! them (`GET /api/ventes/sessions/{id}/totaux`, one call at closing), the
//! drawer reconciliation, and the head of the store's sales journal. Built
//! once at closing and stored as printed.

use axum::http::StatusCode;
use caisse_common::{ApiError, ApiResult, client::CallCtx};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{AppState, registers::Session};

/// Sales of one payment mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParMode {
    /// `especes` or `carte`.
    pub mode: String,
    pub nombre: i64,
    /// Collected: cash rounded to 0.05 $, cards exact.
    #[schema(value_type = String)]
    pub montant: Decimal,
}

/// Sales of the session (cancelled ones included: they are also counted in `annulations`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VentesZ {
    pub nombre: i64,
    pub par_mode: Vec<ParMode>,
    #[schema(value_type = String)]
    pub sous_total: Decimal,
    #[schema(value_type = String)]
    pub tps: Decimal,
    #[schema(value_type = String)]
    pub tvq: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
}

/// Returns or cancellations, as vente counts them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Remboursements {
    pub nombre: i64,
    pub montant: Decimal,
    /// Cash handed back.
    pub especes: Decimal,
}

/// `GET /api/ventes/sessions/{id}/totaux`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotauxSession {
    pub session_id: i64,
    pub magasin_id: Option<i64>,
    pub ventes: VentesZ,
    pub retours: Remboursements,
    pub annulations: Remboursements,
    pub premier_recu: Option<i64>,
    pub dernier_recu: Option<i64>,
    /// Cash charged by the session's sales (after 0.05 $ rounding).
    pub especes_encaissees: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Compte {
    pub nombre: i64,
    #[schema(value_type = String)]
    pub montant: Decimal,
}

/// The drawer: float + cash sales − cash refunds = expected; counted; variance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Especes {
    #[schema(value_type = String)]
    pub fond: Decimal,
    #[schema(value_type = String)]
    pub ventes: Decimal,
    #[schema(value_type = String)]
    pub remboursements: Decimal,
    #[schema(value_type = String)]
    pub attendu: Decimal,
    #[schema(value_type = String)]
    pub compte: Decimal,
    /// Counted − expected: negative for a shortage.
    #[schema(value_type = String)]
    pub ecart: Decimal,
}

/// The head of the store's sales journal when the session closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct JournalZ {
    pub sequence: i64,
    pub empreinte: String,
}

/// A session's Z-report, as printed at closing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct RapportZ {
    pub session: Session,
    pub magasin_id: i64,
    pub ventes: VentesZ,
    pub retours: Compte,
    pub annulations: Compte,
    pub premier_recu: Option<i64>,
    pub dernier_recu: Option<i64>,
    pub especes: Especes,
    /// `null` when vente has no journal to show.
    pub journal: Option<JournalZ>,
    pub genere_le: DateTime<Utc>,
}

/// vente's figures for a session.
pub async fn session_totals(state: &AppState, ctx: CallCtx<'_>, id: i64) -> ApiResult<TotauxSession> {
    let (base, path) = (&state.vente_url, format!("/api/ventes/sessions/{id}/totaux"));
    match state.platform.client.get_json::<TotauxSession>("vente", base, &path, ctx).await? {
        Ok(t) => Ok(t),
        Err(up) => Err(ApiError::Unavailable(format!(
            "vente a répondu {} pour les totaux de la session {id} : rien n'est fermé, réessayez.",
            up.status
        ))),
    }
}

/// The head of the store's journal; `None` when vente has none (404: a
/// vente without the journal).
pub async fn journal_head(state: &AppState, ctx: CallCtx<'_>, magasin_id: i64) -> ApiResult<Option<JournalZ>> {
    let (base, path) = (&state.vente_url, format!("/api/ventes/journal/tete?magasin={magasin_id}"));
    match state.platform.client.get_json::<JournalZ>("vente", base, &path, ctx).await? {
        Ok(j) => Ok(Some(j)),
        Err(up) if up.status == StatusCode::NOT_FOUND => Ok(None),
        Err(up) => {
            tracing::warn!(
                status = up.status.as_u16(),
                magasin_id,
                "tête du journal illisible : rapport Z sans journal"
            );
            Ok(None)
        }
    }
}

/// The report of `session` closed now by `par` on a count of `compte`.
pub fn build(
    session: &Session,
    t: &TotauxSession,
    journal: Option<JournalZ>,
    compte: Decimal,
    par: &str,
    fermee_le: DateTime<Utc>,
) -> RapportZ {
    let remboursements = t.retours.especes + t.annulations.especes;
    let attendu = session.fond_de_caisse + t.especes_encaissees - remboursements;
    let ecart = compte - attendu;
    let closed = Session {
        statut: crate::registers::StatutSession::Fermee,
        fermee_le: Some(fermee_le),
        fermee_par: Some(par.to_owned()),
        especes_attendues: Some(attendu),
        montant_compte: Some(compte),
        ecart: Some(ecart),
        ..session.clone()
    };
    RapportZ {
        magasin_id: session.magasin_id,
        ventes: t.ventes.clone(),
        retours: Compte { nombre: t.retours.nombre, montant: t.retours.montant },
        annulations: Compte { nombre: t.annulations.nombre, montant: t.annulations.montant },
        premier_recu: t.premier_recu,
        dernier_recu: t.dernier_recu,
        especes: Especes {
            fond: session.fond_de_caisse,
            ventes: t.especes_encaissees,
            remboursements,
            attendu,
            compte,
            ecart,
        },
        journal,
        genere_le: fermee_le,
        session: closed,
    }
}

/// The report as printed on the register's receipt printer (40 columns,
/// store time): what `?format=texte` answers.
pub fn render_text(z: &RapportZ) -> String {
    use std::fmt::Write;
    let local =
        |t: DateTime<Utc>| t.with_timezone(&caisse_common::calendar::STORE_TZ).format("%Y-%m-%d %H:%M").to_string();
    let line = |label: &str, value: String| format!("{label:<26}{value:>14}\n");
    let money = |d: Decimal| format!("{d} $");
    let rule = "-".repeat(40) + "\n";
    let s = &z.session;
    let mut out = String::new();
    let _ = writeln!(out, "RAPPORT Z");
    let _ = writeln!(out, "Magasin {} · caisse {} · session {}", z.magasin_id, s.numero_caisse, s.id);
    let _ = writeln!(out, "Caissier : {}", s.caissier_login);
    let _ = writeln!(out, "Ouverte le {}", local(s.ouverte_le));
    if let Some(fermee) = s.fermee_le {
        let _ = writeln!(out, "Fermée le  {} par {}", local(fermee), s.fermee_par.as_deref().unwrap_or("?"));
    }
    out.push_str(&rule);
    out.push_str(&line("Ventes", z.ventes.nombre.to_string()));
    for m in &z.ventes.par_mode {
        let label = if m.mode == "especes" { "Espèces" } else { "Carte" };
        out.push_str(&line(&format!("  {label} ({})", m.nombre), money(m.montant)));
    }
    out.push_str(&line("Sous-total", money(z.ventes.sous_total)));
    out.push_str(&line("TPS", money(z.ventes.tps)));
    out.push_str(&line("TVQ", money(z.ventes.tvq)));
    out.push_str(&line("Total", money(z.ventes.total)));
    out.push_str(&line(&format!("Retours ({})", z.retours.nombre), money(z.retours.montant)));
    out.push_str(&line(&format!("Annulations ({})", z.annulations.nombre), money(z.annulations.montant)));
    match (z.premier_recu, z.dernier_recu) {
        (Some(a), Some(b)) => {
            let _ = writeln!(out, "Reçus n° {a} à {b}");
        }
        _ => {
            let _ = writeln!(out, "Aucun reçu");
        }
    }
    out.push_str(&rule);
    let e = &z.especes;
    out.push_str(&line("Fond de caisse", money(e.fond)));
    out.push_str(&line("+ Ventes en espèces", money(e.ventes)));
    out.push_str(&line("- Remboursements espèces", money(e.remboursements)));
    out.push_str(&line("= Espèces attendues", money(e.attendu)));
    out.push_str(&line("Montant compté", money(e.compte)));
    out.push_str(&line("Écart", money(e.ecart)));
    out.push_str(&rule);
    match &z.journal {
        Some(j) => {
            let _ = writeln!(out, "Journal : séquence {}", j.sequence);
            let _ = writeln!(out, "{}", j.empreinte);
        }
        None => {
            let _ = writeln!(out, "Journal : non disponible");
        }
    }
    let _ = writeln!(out, "Imprimé le {}", local(z.genere_le));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_drawer_is_float_plus_cash_sales_minus_cash_refunds() {
        let now = Utc::now();
        let session = Session {
            id: 7,
            caisse_id: 2,
            numero_caisse: 2,
            magasin_id: 1,
            caissier_id: 5,
            caissier_login: "caissier1".into(),
            statut: crate::registers::StatutSession::Ouverte,
            fond_de_caisse: d("200.00"),
            ouverte_le: now,
            fermee_le: None,
            fermee_par: None,
            especes_attendues: None,
            montant_compte: None,
            ecart: None,
        };
        let zero = Remboursements { nombre: 0, montant: d("0.00"), especes: d("0.00") };
        let t = TotauxSession {
            session_id: 7,
            magasin_id: Some(1),
            ventes: VentesZ {
                nombre: 2,
                par_mode: vec![],
                sous_total: d("20.00"),
                tps: d("1.00"),
                tvq: d("2.00"),
                total: d("23.00"),
            },
            retours: Remboursements { nombre: 1, montant: d("5.74"), especes: d("5.75") },
            annulations: zero,
            premier_recu: Some(10),
            dernier_recu: Some(11),
            especes_encaissees: d("17.20"),
        };
        let z = build(&session, &t, None, d("210.00"), "gerant1", now);
        assert_eq!(z.especes.attendu, d("211.45"));
        assert_eq!(z.especes.ecart, d("-1.45"));
        assert_eq!(z.session.statut, crate::registers::StatutSession::Fermee);
        assert_eq!(z.session.ecart, Some(d("-1.45")));
        assert_eq!(z.session.fermee_par.as_deref(), Some("gerant1"));
        let text = render_text(&z);
        assert!(text.contains("Écart") && text.contains("-1.45 $"), "{text}");
        assert!(text.contains("Reçus n° 10 à 11") && text.contains("Journal : non disponible"), "{text}");
        assert!(text.lines().all(|l| l.chars().count() <= 64), "{text}");
    }
}
