//! The one shared library of the Caisse services: configuration, telemetry,
//! problem+json errors, extractors, metrics, health, MySQL, Redis cache,
//! inter-service client, tokens, shutdown and provisioning. Test helpers live
//! in the `caisse-testing` dev-dependency, never in a service binary.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod calendar;
pub mod client;
pub mod config;
pub mod db;
pub mod demo;
pub mod drain;
pub mod error;
pub mod events;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod outbox;
pub mod pagination;
pub mod process_metrics;
pub mod provision;
pub mod server;
pub mod sql_text;
pub mod telemetry;
pub mod version;

pub use auth::{Auth, Claims, Role};
pub use error::{ApiError, ApiResult, FieldError};
pub use server::Platform;
