//! The core of the Sentry SDK: protocol types, envelopes, DSN, options, scopes, the client
//! pipeline and the transport worker.
//!
//! Applications normally use the `sentry` crate, which re-exports this crate and adds the HTTP
//! transport and the default integrations. Integration and transport authors build on this crate
//! directly.
//!
//! # The path of an event
//!
//! A capture call ([`capture_message`], [`capture_error`], [`capture_event`], or a facade call
//! from `sentry-minimal`) first checks the facade's atomic gate, then resolves the scopes of the
//! calling thread ([`Scopes`]) and the client bound to them (current → isolation → global). The
//! [`Client`] runs the pipeline — sample rate, scope data, event processors, integrations,
//! `before_send` — on the calling thread, and hands the event, still unserialized, to its
//! [`transport::Transport`]. The transport worker thread applies rate limits, attaches client
//! reports, serializes and sends.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The modules in layer order, lowest first: a module uses only the modules above it in this
// list (and those of its own group). ARCHITECTURE.md ("Layers of sentry-core") says why each
// sits where it does; `tests/layers.rs` fails on an upward `use`.

// Leaves: no other module of this crate.
#[macro_use]
mod debug;
mod callback;
mod depth;
mod gate;
mod off_thread;
mod random;
mod signal;
mod time;

// The wire: payloads, their container, and what is counted when one is dropped.
pub mod client_reports;
pub mod envelope;
pub mod hint;
pub mod limits;
pub mod propagation;
pub mod protocol;
mod span_pool;
mod span_record;

// Delivery.
mod batch;
pub mod dsn;
pub mod finalize;
mod logs;
mod metric_buffer;
mod ratelimit;
mod session;
pub mod transport;

// Configuration (options and integrations name each other).
pub mod integration;
mod options;

// How a transaction begins and is sampled.
mod sampling;

// State and pipeline (a scope holds its client; a client applies scopes; a span belongs to a
// client and is current in scopes).
mod client;
mod scope;
mod span;

// What applications call.
mod api;
mod backend;
pub mod gen_ai;
mod init;
pub mod logger;
pub mod metrics;
pub mod profiling;

#[cfg(any(test, feature = "test"))]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub mod test;

/// What the SDK's own crates (`sentry`, `sentry-backtrace`, `sentry-panic`,
/// `sentry-transport-http`, `sentry-log`) and the expansions of this crate's macros use from
/// its internals.
///
/// **Not a public API.** Nothing here is covered by semantic versioning: it changes or goes
/// away in any release, with the crates that use it.
#[doc(hidden)]
pub mod __private {
    pub use crate::api::{set_error_stack_walker, ErrorStackWalker};
    pub use crate::client::profile::{set_profiler_hooks, ProfilerHooks};
    pub use crate::debug::{debug_enabled, debug_print};
    pub use crate::logger::param::{ViaDisplay, ViaParam, Wrap};
    pub use crate::logger::record::capture;
    pub use crate::logger::template::placeholders_match;
    pub use crate::off_thread::{run_off_thread, spawn_named, OffThreadError};
    pub use crate::time::format_rfc3339;
}

pub use api::{
    add_attachment, add_breadcrumb, add_breadcrumb_with_hint, capture_error, capture_event,
    capture_event_with_hint, capture_log, capture_message, continue_trace, end_session,
    end_session_with_status, event_from_error, flush, get_baggage, get_current_span,
    get_traceparent, is_enabled, last_event_id, remove_attribute, remove_context, remove_extra,
    remove_tag, set_attribute, set_attributes, set_context, set_extra, set_level, set_tag,
    set_tags, set_transaction_name, set_user, start_new_trace, start_session, start_span,
    start_transaction, trace, trace_headers, update_current_span, with_span, IntoBreadcrumb,
    TraceHeaders,
};
pub use api::{
    capture_check_in, capture_feedback, monitor, monitor_async, try_capture_check_in,
    MonitorFuture, MonitorResult,
};
pub use api::{start_outgoing_request, OutgoingRequest};
pub use api::{start_span_with, SpanOptions, SpanParent};
pub use client::{Client, SDK_NAME, SDK_VERSION};
pub use dsn::{Dsn, DsnError};
pub use hint::Hint;
pub use init::{init, try_init, ClientInitGuard, IntoOptions};
pub use integration::Integration;
pub use options::{
    BeforeBreadcrumb, BeforeSend, BeforeSendCheckIn, BeforeSendLog, BeforeSendMetric,
    BeforeSendSpan, ClientOptions, IgnoreSpan, IntoDsn, NamePattern, OptionsError,
    ProfileLifecycle, Spotlight, TraceLifecycle, TracesSampler, DEFAULT_ENVIRONMENT,
};
pub use propagation::TracePropagationTargets;
pub use protocol::{Attachment, AttachmentType, Event};
pub use sampling::{SamplingContext, TransactionContext};
pub use scope::{
    bind_client, configure_global_scope, configure_scope, push_scope, with_isolation_scope,
    with_scope, BindScopes, EventProcessor, Scope, ScopeGuard, Scopes, ScopesBound,
};
pub use sentry_minimal::{AsError, Breadcrumb, EventId, Level, Map, SpanId, TraceId, User, Value};
pub use session::SessionMode;
pub use span::{Span, SpanGuard};
