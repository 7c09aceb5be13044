//! The stores' calendar: every store keeps the time of `America/Toronto`
//! (Eastern time, with daylight saving time), from the time-zone database.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The stores' time zone.
pub const STORE_TZ: Tz = chrono_tz::America::Toronto;

/// The store day an instant falls on.
pub fn store_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&STORE_TZ).date_naive()
}

/// The first instant of a store day (midnight local time, as UTC).
pub fn day_start(day: NaiveDate) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    // Toronto changes time at 02:00, so midnight always exists once.
    match STORE_TZ.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        chrono::LocalResult::None => Utc.from_utc_datetime(&midnight),
    }
}

/// Today, in the stores' calendar.
pub fn today() -> NaiveDate {
    store_day(Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn days_follow_daylight_saving_time() {
        // Winter: UTC-5. 04:59 UTC is still the previous day in Toronto.
        assert_eq!(store_day(utc("2026-01-15T04:59:00Z")).to_string(), "2026-01-14");
        assert_eq!(store_day(utc("2026-01-15T05:00:00Z")).to_string(), "2026-01-15");
        // Summer: UTC-4.
        assert_eq!(store_day(utc("2026-07-15T03:59:00Z")).to_string(), "2026-07-14");
        assert_eq!(store_day(utc("2026-07-15T04:00:00Z")).to_string(), "2026-07-15");
    }

    #[test]
    fn a_day_starts_at_local_midnight() {
        assert_eq!(day_start("2026-01-15".parse().unwrap()), utc("2026-01-15T05:00:00Z"));
        assert_eq!(day_start("2026-07-15".parse().unwrap()), utc("2026-07-15T04:00:00Z"));
        // The spring-forward day is 23 hours long.
        let (a, b) = (day_start("2026-03-08".parse().unwrap()), day_start("2026-03-09".parse().unwrap()));
        assert_eq!((b - a).num_hours(), 23);
    }
}
