//! SQL of the reporting schema: the projection of events (writes) and the
//! report queries (reads).

pub mod projection;
pub mod reports;
