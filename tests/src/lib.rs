//! System tests and benchmarks of the whole suite. The tests live in
//! `tests/system/` (one integration binary; `harness.rs` starts a stack per
//! test); `src/bin/bench-checkout.rs` is the checkout benchmark run by
//! `tests/bench`; `src/bin/caisse-charge.rs` the synthetic cashier load
//! ([`charge`]) of demos and of the live dashboard test.

pub mod charge;
