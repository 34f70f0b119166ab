//! Client options: what the SDK sends, where, and how.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use sentry_minimal::Breadcrumb;

use crate::debug;
use crate::dsn::{Dsn, DsnError};
use crate::hint::Hint;
use crate::integration::Integration;
use crate::propagation::TracePropagationTargets;
use crate::protocol::{CheckIn, Event, Log, Metric};
use crate::sampling::SamplingContext;
use crate::session::SessionMode;
use crate::transport::{self, TransportFactory};

mod builder;
mod spans;

pub use builder::IntoDsn;
pub use spans::{BeforeSendSpan, IgnoreSpan, NamePattern, TraceLifecycle};

/// A callback that may change or drop an error event before it is sent. It gets the event and
/// the [`Hint`]: what the event was made from (the captured error, the panic, the log record).
pub type BeforeSend = Arc<dyn Fn(Event, &Hint<'_>) -> Option<Event> + Send + Sync>;
/// A callback that may change or drop a breadcrumb before it is recorded. It gets the
/// breadcrumb and the [`Hint`]: what the breadcrumb was made from (the log record, or a value
/// passed to [`add_breadcrumb_with_hint`](crate::add_breadcrumb_with_hint)).
pub type BeforeBreadcrumb = Arc<dyn Fn(Breadcrumb, &Hint<'_>) -> Option<Breadcrumb> + Send + Sync>;
/// A callback that may change or drop a structured log before it is buffered.
pub type BeforeSendLog = Arc<dyn Fn(Log) -> Option<Log> + Send + Sync>;
/// A callback that may change or drop a metric before it is buffered.
pub type BeforeSendMetric = Arc<dyn Fn(Metric) -> Option<Metric> + Send + Sync>;

/// A callback that may change or drop a cron check-in before it is sent
/// ([`ClientOptions::before_send_check_in`]).
pub type BeforeSendCheckIn = Arc<dyn Fn(CheckIn) -> Option<CheckIn> + Send + Sync>;

/// The type of [`ClientOptions::traces_sampler`]: the sample rate (0.0–1.0) of a new
/// transaction, from what is known when it starts.
pub type TracesSampler = Arc<dyn Fn(&SamplingContext<'_>) -> f64 + Send + Sync>;

/// Configuration of a [`Client`](crate::Client).
///
/// Build it with struct update syntax (every field has a documented default), or chain the
/// setters from [`ClientOptions::new`]: `ClientOptions::new().dsn("…").release("…")`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use sentry_core::ClientOptions;
///
/// let options = ClientOptions {
///     dsn: Some("https://public:hunter2@o1.ingest.sentry.io/42".parse().unwrap()),
///     release: Some("my-app@1.2.3".into()),
///     sample_rate: 0.5,
///     shutdown_timeout: Duration::from_secs(5),
///     ..ClientOptions::default()
/// };
/// assert!(options.validate().is_ok());
/// // Debug output never shows a DSN's secret.
/// assert!(!format!("{options:?}").contains("hunter2"));
/// ```
///
/// # Environment variables
///
/// [`ClientOptions::apply_env`] (called by `init`) fills options that are still at their
/// defaults from `SENTRY_DSN`, `SENTRY_RELEASE`, `SENTRY_ENVIRONMENT`, `SENTRY_SAMPLE_RATE`,
/// `SENTRY_TRACES_SAMPLE_RATE`, `SENTRY_TRACE_LIFECYCLE`, `SENTRY_DEBUG` and
/// `SENTRY_SPOTLIGHT`. A value set in code always wins over the environment,
/// except that `spotlight: true` in code takes the URL `SENTRY_SPOTLIGHT` gives, as the
/// Spotlight specification asks.
/// The HTTP transport reads the proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`) itself
/// when [`http_proxy`](Self::http_proxy) / [`https_proxy`](Self::https_proxy) are not set.
#[derive(Clone)]
pub struct ClientOptions {
    /// Where to send events. `None` (and no `SENTRY_DSN`) disables the SDK: nothing is sent and
    /// no thread is started, unless [`spotlight`](Self::spotlight) is on, which then gets
    /// everything.
    pub dsn: Option<Dsn>,
    /// The release, such as `my-app@1.2.3`; see [`release_name!`](crate::release_name).
    pub release: Option<Cow<'static, str>>,
    /// The environment. Default: `production`.
    pub environment: Option<Cow<'static, str>>,
    /// The distribution of the release (a build number, for instance).
    pub dist: Option<Cow<'static, str>>,
    /// The server name. Never collected automatically unless `send_default_pii` is on.
    pub server_name: Option<Cow<'static, str>>,
    /// The fraction of error events to send, from 0.0 to 1.0. Default: 1.0.
    pub sample_rate: f32,
    /// How many breadcrumbs each scope keeps (the oldest are evicted). Default: 100.
    pub max_breadcrumbs: usize,
    /// How many characters a string may have: the message, exception values, breadcrumb
    /// messages, log bodies and string attributes, and every string and map key inside an
    /// event's data bags (extra, contexts' fields, breadcrumb data, the user's own keys, frame
    /// variables, request data). A longer string keeps its first
    /// `max_value_length - 1` characters, cut on a character boundary, followed by `…`.
    /// Default: 100,000 ([`DEFAULT_MAX_VALUE_LENGTH`](crate::limits::DEFAULT_MAX_VALUE_LENGTH)).
    /// Must be at least 1 ([`OptionsError::MaxValueLength`]). See [`limits`](crate::limits)
    /// for the other limits (depth, breadth, event size), which are fixed.
    ///
    /// ```
    /// use sentry_core::test::with_captured_events_options;
    /// use sentry_core::{ClientOptions, Level};
    ///
    /// let options = ClientOptions { max_value_length: 4, ..Default::default() };
    /// let events = with_captured_events_options(options, || {
    ///     sentry_core::capture_message("naïve café", Level::Info);
    /// });
    /// assert_eq!(events[0].message.as_deref(), Some("naï…"));
    /// ```
    pub max_value_length: usize,
    /// The largest [`Attachment`](crate::protocol::Attachment) sent, in bytes. A larger one is
    /// left out of the envelope (its event still goes) and counted in a client report as
    /// `invalid` (its bytes as `attachment`, and one `attachment_item`); a file attachment
    /// larger than this is not even read. Default: 20 MiB
    /// ([`DEFAULT_MAX_ATTACHMENT_SIZE`](crate::protocol::DEFAULT_MAX_ATTACHMENT_SIZE)).
    pub max_attachment_size: usize,
    /// Attach the current stack trace to message events. Default: off.
    pub attach_stacktrace: bool,
    /// Let integrations collect personal data (user IP, host name, …). Default: off.
    pub send_default_pii: bool,
    /// Module prefixes that are part of the application, for stack frames.
    pub in_app_include: Vec<&'static str>,
    /// Module prefixes that are not part of the application, for stack frames.
    pub in_app_exclude: Vec<&'static str>,
    /// Called with every error event just before it is sent, and the [`Hint`] of what the
    /// event was made from; returning `None` drops it (client report reason `before_send`), and
    /// so does a panic inside the callback.
    ///
    /// Filter by error type with a downcast of the hint's error, not by the exception's text:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     before_send: Some(Arc::new(|event, hint| {
    ///         match hint.error().and_then(|err| err.downcast_ref::<std::io::Error>()) {
    ///             Some(err) if err.kind() == std::io::ErrorKind::BrokenPipe => None,
    ///             _ => Some(event),
    ///         }
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_send: Option<BeforeSend>,
    /// Called with every breadcrumb recorded through [`add_breadcrumb`](crate::add_breadcrumb)
    /// (and the facade and the log bridges), and the [`Hint`] of what it was made from;
    /// returning `None` drops it, and so does a panic inside the callback.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     // No breadcrumbs from the chatty `hyper` crate's log records.
    ///     before_breadcrumb: Some(Arc::new(|crumb, hint| {
    ///         match hint.record() {
    ///             Some(record) if record.target().starts_with("hyper") => None,
    ///             _ => Some(crumb),
    ///         }
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_breadcrumb: Option<BeforeBreadcrumb>,
    /// Print SDK diagnostics to stderr. Default: off.
    pub debug: bool,
    /// How long dropping the init guard may wait for queued events. Default: 2 s.
    pub shutdown_timeout: Duration,
    /// Integrations, in the order they process events.
    pub integrations: Vec<Arc<dyn Integration>>,
    /// How envelopes reach Sentry. `None` uses the default transport (the `sentry` crate's
    /// HTTP transport); with `sentry-core` alone a DSN without a transport disables the SDK.
    pub transport: Option<Arc<dyn TransportFactory>>,
    /// How many envelopes may wait for the transport before new ones are dropped (and counted
    /// as `queue_overflow`). Default: 1000.
    pub queue_capacity: usize,
    /// How many bytes (estimated, before compression) the envelopes waiting for the transport
    /// may take together. Default: 32 MiB.
    pub queue_max_bytes: usize,
    /// How many requests the transport may have under way at once while envelopes queue up
    /// (Sentry far away or slow); an idle transport sends one at a time on its one thread.
    /// Default: 16. See
    /// [`TransportOptions::max_concurrent_requests`](crate::transport::TransportOptions::max_concurrent_requests).
    pub max_concurrent_requests: usize,
    /// Proxy for `http://` DSNs, such as `http://proxy.internal:3128`. `None` falls back to the
    /// `HTTP_PROXY` / `http_proxy` environment variables (honouring `NO_PROXY`).
    pub http_proxy: Option<Cow<'static, str>>,
    /// Proxy for `https://` DSNs. `None` falls back to `HTTPS_PROXY` / `https_proxy`, then to
    /// [`http_proxy`](Self::http_proxy) (honouring `NO_PROXY`).
    pub https_proxy: Option<Cow<'static, str>>,
    /// A directory where envelopes are kept until Sentry has answered for them, so that nothing
    /// is lost when the network is down or the process dies: written before sending, deleted
    /// after a final answer, retried with backoff, replayed by the next `init`. Default: `None`
    /// (off).
    pub cache_dir: Option<PathBuf>,
    /// How many envelopes the offline cache keeps at most; the oldest are dropped (counted as
    /// `cache_overflow`). Default: 100.
    pub cache_max_envelopes: usize,
    /// How many bytes the offline cache keeps at most; the oldest envelopes are dropped (counted
    /// as `cache_overflow`). Default: 16 MiB.
    pub cache_max_bytes: u64,
    /// Also send every envelope to [Spotlight](https://spotlightjs.com), the local development
    /// debugger. Default: off; the `SENTRY_SPOTLIGHT` environment variable turns it on (`1`,
    /// `true`, … or a URL).
    ///
    /// It works **without a DSN**: then Spotlight is the only destination (the transport
    /// factory's [Spotlight sender](crate::transport::TransportFactory::spotlight_sender)), and
    /// what local debugging needs to see is turned on: every transaction unless tracing was
    /// configured (`traces_sample_rate` 1.0), [`enable_logs`](Self::enable_logs) and
    /// [`send_default_pii`](Self::send_default_pii) (the data stays on the machine). With a
    /// DSN, Spotlight gets a copy of every envelope and nothing about sending to Sentry
    /// changes.
    pub spotlight: Spotlight,
    /// How request bodies are compressed: gzip (the default), Brotli (with the HTTP transport's
    /// `brotli` cargo feature) or none. See [`Compression`](crate::transport::Compression) for
    /// the measured trade-off.
    pub compression: transport::Compression,
    /// Send structured logs (the [`logger`](crate::logger) API and the log integrations).
    /// Default: off, and then every logger call returns after one atomic load.
    pub enable_logs: bool,
    /// Called with every structured log, after the SDK's attributes were added, just before it
    /// is buffered; returning `None` drops it (client report reason `before_send`), and so does
    /// a panic inside the callback.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     enable_logs: true,
    ///     before_send_log: Some(Arc::new(|mut log| {
    ///         if log.body.contains("healthcheck") {
    ///             return None;
    ///         }
    ///         log.attributes.remove("user.email");
    ///         Some(log)
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_send_log: Option<BeforeSendLog>,
    /// Send metrics (the [`metrics`](crate::metrics) API). Default: on, as the metrics
    /// specification asks. Nothing is sent until code records a metric, and a client with it
    /// off makes every metrics call return after one atomic load.
    pub enable_metrics: bool,
    /// Called with every metric, after the SDK's attributes were added, just before it is
    /// buffered; returning `None` drops it (client report reason `before_send`, category
    /// `trace_metric`), and so does a panic inside the callback.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     before_send_metric: Some(Arc::new(|mut metric| {
    ///         if metric.name.starts_with("debug.") {
    ///             return None;
    ///         }
    ///         metric.attributes.remove("server.address");
    ///         Some(metric)
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_send_metric: Option<BeforeSendMetric>,
    /// The share of new traces whose transactions are sent, from 0.0 to 1.0. `None` (the
    /// default) and no [`traces_sampler`](Self::traces_sampler) means tracing is off: no
    /// transaction is sent, but traces are still continued and propagated, and every event
    /// carries the trace it belongs to. `SENTRY_TRACES_SAMPLE_RATE` sets it too.
    ///
    /// The option [`sample_rate`](Self::sample_rate) never applies to transactions.
    pub traces_sample_rate: Option<f64>,
    /// Decides the sample rate of each new transaction, from its [`SamplingContext`]; wins
    /// over [`traces_sample_rate`](Self::traces_sample_rate) and over the decision of an
    /// incoming trace (an explicit `sampled` on the transaction context still wins over it).
    /// A result outside 0.0–1.0, or a panic, samples the transaction out.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     traces_sampler: Some(Arc::new(|ctx| {
    ///         if ctx.name() == "GET /health" {
    ///             return 0.0; // never health checks
    ///         }
    ///         // Follow the service that called us, else 10 %.
    ///         ctx.parent_sample_rate()
    ///             .or(ctx.parent_sampled().map(|sampled| if sampled { 1.0 } else { 0.0 }))
    ///             .unwrap_or(0.1)
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub traces_sampler: Option<TracesSampler>,
    /// Called with every transaction just before it is sent (instead of
    /// [`before_send`](Self::before_send), which sees errors only); returning `None` drops it
    /// (client report reason `before_send`, the transaction and its spans), and so does a
    /// panic inside the callback.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     traces_sample_rate: Some(1.0),
    ///     before_send_transaction: Some(Arc::new(|mut transaction, _hint| {
    ///         // Drop spans shorter than a millisecond.
    ///         transaction.spans.retain(|span| {
    ///             span.timestamp
    ///                 .duration_since(span.start_timestamp)
    ///                 .is_ok_and(|d| d.as_micros() >= 1000)
    ///         });
    ///         Some(transaction)
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_send_transaction: Option<BeforeSend>,
    /// How finished spans are sent: in their transaction ([`TraceLifecycle::Static`], the
    /// default) or each on its own soon after it ends ([`TraceLifecycle::Stream`]: span v2
    /// items, bucketed by trace, at most 5 seconds late). `SENTRY_TRACE_LIFECYCLE`
    /// (`static`/`stream`) sets it too; a value set in code wins.
    ///
    /// The span API is the same in both; in `Stream` mode spans also go through
    /// [`ignore_spans`](Self::ignore_spans) and [`before_send_span`](Self::before_send_span),
    /// and no transaction is sent.
    pub trace_lifecycle: TraceLifecycle,
    /// Spans not to record, by name (exact or `*` globs) and attributes, decided when they
    /// start (`Stream` mode): rules see the name, `sentry.op` and the attributes the span is
    /// started with ([`SpanOptions::attribute`](crate::SpanOptions::attribute)), root spans
    /// included; attributes set later cannot un-start a span. An ignored span is counted as `ignored` in the client reports;
    /// its children are recorded as children of its parent. An ignored root span ignores its
    /// whole segment.
    ///
    /// ```
    /// use sentry_core::{ClientOptions, IgnoreSpan, TraceLifecycle};
    ///
    /// let options = ClientOptions {
    ///     traces_sample_rate: Some(1.0),
    ///     trace_lifecycle: TraceLifecycle::Stream,
    ///     ignore_spans: vec![
    ///         "GET /health*".into(),
    ///         IgnoreSpan::any().attribute("sentry.op", "cache.get"),
    ///     ],
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub ignore_spans: Vec<IgnoreSpan>,
    /// Called with every streamed span (`Stream` mode) just before it is sent, on the transport
    /// worker's thread; it may change the span but not drop it. A panic inside it leaves the
    /// span unchanged.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::{ClientOptions, TraceLifecycle};
    ///
    /// let options = ClientOptions {
    ///     trace_lifecycle: TraceLifecycle::Stream,
    ///     before_send_span: Some(Arc::new(|mut span| {
    ///         span.attributes.remove("db.query.text");
    ///         span
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_send_span: Option<BeforeSendSpan>,
    /// The outgoing requests that get the trace headers (`sentry-trace`, `baggage`, and
    /// `traceparent` with [`propagate_traceparent`](Self::propagate_traceparent)): all of them
    /// by default, none with [`TracePropagationTargets::None`], or those whose URL matches a
    /// list of substrings or predicates.
    pub trace_propagation_targets: TracePropagationTargets,
    /// Also send the W3C `traceparent` header on outgoing requests. Default: off.
    pub propagate_traceparent: bool,
    /// Continue an incoming trace only when it carries the same organization id as this SDK
    /// (from [`org_id`](Self::org_id) or the DSN's host). Default: off, and then a trace
    /// without an organization id on one side is continued too; one with a *different*
    /// organization id never is.
    pub strict_trace_continuation: bool,
    /// The organization id, for deciding whether to continue incoming traces and sent along
    /// as `sentry-org_id`. Default: read from the DSN's host (`o123.ingest.sentry.io`); set it
    /// for self-hosted Sentry and local Relays.
    pub org_id: Option<Cow<'static, str>>,
    /// Called with every cron check-in just before it is sent (check-ins never go through
    /// [`before_send`](Self::before_send)); returning `None` drops it (client report reason
    /// `before_send`, category `monitor`), and so does a panic inside the callback.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sentry_core::ClientOptions;
    ///
    /// let options = ClientOptions {
    ///     // Keep the monitors of the staging cluster out of Sentry.
    ///     before_send_check_in: Some(Arc::new(|check_in| {
    ///         (!check_in.monitor_slug.starts_with("staging-")).then_some(check_in)
    ///     })),
    ///     ..Default::default()
    /// };
    /// # assert!(options.validate().is_ok());
    /// ```
    pub before_send_check_in: Option<BeforeSendCheckIn>,
    /// Called with every user feedback event just before it is sent (feedback never goes
    /// through [`before_send`](Self::before_send)); returning `None` drops it (client report
    /// reason `before_send`, category `feedback`), and so does a panic inside the callback.
    /// The user's words are in the event's `contexts.feedback` (read them with
    /// [`Feedback::from_event`](crate::protocol::Feedback::from_event)).
    pub before_send_feedback: Option<BeforeSend>,
    /// Release health: track sessions, so that Sentry shows crash-free rates per release.
    /// Default: **on**. Sessions need a [`release`](Self::release): without one nothing is
    /// tracked, whatever this says.
    ///
    /// In [`SessionMode::Application`], `init` starts the application's session and `close`
    /// ends it (`exited`, or `crashed` after an unhandled panic; one the process never ended
    /// is reported as `abnormal` by its next start when [`cache_dir`](Self::cache_dir) is
    /// set). In [`SessionMode::Request`], it tells web integrations to track a session per
    /// request. [`start_session`](crate::start_session) and
    /// [`end_session`](crate::end_session) work either way.
    pub auto_session_tracking: bool,
    /// What a session stands for: the run of the application (the default) or one request of
    /// a server, counted per minute. See [`SessionMode`].
    pub session_mode: SessionMode,
    /// Continuous profiling (the `profiling` feature of `sentry`, Linux): the chance, from
    /// 0.0 to 1.0, that this process is profiled, decided once per process when the profiler
    /// is first set up. Default 0.0: never. `SENTRY_PROFILE_SESSION_SAMPLE_RATE` sets it too
    /// (a value set in code wins).
    pub profile_session_sample_rate: f32,
    /// When a profiled process runs its profiler: on `start_profiler()` and until
    /// `stop_profiler()` ([`ProfileLifecycle::Manual`], the default), or while at least one
    /// sampled transaction runs ([`ProfileLifecycle::Trace`], which needs tracing on).
    pub profile_lifecycle: ProfileLifecycle,
}

/// When the continuous profiler of a profiled process runs
/// ([`ClientOptions::profile_lifecycle`]).
///
/// ```
/// use sentry_core::{ClientOptions, ProfileLifecycle};
///
/// let options = ClientOptions {
///     profile_session_sample_rate: 1.0,
///     profile_lifecycle: ProfileLifecycle::Trace,
///     traces_sample_rate: Some(1.0),
///     ..Default::default()
/// };
/// assert!(options.validate().is_ok());
/// assert_eq!(ProfileLifecycle::default(), ProfileLifecycle::Manual);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProfileLifecycle {
    /// From `start_profiler()` to `stop_profiler()`.
    #[default]
    Manual,
    /// While at least one sampled root span (transaction) runs.
    Trace,
}

/// Whether envelopes are also sent to a local [Spotlight](https://spotlightjs.com) sidecar, and
/// where. Convert from a `bool` (the default URL) or a URL.
///
/// ```
/// use sentry_core::Spotlight;
///
/// assert_eq!(Spotlight::from(false).url(), None);
/// assert_eq!(Spotlight::from(true).url(), Some("http://localhost:8969/stream"));
/// assert_eq!(Spotlight::from("http://10.0.0.2:8969/stream").url(), Some("http://10.0.0.2:8969/stream"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Spotlight {
    /// Not sent to Spotlight.
    #[default]
    Off,
    /// Sent to [`Spotlight::DEFAULT_URL`].
    On,
    /// Sent to this URL.
    Url(Cow<'static, str>),
}

impl Spotlight {
    /// Where a local Spotlight sidecar listens: `http://localhost:8969/stream`.
    pub const DEFAULT_URL: &'static str = "http://localhost:8969/stream";

    /// The URL envelopes are posted to, or `None` when Spotlight is off.
    pub fn url(&self) -> Option<&str> {
        match self {
            Spotlight::Off => None,
            Spotlight::On => Some(Self::DEFAULT_URL),
            Spotlight::Url(url) => Some(url),
        }
    }

    /// Reads a `SENTRY_SPOTLIGHT` value as the Spotlight specification says: `true`, `t`, `y`,
    /// `yes`, `on`, `1` turn it on, `false`, `f`, `n`, `no`, `off`, `0` off (any case), and
    /// anything else is a URL.
    fn from_env_value(value: &str) -> Spotlight {
        let value = value.trim();
        match value.to_ascii_lowercase().as_str() {
            "true" | "t" | "y" | "yes" | "on" | "1" => Spotlight::On,
            "false" | "f" | "n" | "no" | "off" | "0" => Spotlight::Off,
            _ => Spotlight::Url(Cow::Owned(value.to_owned())),
        }
    }
}

impl From<bool> for Spotlight {
    fn from(on: bool) -> Self {
        if on {
            Spotlight::On
        } else {
            Spotlight::Off
        }
    }
}

impl From<&'static str> for Spotlight {
    fn from(url: &'static str) -> Self {
        Spotlight::Url(Cow::Borrowed(url))
    }
}

impl From<String> for Spotlight {
    fn from(url: String) -> Self {
        Spotlight::Url(Cow::Owned(url))
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            dsn: None,
            release: None,
            environment: None,
            dist: None,
            server_name: None,
            sample_rate: 1.0,
            max_breadcrumbs: 100,
            max_value_length: crate::limits::DEFAULT_MAX_VALUE_LENGTH,
            max_attachment_size: crate::protocol::DEFAULT_MAX_ATTACHMENT_SIZE,
            attach_stacktrace: false,
            send_default_pii: false,
            in_app_include: Vec::new(),
            in_app_exclude: Vec::new(),
            before_send: None,
            before_breadcrumb: None,
            debug: false,
            shutdown_timeout: Duration::from_secs(2),
            integrations: Vec::new(),
            transport: None,
            queue_capacity: 1000,
            queue_max_bytes: transport::DEFAULT_QUEUE_MAX_BYTES,
            max_concurrent_requests: transport::DEFAULT_MAX_CONCURRENT_REQUESTS,
            http_proxy: None,
            https_proxy: None,
            cache_dir: None,
            cache_max_envelopes: transport::DEFAULT_CACHE_MAX_ENVELOPES,
            cache_max_bytes: transport::DEFAULT_CACHE_MAX_BYTES,
            spotlight: Spotlight::Off,
            compression: transport::Compression::Gzip,
            enable_logs: false,
            before_send_log: None,
            enable_metrics: true,
            before_send_metric: None,
            traces_sample_rate: None,
            traces_sampler: None,
            before_send_transaction: None,
            trace_lifecycle: TraceLifecycle::Static,
            ignore_spans: Vec::new(),
            before_send_span: None,
            trace_propagation_targets: TracePropagationTargets::All,
            propagate_traceparent: false,
            strict_trace_continuation: false,
            org_id: None,
            before_send_check_in: None,
            before_send_feedback: None,
            auto_session_tracking: true,
            session_mode: SessionMode::Application,
            profile_session_sample_rate: 0.0,
            profile_lifecycle: ProfileLifecycle::Manual,
        }
    }
}

/// The default environment when none is configured.
pub const DEFAULT_ENVIRONMENT: &str = "production";

impl ClientOptions {
    /// Options with a DSN and every other option at its default.
    ///
    /// An empty string gives options with no DSN (a disabled SDK).
    ///
    /// # Errors
    ///
    /// [`OptionsError::Dsn`] if the DSN is not valid.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// assert!(ClientOptions::from_dsn("https://key@sentry.example.com/1").is_ok());
    /// assert!(ClientOptions::from_dsn("").unwrap().dsn.is_none());
    /// assert!(ClientOptions::from_dsn("not a dsn").is_err());
    /// ```
    pub fn from_dsn(dsn: &str) -> Result<Self, OptionsError> {
        Ok(ClientOptions {
            dsn: parse_optional_dsn(dsn)?,
            ..ClientOptions::default()
        })
    }

    /// Checks every option's range.
    ///
    /// # Errors
    ///
    /// The first out-of-range option, such as a `sample_rate` outside 0.0–1.0 or NaN, or a
    /// `max_value_length` of 0.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(0.0..=1.0).contains(&self.sample_rate) {
            return Err(OptionsError::SampleRate(self.sample_rate.to_string()));
        }
        if self.max_value_length == 0 {
            return Err(OptionsError::MaxValueLength(self.max_value_length));
        }
        if let Some(rate) = self.traces_sample_rate {
            if !(0.0..=1.0).contains(&rate) {
                return Err(OptionsError::TracesSampleRate(rate.to_string()));
            }
        }
        if !(0.0..=1.0).contains(&self.profile_session_sample_rate) {
            return Err(OptionsError::ProfileSessionSampleRate(
                self.profile_session_sample_rate.to_string(),
            ));
        }
        Ok(())
    }

    /// Fills options still at their defaults from the `SENTRY_*` environment variables.
    ///
    /// # Errors
    ///
    /// A variable that is set but malformed: an invalid `SENTRY_DSN`, a `SENTRY_SAMPLE_RATE`
    /// that is not a number in 0.0–1.0, a `SENTRY_DEBUG` that is not a boolean.
    pub fn apply_env(&mut self) -> Result<(), OptionsError> {
        self.apply_env_from(|name| std::env::var(name).ok())
    }

    /// [`apply_env`](Self::apply_env) with a custom variable lookup (for tests and embedding).
    ///
    /// # Errors
    ///
    /// As for [`apply_env`](Self::apply_env).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// let mut options = ClientOptions { release: Some("from-code".into()), ..Default::default() };
    /// options
    ///     .apply_env_from(|name| match name {
    ///         "SENTRY_RELEASE" => Some("from-env".into()),
    ///         "SENTRY_ENVIRONMENT" => Some("staging".into()),
    ///         "SENTRY_SAMPLE_RATE" => Some("0.25".into()),
    ///         _ => None,
    ///     })
    ///     .unwrap();
    /// assert_eq!(options.release.as_deref(), Some("from-code")); // code wins
    /// assert_eq!(options.environment.as_deref(), Some("staging"));
    /// assert_eq!(options.sample_rate, 0.25);
    /// ```
    pub fn apply_env_from(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<(), OptionsError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if self.dsn.is_none() {
            if let Some(value) = get("SENTRY_DSN") {
                self.dsn = parse_optional_dsn(&value)?;
            }
        }
        if self.release.is_none() {
            self.release = get("SENTRY_RELEASE").map(Cow::Owned);
        }
        if self.environment.is_none() {
            self.environment = get("SENTRY_ENVIRONMENT").map(Cow::Owned);
        }
        if self.sample_rate == 1.0 {
            if let Some(value) = get("SENTRY_SAMPLE_RATE") {
                self.sample_rate = match value.trim().parse::<f32>() {
                    Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
                    _ => return Err(OptionsError::SampleRate(value)),
                };
            }
        }
        if self.traces_sample_rate.is_none() {
            if let Some(value) = get("SENTRY_TRACES_SAMPLE_RATE") {
                self.traces_sample_rate = match value.trim().parse::<f64>() {
                    Ok(rate) if (0.0..=1.0).contains(&rate) => Some(rate),
                    _ => return Err(OptionsError::TracesSampleRate(value)),
                };
            }
        }
        if self.profile_session_sample_rate == 0.0 {
            if let Some(value) = get("SENTRY_PROFILE_SESSION_SAMPLE_RATE") {
                self.profile_session_sample_rate = match value.trim().parse::<f32>() {
                    Ok(rate) if (0.0..=1.0).contains(&rate) => rate,
                    _ => return Err(OptionsError::ProfileSessionSampleRate(value)),
                };
            }
        }
        if self.trace_lifecycle == TraceLifecycle::Static {
            if let Some(value) = get("SENTRY_TRACE_LIFECYCLE") {
                self.trace_lifecycle = value.parse().map_err(OptionsError::TraceLifecycle)?;
            }
        }
        if !self.debug {
            if let Some(value) = get("SENTRY_DEBUG") {
                self.debug = parse_bool(&value).ok_or(OptionsError::Debug(value))?;
            }
        }
        if let Some(value) = get("SENTRY_SPOTLIGHT") {
            match (&self.spotlight, Spotlight::from_env_value(&value)) {
                // Off in code is the default: the variable decides.
                (Spotlight::Off, from_env) => self.spotlight = from_env,
                // `true` in code and a URL in the variable: that URL.
                (Spotlight::On, url @ Spotlight::Url(_)) => self.spotlight = url,
                (Spotlight::Url(url), _) if self.debug => debug::debug_print(format_args!(
                    "SENTRY_SPOTLIGHT={value:?} is ignored: the spotlight option sets {url}"
                )),
                _ => {}
            }
        }
        Ok(())
    }

    /// Whether tracing is on: a [`traces_sample_rate`](Self::traces_sample_rate) or a
    /// [`traces_sampler`](Self::traces_sampler). While it is off no transaction is started
    /// (or counted as sampled out), whatever a transaction context or a caller decided; traces
    /// are still continued and propagated.
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// assert!(!ClientOptions::default().tracing_enabled());
    /// let options = ClientOptions { traces_sample_rate: Some(0.0), ..Default::default() };
    /// assert!(options.tracing_enabled());
    /// ```
    pub fn tracing_enabled(&self) -> bool {
        self.traces_sample_rate.is_some() || self.traces_sampler.is_some()
    }

    /// The environment events are tagged with: the configured one, or `production`.
    ///
    /// ```
    /// use sentry_core::ClientOptions;
    ///
    /// assert_eq!(ClientOptions::new().effective_environment(), "production");
    /// assert_eq!(ClientOptions::new().environment("dev").effective_environment(), "dev");
    /// ```
    pub fn effective_environment(&self) -> &str {
        self.environment.as_deref().unwrap_or(DEFAULT_ENVIRONMENT)
    }
}

fn parse_optional_dsn(value: &str) -> Result<Option<Dsn>, OptionsError> {
    if value.trim().is_empty() {
        return Ok(None);
    }
    value.trim().parse().map(Some).map_err(OptionsError::Dsn)
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let integrations: Vec<_> = self.integrations.iter().map(|i| i.name()).collect();
        f.debug_struct("ClientOptions")
            .field("dsn", &self.dsn)
            .field("release", &self.release)
            .field("environment", &self.environment)
            .field("dist", &self.dist)
            .field("server_name", &self.server_name)
            .field("sample_rate", &self.sample_rate)
            .field("max_breadcrumbs", &self.max_breadcrumbs)
            .field("max_value_length", &self.max_value_length)
            .field("max_attachment_size", &self.max_attachment_size)
            .field("attach_stacktrace", &self.attach_stacktrace)
            .field("send_default_pii", &self.send_default_pii)
            .field("in_app_include", &self.in_app_include)
            .field("in_app_exclude", &self.in_app_exclude)
            .field("before_send", &self.before_send.as_ref().map(|_| "<fn>"))
            .field(
                "before_breadcrumb",
                &self.before_breadcrumb.as_ref().map(|_| "<fn>"),
            )
            .field("debug", &self.debug)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("integrations", &integrations)
            .field("transport", &self.transport.as_ref().map(|_| "<factory>"))
            .field("queue_capacity", &self.queue_capacity)
            .field("queue_max_bytes", &self.queue_max_bytes)
            .field("max_concurrent_requests", &self.max_concurrent_requests)
            .field(
                "http_proxy",
                &self.http_proxy.as_deref().map(redact_userinfo),
            )
            .field(
                "https_proxy",
                &self.https_proxy.as_deref().map(redact_userinfo),
            )
            .field("cache_dir", &self.cache_dir)
            .field("cache_max_envelopes", &self.cache_max_envelopes)
            .field("cache_max_bytes", &self.cache_max_bytes)
            .field("spotlight", &self.spotlight)
            .field("compression", &self.compression)
            .field("enable_logs", &self.enable_logs)
            .field("traces_sample_rate", &self.traces_sample_rate)
            .field(
                "traces_sampler",
                &self.traces_sampler.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_transaction",
                &self.before_send_transaction.as_ref().map(|_| "<fn>"),
            )
            .field("trace_lifecycle", &self.trace_lifecycle)
            .field("ignore_spans", &self.ignore_spans)
            .field(
                "before_send_span",
                &self.before_send_span.as_ref().map(|_| "<fn>"),
            )
            .field("trace_propagation_targets", &self.trace_propagation_targets)
            .field("propagate_traceparent", &self.propagate_traceparent)
            .field("strict_trace_continuation", &self.strict_trace_continuation)
            .field("org_id", &self.org_id)
            .field("auto_session_tracking", &self.auto_session_tracking)
            .field("session_mode", &self.session_mode)
            .field(
                "before_send_log",
                &self.before_send_log.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_check_in",
                &self.before_send_check_in.as_ref().map(|_| "<fn>"),
            )
            .field(
                "before_send_feedback",
                &self.before_send_feedback.as_ref().map(|_| "<fn>"),
            )
            .field("enable_metrics", &self.enable_metrics)
            .field(
                "before_send_metric",
                &self.before_send_metric.as_ref().map(|_| "<fn>"),
            )
            .field(
                "profile_session_sample_rate",
                &self.profile_session_sample_rate,
            )
            .field("profile_lifecycle", &self.profile_lifecycle)
            .finish()
    }
}

/// A proxy URL for debug output: `user:password@` becomes `***@`.
fn redact_userinfo(url: &str) -> Cow<'_, str> {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    match url[after_scheme..authority_end].rfind('@') {
        Some(at) => Cow::Owned(format!(
            "{}***{}",
            &url[..after_scheme],
            &url[after_scheme + at..]
        )),
        None => Cow::Borrowed(url),
    }
}

/// Why options could not be used.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum OptionsError {
    /// The DSN (from code or `SENTRY_DSN`) is invalid.
    Dsn(DsnError),
    /// `sample_rate` (or `SENTRY_SAMPLE_RATE`) is not a number from 0.0 to 1.0.
    SampleRate(String),
    /// `SENTRY_DEBUG` is not a boolean (`1`, `0`, `true`, `false`, `yes`, `no`, `on`, `off`).
    Debug(String),
    /// `max_value_length` is 0, which would empty every message.
    MaxValueLength(usize),
    /// `traces_sample_rate` (or `SENTRY_TRACES_SAMPLE_RATE`) is not a number from 0.0 to 1.0.
    TracesSampleRate(String),
    /// `profile_session_sample_rate` (or `SENTRY_PROFILE_SESSION_SAMPLE_RATE`) is not a number
    /// from 0.0 to 1.0.
    ProfileSessionSampleRate(String),
    /// `SENTRY_TRACE_LIFECYCLE` is neither `static` nor `stream`.
    TraceLifecycle(String),
}

impl fmt::Display for OptionsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionsError::Dsn(err) => write!(f, "invalid DSN: {err}"),
            OptionsError::SampleRate(value) => {
                write!(
                    f,
                    "invalid sample rate {value:?}: expected a number from 0.0 to 1.0"
                )
            }
            OptionsError::Debug(value) => {
                write!(
                    f,
                    "invalid SENTRY_DEBUG {value:?}: expected true/false, 1/0, yes/no or on/off"
                )
            }
            OptionsError::MaxValueLength(value) => {
                write!(f, "invalid max_value_length {value}: expected at least 1")
            }
            OptionsError::TraceLifecycle(value) => {
                write!(
                    f,
                    "invalid SENTRY_TRACE_LIFECYCLE {value:?}: expected static or stream"
                )
            }
            OptionsError::TracesSampleRate(value) => {
                write!(
                    f,
                    "invalid traces sample rate {value:?}: expected a number from 0.0 to 1.0"
                )
            }
            OptionsError::ProfileSessionSampleRate(value) => {
                write!(
                    f,
                    "invalid profile session sample rate {value:?}: expected a number from 0.0 \
                     to 1.0"
                )
            }
        }
    }
}

impl std::error::Error for OptionsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OptionsError::Dsn(err) => Some(err),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn env_fills_defaults_only() {
        let mut options = ClientOptions {
            environment: Some("code".into()),
            sample_rate: 0.5,
            ..Default::default()
        };
        options
            .apply_env_from(env(&[
                ("SENTRY_DSN", "https://k@example.com/3"),
                ("SENTRY_ENVIRONMENT", "env"),
                ("SENTRY_SAMPLE_RATE", "0.1"),
                ("SENTRY_DEBUG", "yes"),
                ("SENTRY_RELEASE", "r@1"),
            ]))
            .unwrap();
        assert_eq!(options.dsn.as_ref().map(|d| d.project_id()), Some("3"));
        assert_eq!(options.effective_environment(), "code");
        assert_eq!(options.sample_rate, 0.5);
        assert!(options.debug);
        assert_eq!(options.release.as_deref(), Some("r@1"));
    }

    #[test]
    fn the_profile_session_sample_rate_reads_the_env_and_is_checked() {
        let vars = env(&[("SENTRY_PROFILE_SESSION_SAMPLE_RATE", "0.25")]);
        let mut options = ClientOptions::default();
        options.apply_env_from(&vars).unwrap();
        assert_eq!(options.profile_session_sample_rate, 0.25);
        // Code wins.
        let mut options = ClientOptions {
            profile_session_sample_rate: 1.0,
            ..Default::default()
        };
        options.apply_env_from(&vars).unwrap();
        assert_eq!(options.profile_session_sample_rate, 1.0);
        // Out of range, in the environment or in code: a clear error.
        for bad in ["1.5", "-0.1", "often"] {
            let mut options = ClientOptions::default();
            let err = options
                .apply_env_from(|name: &str| {
                    (name == "SENTRY_PROFILE_SESSION_SAMPLE_RATE").then(|| bad.to_owned())
                })
                .unwrap_err();
            assert_eq!(err, OptionsError::ProfileSessionSampleRate(bad.into()));
            assert!(err.to_string().contains("profile session sample rate"));
        }
        let options = ClientOptions {
            profile_session_sample_rate: 2.0,
            ..Default::default()
        };
        assert!(matches!(
            options.validate(),
            Err(OptionsError::ProfileSessionSampleRate(_))
        ));
    }

    #[test]
    fn malformed_env_is_an_error() {
        let bad: [&'static [(&str, &str)]; 4] = [
            &[("SENTRY_DSN", "nope")],
            &[("SENTRY_SAMPLE_RATE", "1.5")],
            &[("SENTRY_SAMPLE_RATE", "abc")],
            &[("SENTRY_DEBUG", "maybe")],
        ];
        for pairs in bad {
            let mut options = ClientOptions::default();
            let err = options.apply_env_from(env(pairs)).unwrap_err();
            assert!(!err.to_string().is_empty());
        }
        // An empty SENTRY_DSN means "disabled", not an error.
        let mut options = ClientOptions::default();
        options.apply_env_from(env(&[("SENTRY_DSN", " ")])).unwrap();
        assert!(options.dsn.is_none());
    }

    #[test]
    fn spotlight_comes_from_the_environment() {
        for (value, expected) in [
            ("true", Spotlight::On),
            ("1", Spotlight::On),
            ("T", Spotlight::On),
            ("y", Spotlight::On),
            ("off", Spotlight::Off),
            ("n", Spotlight::Off),
            ("F", Spotlight::Off),
            (
                "http://127.0.0.1:9/stream",
                Spotlight::from("http://127.0.0.1:9/stream"),
            ),
        ] {
            let mut options = ClientOptions::default();
            options
                .apply_env_from(move |name| (name == "SENTRY_SPOTLIGHT").then(|| value.to_owned()))
                .unwrap();
            assert_eq!(options.spotlight, expected, "{value}");
        }
        // Code wins.
        let mut options = ClientOptions {
            spotlight: Spotlight::from("http://code/stream"),
            ..Default::default()
        };
        options
            .apply_env_from(|name| (name == "SENTRY_SPOTLIGHT").then(|| "false".to_owned()))
            .unwrap();
        assert_eq!(options.spotlight.url(), Some("http://code/stream"));
        // `true` in code and a URL in the environment: the environment's URL.
        let mut options = ClientOptions {
            spotlight: Spotlight::On,
            ..Default::default()
        };
        options
            .apply_env_from(|name| {
                (name == "SENTRY_SPOTLIGHT").then(|| "http://10.1.2.3:8969/stream".to_owned())
            })
            .unwrap();
        assert_eq!(options.spotlight.url(), Some("http://10.1.2.3:8969/stream"));
    }

    #[test]
    fn proxy_credentials_are_not_printed() {
        let options = ClientOptions {
            https_proxy: Some("http://user:s3cret@proxy:3128".into()),
            http_proxy: Some("http://proxy:3128/".into()),
            ..Default::default()
        };
        let debug = format!("{options:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(debug.contains("http://***@proxy:3128"), "{debug}");
        assert!(debug.contains("http://proxy:3128/"), "{debug}");
    }

    #[test]
    fn validate_rejects_out_of_range_rates() {
        for rate in [-0.1, 1.01, f32::NAN, f32::INFINITY] {
            let options = ClientOptions {
                sample_rate: rate,
                ..Default::default()
            };
            assert!(matches!(
                options.validate(),
                Err(OptionsError::SampleRate(_))
            ));
        }
        assert_eq!(
            ClientOptions::default().effective_environment(),
            "production"
        );
    }

    #[test]
    fn trace_lifecycle_comes_from_the_environment_unless_set_in_code() {
        let mut options = ClientOptions::default();
        options
            .apply_env_from(env(&[("SENTRY_TRACE_LIFECYCLE", "stream")]))
            .unwrap();
        assert_eq!(options.trace_lifecycle, TraceLifecycle::Stream);
        let mut options = ClientOptions::default();
        let err = options
            .apply_env_from(env(&[("SENTRY_TRACE_LIFECYCLE", "sometimes")]))
            .unwrap_err();
        assert!(err.to_string().contains("SENTRY_TRACE_LIFECYCLE"), "{err}");
        // `Stream` in code wins over the variable.
        let mut options = ClientOptions {
            trace_lifecycle: TraceLifecycle::Stream,
            ..Default::default()
        };
        options
            .apply_env_from(env(&[("SENTRY_TRACE_LIFECYCLE", "static")]))
            .unwrap();
        assert_eq!(options.trace_lifecycle, TraceLifecycle::Stream);
    }

    #[test]
    fn tracing_is_on_with_a_rate_or_a_sampler_only() {
        assert!(!ClientOptions::default().tracing_enabled());
        let rate = ClientOptions {
            traces_sample_rate: Some(0.0),
            ..Default::default()
        };
        assert!(rate.tracing_enabled());
        let sampler = ClientOptions {
            traces_sampler: Some(std::sync::Arc::new(|_| 0.0)),
            ..Default::default()
        };
        assert!(sampler.tracing_enabled());
    }

    #[test]
    fn validate_rejects_a_zero_max_value_length() {
        let options = ClientOptions {
            max_value_length: 0,
            ..Default::default()
        };
        assert_eq!(options.validate(), Err(OptionsError::MaxValueLength(0)));
        assert!(options
            .validate()
            .unwrap_err()
            .to_string()
            .contains("max_value_length"));
        let one = ClientOptions {
            max_value_length: 1,
            ..Default::default()
        };
        assert!(one.validate().is_ok());
    }
}
