//! What a recording span holds until it ends, attribute-first.
//!
//! The record is the span as the SDK models it: a name, an operation, a status, typed
//! attributes, tags, an origin and its two timestamps. The transaction serializer maps it to
//! the transaction-mode span (`op`, `description`, `data`, the long status list); a span-first
//! serializer maps the same record to a span v2 item (`name`, `attributes`, `ok|error`).

use std::time::SystemTime;

use sentry_minimal::{Map, SpanId, TraceId, Value};

use crate::protocol::{
    Span as WireSpan, SpanLink, SpanStatus, SpanText, SpanV2, SpanV2Status, TraceContext,
};

/// The origin of spans the application starts itself.
pub(crate) const MANUAL_ORIGIN: SpanText = SpanText::from_static("manual");

/// A span's data while it runs.
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    pub(crate) op: SpanText,
    pub(crate) name: SpanText,
    pub(crate) status: Option<SpanStatus>,
    pub(crate) attributes: Map,
    pub(crate) tags: sentry_minimal::SortedMap<String, String>,
    pub(crate) origin: Option<SpanText>,
    pub(crate) start: SystemTime,
    /// Links to other spans (sent by streaming only: a transaction's spans have none).
    pub(crate) links: Vec<SpanLink>,
}

/// An ended span on its way to the span buffer (`trace_lifecycle = Stream`): its record and
/// what it needs from its segment, as plain data (it holds no client). It becomes a span v2
/// item on the transport worker ([`into_v2`](Self::into_v2)), so the thread that ended the
/// span only moves it into the buffer.
pub(crate) struct StreamedRecord {
    pub(crate) record: SpanRecord,
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) end: SystemTime,
    /// For the segment span: the segment's name when it ended.
    pub(crate) segment_name: Option<String>,
    /// The profiler that ran when the span ended (one atomic load when none runs).
    pub(crate) profiler_id: Option<crate::profiling::ProfilerId>,
}

/// What a streamed span takes from its place in the trace and its end, besides its record.
/// The record itself is lent down to the span buffer (`&mut Option<SpanRecord>`) and moved
/// once, into its segment's list: passed by value through the calls in between, the record
/// (about 300 bytes with this) would be copied at each.
pub(crate) struct Ending {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) end: SystemTime,
    /// For the segment span: the segment's name when it ended.
    pub(crate) segment_name: Option<String>,
}

impl Ending {
    /// The streamed span of `record`, with the profiler that runs now (one atomic load when
    /// none runs).
    #[inline(always)]
    pub(crate) fn stream(self, record: SpanRecord) -> StreamedRecord {
        StreamedRecord {
            record,
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            end: self.end,
            segment_name: self.segment_name,
            profiler_id: crate::profiling::active_profiler(),
        }
    }
}

impl StreamedRecord {
    /// About how many bytes the span takes as JSON (what the buffer's byte bounds count).
    #[cfg(test)]
    pub(crate) fn estimated_size(&self) -> usize {
        self.record
            .estimated_stream_size(self.segment_name.as_deref())
    }

    /// The streamed span (span v2), with the operation and the origin kept apart (they become
    /// the `sentry.op` and `sentry.origin` attributes): the name is the segment's name for a
    /// segment span, else the record's name, or its operation when it has none; tags become
    /// string attributes.
    pub(crate) fn into_v2(self) -> (SpanV2, String, Option<String>) {
        let record = self.record;
        let (op, name) = (String::from(record.op), String::from(record.name));
        let is_segment = self.segment_name.is_some();
        let name = match self.segment_name {
            Some(name) => name,
            None if name.is_empty() => op.clone(),
            None => name,
        };
        let mut attributes = record.attributes;
        for (key, value) in record.tags {
            attributes.entry(key).or_insert(value.into());
        }
        if let Some(profiler_id) = self.profiler_id {
            // Sentry joins the span to the profile chunks of this profiler.
            attributes.insert("sentry.profiler_id".into(), profiler_id.to_string().into());
        }
        let span = SpanV2 {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            name,
            status: SpanV2Status::from_status(record.status),
            is_segment,
            start_timestamp: record.start,
            end_timestamp: self.end.max(record.start),
            attributes,
            links: record.links,
        };
        (span, op, record.origin.map(SpanText::into_string))
    }
}

impl SpanRecord {
    #[inline(always)]
    pub(crate) fn new(op: SpanText, name: SpanText, start: SystemTime) -> Self {
        Self::with_attributes(op, name, start, Map::new())
    }

    /// A record with the attributes known at the span's start. Inlined, so that the record is
    /// written where its node is built rather than copied there.
    #[inline(always)]
    pub(crate) fn with_attributes(
        op: SpanText,
        name: SpanText,
        start: SystemTime,
        mut attributes: Map,
    ) -> Self {
        if crate::profiling::active_profiler().is_some() {
            name_the_thread(&mut attributes);
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

    /// About how many bytes the record takes as JSON once streamed, named `segment_name` if
    /// it is a segment span's.
    pub(crate) fn estimated_stream_size(&self, segment_name: Option<&str>) -> usize {
        // Ids, timestamps, status, keys and punctuation.
        const FIXED: usize = 220;
        let name = match segment_name {
            Some(name) => name.len(),
            None if self.name.is_empty() => self.op.len(),
            None => self.name.len(),
        };
        let texts = FIXED + name + self.op.len() + self.origin.as_ref().map_or(0, |o| o.len());
        if self.attributes.is_empty() && self.tags.is_empty() && self.links.is_empty() {
            // Most spans: no walk over empty collections.
            return texts;
        }
        texts
            + crate::protocol::attributes_size(&self.attributes)
            + self
                .tags
                .iter()
                .map(|(k, v)| k.len() + 34 + v.len())
                .sum::<usize>()
            + self
                .links
                .iter()
                .map(|l| 120 + crate::protocol::attributes_size(&l.attributes))
                .sum::<usize>()
    }

    pub(crate) fn set_attribute(&mut self, key: String, value: Value) {
        if let Some(old) = self.attributes.insert(key, value) {
            crate::depth::dispose(old);
        }
    }

    /// The transaction-mode span: `description` is the name. Inlined into `Node::finish`, so
    /// the record's fields go from its mutex into the wire span without a copy in between.
    #[inline(always)]
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
            origin: Some(self.origin.unwrap_or(MANUAL_ORIGIN)),
        }
    }

    /// The record on its way to the span buffer; it becomes a span v2 item on the worker.
    #[cfg(test)]
    pub(crate) fn into_streamed(
        self,
        trace_id: TraceId,
        span_id: SpanId,
        parent_span_id: Option<SpanId>,
        end: SystemTime,
        segment_name: Option<String>,
    ) -> StreamedRecord {
        Ending {
            trace_id,
            span_id,
            parent_span_id,
            end,
            segment_name,
        }
        .stream(self)
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
            op: (!self.op.is_empty()).then(|| self.op.as_str().to_owned()),
            status: Some(self.status.unwrap_or(SpanStatus::Ok)),
            origin: Some(
                self.origin
                    .as_ref()
                    .map_or(MANUAL_ORIGIN.as_str(), SpanText::as_str)
                    .to_owned(),
            ),
            data: self.attributes.clone(),
            ..TraceContext::default()
        }
    }
}

/// While a profiler samples threads, a span names the thread it started on, so Sentry can show
/// the samples taken during it (attributes given at the start win).
#[cold]
fn name_the_thread(attributes: &mut Map) {
    let thread = crate::profiling::this_thread();
    attributes
        .entry("thread.id".into())
        .or_insert_with(|| thread.id.to_string().into());
    if let Some(name) = &thread.name {
        attributes
            .entry("thread.name".into())
            .or_insert_with(|| name.as_str().into());
    }
}

fn non_empty(s: SpanText) -> Option<SpanText> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// The buffer's byte bounds count the estimate; it must not be far below the JSON.
    #[test]
    fn a_streamed_record_estimates_its_json_size() {
        let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut record = SpanRecord::new("db.query".into(), "SELECT 1".into(), start);
        record.set_attribute("db.system".into(), "postgresql".into());
        record.set_attribute("rows".into(), Value::I64(3));
        record.tags.insert("shard".into(), "eu-1".into());
        record.origin = Some("auto.db".into());
        let mut link = SpanLink::new(TraceId::default(), SpanId::default());
        link.attributes
            .insert("sentry.link.type".into(), "previous_trace".into());
        record.links.push(link);
        let streamed = record.into_streamed(
            TraceId::default(),
            SpanId::default(),
            None,
            start + Duration::from_millis(5),
            None,
        );
        let estimate = streamed.estimated_size();
        let (span, op, origin) = streamed.into_v2();
        assert_eq!(
            (op.as_str(), origin.as_deref()),
            ("db.query", Some("auto.db"))
        );
        assert_eq!(span.name, "SELECT 1");
        assert_eq!(span.attributes["shard"], Value::from("eu-1"));
        let json = serde_json::to_vec(&span).expect("serializable").len();
        assert!(estimate >= json / 2, "{estimate} against {json} bytes");
    }
}
