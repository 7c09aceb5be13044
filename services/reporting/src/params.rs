//! Report parameters parsed at the edge: who may see which store, periods in
//! store days, bounded limits. Every refusal names the parameter, in French.

use caisse_common::{ApiError, ApiResult, Claims, Role, calendar};
use chrono::{Days, NaiveDate};
use serde::Deserialize;
use utoipa::IntoParams;

/// Longest period a report covers.
pub const MAX_DAYS: u64 = 366;

/// The store a caller may see: `None` is every store (admins only).
pub fn scope(auth: &Claims, magasin_id: Option<i64>) -> ApiResult<Option<i64>> {
    auth.require_role(&[Role::Admin, Role::Gerant])?;
    if let Some(id) = magasin_id
        && id <= 0
    {
        return Err(ApiError::field("magasin_id", "un identifiant de magasin, 1 ou plus"));
    }
    match auth.role {
        Role::Admin => Ok(magasin_id),
        _ => {
            let own = auth.magasin_id.ok_or_else(|| ApiError::Forbidden("Compte sans magasin.".into()))?;
            auth.require_magasin(magasin_id.unwrap_or(own))?;
            Ok(Some(own))
        }
    }
}

fn date(name: &str, raw: Option<&str>) -> ApiResult<Option<NaiveDate>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| ApiError::field(name, format!("« {s} » n'est pas une date AAAA-MM-JJ"))),
    }
}

/// `du` and `au`, store days, inclusive.
#[derive(Debug, Clone, Deserialize, IntoParams)]
pub struct PeriodParams {
    /// First day (AAAA-MM-JJ, America/Toronto); default: 6 days before `au`.
    pub du: Option<String>,
    /// Last day (AAAA-MM-JJ); default: today.
    pub au: Option<String>,
    /// One store (admins; a gérant sees only theirs).
    pub magasin_id: Option<i64>,
}

impl PeriodParams {
    pub fn period(&self) -> ApiResult<(NaiveDate, NaiveDate)> {
        let au = date("au", self.au.as_deref())?.unwrap_or_else(calendar::today);
        let du = match date("du", self.du.as_deref())? {
            Some(d) => d,
            None => au.checked_sub_days(Days::new(6)).unwrap_or(au),
        };
        if du > au {
            return Err(ApiError::field("du", format!("le {du} est après le {au} (au) : inversez les dates")));
        }
        if (au - du).num_days() >= MAX_DAYS as i64 {
            return Err(ApiError::field("au", format!("{MAX_DAYS} jours au plus entre du et au")));
        }
        Ok((du, au))
    }
}

/// A bounded count parameter.
pub fn bounded(name: &str, value: Option<u32>, default: u32, max: u32) -> ApiResult<u32> {
    let v = value.unwrap_or(default);
    if (1..=max).contains(&v) { Ok(v) } else { Err(ApiError::field(name, format!("entre 1 et {max}"))) }
}

/// The last `jours` days up to today.
pub fn last_days(jours: u32) -> (NaiveDate, NaiveDate) {
    let au = calendar::today();
    (au.checked_sub_days(Days::new(u64::from(jours) - 1)).unwrap_or(au), au)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(role: Role, magasin_id: Option<i64>) -> Claims {
        Claims { sub: 1, login: "x".into(), role, magasin_id, iat: 0, exp: i64::MAX }
    }

    fn period(du: &str, au: &str) -> ApiResult<(NaiveDate, NaiveDate)> {
        PeriodParams { du: Some(du.into()), au: Some(au.into()), magasin_id: None }.period()
    }

    #[test]
    fn admins_see_every_store_and_managers_only_theirs() {
        assert_eq!(scope(&claims(Role::Admin, None), None).unwrap(), None);
        assert_eq!(scope(&claims(Role::Admin, None), Some(2)).unwrap(), Some(2));
        assert_eq!(scope(&claims(Role::Gerant, Some(1)), None).unwrap(), Some(1));
        assert_eq!(scope(&claims(Role::Gerant, Some(1)), Some(2)).unwrap_err().status(), 403);
        assert_eq!(scope(&claims(Role::Caissier, Some(1)), Some(1)).unwrap_err().status(), 403);
        assert_eq!(scope(&claims(Role::Logistique, None), None).unwrap_err().status(), 403);
        assert_eq!(scope(&claims(Role::Admin, None), Some(0)).unwrap_err().status(), 422);
    }

    #[test]
    fn periods_are_checked() {
        assert!(period("2026-01-01", "2026-01-31").is_ok());
        assert_eq!(period("2026-02-01", "2026-01-31").unwrap_err().status(), 422);
        assert_eq!(period("2026-13-01", "2026-01-31").unwrap_err().status(), 422);
        assert_eq!(period("01/02/2026", "2026-01-31").unwrap_err().status(), 422);
        assert_eq!(period("2024-01-01", "2026-01-31").unwrap_err().status(), 422);
        assert!(period("2025-01-01", "2025-12-31").is_ok(), "une année de 365 jours");
    }
}
