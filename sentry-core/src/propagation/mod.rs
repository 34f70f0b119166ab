//! Trace propagation: how a trace continues from one service (or process) to the next.
//!
//! A service that receives a request reads where in which trace the caller was, and continues
//! that trace; when it makes a request of its own, it passes its position on. Three headers
//! carry this:
//!
//! - **`sentry-trace`** — `{trace_id}-{span_id}[-{1|0}]`: the trace, the calling span, and its
//!   sampling decision (absent: deferred to the receiver). See [`SentryTrace`].
//! - **`baggage`** — the W3C header, in which Sentry's `sentry-` members carry the
//!   [`DynamicSamplingContext`]: what the head of the trace decided (sample rate, random value,
//!   release, environment, …), passed on unchanged so that the whole trace is sampled alike.
//!   See [`Baggage`] and [`merge_baggage`].
//! - **`traceparent`** — W3C Trace Context's header, for interoperability with OpenTelemetry:
//!   read when there is no `sentry-trace`, and written when the application enables it. See
//!   [`SentryTrace::from_traceparent`] and [`SentryTrace::to_traceparent`].
//!
//! Between processes the same values travel in the `SENTRY_TRACE` and `SENTRY_BAGGAGE`
//! environment variables; in queues, as message metadata.
//!
//! This module only reads and writes these formats and makes the small decisions around
//! them: whether a request's URL gets headers ([`TracePropagationTargets`]), whether an
//! incoming trace may be continued ([`should_continue_trace`]), and the trace's random value
//! ([`new_sample_rand`], [`backfill_sample_rand`]). It holds no state: where the current
//! trace is kept, and when headers are attached, is up to the scopes and integrations.
//!
//! # Examples
//!
//! ```
//! use sentry_core::propagation::{merge_baggage, IncomingTrace, SentryTrace};
//!
//! // A request arrives.
//! let incoming = IncomingTrace::from_headers([
//!     ("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"),
//!     ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1"),
//! ]);
//! let upstream = incoming.sentry_trace.unwrap();
//! let dsc = incoming.dynamic_sampling_context().unwrap();
//!
//! // The service makes a request of its own from one of its spans, in the same trace.
//! let outgoing = SentryTrace {
//!     span_id: "0123456789abcdef".parse().unwrap(),
//!     ..upstream
//! };
//! assert_eq!(outgoing.to_string(), "771a43a4192642f0b136d5159a501700-0123456789abcdef-1");
//! assert_eq!(
//!     merge_baggage(Some("vendor=1"), &dsc).as_deref(),
//!     Some("vendor=1,sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1")
//! );
//! ```

mod baggage;
mod continuation;
mod dsc;
mod incoming;
mod sampling;
mod sentry_trace;
mod targets;

pub use baggage::{merge_baggage, Baggage, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
pub use continuation::should_continue_trace;
pub use dsc::DynamicSamplingContext;
pub use incoming::{ContinuedTrace, IncomingTrace};
pub use sampling::{backfill_sample_rand, new_sample_rand};
pub use sentry_trace::{ParseSentryTraceError, SentryTrace};
pub use targets::{TargetMatcher, TracePropagationTargets};

/// The name of the `sentry-trace` header.
pub const SENTRY_TRACE_HEADER: &str = "sentry-trace";
/// The name of the `baggage` header.
pub const BAGGAGE_HEADER: &str = "baggage";
/// The name of the W3C `traceparent` header.
pub const TRACEPARENT_HEADER: &str = "traceparent";
/// The environment variable that passes `sentry-trace` to a child process.
pub const SENTRY_TRACE_ENV: &str = "SENTRY_TRACE";
/// The environment variable that passes `baggage` to a child process.
pub const SENTRY_BAGGAGE_ENV: &str = "SENTRY_BAGGAGE";
