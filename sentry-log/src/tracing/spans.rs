//! The fields of enclosing spans, attached to events as contexts.
//!
//! There is no performance monitoring yet, so spans are not sent as spans. Their fields are
//! kept (in the span's registry extensions) and each span that encloses an event, outermost
//! first, becomes one context of that event named `span:<span name>` (`span:<name> #2`, `#3`, …
//! when names repeat) holding the span's fields with their types.

use std::borrow::Cow;
use std::collections::BTreeSet;

use sentry_core::{Map, Value};
use tracing_core::span::{Attributes, Record};
use tracing_subscriber::registry::{LookupSpan, Scope};

use super::visit::FieldVisitor;

/// A span's fields, stored in its extensions.
#[derive(Debug, Default)]
pub(crate) struct SpanFields(Vec<(Cow<'static, str>, Value)>);

impl SpanFields {
    pub(crate) fn from_attributes(attributes: &Attributes<'_>) -> SpanFields {
        let mut fields = SpanFields::default();
        fields.record_values(|visitor| attributes.record(visitor));
        fields
    }

    pub(crate) fn record(&mut self, values: &Record<'_>) {
        self.record_values(|visitor| values.record(visitor));
    }

    fn record_values(&mut self, record: impl FnOnce(&mut FieldVisitor)) {
        let mut visitor = FieldVisitor::new(false);
        record(&mut visitor);
        let message = visitor
            .message
            .map(|m| (Cow::Borrowed("message"), Value::String(m)));
        for (name, value) in visitor.fields.into_iter().chain(message) {
            match self.0.iter_mut().find(|(n, _)| *n == name) {
                Some(slot) => slot.1 = value,
                None => self.0.push((name, value)),
            }
        }
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
            .get::<SpanFields>()
            .map(|fields| {
                fields
                    .0
                    .iter()
                    .map(|(k, v)| (k.clone().into_owned(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        contexts.push((name, fields));
    }
    contexts
}
