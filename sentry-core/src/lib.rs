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

#[macro_use]
mod debug;

// Wire level.
pub mod client_reports;
pub mod dsn;
pub mod envelope;
pub mod finalize;
pub mod hint;
pub mod limits;
pub mod logs;
pub mod off_thread;
pub mod protocol;
pub mod random;
pub mod ratelimit;
pub mod time;

// Delivery: the transport trait and the worker.
mod signal;
pub mod transport;

// State and pipeline.
mod api;
mod backend;
mod client;
mod gate;
mod init;
mod integration;
mod options;
mod scope;

#[cfg(any(test, feature = "test"))]
pub mod test;

pub use api::{
    add_breadcrumb, add_breadcrumb_with_hint, capture_error, capture_event,
    capture_event_with_hint, capture_log, capture_message, event_from_error, flush, is_enabled,
    last_event_id, remove_context, remove_extra, remove_tag, run_user_callback, set_context,
    set_extra, set_level, set_tag, set_tags, set_user, IntoBreadcrumb,
};
pub use client::{inside_sdk, Client, SDK_NAME, SDK_VERSION};
pub use debug::set_debug;
#[doc(hidden)]
pub use debug::{debug_enabled as __debug_enabled, debug_print as __debug_print};
pub use dsn::{Dsn, DsnError};
pub use hint::Hint;
pub use init::{bind_client, init, try_init, ClientInitGuard, IntoOptions};
pub use integration::Integration;
pub use logs::logger;
pub use options::{
    BeforeBreadcrumb, BeforeSend, BeforeSendLog, ClientOptions, OptionsError, Spotlight,
    DEFAULT_ENVIRONMENT,
};
pub use protocol::new_event_id;
pub use scope::{
    configure_global_scope, configure_scope, with_isolation_scope, with_scope, BindScopes,
    EventProcessor, Scope, ScopeGuard, Scopes, ScopesBound,
};
pub use sentry_minimal::{
    AsError, Breadcrumb, EventId, Level, Map, SortedMap, SpanId, TraceId, User, Value,
};
