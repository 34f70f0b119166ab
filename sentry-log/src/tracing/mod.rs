//! The `tracing` bridge (feature `tracing`): a `tracing_subscriber` layer that turns events into
//! Sentry breadcrumbs, events and structured logs.
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
//!   span, outermost first, named `span:<span name>` and holding the span's fields (there is no
//!   performance monitoring yet, so spans are not sent as spans);
//! - logs get `sentry.origin` = `auto.log.tracing`, `logger.name` = target, `code.*`.
//!
//! Events produced on the SDK's own threads or inside SDK callbacks are never captured.
//!
//! # Cost
//!
//! The layer carries a *per-layer* filter ([`SentryFilter`]): `tracing` asks it once per
//! callsite and caches `never` for what it ignores, and its [maximum level](LayerBuilder::max_level)
//! (default `INFO`) lets `tracing` skip more verbose events before looking at a callsite at all.
//! When no other layer wants them, a filtered `tracing::debug!` costs a load and a comparison.
//! Other layers keep seeing everything they ask for.

mod filter;
mod layer;
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
    max_level: LevelFilter,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    /// The defaults: [`default_filter`], no mapper, maximum level `INFO`.
    pub fn new() -> Self {
        LayerBuilder {
            filter: Arc::new(default_filter),
            mapper: None,
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
            .finish_non_exhaustive()
    }
}
