//! System tests and benchmarks of the whole suite. The tests live in
//! `tests/system/` (one integration binary; `harness.rs` starts a stack per
//! test); `src/bin/bench-checkout.rs` is the checkout benchmark run by
//! `tests/bench`; `src/bin/caisse-charge.rs` the synthetic cashier load
//! ([`charge`]) of demos and of the live dashboard test.

pub mod charge;
pub mod cost;

/// Gets or opens the cash session a cashier's carts are opened on (every
/// `POST /api/paniers` names one): the open session of a register of the
/// token's store, else one opened with a float of 200.00 $ (a 409 from a
/// concurrent opening gives the winner's `session_id`).
pub use caisse_testing::session::session;
