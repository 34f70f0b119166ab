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

/// A span as the buffer receives it: an ended record named `span {i}`.
fn span(trace_id: TraceId, i: usize) -> StreamedRecord {
    let now = SystemTime::now();
    StreamedRecord {
        record: crate::span_record::SpanRecord::new(
            crate::protocol::SpanText::new(),
            format!("span {i}").into(),
            now,
        ),
        trace_id,
        span_id: new_span_id(),
        parent_span_id: None,
        end: now,
        segment_name: None,
        profiler_id: None,
    }
}

/// A record and its ending, as the span layer hands them to the buffer.
fn split(span: StreamedRecord) -> (crate::span_record::SpanRecord, Ending) {
    let StreamedRecord {
        record,
        trace_id,
        span_id,
        parent_span_id,
        end,
        segment_name,
        profiler_id: _,
    } = span;
    let ending = Ending {
        trace_id,
        span_id,
        parent_span_id,
        end,
        segment_name,
    };
    (record, ending)
}

/// Pushes a span as the span layer does (its record lent, the rest by value).
fn put(
    buffer: &SpanBuffer,
    span: StreamedRecord,
    thread: Option<&Arc<SpanThread>>,
    link: &Arc<SegmentLink>,
) {
    let (record, ending) = split(span);
    buffer.push(&mut Some(record), ending, thread, link, false);
}

fn big_span(trace_id: TraceId, bytes: usize) -> StreamedRecord {
    let mut span = span(trace_id, 0);
    span.record
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
        put(&buffer, span(a, i), None, &link_a);
        if i < 10 {
            put(&buffer, span(b, i), None, &link_b);
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
    put(&buffer, span(trace, 0), None, &l);
    let deadline = buffer.next_deadline().expect("a span waits");
    assert!(deadline >= before + FLUSH_INTERVAL && deadline <= Instant::now() + FLUSH_INTERVAL);
    assert!(buffer
        .take_batch(deadline - Duration::from_millis(1), false)
        .is_none());
    let envelope = buffer.take_batch(deadline, false).expect("due by time");
    assert_eq!(spans_in(&envelope), 1);
    // By count: 1,000 spans are due at once.
    for i in 0..999 {
        put(&buffer, span(trace, i), None, &l);
    }
    assert!(
        buffer.take_batch(Instant::now(), false).is_none(),
        "999 wait"
    );
    put(&buffer, span(trace, 999), None, &l);
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
        put(&buffer, big_span(trace, one), None, &l);
    }
    assert!(
        buffer.take_batch(Instant::now(), false).is_none(),
        "under 5 MiB"
    );
    for _ in 0..8 {
        put(&buffer, big_span(trace, one), None, &l);
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
    put(&buffer, span(trace, 0), None, &l);
    let first = buffer.take_batch(Instant::now(), true).expect("forced");
    let transaction = |e: &Envelope| {
        e.headers()
            .trace
            .as_ref()
            .and_then(|h| h.get("transaction")?.as_str().map(str::to_owned))
    };
    assert_eq!(transaction(&first).as_deref(), Some("first name"));
    l.set_name("second name".into(), TransactionSource::Route);
    put(&buffer, span(trace, 1), None, &l);
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
    record.record.op = "db.query".into();
    record.record.origin = Some("auto.db".into());
    put(
        &buffer,
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
        put(&buffer, span(trace, i), thread, l);
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
        put(&spans, span(trace, i), None, &l);
    }
    let elapsed = wait_until(|| !sent.is_empty());
    assert!(elapsed < Duration::from_secs(2), "batch took {elapsed:?}");
    assert_eq!(count_items(&sent.envelopes(), &ItemType::Span), 1);
    put(&spans, span(trace, 0), None, &l);
    assert!(worker.flush(LONG));
    assert!(spans.is_empty());
    assert_eq!(count_items(&sent.envelopes(), &ItemType::Span), 2);
    put(&spans, span(trace, 1), None, &l);
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
    put(&spans, span(trace, 0), None, &l);
    assert!(worker.flush(LONG)); // the 429
    for i in 0..3 {
        put(&spans, span(trace, i), None, &l);
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
        put(&spans, span(trace, i), None, &l);
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

/// A segment holds its spans until it has [`HANDOFF_SPANS`] of them or ends; the buffer counts
/// them as waiting all along, and a flush takes what the segments still hold.
#[test]
fn a_segment_hands_its_spans_over_in_chunks_and_when_it_ends() {
    let (buffer, _) = buffer();
    let trace = new_trace_id();
    let l = link(trace, "t");
    for i in 0..HANDOFF_SPANS - 1 {
        put(&buffer, span(trace, i), None, &l);
    }
    assert_eq!(buffer.lock().count, 0, "held by the segment");
    assert_eq!(buffer.len(), HANDOFF_SPANS - 1, "but waiting");
    assert!(buffer.next_deadline().is_some(), "the flush timer runs");
    put(&buffer, span(trace, HANDOFF_SPANS - 1), None, &l);
    assert_eq!(buffer.lock().count, HANDOFF_SPANS, "handed over");
    // The segment span hands over the rest at once.
    put(&buffer, span(trace, HANDOFF_SPANS), None, &l);
    let (record, ending) = split(span(trace, HANDOFF_SPANS + 1));
    buffer.push(&mut Some(record), ending, None, &l, true);
    assert_eq!(buffer.lock().count, HANDOFF_SPANS + 2);
    // A span held by a segment that already handed over goes with the next flush.
    put(&buffer, span(trace, HANDOFF_SPANS + 2), None, &l);
    let envelope = buffer.take_batch(Instant::now(), true).expect("forced");
    assert_eq!(spans_in(&envelope), HANDOFF_SPANS + 3);
    assert!(buffer.is_empty());
    assert_eq!(buffer.next_deadline(), None);
}

/// Due by time: a span its segment still holds is sent 5 seconds after it ended.
#[test]
fn held_spans_are_due_by_time() {
    let (buffer, _) = buffer();
    let trace = new_trace_id();
    let l = link(trace, "t");
    put(&buffer, span(trace, 0), None, &l);
    let deadline = buffer.next_deadline().expect("a span waits");
    assert!(buffer
        .take_batch(deadline - Duration::from_millis(1), false)
        .is_none());
    let envelope = buffer.take_batch(deadline, false).expect("due by time");
    assert_eq!(spans_in(&envelope), 1);
    // The segment is listed again with its next span.
    put(&buffer, span(trace, 1), None, &l);
    assert!(buffer.next_deadline().is_some());
    let envelope = buffer.take_batch(Instant::now(), true).expect("forced");
    assert_eq!(spans_in(&envelope), 1);
}

/// Threads ending spans of one segment and of their own while another flushes: every span
/// arrives once, in one envelope per trace.
#[test]
fn concurrent_segments_and_flushes_lose_and_repeat_no_span() {
    let (buffer, reports) = buffer();
    let buffer = Arc::new(buffer);
    let shared_trace = new_trace_id();
    let shared = link(shared_trace, "shared");
    let per_thread = 2_000;
    let threads = 4;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let taken = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let flusher = {
        let (buffer, stop, taken) = (Arc::clone(&buffer), Arc::clone(&stop), Arc::clone(&taken));
        thread::spawn(move || loop {
            let done = stop.load(std::sync::atomic::Ordering::Acquire);
            while let Some(envelope) = buffer.take_batch(Instant::now(), true) {
                let (_, payload) = item_of(&envelope);
                let items = payload["items"].as_array().expect("items").clone();
                let trace = items[0]["trace_id"].clone();
                assert!(items.iter().all(|s| s["trace_id"] == trace), "one trace");
                taken.lock().expect("names").extend(
                    items
                        .iter()
                        .map(|s| s["name"].as_str().unwrap_or("?").to_owned()),
                );
            }
            if done {
                break;
            }
            thread::yield_now();
        })
    };
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let (buffer, shared) = (Arc::clone(&buffer), Arc::clone(&shared));
            thread::spawn(move || {
                let own_trace = new_trace_id();
                let own = link(own_trace, "own");
                let me = Arc::new(SpanThread { id: t, name: None });
                for i in 0..per_thread {
                    let (trace, l) = if i % 2 == 0 {
                        (shared_trace, &shared)
                    } else {
                        (own_trace, &own)
                    };
                    let mut s = span(trace, 0);
                    s.record.name = format!("{t}/{i}").into();
                    put(&buffer, s, Some(&me), l);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.join().expect("worker");
    }
    stop.store(true, std::sync::atomic::Ordering::Release);
    flusher.join().expect("flusher");
    let mut names = taken.lock().expect("names").clone();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "no span twice");
    assert_eq!(names.len(), threads as usize * per_thread, "no span lost");
    assert_eq!(discarded_count(&reports, DiscardReason::BufferOverflow), 0);
}
