//! Test support for the Sentry SDK workspace.
//!
//! - [`server`]: a loopback HTTP server that receives envelopes like Sentry does, records them,
//!   and misbehaves on command (rate limits, errors, hangs, closed connections, slow answers).
//! - [`proxy`]: a loopback HTTP proxy (`CONNECT` tunnels and absolute-form forwarding) that
//!   records what went through it.
//! - [`relay`]: runs events through Relay's own normalizer (`sentry-relay` from PyPI) to prove
//!   they are accepted as sent.
//! - [`display`]: renders envelopes readably; used by `cargo xtask demo` and `cargo xtask receive`.
//! - [`spotlight`]: the real Spotlight sidecar (npm `@spotlightjs/spotlight`), installed once and
//!   started for a test, with what it received and what its formatters showed.
//! - [`fixtures`]: [`typical_event`](fixtures::typical_event), the 10 KB error event the delivery
//!   tests, the gzip tests and the benchmarks share.
//! - [`profile_chunk`]: [`check_profile_chunk`](profile_chunk::check_profile_chunk), Relay's
//!   checks of a continuous-profiling chunk; [`display_profile`] renders one, symbolized.
//! - [`log_protocol`]: [`log_item_problems`](log_protocol::log_item_problems), the field-by-field
//!   check of log items that Relay's normalizer does not do.
//! - [`span_v2`]: [`check_span_item`](span_v2::check_span_item), the same for span v2 items
//!   (span streaming): header, payload, ids, times, typed attributes, segment attributes, links.
//!
//! The integration tests of the workspace live in this package's `tests/` directory; the
//! examples of the guides in `docs/` run as this crate's doctests (the hidden `guides` module).
#![forbid(unsafe_code)]

pub mod display;
pub mod display_profile;
pub mod fixtures;
#[doc(hidden)]
pub mod guides;
pub mod log_protocol;
pub mod places;
pub mod profile_chunk;
pub mod proxy;
pub mod relay;
pub mod server;
pub mod span_v2;
pub mod spotlight;

pub use server::{Behavior, Request, Response, TestServer};
