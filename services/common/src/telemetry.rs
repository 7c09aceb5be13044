//! Structured logs. Each request runs in a span carrying its `X-Request-Id`,
//! so every line a request causes can be found by that id.

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber: JSON lines (default) or human-readable.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = if json {
        registry.with(fmt::layer().json().flatten_event(true).with_current_span(true).with_span_list(false)).try_init()
    } else {
        registry.with(fmt::layer().compact()).try_init()
    };
    // A second init (tests) keeps the first subscriber.
    let _ = result;
}
