//! What the layer keeps for each `tracing` span, in the span's registry extensions: its fields
//! (for the contexts of events inside it) and its Sentry span, if it is recorded as one.
//!
//! Each span that encloses an event, outermost first, becomes one context of that event named
//! `span:<span name>` (`span:<name> #2`, `#3`, … when names repeat) holding the span's fields
//! with their types.

use std::borrow::Cow;
use std::collections::BTreeSet;

use sentry_core::{Map, Value};
use tracing_core::span::{Attributes, Record};
use tracing_subscriber::registry::{LookupSpan, Scope, SpanRef};

use super::sentry_span::SentrySpan;
use super::visit::FieldVisitor;

/// Fields as they were visited: name and typed value, the message included.
pub(crate) type Fields = Vec<(Cow<'static, str>, Value)>;

/// The layer's state of one `tracing` span, one extension (one allocation) per span.
#[derive(Debug)]
pub(crate) struct SpanState {
    pub(crate) fields: SpanFields,
    /// `None` when the span filter refused the span, or tracing is off.
    pub(crate) sentry: Option<SentrySpan>,
}

/// The Sentry span of the nearest ancestor of `span` that has one, in `tracing`'s own span
/// tree (as this layer's filter sees it: `parent` skips the spans it filtered out, as the
/// span's `scope` does). Walked by `parent` rather than `scope().skip(1)`, which would look
/// `span` itself up in the registry again.
pub(crate) fn nearest_sentry_ancestor<'a, R: LookupSpan<'a>>(
    span: &SpanRef<'a, R>,
) -> Option<sentry_core::Span> {
    let mut next = span.parent();
    while let Some(ancestor) = next {
        if let Some(found) = with_sentry_span(&ancestor, |s| s.span().clone()) {
            return Some(found);
        }
        next = ancestor.parent();
    }
    None
}

/// Calls `f` with the Sentry span of `span`, if it has one.
pub(crate) fn with_sentry_span<'a, R: LookupSpan<'a>, T>(
    span: &SpanRef<'a, R>,
    f: impl FnOnce(&SentrySpan) -> T,
) -> Option<T> {
    span.extensions()
        .get::<SpanState>()
        .and_then(|state| state.sentry.as_ref())
        .map(f)
}

/// Visits the fields of a new span.
pub(crate) fn visit_attributes(attributes: &Attributes<'_>) -> Fields {
    visit(|visitor| attributes.record(visitor))
}

/// Visits the fields of a record (`Span::record`).
pub(crate) fn visit_record(values: &Record<'_>) -> Fields {
    visit(|visitor| values.record(visitor))
}

fn visit(record: impl FnOnce(&mut FieldVisitor)) -> Fields {
    let mut visitor = FieldVisitor::new(false);
    record(&mut visitor);
    let mut fields = visitor.fields;
    if let Some(message) = visitor.message {
        fields.push((Cow::Borrowed("message"), Value::String(message)));
    }
    fields
}

/// A span's fields, for the contexts of the events inside it.
#[derive(Debug, Default)]
pub(crate) struct SpanFields(Fields);

impl SpanFields {
    pub(crate) fn new(fields: Fields) -> SpanFields {
        SpanFields(fields)
    }

    /// Adds fields, replacing those of the same name.
    pub(crate) fn merge(&mut self, fields: Fields) {
        for (name, value) in fields {
            match self.0.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => self.0.push((name, value)),
            }
        }
    }

    /// The fields, in the order they were first recorded.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(name, value)| (name.as_ref(), value))
    }
}

/// One context per span of `scope` (outermost first), named after the span.
pub(crate) fn span_contexts<'a, R: LookupSpan<'a>>(scope: Scope<'a, R>) -> Vec<(String, Map)> {
    let mut names = BTreeSet::new();
    let mut contexts = Vec::new();
    for span in scope.from_root() {
        let base = format!("span:{}", span.name());
        let mut name = base.clone();
        let mut n = 1;
        while !names.insert(name.clone()) {
            n += 1;
            name = format!("{base} #{n}");
        }
        let extensions = span.extensions();
        let fields: Map = extensions
            .get::<SpanState>()
            .map(|state| {
                state
                    .fields
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        contexts.push((name, fields));
    }
    contexts
}
