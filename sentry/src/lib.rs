//! Sentry SDK for Rust: report errors, panics, breadcrumbs, logs and traces to Sentry.
//!
//! # Quick start
//!
//! ```no_run
//! use sentry::{ClientOptions, Level};
//!
//! fn main() {
//!     // Reads SENTRY_DSN, SENTRY_RELEASE, SENTRY_ENVIRONMENT, SENTRY_SAMPLE_RATE, SENTRY_DEBUG
//!     // for options left at their defaults. Keep the guard alive until the end of `main`:
//!     // dropping it sends what is still queued (waiting at most `shutdown_timeout`), also
//!     // when `main` ends with a panic.
//!     let _guard = sentry::init(ClientOptions {
//!         release: sentry::release_name!(),
//!         ..Default::default()
//!     });
//!
//!     sentry::set_tag("service", "billing");
//!     sentry::add_breadcrumb(|| sentry::Breadcrumb::new("loaded config").category("startup"));
//!     sentry::capture_message("billing started", Level::Info);
//!
//!     if let Err(err) = std::fs::read_to_string("/etc/billing.toml") {
//!         sentry::capture_error(&err);
//!     }
//! }
//! ```
//!
//! `init` accepts [`ClientOptions`], a DSN string, or a `(dsn, options)` pair. An empty or
//! missing DSN gives a disabled SDK: nothing is sent, no thread is started, and every call
//! returns after one atomic load. An invalid DSN or option never panics: `init` prints one line
//! on stderr and disables the SDK; [`try_init`] returns the error instead.
//!
//! # Filtering with hooks and hints
//!
//! `before_send` and `before_breadcrumb` ([`ClientOptions`]), scope event processors
//! ([`Scope::add_event_processor`]) and [`Integration::process_event`] get, beside the event or
//! breadcrumb, a [`Hint`]: what it was made from. For [`capture_error`] that is the error
//! itself, so a hook can filter by type with a downcast instead of matching on the text of
//! the exception:
//!
//! ```
//! use std::sync::Arc;
//!
//! let _guard = sentry::init(sentry::ClientOptions {
//!     before_send: Some(Arc::new(|event, hint| {
//!         // Timeouts of the HTTP client are expected here: do not report them.
//!         let timed_out = hint
//!             .error()
//!             .and_then(|err| err.downcast_ref::<std::io::Error>())
//!             .is_some_and(|err| err.kind() == std::io::ErrorKind::TimedOut);
//!         (!timed_out).then_some(event)
//!     })),
//!     ..Default::default()
//! });
//! ```
//!
//! Panics carry their message, location and payload type ([`hint::PanicHint`]), records of
//! the `log` and `tracing` bridges their level, target, location and fields
//! ([`hint::RecordHint`]); [`capture_event_with_hint`] and [`add_breadcrumb_with_hint`] pass a
//! value of your own. A hint only borrows, on the capturing thread: one no hook reads costs
//! nothing.
//!
//! ## Migrating hooks written before hints
//!
//! The hooks' signatures gained the hint as a parameter (a breaking change before 1.0; the
//! other options are unchanged). Add a parameter to each closure and to `process_event`:
//!
//! | hook | before | now |
//! |---|---|---|
//! | `before_send` | `Arc::new(\|event\| Some(event))` | `Arc::new(\|event, _hint\| Some(event))` |
//! | `before_breadcrumb` | `Arc::new(\|crumb\| Some(crumb))` | `Arc::new(\|crumb, _hint\| Some(crumb))` |
//! | scope event processors | `scope.add_event_processor(\|event\| Some(event))` | `scope.add_event_processor(\|event, _hint\| Some(event))` |
//! | [`Integration::process_event`] | `fn process_event(&self, event: Event, options: &ClientOptions)` | `fn process_event(&self, event: Event, hint: &Hint<'_>, options: &ClientOptions)` |
//!
//! A closure whose parameter has a type annotation keeps it (`|event: Event, _| …`); the
//! types of the aliases are [`BeforeSend`], [`BeforeBreadcrumb`] and [`EventProcessor`].
//! `before_send_log` is unchanged.
//!
//! # Loaded libraries
//!
//! To list the crates and versions the application was built with in every event's `modules`,
//! add one line at the start of `main` (the path is relative to the crate's manifest directory;
//! use `"../Cargo.lock"` in a workspace member):
//!
//! ```ignore
//! sentry::set_modules(sentry::cargo_lock_modules!());
//! ```
//!
//! # Structured logs
//!
//! With [`enable_logs`](ClientOptions::enable_logs) on, [`logger`] sends searchable logs with
//! typed attributes, batched on the transport's thread; while it is off, every logger call
//! costs one atomic load:
//!
//! ```
//! let _guard = sentry::init(sentry::ClientOptions { enable_logs: true, ..Default::default() });
//! let user_id = 42;
//! sentry::logger::info!("User {} logged in", user_id; "plan" => "pro");
//! ```
//!
//! The `log` and `tracing` bridges (features `log` and `tracing`) send the records of those
//! crates as logs, breadcrumbs and events. An application that uses both installs one of them
//! for `log` records: with tracing-subscriber's `init()` (whose default `tracing-log` feature
//! makes `log` records `tracing` events) and the Sentry `tracing` layer, `log` records already
//! reach Sentry, once, through the layer, so the `log` bridge is not installed (its `init()`
//! fails and says so). A `log` bridge forwarding to tracing-log's `LogTracer` would make both
//! see each record: it is captured once, by the `log` bridge, and a line on stderr says to
//! keep one (see `integrations::log`).
//!
//! # Tracing: transactions, spans, distributed traces
//!
//! Set [`traces_sample_rate`](ClientOptions::traces_sample_rate) (or a `traces_sampler`) to
//! send transactions. There are three ways to make spans.
//!
//! **The API.** A transaction is the root span of a request or job; [`Span::enter`] makes a
//! span current until its guard is dropped, which finishes it. Incoming requests continue the
//! caller's trace with [`continue_trace`]; outgoing ones carry it with [`trace_headers`]:
//!
//! ```
//! use sentry::protocol::TransactionSource;
//!
//! let _guard = sentry::init(sentry::ClientOptions {
//!     traces_sample_rate: Some(0.2),
//!     ..Default::default()
//! });
//! # let incoming: Vec<(&str, &str)> = vec![];
//! // In a request handler: continue the caller's trace from the request headers.
//! let ctx = sentry::continue_trace(incoming.iter().copied())
//!     .with_name("GET /orders/{id}")
//!     .with_op("http.server")
//!     .with_source(TransactionSource::Route);
//! let tx = sentry::start_transaction(ctx).enter();
//! let order = sentry::with_span("db.query", "SELECT * FROM orders WHERE id = $1", |span| {
//!     span.set_data("db.system", "postgresql");
//!     "order"
//! });
//! // Calling another service: the headers that continue this trace there.
//! for (name, value) in sentry::trace_headers("https://stock.internal/reserve").iter() {
//!     // request.header(name, value)
//! #   let _ = (name, value, order);
//! }
//! drop(tx); // sent (when sampled), with its spans
//! ```
//!
//! **The facade.** Libraries depending on `sentry-minimal` alone add spans under whatever span
//! is current, for one atomic load when no SDK (or no sampled trace) is there:
//! `sentry_minimal::with_span("cache.get", key, |span| …)`.
//!
//! **`#[instrument]`.** With the `tracing` feature, the `tracing` layer turns `tracing` spans
//! into Sentry spans: a root span starts a transaction, nested spans become children by
//! `tracing`'s own span tree (also across `.await` on a multi-threaded runtime), and events
//! inside a span carry its trace (see [`integrations::tracing`]).
//!
//! **Outgoing requests.** [`start_outgoing_request`] makes the `http.client` span of a call to
//! another service (a child of the current span), gives the headers that continue the trace
//! there, and records an `http` breadcrumb when it ends; the `reqwest` and `ureq` features
//! do it for those clients (`client.get(url).send_traced().await`, or a middleware on a
//! `ureq::Agent`).
//!
//! Without `traces_sample_rate` or `traces_sampler`, no transaction is sent, but traces are
//! still continued and propagated, and every event carries the trace it belongs to.
//!
//! # Libraries
//!
//! Libraries should depend on `sentry-minimal` only; its calls reach the client this crate
//! installs, and cost one atomic load when the application does not use Sentry.
//!
//! # Threads and async
//!
//! Every thread reports to the client bound by `init`, whenever the thread was started. Data set
//! with the top-level functions goes to the isolation scope; fork it per request or task with
//! [`Scopes::fork_isolation`] and carry it with [`Scopes::bind`] or
//! [`BindScopes::bind_scopes`] (any executor).
//!
//! # Continuous profiling
//!
//! With the `profiling` feature (Linux x86_64 and aarch64), a process picked by
//! [`profile_session_sample_rate`](ClientOptions::profile_session_sample_rate) (or
//! `SENTRY_PROFILE_SESSION_SAMPLE_RATE`) samples every thread's stack 101 times a second and
//! sends profile chunks, which Sentry symbolicates and links to the transactions recorded
//! meanwhile. In the default [`ProfileLifecycle::Manual`] it runs from `sentry::start_profiler()`
//! to `sentry::stop_profiler()`; in [`ProfileLifecycle::Trace`], while sampled transactions
//! run. `flush` sends the chunk collected so far and closing the SDK stops the profiler and
//! sends its last chunk. See `sentry_profiling` for what it costs and misses.
//!
//! # Cargo features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `transport` | yes | HTTP transport (ureq with rustls) used when no other transport is configured |
//! | `native-tls` | no | the HTTP transport with the platform's TLS library (OpenSSL, Secure Transport, SChannel) and root certificates instead of rustls; needs the OpenSSL headers to build on Linux (implies `transport`) |
//! | `brotli` | no | Brotli request bodies (`compression: Compression::Brotli`): about a fifth fewer bytes than gzip, for about two thirds more CPU on the transport's thread (implies `transport`) |
//! | `panic` | yes | panics become fatal events: queued without waiting for the network (the guard's drop sends them), and delivered or on disk before a `panic = "abort"` process ends (`sentry-panic`) |
//! | `backtrace` | yes | stack traces on errors (symbolicated on the worker), source context, debug images, and the `os`/`runtime`/`device`/`app` contexts (`sentry-backtrace`) |
//! | `dwarf` | no | compile the DWARF reader in even when the build profile has no debug information (it is compiled in whenever the profile has; without it, frames are named from the symbol table) |
//! | `log` | no | the `log` bridge: records become breadcrumbs, events and logs (`integrations::log`, `sentry-log`) |
//! | `tracing` | no | the `tracing` bridge: a `tracing_subscriber` layer (`integrations::tracing`; implies `log`) |
//! | `tower` | no | a `tower` layer for web services (axum, hyper, tonic): a scope, a transaction, request data and a session per request (`integrations::tower`, `sentry-tower`) |
//! | `axum` | no | `tower`, with transaction names from axum's route templates (implies `tower`) |
//! | `anyhow` | no | [`capture_anyhow`]: an `anyhow::Error` with its whole chain and the backtrace anyhow captured (`integrations::anyhow`; implies `backtrace`) |
//! | `reqwest` | no | `http.client` spans, trace headers and breadcrumbs for `reqwest` 0.13 requests: `.send_traced()` (`integrations::reqwest`) |
//! | `reqwest-blocking` | no | the same for `reqwest::blocking` requests (`integrations::reqwest::blocking`); turns on reqwest's `blocking` feature |
//! | `ureq` | no | the same for `ureq` 3: a middleware for an `Agent` (`integrations::ureq`) |
//! | `profiling` | no | continuous profiling on Linux x86_64 and aarch64: `start_profiler()` / `stop_profiler()`, or the profiler running while sampled transactions run (`profile_lifecycle`), sent as profile chunks (`sentry-profiling`; implies `backtrace`) |
//! | `test` | no | `sentry::test` utilities: record envelopes instead of sending them |
//!
//! # Two `Event` types
//!
//! [`Event`] here is the full protocol event (`sentry::protocol::Event`), the one
//! [`capture_event`], `before_send` and event processors see. Libraries that depend on
//! `sentry-minimal` alone build a `sentry_minimal::Event`, a small subset (message, level,
//! exceptions, tags, extra); the SDK turns it into a protocol event when it is captured. This
//! crate does not re-export the facade's type.
//!
//! # What is where
//!
//! The root holds what applications call and configure. The modules are for more specific
//! work: [`protocol`] (every payload type), [`logger`] (structured logs), [`integration`] and
//! [`finalize`] (writing integrations), [`transport`], [`envelope`] and [`client_reports`]
//! (writing transports), [`limits`] (the sizes the SDK holds data to), [`dsn`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// Capturing, and the data of the current scopes.
pub use sentry_core::{
    add_attachment, add_breadcrumb, add_breadcrumb_with_hint, capture_error, capture_event,
    capture_event_with_hint, capture_log, capture_message, event_from_error, flush, is_enabled,
    last_event_id, remove_attribute, remove_context, remove_extra, remove_tag, set_attribute,
    set_attributes, set_context, set_extra, set_level, set_tag, set_tags, set_user, Hint,
    IntoBreadcrumb,
};
// Cron monitors and user feedback.
pub use sentry_core::{
    capture_check_in, capture_feedback, monitor, monitor_async, try_capture_check_in,
    MonitorFuture, MonitorResult,
};
// Tracing: transactions, spans, and the trace across services.
pub use sentry_core::{
    continue_trace, get_baggage, get_current_span, get_traceparent, set_transaction_name,
    start_new_trace, start_span, start_transaction, trace, trace_headers, update_current_span,
    with_span, SamplingContext, Span, SpanGuard, TraceHeaders, TracePropagationTargets,
    TracesSampler, TransactionContext,
};
// Span streaming and the span-first API.
pub use sentry_core::{
    start_span_with, BeforeSendSpan, IgnoreSpan, NamePattern, SpanOptions, SpanParent,
    TraceLifecycle,
};
// Outgoing HTTP requests: the `http.client` span, trace headers and breadcrumb.
#[cfg(feature = "anyhow")]
#[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
pub use integrations::anyhow::capture_anyhow;
pub use sentry_core::{start_outgoing_request, OutgoingRequest};
// Release health.
pub use sentry_core::{end_session, end_session_with_status, start_session, SessionMode};
// Scopes and clients.
pub use sentry_core::{
    bind_client, configure_global_scope, configure_scope, push_scope, with_isolation_scope,
    with_scope, BindScopes, Client, EventProcessor, Scope, ScopeGuard, Scopes, ScopesBound,
};
// Setting up.
pub use sentry_core::{
    release_name, BeforeBreadcrumb, BeforeSend, BeforeSendCheckIn, BeforeSendLog, BeforeSendMetric,
    ClientInitGuard, ClientOptions, Dsn, DsnError, Integration, IntoOptions, OptionsError,
    ProfileLifecycle, Spotlight, DEFAULT_ENVIRONMENT, SDK_NAME, SDK_VERSION,
};
// The data.
pub use sentry_core::{
    AsError, Attachment, AttachmentType, Breadcrumb, Event, EventId, Level, Map, SpanId, TraceId,
    User, Value,
};
// The modules.
#[cfg(feature = "test")]
#[cfg_attr(docsrs, doc(cfg(feature = "test")))]
pub use sentry_core::test;
pub use sentry_core::{
    client_reports, dsn, envelope, finalize, gen_ai, hint, integration, limits, logger, metrics,
    propagation, protocol, transport,
};

/// The integration crates enabled by cargo features.
pub mod integrations {
    #[cfg(feature = "anyhow")]
    #[cfg_attr(docsrs, doc(cfg(feature = "anyhow")))]
    pub mod anyhow;
    #[cfg(feature = "reqwest")]
    #[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
    pub mod reqwest;
    #[cfg(any(feature = "reqwest", feature = "ureq"))]
    mod trace_headers;
    #[cfg(feature = "ureq")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ureq")))]
    pub mod ureq;
    #[cfg(feature = "backtrace")]
    #[cfg_attr(docsrs, doc(cfg(feature = "backtrace")))]
    pub use sentry_backtrace as backtrace;
    #[cfg(feature = "log")]
    #[cfg_attr(docsrs, doc(cfg(feature = "log")))]
    pub use sentry_log as log;
    /// The `tracing` bridge (feature `tracing`).
    #[cfg(feature = "tracing")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
    pub use sentry_log::tracing;
    #[cfg(feature = "panic")]
    #[cfg_attr(docsrs, doc(cfg(feature = "panic")))]
    pub use sentry_panic as panic;
    #[cfg(feature = "profiling")]
    #[cfg_attr(docsrs, doc(cfg(feature = "profiling")))]
    pub use sentry_profiling as profiling;
    #[cfg(feature = "tower")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
    pub use sentry_tower as tower;
}

#[cfg(feature = "transport")]
#[cfg_attr(docsrs, doc(cfg(feature = "transport")))]
pub use sentry_transport_http as transport_http;

// Continuous profiling.
#[cfg(feature = "profiling")]
#[cfg_attr(docsrs, doc(cfg(feature = "profiling")))]
pub use sentry_profiling::{is_profiler_running, start_profiler, stop_profiler, ProfilerError};

#[cfg(feature = "backtrace")]
#[cfg_attr(docsrs, doc(cfg(feature = "backtrace")))]
pub use sentry_backtrace::{cargo_lock_modules, set_modules};

/// Initialises the SDK with this crate's defaults (the HTTP transport when the `transport`
/// feature is on and no transport was configured) and binds the client to the global scope.
///
/// See [`sentry_core::init`] for the details; this function differs only in its defaults.
///
/// # Examples
///
/// ```
/// let guard = sentry::init("https://public@sentry.example.com/1");
/// // Enabled: it sends through the HTTP transport (built without the `transport` feature,
/// // the SDK has no way to send and stays disabled unless `ClientOptions::transport` is set).
/// assert_eq!(guard.is_enabled(), cfg!(feature = "transport"));
/// # drop(guard);
/// let guard = sentry::init(""); // disabled
/// assert!(!guard.is_enabled());
/// ```
pub fn init(options: impl IntoOptions) -> ClientInitGuard {
    sentry_core::init(WithDefaults(options))
}

/// Like [`init`], but returns the error for invalid options instead of disabling the SDK.
///
/// # Errors
///
/// An invalid DSN, an out-of-range option, or a malformed `SENTRY_*` environment variable.
pub fn try_init(options: impl IntoOptions) -> Result<ClientInitGuard, OptionsError> {
    sentry_core::try_init(WithDefaults(options))
}

struct WithDefaults<O>(O);

impl<O: IntoOptions> IntoOptions for WithDefaults<O> {
    fn into_options(self) -> Result<ClientOptions, OptionsError> {
        let mut options = self.0.into_options()?;
        apply_defaults(&mut options);
        Ok(options)
    }
}

fn apply_defaults(options: &mut ClientOptions) {
    #[cfg(feature = "transport")]
    if options.transport.is_none() {
        options.transport = Some(std::sync::Arc::new(
            sentry_transport_http::HttpTransportFactory,
        ));
    }
    // Default integrations go first; one the user configured under the same name wins.
    #[allow(unused_mut)]
    let mut defaults: Vec<std::sync::Arc<dyn Integration>> = Vec::new();
    #[cfg(feature = "panic")]
    defaults.push(std::sync::Arc::new(sentry_panic::PanicIntegration::new()));
    #[cfg(feature = "backtrace")]
    {
        defaults.push(std::sync::Arc::new(
            sentry_backtrace::StacktraceIntegration::new(),
        ));
        defaults.push(std::sync::Arc::new(
            sentry_backtrace::ContextIntegration::new(),
        ));
    }
    #[cfg(feature = "profiling")]
    defaults.push(sentry_profiling::ProfilingIntegration::shared());
    defaults.retain(|d| !options.integrations.iter().any(|i| i.name() == d.name()));
    options.integrations.splice(0..0, defaults);
}
