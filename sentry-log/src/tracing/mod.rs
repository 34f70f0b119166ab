//! The `tracing` bridge (feature `tracing`): a `tracing_subscriber` layer that turns events into
//! Sentry breadcrumbs, events and structured logs, and spans into Sentry spans and transactions.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! tracing_subscriber::registry()
//!     .with(sentry_log::tracing::layer())
//!     // .with(tracing_subscriber::fmt::layer()) — other layers see everything as before.
//!     .init();
//!
//! let err = "x".parse::<u8>().unwrap_err();
//! let span = tracing::info_span!("checkout", order_id = 1234);
//! let _entered = span.enter();
//! tracing::info!(items = 3, "cart loaded"); // breadcrumb + log
//! tracing::error!(error = &err as &dyn std::error::Error, "payment failed"); // event + log
//! ```
//!
//! # What is captured
//!
//! The [`Mapping`] of each event comes from the layer's filter, by default
//! [`Mapping::default_for`] its level (errors → event and log, warnings and infos → breadcrumb
//! and log, debug and trace → nothing). Then, as for the `log` bridge:
//!
//! - the `message` field is the message; the other fields keep their types as breadcrumb data,
//!   event extra or log attributes;
//! - a field recorded as `&dyn Error` becomes the event's exception, with its `source()` chain;
//! - events get a `tracing` context (target, module, file, line) and one context per enclosing
//!   span, outermost first, named `span:<span name>` and holding the span's fields;
//! - events and logs inside a span that is a Sentry span carry its trace (`contexts.trace`:
//!   trace id and span id; a log's `trace_id`);
//! - logs get `sentry.origin` = `auto.log.tracing`, `logger.name` = target, `code.*`.
//!
//! Events produced on the SDK's own threads or inside SDK callbacks are never captured.
//!
//! # Spans
//!
//! With tracing on (`traces_sample_rate` or `traces_sampler` in the client options), each
//! `tracing` span the [span filter](LayerBuilder::span_filter) accepts (by default
//! [`INFO` and above](default_span_filter)) becomes a Sentry span when it is created, and is
//! finished when it closes (when its last handle is dropped: for an `#[instrument]` function,
//! when the call returns or its future is dropped).
//!
//! - **Parent**: the nearest enclosing span *in `tracing`'s own span tree* that is a Sentry span
//!   (the span's explicit `parent:`, else the span current where it was created). This holds
//!   however futures move between threads: a task spawned with `.instrument(span)` or
//!   `.in_current_span()` stays under the span it was given. Spans the filter refused are
//!   skipped: their children attach to the nearest accepted ancestor. A span with no such
//!   ancestor goes under the Sentry span current in the scopes (one started with
//!   [`sentry_core::start_transaction`], say), and with none it starts a transaction. An
//!   explicit root (`parent: None`) always starts a transaction.
//! - **Name and operation**: the name is the span's name (for `#[instrument]`, the function's
//!   name); the operation is `function`, a category, so that the trace view reads
//!   `function — load_cart` and the operation stays low in cardinality. The fields
//!   `sentry.name` and `sentry.op` override them, at creation or later through `Span::record`
//!   (declare them `tracing::field::Empty`). The target shows in `code.namespace` (the module)
//!   and, when it differs from the module, in `tracing.target`.
//! - **Trace**: a non-empty `sentry.trace` field holding a `sentry-trace` header value makes
//!   the span a transaction continuing that trace (with the caller's sampling decision), even
//!   inside another span.
//! - **Data**: the other fields, with their types (integers, floats, booleans, strings; errors
//!   and `Debug` values as text), and the fields recorded later; `code.namespace`,
//!   `code.filepath` and `code.lineno` from the callsite. Origin `auto.tracing`.
//! - **Status**: unless the application set one (`sentry_core::get_current_span()` inside the
//!   span), `internal_error` if an `ERROR` event the layer saw happened inside the span (not in a
//!   nested Sentry span), else `ok`.
//! - **Links**: `span.follows_from(cause)` links the span to the cause's Sentry span (link type
//!   `follows_from`); links are sent with streamed spans (`trace_lifecycle = Stream`), as
//!   transactions have none.
//! - **Current span**: while a `tracing` span is entered on a thread, its Sentry span is the
//!   current span of that thread's scopes, so events, logs, [`sentry_core::start_span`] and
//!   outgoing trace headers inside it use it. No scope is forked: the thread's scopes stay the
//!   same, with the span swapped in until the exit.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry().with(sentry_log::tracing::layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     // A transaction named "GET /orders" (op "http.server") …
//!     let request = tracing::info_span!(
//!         "request",
//!         sentry.name = "GET /orders",
//!         sentry.op = "http.server",
//!         user = 42,
//!     );
//!     let _request = request.enter();
//!     // … with a child span "load" (op "function", data table = "orders").
//!     let load = tracing::info_span!("load", table = "orders");
//!     load.in_scope(|| tracing::info!("loaded"));
//! });
//! ```
//!
//! # Cost
//!
//! The layer carries a *per-layer* filter ([`SentryFilter`]): `tracing` asks it once per
//! callsite and caches `never` for what it ignores, and its [maximum level](LayerBuilder::max_level)
//! (default `INFO`) lets `tracing` skip more verbose events before looking at a callsite at all.
//! When no other layer wants them, a filtered `tracing::debug!` costs a load and a comparison.
//! Other layers keep seeing everything they ask for.
//!
//! A span the layer sees costs one extension (its fields, for the contexts of events inside
//! it). A recorded span adds its Sentry span; entering and exiting it swaps the thread's scopes
//! twice. An unsampled span (the transaction was not sampled) is still created, so that it is
//! counted, but its fields are not copied into span data. With tracing off, no Sentry span is
//! made and enter and exit cost one lookup each.

mod entered;
mod filter;
mod layer;
mod log_record;
mod sentry_span;
mod spans;
mod visit;

use std::fmt;
use std::sync::Arc;

use sentry_core::protocol::LogLevel;
use tracing_core::{Event, Level, LevelFilter, Metadata, Subscriber};
use tracing_subscriber::filter::Filtered;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer as _;

pub use filter::SentryFilter;
pub use layer::SentryEvents;

use crate::{Mapping, RecordMapping};

pub(crate) type FilterFn = dyn Fn(&Metadata<'_>) -> Mapping + Send + Sync;
pub(crate) type MapperFn = dyn Fn(&Event<'_>, Mapping) -> Vec<RecordMapping> + Send + Sync;
pub(crate) type SpanFilterFn = dyn Fn(&Metadata<'_>) -> bool + Send + Sync;

/// The Sentry layer: [`SentryEvents`] behind its per-layer [`SentryFilter`]. Add it to a
/// `tracing_subscriber::registry()`; build it with [`layer`] or [`LayerBuilder`].
pub type SentryLayer<S> = Filtered<SentryEvents, SentryFilter, S>;

/// The [`LogLevel`] of a `tracing` level.
pub fn tracing_level(level: Level) -> LogLevel {
    match level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        _ => LogLevel::Trace,
    }
}

/// The default filter: [`Mapping::default_for`] the event's level.
pub fn default_filter(metadata: &Metadata<'_>) -> Mapping {
    Mapping::default_for(tracing_level(*metadata.level()))
}

/// The default span filter: spans at `INFO`, `WARN` and `ERROR` become Sentry spans.
pub fn default_span_filter(metadata: &Metadata<'_>) -> bool {
    *metadata.level() <= Level::INFO
}

/// The Sentry layer with the defaults: default filter, maximum level `INFO`.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(sentry_log::tracing::layer());
/// tracing::subscriber::with_default(subscriber, || tracing::warn!("low disk"));
/// ```
pub fn layer<S>() -> SentryLayer<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    LayerBuilder::new().build()
}

/// Configures a [`SentryLayer`].
///
/// ```
/// use sentry_log::{tracing::LayerBuilder, Mapping};
/// use tracing_subscriber::prelude::*;
///
/// let layer = LayerBuilder::new()
///     .max_level(tracing::level_filters::LevelFilter::DEBUG)
///     .filter(|metadata| match *metadata.level() {
///         tracing::Level::ERROR => Mapping::EXCEPTION | Mapping::LOG,
///         tracing::Level::DEBUG if metadata.target().starts_with("my_app") => Mapping::LOG,
///         tracing::Level::DEBUG | tracing::Level::TRACE => Mapping::IGNORE,
///         _ => Mapping::BREADCRUMB | Mapping::LOG,
///     })
///     .build();
/// let subscriber = tracing_subscriber::registry().with(layer);
/// # drop(subscriber);
/// ```
#[derive(Clone)]
pub struct LayerBuilder {
    filter: Arc<FilterFn>,
    mapper: Option<Arc<MapperFn>>,
    span_filter: Option<Arc<SpanFilterFn>>,
    max_level: LevelFilter,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    /// The defaults: [`default_filter`], no mapper, [`default_span_filter`], maximum level
    /// `INFO`.
    pub fn new() -> Self {
        LayerBuilder {
            filter: Arc::new(default_filter),
            mapper: None,
            span_filter: None,
            max_level: LevelFilter::INFO,
        }
    }

    /// Decides what each event becomes (see [`Mapping`]). It is asked once per callsite for
    /// the callsite's interest, and again for each event.
    #[must_use]
    pub fn filter(
        mut self,
        filter: impl Fn(&Metadata<'_>) -> Mapping + Send + Sync + 'static,
    ) -> Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Replaces the built-in conversion: called with each event the filter did not ignore and
    /// the filter's mapping; what it returns is captured as it is.
    #[must_use]
    pub fn mapper(
        mut self,
        mapper: impl Fn(&Event<'_>, Mapping) -> Vec<RecordMapping> + Send + Sync + 'static,
    ) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }

    /// Decides which spans become Sentry spans (default: [`default_span_filter`]), asked once
    /// per new span. Spans it refuses are not sent, and the spans inside them attach to the
    /// nearest enclosing span it accepted. It only sees spans within the
    /// [maximum level](Self::max_level); if it panics, the span is not recorded.
    ///
    /// ```
    /// use sentry_log::tracing::LayerBuilder;
    ///
    /// // Also the DEBUG spans of this application, no spans of the `hyper` crate.
    /// let layer = LayerBuilder::new()
    ///     .max_level(tracing::level_filters::LevelFilter::DEBUG)
    ///     .span_filter(|metadata| {
    ///         !metadata.target().starts_with("hyper")
    ///             && (*metadata.level() <= tracing::Level::INFO
    ///                 || metadata.target().starts_with("my_app"))
    ///     });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn span_filter(
        mut self,
        filter: impl Fn(&Metadata<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.span_filter = Some(Arc::new(filter));
        self
    }

    /// The most verbose level the layer looks at, events and spans alike. Default `INFO`.
    #[must_use]
    pub fn max_level(mut self, level: impl Into<LevelFilter>) -> Self {
        self.max_level = level.into();
        self
    }

    /// The layer.
    pub fn build<S>(self) -> SentryLayer<S>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        SentryEvents {
            filter: Arc::clone(&self.filter),
            mapper: self.mapper,
            span_filter: self.span_filter,
        }
        .with_filter(SentryFilter {
            filter: self.filter,
            max_level: self.max_level,
        })
    }
}

impl fmt::Debug for LayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerBuilder")
            .field("max_level", &self.max_level)
            .field("mapper", &self.mapper.is_some())
            .field("span_filter", &self.span_filter.is_some())
            .finish_non_exhaustive()
    }
}
