//! The span buffer's bounds and flush triggers, and the worker draining it.

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use sentry_minimal::{Map, SpanId, TraceId, Value};

use super::*;
use crate::envelope::{Envelope, EnvelopeItem, ItemType};
use crate::protocol::{new_span_id, new_trace_id, DataCategory, DiscardReason, SpanV2};
use crate::transport::test_support::*;
use crate::transport::{SendOutcome, Transport};

fn link(trace_id: TraceId, name: &str) -> Arc<SegmentLink> {
    Arc::new(SegmentLink::new(
        trace_id,
        new_span_id(),
        (name.to_owned(), TransactionSource::Route),
        DynamicSamplingContext {
            trace_id: Some(trace_id),
            public_key: Some("public".into()),
            sample_rate: Some(1.0),
            sampled: Some(true),
            ..DynamicSamplingContext::default()
        },
        None,
        Some("public".into()),
        Map::new(),
    ))
}

/// A span as the buffer receives it, already in its v2 form.
struct TestSpan {
    span: SpanV2,
    op: String,
    origin: Option<String>,
}

impl BufferedSpan for TestSpan {
    fn trace_id(&self) -> TraceId {
        self.span.trace_id
    }

    fn estimated_size(&self) -> usize {
        220 + self.span.name.len() + crate::protocol::attributes_size(&self.span.attributes)
    }

    fn into_v2(self: Box<Self>) -> (SpanV2, String, Option<String>) {
        (self.span, self.op, self.origin)
    }
}

fn span(trace_id: TraceId, i: usize) -> Box<TestSpan> {
    let now = SystemTime::now();
    Box::new(TestSpan {
        span: SpanV2::new(trace_id, new_span_id(), format!("span {i}"), now, now),
        op: String::new(),
        origin: None,
    })
}

fn big_span(trace_id: TraceId, bytes: usize) -> Box<TestSpan> {
    let mut span = span(trace_id, 0);
    span.span
        .attributes
        .insert("blob".into(), Value::String("x".repeat(bytes)));
    span
}

fn buffer() -> (SpanBuffer, Arc<ClientReports>) {
    let reports = Arc::new(ClientReports::default());
    (SpanBuffer::new(Arc::clone(&reports), None, None), reports)
}

/// The span item of an envelope, parsed: `(item headers, payload)`.
fn item_of(envelope: &Envelope) -> (Map, serde_json::Value) {
    match envelope.items().next() {
        Some(EnvelopeItem::Raw(raw)) if raw.ty == ItemType::Span => (
            raw.headers.clone(),
            serde_json::from_slice(&raw.payload).expect("JSON payload"),
        ),
        other => panic!("expected a span item, got {other:?}"),
    }
}

fn spans_in(envelope: &Envelope) -> usize {
    let (headers, payload) = item_of(envelope);
    let n = payload["items"].as_array().map_or(0, Vec::len);
    assert_eq!(
        headers.get("item_count").and_then(Value::as_u64),
        Some(n as u64)
    );
    n
}

fn discarded_count(reports: &ClientReports, reason: DiscardReason) -> u64 {
    reports.take().map_or(0, |report| {
        report
            .discarded_events
            .iter()
            .filter(|d| d.reason == reason && d.category == DataCategory::Span)
            .map(|d| d.quantity)
            .sum()
    })
}

#[test]
fn one_envelope_per_trace_with_at_most_1000_spans() {
    let (buffer, _) = buffer();
    let (a, b) = (new_trace_id(), new_trace_id());
    let (link_a, link_b) = (link(a, "a"), link(b, "b"));
    for i in 0..2500 {
        buffer.push(span(a, i), None, &link_a);
        if i < 10 {
            buffer.push(span(b, i), None, &link_b);
        }
    }
    let mut sizes = Vec::new();
    while let Some(envelope) = buffer.take_batch(Instant::now(), true) {
        let (headers, payload) = item_of(&envelope);
        assert_eq!(
            headers.get("content_type").and_then(Value::as_str),
            Some(SPAN_V2_CONTENT_TYPE)
        );
        assert_eq!(payload["version"], 2);
        let items = payload["items"].as_array().expect("items");
        let trace = items[0]["trace_id"].as_str().expect("trace id").to_owned();
        assert!(
            items.iter().all(|s| s["trace_id"] == trace.as_str()),
            "one trace"
        );
        let header = envelope.headers().trace.as_ref().expect("trace header");
        assert_eq!(
            header.get("trace_id").and_then(Value::as_str),
            Some(trace.as_str())
        );
        sizes.push(items.len());
    }
    // The oldest trace first, in envelopes of 1,000.
    assert_eq!(sizes, [1000, 1000, 500, 10]);
    assert!(buffer.is_empty());
    assert_eq!(buffer.next_deadline(), None);
}

#[test]
fn due_five_seconds_after_the_first_span_or_at_1000_spans() {
    let (buffer, _) = buffer();
    let trace = new_trace_id();
    let l = link(trace, "t");
    let before = Instant::now();
    buffer.push(span(trace, 0), None, &l);
    let deadline = buffer.next_deadline().expect("a span waits");
    assert!(deadline >= before + FLUSH_INTERVAL && deadline <= Instant::now() + FLUSH_INTERVAL);
    assert!(buffer
        .take_batch(deadline - Duration::from_millis(1), false)
        .is_none());
    let envelope = buffer.take_batch(deadline, false).expect("due by time");
    assert_eq!(spans_in(&envelope), 1);
    // By count: 1,000 spans are due at once.
    for i in 0..999 {
        buffer.push(span(trace, i), None, &l);
    }
    assert!(
        buffer.take_batch(Instant::now(), false).is_none(),
        "999 wait"
    );
    buffer.push(span(trace, 999), None, &l);
    let envelope = buffer
        .take_batch(Instant::now(), false)
        .expect("due by count");
    assert_eq!(spans_in(&envelope), 1000);
    assert!(buffer.take_batch(Instant::now(), false).is_none());
}

#[test]
fn due_at_5_mib_each_envelope_within_it_and_never_over_10_mib() {
    let (buffer, reports) = buffer();
    let trace = new_trace_id();
    let l = link(trace, "t");
    // 1 MiB spans: the fifth makes 5 MiB due; ten fill the buffer; more are dropped.
    let one = 1024 * 1024 - 400;
    for _ in 0..4 {
        buffer.push(big_span(trace, one), None, &l);
    }
    assert!(
        buffer.take_batch(Instant::now(), false).is_none(),
        "under 5 MiB"
    );
    for _ in 0..8 {
        buffer.push(big_span(trace, one), None, &l);
    }
    let kept = buffer.len();
    assert!(kept <= 10, "{kept} spans of 1 MiB kept");
    assert_eq!(
        discarded_count(&reports, DiscardReason::BufferOverflow),
        12 - kept as u64
    );
    let mut taken = 0;
    while let Some(envelope) = buffer.take_batch(Instant::now(), false) {
        let bytes = match envelope.items().next() {
            Some(EnvelopeItem::Raw(raw)) => raw.payload.len(),
            _ => unreachable!(),
        };
        assert!(
            bytes <= FLUSH_BYTES + 64 * 1024,
            "{bytes} bytes in one envelope"
        );
        taken += spans_in(&envelope);
    }
    // Once due, a flush goes on until the buffer is empty.
    assert_eq!(taken, kept);
    assert!(buffer.is_empty());
}

#[test]
fn the_trace_header_is_frozen_when_the_first_envelope_of_the_trace_is_made() {
    let (buffer, _) = buffer();
    let trace = new_trace_id();
    let l = link(trace, "first name");
    buffer.push(span(trace, 0), None, &l);
    let first = buffer.take_batch(Instant::now(), true).expect("forced");
    let transaction = |e: &Envelope| {
        e.headers()
            .trace
            .as_ref()
            .and_then(|h| h.get("transaction")?.as_str().map(str::to_owned))
    };
    assert_eq!(transaction(&first).as_deref(), Some("first name"));
    l.set_name("second name".into(), TransactionSource::Route);
    buffer.push(span(trace, 1), None, &l);
    let second = buffer.take_batch(Instant::now(), true).expect("forced");
    assert_eq!(
        transaction(&second).as_deref(),
        Some("first name"),
        "frozen"
    );
    // A URL name never goes into the sampling context.
    let l = link(new_trace_id(), "/users/42");
    l.set_name("/users/42".into(), TransactionSource::Url);
    assert!(l.dsc().transaction.is_none());
}

#[test]
fn the_process_hook_runs_on_the_thread_that_takes_the_batch() {
    let reports = Arc::new(ClientReports::default());
    let buffer = SpanBuffer::new(
        reports,
        None,
        Some(Box::new(|span: &mut SpanV2, link: &SegmentLink| {
            span.attributes.insert(
                "taken.on".into(),
                thread::current().name().unwrap_or("?").into(),
            );
            span.attributes
                .insert("segment".into(), link.name().0.into());
        })),
    );
    let trace = new_trace_id();
    let l = link(trace, "seg");
    let mut record = span(trace, 0);
    record.op = "db.query".into();
    record.origin = Some("auto.db".into());
    buffer.push(
        record,
        Some(&Arc::new(SpanThread {
            id: 7,
            name: Some("main".into()),
        })),
        &l,
    );
    let taker = thread::Builder::new()
        .name("taker".into())
        .spawn(move || buffer.take_batch(Instant::now(), true))
        .expect("spawn")
        .join()
        .expect("join")
        .expect("forced");
    let (_, payload) = item_of(&taker);
    let attributes = &payload["items"][0]["attributes"];
    assert_eq!(attributes["taken.on"]["value"], "taker");
    assert_eq!(attributes["segment"]["value"], "seg");
    assert_eq!(attributes["sentry.op"]["value"], "db.query");
    assert_eq!(attributes["sentry.origin"]["value"], "auto.db");
    assert_eq!(attributes["thread.id"]["value"], "7");
    assert_eq!(attributes["thread.name"]["value"], "main");
}

/// Spans of one trace from two threads and two segments, interleaved: each keeps its own
/// thread and segment although the buffer stores them only when they change, also when the
/// trace is split over two envelopes.
#[test]
fn each_span_keeps_its_thread_and_segment_across_envelopes() {
    let buffer = SpanBuffer::new(
        Arc::new(ClientReports::default()),
        None,
        Some(Box::new(|span: &mut SpanV2, link: &SegmentLink| {
            span.attributes
                .insert("segment".into(), link.name().0.into());
        })),
    );
    let trace = new_trace_id();
    let (seg_a, seg_b) = (link(trace, "a"), link(trace, "b"));
    let threads = [1, 2].map(|id| Arc::new(SpanThread { id, name: None }));
    // (segment, thread) of span i: runs of equal values, changes in each field alone.
    let expected = |i: usize| -> (&'static str, Option<u64>) {
        let segment = if (i / 300) % 2 == 0 { "a" } else { "b" };
        let thread = match (i / 7) % 3 {
            0 => Some(1),
            1 => Some(2),
            _ => None,
        };
        (segment, thread)
    };
    let total = MAX_SPANS_PER_ENVELOPE + 500;
    for i in 0..total {
        let (segment, thread) = expected(i);
        let l = if segment == "a" { &seg_a } else { &seg_b };
        let thread = thread.map(|id| &threads[usize::try_from(id - 1).unwrap_or(0)]);
        buffer.push(span(trace, i), thread, l);
    }
    let mut seen = 0;
    while let Some(envelope) = buffer.take_batch(Instant::now(), true) {
        let (_, payload) = item_of(&envelope);
        for item in payload["items"].as_array().expect("items") {
            let (segment, thread) = expected(seen);
            assert_eq!(item["name"], format!("span {seen}"));
            assert_eq!(
                item["attributes"]["segment"]["value"], segment,
                "span {seen}"
            );
            match thread {
                Some(id) => {
                    assert_eq!(item["attributes"]["thread.id"]["value"], id.to_string())
                }
                None => assert!(item["attributes"].get("thread.id").is_none(), "span {seen}"),
            }
            seen += 1;
        }
    }
    assert_eq!(seen, total);
}

fn worker_with_spans(
    script: Vec<SendOutcome>,
) -> (Sent, crate::transport::TransportWorker, Arc<SpanBuffer>) {
    let mut options = options(100);
    let spans = Arc::new(SpanBuffer::new(
        Arc::clone(&options.client_reports),
        None,
        None,
    ));
    options.spans = Some(Arc::clone(&spans));
    options.client_report_interval = Duration::from_secs(60);
    let (sent, worker) = spawn_scripted(script, &options);
    (sent, worker, spans)
}

#[test]
fn a_full_buffer_wakes_the_idle_worker_and_flush_takes_the_rest() {
    let (sent, worker, spans) = worker_with_spans(vec![]);
    thread::sleep(Duration::from_millis(50)); // idle
    let trace = new_trace_id();
    let l = link(trace, "t");
    for i in 0..FLUSH_SPANS {
        spans.push(span(trace, i), None, &l);
    }
    let elapsed = wait_until(|| !sent.is_empty());
    assert!(elapsed < Duration::from_secs(2), "batch took {elapsed:?}");
    assert_eq!(count_items(&sent.envelopes(), &ItemType::Span), 1);
    spans.push(span(trace, 0), None, &l);
    assert!(worker.flush(LONG));
    assert!(spans.is_empty());
    assert_eq!(count_items(&sent.envelopes(), &ItemType::Span), 2);
    spans.push(span(trace, 1), None, &l);
    assert!(worker.shutdown(LONG));
    assert_eq!(
        count_items(&sent.envelopes(), &ItemType::Span),
        3,
        "close drains"
    );
}

#[test]
fn rate_limited_and_failed_spans_are_counted_per_span() {
    let (sent, worker, spans) = worker_with_spans(vec![rate_limited("60:span")]);
    let trace = new_trace_id();
    let l = link(trace, "t");
    spans.push(span(trace, 0), None, &l);
    assert!(worker.flush(LONG)); // the 429
    for i in 0..3 {
        spans.push(span(trace, i), None, &l);
    }
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    assert!(worker.shutdown(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Span
        ),
        3
    );
    assert_eq!(count_items(&envelopes, &ItemType::Span), 1);
}

#[test]
fn spans_lost_to_a_network_error_are_counted() {
    let (sent, worker, spans) =
        worker_with_spans(vec![SendOutcome::NetworkError("refused".into())]);
    let trace = new_trace_id();
    let l = link(trace, "t");
    for i in 0..4 {
        spans.push(span(trace, i), None, &l);
    }
    assert!(worker.flush(LONG)); // lost
    worker.send_envelope(event_envelope()); // carries the report
    assert!(worker.flush(LONG));
    assert!(worker.shutdown(LONG));
    assert_eq!(
        discarded(
            &sent.envelopes(),
            DiscardReason::NetworkError,
            DataCategory::Span
        ),
        4
    );
}

#[test]
fn ids_and_spans_are_distinct_per_push() {
    // The estimated size grows with the span's content.
    let trace = new_trace_id();
    assert!(big_span(trace, 1000).estimated_size() > span(trace, 0).estimated_size() + 900);
    assert_ne!(SpanId::default(), new_span_id());
}
