//! [`SentryEvents`]: the layer that turns `tracing` events into captures.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use sentry_core::hint::RecordHint;
use sentry_core::Hint;
use tracing_core::{span, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use super::spans::{span_contexts, SpanFields};
use super::visit::FieldVisitor;
use super::{tracing_level, FilterFn, MapperFn};
use crate::capture::{Captured, Origin};
use crate::guard::{capture_allowed, BridgeGuard};
use crate::protect::{count_dropped, count_dropped_unfiltered, protected};

/// The layer inside [`SentryLayer`](super::SentryLayer): captures the events its filter let
/// through and keeps the fields of spans for their events' contexts.
#[derive(Clone)]
pub struct SentryEvents {
    pub(super) filter: Arc<FilterFn>,
    pub(super) mapper: Option<Arc<MapperFn>>,
}

impl<S> Layer<S> for SentryEvents
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
        if !capture_allowed() {
            return;
        }
        if let Some(span) = ctx.span(id) {
            span.extensions_mut()
                .insert(SpanFields::from_attributes(attrs));
        }
    }

    fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<SpanFields>() {
                fields.record(values);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if !capture_allowed() {
            return;
        }
        let metadata = event.metadata();
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
        let contexts = if mapping.wants_event() {
            ctx.event_scope(event)
                .map(span_contexts)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        Captured {
            origin: Origin::Tracing,
            level: tracing_level(*metadata.level()),
            message: Cow::Owned(visitor.message.unwrap_or_default()),
            target: metadata.target(),
            static_target: Some(metadata.target()),
            module_path: metadata.module_path(),
            file: metadata.file(),
            line: metadata.line(),
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
            .finish_non_exhaustive()
    }
}
