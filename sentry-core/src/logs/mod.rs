//! Structured logs: the [`logger`] API, the gate that makes it free when logs are off, and the
//! [`LogBuffer`] that batches logs for the transport.
//!
//! The record type is [`protocol::Log`](crate::protocol::Log). Integrations that turn other
//! logging systems into Sentry logs (the `log` and `tracing` bridges) build a `Log` and hand it
//! to [`capture_log`](crate::capture_log) after checking [`enabled`].

mod buffer;
pub mod logger;
mod macros;
mod param;
mod template;

pub use buffer::{
    LogBuffer, BATCH_TIMEOUT, MAX_BATCH_BYTES, MAX_BATCH_SIZE, MAX_QUEUED, MAX_QUEUED_BYTES,
};

/// `true` while at least one enabled client has logs on: one relaxed atomic load.
///
/// The [`logger`] functions and macros check it before doing anything else. Integrations check
/// it before building a [`Log`](crate::protocol::Log).
///
/// # Examples
///
/// ```
/// // No client with `enable_logs` exists in this example.
/// assert!(!sentry_core::logs::enabled());
/// ```
#[inline(always)]
pub fn enabled() -> bool {
    crate::gate::logs_on()
}

/// Plumbing for the logger macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use super::logger::capture;
    pub use super::param::{ViaDisplay, ViaParam, Wrap};
    pub use super::template::placeholders_match;
}
