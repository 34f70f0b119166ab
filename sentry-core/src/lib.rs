//! The core of the Sentry SDK: protocol types, envelopes, DSN, options, scopes, the client
//! pipeline and the transport worker.
//!
//! Applications normally use the `sentry` crate, which re-exports this crate and adds the HTTP
//! transport and the default integrations. Integration and transport authors build on this crate
//! directly.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[macro_use]
mod debug;

// Wire level: written by the protocol work.
pub mod client_reports;
pub mod dsn;
pub mod envelope;
pub mod protocol;
pub mod ratelimit;
pub mod time;

// Delivery: the transport trait and the worker.
pub mod transport;

pub use debug::set_debug;
#[doc(hidden)]
pub use debug::{debug_enabled as __debug_enabled, debug_print as __debug_print};
pub use sentry_minimal::{Breadcrumb, EventId, Level, Map, SpanId, TraceId, User, Value};
