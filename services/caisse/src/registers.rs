//! Registers (`caisses`) and their cash sessions: the types clients see,
//! the money rules of a session, and all their SQL.

use caisse_common::{ApiError, ApiResult, FieldError, pagination::Page};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::MySqlPool;
use utoipa::ToSchema;

/// Where a session stands: `ouverte` until its cashier (or a gérant) counts
/// the drawer and closes it, `fermee` for good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatutSession {
    Ouverte,
    Fermee,
}

impl StatutSession {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ouverte => "ouverte",
            Self::Fermee => "fermee",
        }
    }
}

impl std::str::FromStr for StatutSession {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ouverte" => Ok(Self::Ouverte),
            "fermee" => Ok(Self::Fermee),
            other => Err(format!("statut de session inconnu « {other} » (ouverte, fermee)")),
        }
    }
}

caisse_common::sql_text_enum!(StatutSession);

/// A cash session on a register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
pub struct Session {
    pub id: i64,
    pub caisse_id: i64,
    pub numero_caisse: i32,
    pub magasin_id: i64,
    pub caissier_id: i64,
    pub caissier_login: String,
    pub statut: StatutSession,
    #[schema(value_type = String, example = "200.00")]
    pub fond_de_caisse: Decimal,
    pub ouverte_le: DateTime<Utc>,
    pub fermee_le: Option<DateTime<Utc>>,
    /// Login of whoever closed it (the cashier or a gérant).
    pub fermee_par: Option<String>,
    /// Float + cash sales − cash refunds, computed at closing.
    #[schema(value_type = Option<String>)]
    pub especes_attendues: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub montant_compte: Option<Decimal>,
    /// Counted − expected: negative for a shortage.
    #[schema(value_type = Option<String>)]
    pub ecart: Option<Decimal>,
}

/// A register of a store, with its open session if any.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Caisse {
    pub id: i64,
    pub magasin_id: i64,
    pub numero: i32,
    pub nom: String,
    pub session_ouverte: Option<Session>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaisseRow {
    pub id: i64,
    pub magasin_id: i64,
    pub numero: i32,
    pub nom: String,
}

impl CaisseRow {
    pub fn with(self, session_ouverte: Option<Session>) -> Caisse {
        Caisse { id: self.id, magasin_id: self.magasin_id, numero: self.numero, nom: self.nom, session_ouverte }
    }
}

/// Largest float a session may open with.
pub const MAX_FOND: Decimal = Decimal::from_parts(10_000, 0, 0, false, 0);
/// Largest amount a drawer count may state.
pub const MAX_COMPTE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

/// Parses an amount of money given as a string: 0 to `max`, at most two
/// decimals; the 422 names `champ`.
pub fn money(champ: &str, raw: &str, max: Decimal) -> ApiResult<Decimal> {
    let bad = || {
        ApiError::fields(vec![FieldError::new(
            champ,
            format!("montant de 0 à {max} avec deux décimales au plus, en chaîne (ex. \"200.00\")"),
        )])
    };
    let mut d = Decimal::from_str_exact(raw.trim()).map_err(|_| bad())?;
    if d.is_sign_negative() || d.normalize().scale() > 2 || d > max {
        return Err(bad());
    }
    d.rescale(2);
    Ok(d)
}

const CAISSE_COLS: &str = "id, magasin_id, numero, nom";
const SESSION_SELECT: &str = "SELECT s.id, s.caisse_id, c.numero AS numero_caisse, s.magasin_id, s.caissier_id, \
    s.caissier_login, s.statut, s.fond_de_caisse, s.ouverte_le, s.fermee_le, s.fermee_par, s.especes_attendues, \
    s.montant_compte, s.ecart FROM sessions_caisse s JOIN caisses c ON c.id = s.caisse_id";

pub async fn list_caisses(pool: &MySqlPool, magasin_id: i64) -> ApiResult<Vec<CaisseRow>> {
    Ok(sqlx::query_as(&format!("SELECT {CAISSE_COLS} FROM caisses WHERE magasin_id = ? ORDER BY numero"))
        .bind(magasin_id)
        .fetch_all(pool)
        .await?)
}

pub async fn get_caisse(pool: &MySqlPool, id: i64) -> ApiResult<Option<CaisseRow>> {
    Ok(sqlx::query_as(&format!("SELECT {CAISSE_COLS} FROM caisses WHERE id = ?")).bind(id).fetch_optional(pool).await?)
}

/// Inserts a register; a unique-key conflict (numero taken) is a 409.
pub async fn insert_caisse(pool: &MySqlPool, magasin_id: i64, numero: i32, nom: &str) -> ApiResult<i64> {
    let res = sqlx::query("INSERT INTO caisses (magasin_id, numero, nom) VALUES (?, ?, ?)")
        .bind(magasin_id)
        .bind(numero)
        .bind(nom)
        .execute(pool)
        .await?;
    Ok(i64::try_from(res.last_insert_id()).unwrap_or_default())
}

/// Inserts a register unless that numero exists in the store (demo data).
pub async fn seed_caisse(pool: &MySqlPool, magasin_id: i64, numero: i32, nom: &str) -> ApiResult<()> {
    sqlx::query("INSERT IGNORE INTO caisses (magasin_id, numero, nom) VALUES (?, ?, ?)")
        .bind(magasin_id)
        .bind(numero)
        .bind(nom)
        .execute(pool)
        .await?;
    Ok(())
}

pub async fn get_session(pool: &MySqlPool, id: i64) -> ApiResult<Option<Session>> {
    Ok(sqlx::query_as(&format!("{SESSION_SELECT} WHERE s.id = ?")).bind(id).fetch_optional(pool).await?)
}

/// The open sessions of a store's registers.
pub async fn open_sessions(pool: &MySqlPool, magasin_id: i64) -> ApiResult<Vec<Session>> {
    Ok(sqlx::query_as(&format!("{SESSION_SELECT} WHERE s.magasin_id = ? AND s.statut = 'ouverte'"))
        .bind(magasin_id)
        .fetch_all(pool)
        .await?)
}

/// The session open on a register, if any.
pub async fn open_session_of(pool: &MySqlPool, caisse_id: i64) -> ApiResult<Option<Session>> {
    Ok(sqlx::query_as(&format!("{SESSION_SELECT} WHERE s.ouverte_caisse_id = ?"))
        .bind(caisse_id)
        .fetch_optional(pool)
        .await?)
}

/// Sessions, newest first: `page.apres` is the last id of the previous page (0: from the newest).
pub async fn list_sessions(
    pool: &MySqlPool,
    magasin_id: Option<i64>,
    statut: Option<StatutSession>,
    page: Page,
) -> ApiResult<Vec<Session>> {
    let sql = format!(
        "{SESSION_SELECT} WHERE (? IS NULL OR s.magasin_id = ?) AND (? IS NULL OR s.statut = ?) \
         AND (? = 0 OR s.id < ?) ORDER BY s.id DESC LIMIT ?"
    );
    Ok(sqlx::query_as(&sql)
        .bind(magasin_id)
        .bind(magasin_id)
        .bind(statut)
        .bind(statut)
        .bind(page.apres)
        .bind(page.apres)
        .bind(page.fetch())
        .fetch_all(pool)
        .await?)
}

/// Opens a session on a register. `Ok(None)` when the register already has
/// an open session (the unique `ouverte_caisse_id` refused the row).
pub async fn open_session(
    pool: &MySqlPool,
    caisse: &CaisseRow,
    caissier_id: i64,
    caissier_login: &str,
    fond: Decimal,
) -> ApiResult<Option<i64>> {
    let res = sqlx::query(
        "INSERT INTO sessions_caisse (caisse_id, magasin_id, caissier_id, caissier_login, statut, ouverte_caisse_id, \
         fond_de_caisse) VALUES (?, ?, ?, ?, 'ouverte', ?, ?)",
    )
    .bind(caisse.id)
    .bind(caisse.magasin_id)
    .bind(caissier_id)
    .bind(caissier_login)
    .bind(caisse.id)
    .bind(fond)
    .execute(pool)
    .await;
    match res {
        Ok(r) => Ok(Some(i64::try_from(r.last_insert_id()).unwrap_or_default())),
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What closing records.
pub struct Closing<'a> {
    pub fermee_le: DateTime<Utc>,
    pub fermee_par: &'a str,
    pub attendu: Decimal,
    pub compte: Decimal,
    pub ecart: Decimal,
    pub rapport_z: &'a str,
}

/// Closes an open session with its count and Z-report; `false` when it
/// was no longer open (someone closed it first).
pub async fn close_session(pool: &MySqlPool, id: i64, c: &Closing<'_>) -> ApiResult<bool> {
    let res = sqlx::query(
        "UPDATE sessions_caisse SET statut = 'fermee', ouverte_caisse_id = NULL, fermee_le = ?, fermee_par = ?, \
         especes_attendues = ?, montant_compte = ?, ecart = ?, rapport_z = ? WHERE id = ? AND statut = 'ouverte'",
    )
    .bind(c.fermee_le)
    .bind(c.fermee_par)
    .bind(c.attendu)
    .bind(c.compte)
    .bind(c.ecart)
    .bind(c.rapport_z)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// The Z-report stored at closing.
pub async fn rapport_z(pool: &MySqlPool, id: i64) -> ApiResult<Option<String>> {
    Ok(sqlx::query_scalar::<_, Option<String>>("SELECT rapport_z FROM sessions_caisse WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .flatten())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_bounded_strings_with_two_decimals() {
        assert_eq!(money("f", "200", MAX_FOND).unwrap().to_string(), "200.00");
        assert_eq!(money("f", " 0.5 ", MAX_FOND).unwrap().to_string(), "0.50");
        assert_eq!(money("f", "10000.00", MAX_FOND).unwrap().to_string(), "10000.00");
        for bad in ["-1", "1.001", "abc", "", "10000.01", "1e3"] {
            let err = money("fond_de_caisse", bad, MAX_FOND).unwrap_err();
            assert_eq!(err.status(), 422, "{bad}");
            assert_eq!(err.body()["errors"][0]["champ"], "fond_de_caisse");
        }
    }

    #[test]
    fn session_states_read_back_what_they_write() {
        for s in [StatutSession::Ouverte, StatutSession::Fermee] {
            assert_eq!(s.as_str().parse::<StatutSession>(), Ok(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }
}
