//! vedette's web side: a read-only HTTP API over the event store, a live alert stream (SSE),
//! Prometheus metrics and the embedded dashboard (HTML, JS, CSS and a vendored chart library).
//!
//! It owns its own small tokio runtime (started only by `serve` or `--serve`) and reads the
//! store through read-only SQLite connections, one per request, in blocking tasks. It must not
//! reach into the data path: it sees no packets and no engine, only stored events and the
//! in-process [`LiveFeed`] of alert lines that the binary's event pipe publishes.

#![forbid(unsafe_code)]

mod assets;
mod auth;
mod feed;
mod metrics;
mod queries;
mod server;

pub use feed::{FeedCounters, LiveFeed, FEED_CAPACITY};
pub use server::{check_listen, ApiError, RunningServer, ServeOptions, MAX_SSE_CLIENTS, ROUTES};

/// The OpenAPI 3 description of every route, served at `/api/openapi.json`.
pub const OPENAPI_JSON: &str = include_str!("../../../docs/openapi.json");
