//! System tests and benchmarks of the whole suite. The tests live in
//! `tests/system/` (one integration binary; `harness.rs` starts a stack per
//! test); `src/bin/bench-checkout.rs` is the checkout benchmark run by
//! `tests/bench`.
