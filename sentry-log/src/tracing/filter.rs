//! [`SentryFilter`]: which callsites the layer wants, decided once per callsite.

use std::fmt;
use std::sync::Arc;

use tracing_core::{subscriber::Interest, LevelFilter, Metadata};
use tracing_subscriber::layer::{Context, Filter};

use super::FilterFn;

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
    fn wants(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= self.max_level
            && (metadata.is_span() || !(self.filter)(metadata).is_ignore())
    }
}

impl<S> Filter<S> for SentryFilter {
    fn enabled(&self, metadata: &Metadata<'_>, _: &Context<'_, S>) -> bool {
        self.wants(metadata)
    }

    fn callsite_enabled(&self, metadata: &'static Metadata<'static>) -> Interest {
        if self.wants(metadata) {
            Interest::always()
        } else {
            Interest::never()
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
