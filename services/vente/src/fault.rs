//! A crash switch for the saga's fault tests, compiled only in debug builds:
//! `CAISSE_FAULT=crash_after_reservation` makes the process exit right after
//! stock confirmed a reservation. Release builds ignore it entirely.

/// Exits the process if the fault `point` is armed (debug builds only).
pub fn crash_point(point: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("CAISSE_FAULT").is_ok_and(|v| v == point) {
        tracing::error!(point, "panne simulée : arrêt brutal du processus");
        std::process::exit(86);
    }
    #[cfg(not(debug_assertions))]
    let _ = point;
}
