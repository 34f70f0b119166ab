//! [`SentryEvents`]: the layer that turns `tracing` events into captures.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use sentry_core::hint::RecordHint;
use sentry_core::Hint;
use tracing_core::{span, Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::entered;
use super::log_record::{is_log_record, LogLocation};
use super::sentry_span::{Parent, SentrySpan};
use super::spans::{
    nearest_sentry_ancestor, span_contexts, visit_attributes, visit_record, with_sentry_span,
    SpanFields, SpanState,
};
use super::visit::FieldVisitor;
use super::{default_span_filter, tracing_level, FilterFn, MapperFn, SpanFilterFn};
use crate::capture::{Captured, Origin};
use crate::guard::{capture_allowed, BridgeGuard};
use crate::protect::{count_dropped, count_dropped_unfiltered, protected};
use crate::setup::{forwarding, note_double_setup, note_tracing_layer};

/// The layer inside [`SentryLayer`](super::SentryLayer): captures the events its filter let
/// through, keeps the fields of spans for their events' contexts, and records the spans its
/// span filter accepts as Sentry spans (see the [module docs](super)).
#[derive(Clone)]
pub struct SentryEvents {
    pub(super) filter: Arc<FilterFn>,
    pub(super) mapper: Option<Arc<MapperFn>>,
    /// `None`: [`default_span_filter`].
    pub(super) span_filter: Option<Arc<SpanFilterFn>>,
}

impl SentryEvents {
    /// Whether a new span becomes a Sentry span.
    fn records_span(&self, metadata: &Metadata<'_>) -> bool {
        match &self.span_filter {
            None => default_span_filter(metadata),
            Some(filter) => {
                protected("the tracing span filter", || filter(metadata)).unwrap_or(false)
            }
        }
    }
}

impl<S> Layer<S> for SentryEvents
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_layer(&mut self, _: &mut S) {
        note_tracing_layer();
    }

    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if !capture_allowed() {
            return;
        }
        let Some(span) = ctx.span(id) else {
            return;
        };
        let fields = visit_attributes(attrs);
        let sentry = if self.records_span(attrs.metadata()) {
            // Starting a transaction may run the application's sampler.
            let _guard = BridgeGuard::enter();
            let parent = if attrs.is_root() {
                Parent::None
            } else {
                nearest_sentry_ancestor(&span).map_or(Parent::Current, Parent::Span)
            };
            SentrySpan::start(attrs.metadata(), &fields, parent)
        } else {
            None
        };
        span.extensions_mut().insert(SpanState {
            fields: SpanFields::new(fields),
            sentry,
        });
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else {
            return;
        };
        let mut extensions = span.extensions_mut();
        if let Some(state) = extensions.get_mut::<SpanState>() {
            let fields = visit_record(values);
            if let Some(sentry) = &state.sentry {
                sentry.record(&fields);
            }
            state.fields.merge(fields);
        }
    }

    /// `span.follows_from(cause)`: the Sentry span links to the cause's, with the link type
    /// `follows_from` (sent with streamed spans; transactions have no links).
    fn on_follows_from(&self, id: &span::Id, follows: &span::Id, ctx: Context<'_, S>) {
        let (Some(span), Some(cause)) = (ctx.span(id), ctx.span(follows)) else {
            return;
        };
        let Some(cause) = with_sentry_span(&cause, |s| s.span().clone()) else {
            return;
        };
        with_sentry_span(&span, |s| s.span().add_link_to(&cause, "follows_from"));
    }

    fn on_enter(&self, id: &span::Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(sentry) = with_sentry_span(&span, |s| s.span().clone()) {
                entered::enter(id, sentry);
            }
        }
    }

    fn on_exit(&self, id: &span::Id, _: Context<'_, S>) {
        entered::exit(id);
    }

    fn on_close(&self, id: span::Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else {
            return;
        };
        let sentry = span
            .extensions_mut()
            .get_mut::<SpanState>()
            .and_then(|state| state.sentry.take());
        if let Some(sentry) = sentry {
            // Sending a transaction runs the SDK's callbacks and transport.
            let _guard = BridgeGuard::enter();
            sentry.finish();
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let from_log = is_log_record(metadata);
        if from_log && forwarding() {
            // The `log` bridge handed this record to tracing-log and captures it itself
            // (the destination runs as an SDK callback, so the check below would hide this).
            note_double_setup();
            return;
        }
        if !capture_allowed() {
            return;
        }
        if *metadata.level() == Level::ERROR {
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope {
                    if with_sentry_span(&span, SentrySpan::mark_errored).is_some() {
                        break;
                    }
                }
            }
        }
        let Some(mapping) = protected("the tracing filter", || (self.filter)(metadata)) else {
            count_dropped_unfiltered(tracing_level(*metadata.level()));
            return;
        };
        if mapping.is_ignore() {
            return;
        }
        let _guard = BridgeGuard::enter();
        if let Some(mapper) = &self.mapper {
            match protected("the tracing mapper", || mapper(event, mapping)) {
                Some(mapped) => {
                    let level = tracing_level(*metadata.level());
                    let record = RecordHint::new("tracing", level, metadata.target())
                        .with_location(metadata.module_path(), metadata.file(), metadata.line());
                    let hint = Hint::new().with_record(&record);
                    mapped.into_iter().for_each(|m| m.capture(&hint));
                }
                None => count_dropped(mapping),
            }
            return;
        }
        let mut visitor = FieldVisitor::new(mapping.wants_event());
        event.record(&mut visitor);
        let location = if from_log {
            LogLocation::take_from(&mut visitor.fields)
        } else {
            LogLocation::default()
        };
        let contexts = if mapping.wants_event() {
            ctx.event_scope(event)
                .map(span_contexts)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let (origin, target, static_target, module_path, file, line) = if from_log {
            // A `log` record: its own target and location, as the `log` bridge captures it.
            (
                Origin::Log,
                location.target.as_deref().unwrap_or("log"),
                None,
                location.module_path.as_deref(),
                location.file.as_deref(),
                location.line,
            )
        } else {
            (
                Origin::Tracing,
                metadata.target(),
                Some(metadata.target()),
                metadata.module_path(),
                metadata.file(),
                metadata.line(),
            )
        };
        Captured {
            origin,
            level: tracing_level(*metadata.level()),
            message: Cow::Owned(visitor.message.unwrap_or_default()),
            target,
            static_target,
            module_path,
            file,
            line,
            fields: visitor.fields,
            exception: visitor.exception,
            // `tracing` lends an error field only while it is visited.
            error: None,
            contexts,
        }
        .capture(mapping);
    }
}

impl fmt::Debug for SentryEvents {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryEvents")
            .field("mapper", &self.mapper.is_some())
            .field("span_filter", &self.span_filter.is_some())
            .finish_non_exhaustive()
    }
}
