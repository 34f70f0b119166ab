//! Sizing a transaction's own parts: its spans, measurements and `transaction_info`.

use sentry_minimal::SortedMap;

use super::{Sizer, NUMBER, TIMESTAMP};
use crate::protocol::{Event, Measurement, Span, SpanText};

/// A span id in quotes.
const SPAN_ID: usize = 18;
/// A trace id in quotes.
const TRACE_ID: usize = 34;
/// The longest wire name of a status or a transaction source, in quotes.
const NAME: usize = 24;

impl Sizer {
    /// The transaction fields of an event (nothing for an error event without them).
    pub(super) fn transaction_parts(&mut self, event: &Event) {
        if event.is_transaction() {
            self.field("type");
            self.add(13);
        }
        if event.start_timestamp.is_some() {
            self.field("start_timestamp");
            self.add(TIMESTAMP);
        }
        if !event.spans.is_empty() {
            self.field("spans");
            self.add(2 + event.spans.len());
            for span in &event.spans {
                self.span(span);
            }
        }
        if !event.measurements.is_empty() {
            self.field("measurements");
            self.measurements(&event.measurements);
        }
        if event.transaction_info.is_some() {
            self.field("transaction_info");
            self.add(2);
            self.field("source");
            self.add(NAME);
        }
    }

    /// One span, as written in a transaction's `spans` array.
    pub(crate) fn span(&mut self, span: &Span) {
        self.add(2);
        self.field("span_id");
        self.add(SPAN_ID);
        self.field("trace_id");
        self.add(TRACE_ID);
        if span.parent_span_id.is_some() {
            self.field("parent_span_id");
            self.add(SPAN_ID);
        }
        if let Some(op) = &span.op {
            self.field("op");
            self.text(op);
        }
        if let Some(description) = &span.description {
            self.field("description");
            self.limited_text(description);
        }
        self.field("start_timestamp");
        self.add(TIMESTAMP);
        self.field("timestamp");
        self.add(TIMESTAMP);
        if span.status.is_some() {
            self.field("status");
            self.add(NAME);
        }
        if !span.tags.is_empty() {
            self.field("tags");
            self.add(2 + span.tags.len() * 2);
            for (key, value) in &span.tags {
                self.str(key);
                self.str(value);
            }
        }
        if !span.data.is_empty() {
            self.field("data");
            self.bag(&span.data);
        }
        if let Some(origin) = &span.origin {
            self.field("origin");
            self.text(origin);
        }
    }

    /// A span's text, counted by its length in raw mode: reading a short text as a `str`
    /// validates its bytes again (safe code cannot skip that), which was a third of the walk
    /// of a transaction's spans.
    fn text(&mut self, text: &SpanText) {
        if self.exact {
            self.str(text);
        } else {
            self.add(2 + text.len());
            self.strings = self.strings.wrapping_add(text.len() as u64);
        }
    }

    /// [`text`](Self::text) subject to `max_value_length`: read as a `str` only when it may be
    /// over (it has more bytes than the limit has characters).
    fn limited_text(&mut self, text: &SpanText) {
        if self.exact || text.len() > self.max_chars {
            self.limited(text);
        } else {
            self.text(text);
        }
    }

    fn measurements(&mut self, measurements: &SortedMap<String, Measurement>) {
        self.add(2 + measurements.len() * 2);
        for (name, measurement) in measurements {
            self.str(name);
            self.add(2);
            self.field("value");
            self.add(NUMBER);
            if let Some(unit) = &measurement.unit {
                self.field("unit");
                self.str(unit.as_str());
            }
        }
    }
}
