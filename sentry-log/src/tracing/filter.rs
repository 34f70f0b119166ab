//! [`SentryFilter`]: which callsites the layer wants, decided once per callsite.

use std::fmt;
use std::sync::Arc;

use tracing_core::{subscriber::Interest, LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

use super::{tracing_level, FilterFn};
use crate::guard::capture_allowed;
use crate::protect::{count_dropped_unfiltered, protected};

/// The per-layer filter of [`SentryLayer`](super::SentryLayer).
///
/// A callsite is wanted when its level is within the layer's maximum level and, for events,
/// the layer's filter maps it to something other than [`Mapping::IGNORE`](crate::Mapping);
/// spans within the maximum level are wanted for their fields. The answer is cached by
/// `tracing` per callsite (`Interest::never` for the rest), and [`max_level_hint`] lets
/// `tracing` skip more verbose levels before any callsite is looked at. Because it is a
/// *per-layer* filter, it never hides anything from the other layers of the subscriber.
///
/// [`max_level_hint`]: Filter::max_level_hint
#[derive(Clone)]
pub struct SentryFilter {
    pub(super) filter: Arc<FilterFn>,
    pub(super) max_level: LevelFilter,
}

impl SentryFilter {
    /// Whether the layer wants this callsite or event; `None` if the application's filter
    /// panicked.
    fn wants(&self, metadata: &Metadata<'_>) -> Option<bool> {
        if *metadata.level() > self.max_level {
            return Some(false);
        }
        if metadata.is_span() {
            return Some(true);
        }
        protected("the tracing filter", || {
            !(self.filter)(metadata).is_ignore()
        })
    }
}

impl<S> Filter<S> for SentryFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata).unwrap_or_else(|| {
            // The event is dropped for this layer; the filter is not asked again for it.
            if capture_allowed() {
                count_dropped_unfiltered(tracing_level(*metadata.level()));
            }
            false
        })
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        match self.wants(metadata) {
            Some(true) => Interest::always(),
            Some(false) => Interest::never(),
            // Ask again for each event (each one is dropped and counted if it panics again).
            None => Interest::sometimes(),
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(self.max_level)
    }
}

impl fmt::Debug for SentryFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryFilter")
            .field("max_level", &self.max_level)
            .finish_non_exhaustive()
    }
}
