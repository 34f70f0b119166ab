//! What a recording span holds until it ends, attribute-first.
//!
//! The record is the span as the SDK models it: a name, an operation, a status, typed
//! attributes, tags, an origin and its two timestamps. The transaction serializer maps it to
//! the transaction-mode span (`op`, `description`, `data`, the long status list); a span-first
//! serializer maps the same record to a span v2 item (`name`, `attributes`, `ok|error`).

use std::time::SystemTime;

use sentry_minimal::{Map, SpanId, TraceId, Value};

use crate::protocol::{Span as WireSpan, SpanLink, SpanStatus, SpanV2, SpanV2Status, TraceContext};

/// The origin of spans the application starts itself.
pub(crate) const MANUAL_ORIGIN: &str = "manual";

/// A span's data while it runs.
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    pub(crate) op: String,
    pub(crate) name: String,
    pub(crate) status: Option<SpanStatus>,
    pub(crate) attributes: Map,
    pub(crate) tags: sentry_minimal::SortedMap<String, String>,
    pub(crate) origin: Option<String>,
    pub(crate) start: SystemTime,
    /// Links to other spans (sent by streaming only: a transaction's spans have none).
    pub(crate) links: Vec<SpanLink>,
}

/// A finished span on its way to the span buffer: the v2 span, with the operation and the
/// origin kept apart, to become attributes on the transport worker rather than on the thread
/// that ended the span.
pub(crate) struct StreamedRecord {
    pub(crate) span: SpanV2,
    pub(crate) op: String,
    pub(crate) origin: Option<String>,
}

impl SpanRecord {
    pub(crate) fn new(op: String, name: String, start: SystemTime) -> Self {
        let mut attributes = Map::new();
        if crate::profiling::active_profiler().is_some() {
            // While a profiler samples threads, a span names the thread it started on, so
            // Sentry can show the samples taken during it.
            let thread = crate::profiling::this_thread();
            attributes.insert("thread.id".into(), thread.id.to_string().into());
            if let Some(name) = &thread.name {
                attributes.insert("thread.name".into(), name.as_str().into());
            }
        }
        SpanRecord {
            op,
            name,
            status: None,
            attributes,
            tags: sentry_minimal::SortedMap::new(),
            origin: None,
            start,
            links: Vec::new(),
        }
    }

    pub(crate) fn set_attribute(&mut self, key: String, value: Value) {
        if let Some(old) = self.attributes.insert(key, value) {
            crate::depth::dispose(old);
        }
    }

    /// The transaction-mode span: `description` is the name.
    pub(crate) fn into_wire(
        self,
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        end: SystemTime,
    ) -> WireSpan {
        WireSpan {
            span_id,
            trace_id,
            parent_span_id,
            op: non_empty(self.op),
            description: non_empty(self.name),
            start_timestamp: self.start,
            timestamp: end.max(self.start),
            status: Some(self.status.unwrap_or(SpanStatus::Ok)),
            tags: self.tags,
            data: self.attributes,
            origin: Some(self.origin.unwrap_or_else(|| MANUAL_ORIGIN.to_owned())),
        }
    }

    /// The streamed span (span v2): the name is the segment's `segment_name` for a segment
    /// span, else the record's name, or its operation when it has none; tags become string
    /// attributes.
    pub(crate) fn into_v2(
        self,
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        end: SystemTime,
        segment_name: Option<String>,
    ) -> StreamedRecord {
        let is_segment = segment_name.is_some();
        let name = match segment_name {
            Some(name) => name,
            None if self.name.is_empty() => self.op.clone(),
            None => self.name,
        };
        let mut attributes = self.attributes;
        for (key, value) in self.tags {
            attributes.entry(key).or_insert(value.into());
        }
        if let Some(profiler_id) = crate::profiling::active_profiler() {
            // Sentry joins the span to the profile chunks of this profiler.
            attributes.insert("sentry.profiler_id".into(), profiler_id.to_string().into());
        }
        StreamedRecord {
            span: SpanV2 {
                trace_id,
                span_id,
                parent_span_id,
                name,
                status: SpanV2Status::from_status(self.status),
                is_segment,
                start_timestamp: self.start,
                end_timestamp: end.max(self.start),
                attributes,
                links: self.links,
            },
            op: self.op,
            origin: self.origin,
        }
    }

    /// The `contexts.trace` of a transaction whose root span this is.
    pub(crate) fn root_trace_context(
        &self,
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
    ) -> TraceContext {
        TraceContext {
            trace_id,
            span_id,
            parent_span_id,
            op: non_empty(self.op.clone()),
            status: Some(self.status.unwrap_or(SpanStatus::Ok)),
            origin: Some(
                self.origin
                    .clone()
                    .unwrap_or_else(|| MANUAL_ORIGIN.to_owned()),
            ),
            data: self.attributes.clone(),
            ..TraceContext::default()
        }
    }
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}
