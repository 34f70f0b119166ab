//! Transactions and spans through the real pipeline: sampling, parentage, the trace of events,
//! the dynamic sampling context, propagation, and what is counted when they are dropped.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{
    Context, DataCategory, DiscardReason, Event, SpanStatus, TransactionSource,
};
use sentry_core::test::{with_isolated_client, Discarded};
use sentry_core::{ClientOptions, Level, TracePropagationTargets, TransactionContext};

/// A client of its own, bound to new scopes; `f` runs inside them.
fn run(options: ClientOptions, f: impl FnOnce()) -> (Vec<Envelope>, Discarded) {
    with_isolated_client(options, f)
}

fn traced() -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    }
}

fn transactions(envelopes: &[Envelope]) -> Vec<(&Envelope, &Event)> {
    envelopes
        .iter()
        .flat_map(|e| {
            e.items().filter_map(move |item| match item {
                EnvelopeItem::Transaction(tx) => Some((e, &**tx)),
                _ => None,
            })
        })
        .collect()
}

fn errors(envelopes: &[Envelope]) -> Vec<(&Envelope, &Event)> {
    envelopes
        .iter()
        .flat_map(|e| {
            e.items().filter_map(move |item| match item {
                EnvelopeItem::Event(ev) => Some((e, &**ev)),
                _ => None,
            })
        })
        .collect()
}

fn trace_of(event: &Event) -> &sentry_core::protocol::TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("no trace context: {other:?}"),
    }
}

fn header<'a>(envelope: &'a Envelope, key: &str) -> Option<&'a str> {
    envelope.headers().trace.as_ref()?.get(key)?.as_str()
}

#[test]
fn a_transaction_with_nested_spans_and_an_error_inside() {
    let (envelopes, _) = run(traced(), || {
        let tx = sentry_core::start_transaction(
            TransactionContext::new("checkout", "http.server")
                .with_source(TransactionSource::Route),
        )
        .enter();
        sentry_core::set_tag("region", "eu");
        sentry_core::with_span("db.query", "SELECT 1", |span| {
            span.set_data("db.system", "postgresql");
            let inner = sentry_core::start_span("cache.get", "user:42").enter();
            inner.set_status(SpanStatus::NotFound);
            sentry_core::capture_message("inside", Level::Warning);
        });
        tx.set_measurement("items", 3.0, sentry_core::protocol::MeasurementUnit::None);
    });
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    let (envelope, tx) = txs[0];
    let root = trace_of(tx);
    assert_eq!(tx.transaction.as_deref(), Some("checkout"));
    assert_eq!(
        tx.transaction_info.as_ref().unwrap().source,
        TransactionSource::Route
    );
    assert_eq!(root.op.as_deref(), Some("http.server"));
    assert_eq!(root.status, Some(SpanStatus::Ok));
    assert_eq!(tx.tags["region"], "eu");
    assert!(tx.breadcrumbs.is_empty());
    assert_eq!(tx.spans.len(), 2);
    let db = tx
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("db.query"))
        .unwrap();
    let cache = tx
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some("cache.get"))
        .unwrap();
    assert_eq!(db.parent_span_id, Some(root.span_id));
    assert_eq!(cache.parent_span_id, Some(db.span_id));
    assert_eq!(cache.status, Some(SpanStatus::NotFound));
    assert_eq!(db.data["db.system"].as_str(), Some("postgresql"));
    assert!(tx.spans.iter().all(|s| s.trace_id == root.trace_id));
    assert!(tx.measurements.contains_key("items"));
    assert!(tx.start_timestamp.unwrap() <= tx.timestamp);

    // The DSC of the head, frozen when the error left.
    assert_eq!(header(envelope, "sampled"), Some("true"));
    assert_eq!(header(envelope, "transaction"), Some("checkout"));
    assert_eq!(header(envelope, "public_key"), Some("public"));
    assert_eq!(header(envelope, "org_id"), Some("1"));
    assert_eq!(
        header(envelope, "trace_id"),
        Some(&*root.trace_id.to_string())
    );

    let errs = errors(&envelopes);
    assert_eq!(errs.len(), 1);
    let (err_envelope, err) = errs[0];
    let err_trace = trace_of(err);
    assert_eq!(err_trace.trace_id, root.trace_id);
    assert_eq!(err_trace.span_id, cache.span_id);
    assert_eq!(err_envelope.headers().trace, envelope.headers().trace);
}

#[test]
fn sampled_out_transactions_cost_nothing_and_are_counted() {
    let options = ClientOptions {
        traces_sample_rate: Some(0.0),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        assert!(!tx.is_sampled());
        for _ in 0..5 {
            sentry_core::start_span("child", "c").finish();
        }
        assert_eq!(
            sentry_core::get_traceparent().unwrap(),
            format!("{}-{}-0", tx.trace_id().unwrap(), tx.span_id().unwrap())
        );
    });
    assert!(transactions(&envelopes).is_empty());
    assert!(reports.contains(&(DiscardReason::SampleRate, DataCategory::Transaction, 1)));
    assert!(reports.contains(&(DiscardReason::SampleRate, DataCategory::Span, 6)));
}

#[test]
fn sample_rate_never_applies_to_transactions() {
    let options = ClientOptions {
        sample_rate: 0.0,
        traces_sample_rate: Some(1.0),
        ..Default::default()
    };
    let (envelopes, _) = run(options, || {
        sentry_core::start_transaction(TransactionContext::new("t", "task")).finish();
    });
    assert_eq!(transactions(&envelopes).len(), 1);
}

#[test]
fn at_most_1000_spans_are_recorded() {
    let (envelopes, reports) = run(traced(), || {
        let _tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        for _ in 0..1005 {
            sentry_core::start_span("s", "x").finish();
        }
    });
    assert_eq!(transactions(&envelopes)[0].1.spans.len(), 1000);
    assert!(reports.contains(&(DiscardReason::BufferOverflow, DataCategory::Span, 5)));
}

#[test]
fn before_send_transaction_sees_transactions_and_before_send_does_not() {
    let before_send_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&before_send_calls);
    let options = ClientOptions {
        before_send: Some(Arc::new(move |event, _| {
            calls.fetch_add(1, Ordering::SeqCst);
            Some(event)
        })),
        before_send_transaction: Some(Arc::new(|mut tx, _| {
            if tx.transaction.as_deref() == Some("drop me") {
                return None;
            }
            tx.tags.insert("seen".into(), "yes".into());
            Some(tx)
        })),
        ..traced()
    };
    let (envelopes, reports) = run(options, || {
        let keep = sentry_core::start_transaction(TransactionContext::new("keep", "task"));
        keep.start_child("a", "b").finish();
        keep.finish();
        let drop = sentry_core::start_transaction(TransactionContext::new("drop me", "task"));
        drop.start_child("a", "b").finish();
        drop.start_child("a", "b").finish();
        drop.finish();
    });
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    assert_eq!(txs[0].1.tags["seen"], "yes");
    assert_eq!(before_send_calls.load(Ordering::SeqCst), 0);
    assert!(reports.contains(&(DiscardReason::BeforeSend, DataCategory::Transaction, 1)));
    assert!(reports.contains(&(DiscardReason::BeforeSend, DataCategory::Span, 3)));
}

/// A transaction's hooks may use its root span: it is not locked while the transaction is
/// sent (the hook's write comes too late to be sent, and does not block).
#[test]
fn before_send_transaction_may_touch_the_root_span() {
    let root: Arc<std::sync::Mutex<Option<sentry_core::Span>>> = Arc::default();
    let in_hook = Arc::clone(&root);
    let options = ClientOptions {
        before_send_transaction: Some(Arc::new(move |tx, _| {
            if let Some(span) = in_hook.lock().ok().and_then(|s| s.clone()) {
                span.set_tag("late", "yes");
                assert!(span.is_sampled());
            }
            Some(tx)
        })),
        ..traced()
    };
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (envelopes, _) = run(options, || {
            let tx = sentry_core::start_transaction(TransactionContext::new("t", "task"));
            *root.lock().expect("slot") = Some(tx.clone());
            tx.finish();
            root.lock().expect("slot").take();
        });
        let _ = done.send(transactions(&envelopes).len());
    });
    let sent = finished
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the transaction was sent without deadlocking on its root span");
    assert_eq!(sent, 1);
}

#[test]
fn without_tracing_events_still_carry_the_trace() {
    let (envelopes, _) = run(ClientOptions::default(), || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task"));
        assert!(!tx.is_active());
        // Neither an explicit decision nor a sampled caller turns tracing on.
        let forced = TransactionContext::new("t", "task").with_sampled(true);
        assert!(!sentry_core::start_transaction(forced).is_active());
        sentry_core::Scopes::current().fork_isolation().bind(|| {
            let continued = sentry_core::continue_trace(INCOMING)
                .with_name("t")
                .with_op("task");
            assert!(!sentry_core::start_transaction(continued).is_active());
        });
        sentry_core::capture_message("a", Level::Info);
        sentry_core::capture_message("b", Level::Info);
    });
    assert!(transactions(&envelopes).is_empty());
    let errs = errors(&envelopes);
    assert_eq!(errs.len(), 2);
    let (a, b) = (trace_of(errs[0].1), trace_of(errs[1].1));
    assert_eq!(a.trace_id, b.trace_id);
    let envelope = errs[0].0;
    assert_eq!(header(envelope, "trace_id"), Some(&*a.trace_id.to_string()));
    assert!(header(envelope, "sample_rand").is_some());
    assert_eq!(header(envelope, "sampled"), None);
    assert_eq!(header(envelope, "sample_rate"), None);
    assert_eq!(header(envelope, "transaction"), None);
}

const INCOMING: [(&str, &str); 2] = [
    (
        "sentry-trace",
        "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
    ),
    (
        "baggage",
        "other=x,sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-public_key=upstream,\
         sentry-sample_rate=0.5,sentry-sample_rand=0.25,sentry-sampled=true,sentry-org_id=1,\
         sentry-transaction=GET%20%2Fhome",
    ),
];

#[test]
fn an_incoming_trace_is_continued_and_its_dsc_passed_on_unchanged() {
    let (envelopes, _) = run(traced(), || {
        let ctx = sentry_core::continue_trace(INCOMING)
            .with_name("GET /api")
            .with_op("http.server");
        assert_eq!(ctx.parent_sampled(), Some(true));
        let _tx = sentry_core::start_transaction(ctx).enter();
        let headers = sentry_core::trace_headers("https://downstream.example/x");
        let baggage = headers.baggage().unwrap();
        assert!(baggage.contains("sentry-sample_rand=0.25"), "{baggage}");
        assert!(baggage.contains("sentry-public_key=upstream"), "{baggage}");
        assert!(
            !baggage.contains("other=x"),
            "third-party entries are not forwarded"
        );
        sentry_core::capture_message("in the continued trace", Level::Info);
    });
    let (envelope, tx) = transactions(&envelopes)[0];
    let root = trace_of(tx);
    assert_eq!(
        root.trace_id.to_string(),
        "771a43a4192642f0b136d5159a501700"
    );
    assert_eq!(root.parent_span_id.unwrap().to_string(), "b0e6f15b45c36b12");
    assert_eq!(header(envelope, "public_key"), Some("upstream"));
    assert_eq!(header(envelope, "transaction"), Some("GET /home"));
    assert_eq!(header(envelope, "sample_rand"), Some("0.250000"));
    let (err_envelope, _) = errors(&envelopes)[0];
    assert_eq!(err_envelope.headers().trace, envelope.headers().trace);
}

#[test]
fn a_trace_of_another_organization_is_not_continued() {
    let options = ClientOptions {
        org_id: Some("2".into()),
        ..traced()
    };
    let (envelopes, _) = run(options, || {
        let ctx = sentry_core::continue_trace(INCOMING)
            .with_name("x")
            .with_op("y");
        sentry_core::start_transaction(ctx).finish();
    });
    let (envelope, tx) = transactions(&envelopes)[0];
    assert_ne!(
        trace_of(tx).trace_id.to_string(),
        "771a43a4192642f0b136d5159a501700"
    );
    assert_eq!(trace_of(tx).parent_span_id, None);
    assert_eq!(header(envelope, "org_id"), Some("2"));
}

#[test]
fn strict_continuation_refuses_a_trace_without_an_org_id() {
    let incoming = [(
        "sentry-trace",
        "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
    )];
    for (strict, continued) in [(false, true), (true, false)] {
        let options = ClientOptions {
            strict_trace_continuation: strict,
            ..traced()
        };
        let (envelopes, _) = run(options, || {
            sentry_core::start_transaction(TransactionContext::continue_from_headers(
                "x", "y", incoming,
            ))
            .finish();
        });
        let (_, tx) = transactions(&envelopes)[0];
        let same = trace_of(tx).trace_id.to_string() == "771a43a4192642f0b136d5159a501700";
        assert_eq!(same, continued, "strict = {strict}");
    }
}

#[test]
fn propagation_targets_and_traceparent() {
    let options = ClientOptions {
        trace_propagation_targets: TracePropagationTargets::from_iter(["internal.example"]),
        propagate_traceparent: true,
        ..traced()
    };
    run(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        assert!(sentry_core::trace_headers("https://public.example/").is_empty());
        let headers = sentry_core::trace_headers("https://internal.example/v1");
        let names: Vec<_> = headers.iter().map(|(name, _)| name).collect();
        assert_eq!(names, ["sentry-trace", "baggage", "traceparent"]);
        assert_eq!(
            headers.traceparent().unwrap(),
            format!("00-{}-{}-01", tx.trace_id().unwrap(), tx.span_id().unwrap())
        );
        let merged = headers
            .baggage_merged_with(Some("vendor=1,sentry-old=2"))
            .unwrap();
        assert!(merged.starts_with("vendor=1,"), "{merged}");
        assert!(!merged.contains("sentry-old"), "{merged}");
    });
}

#[test]
fn a_span_ended_by_a_panic_is_an_internal_error() {
    let (envelopes, _) = run(traced(), || {
        let _tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
        let result = std::panic::catch_unwind(|| {
            let _span = sentry_core::start_span("work", "w").enter();
            panic!("boom");
        });
        assert!(result.is_err());
    });
    let (_, tx) = transactions(&envelopes)[0];
    assert_eq!(tx.spans[0].status, Some(SpanStatus::InternalError));
}

#[test]
fn the_sampler_gets_the_context_and_its_rate_goes_in_the_dsc() {
    let options = ClientOptions {
        traces_sampler: Some(Arc::new(|ctx| {
            if ctx.name() == "health" {
                0.0
            } else {
                ctx.custom()
                    .get("rate")
                    .and_then(|v| v.as_u64())
                    .map_or(1.0, |r| r as f64)
            }
        })),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        sentry_core::start_transaction(TransactionContext::new("health", "http.server")).finish();
        sentry_core::start_transaction(
            TransactionContext::new("work", "task").with_custom_sampling_context("rate", 1_u64),
        )
        .finish();
    });
    let txs = transactions(&envelopes);
    assert_eq!(txs.len(), 1);
    assert_eq!(header(txs[0].0, "sample_rate"), Some("1"));
    assert!(reports.contains(&(DiscardReason::SampleRate, DataCategory::Transaction, 1)));
}

#[test]
fn transactions_finish_when_their_last_handle_goes() {
    let (envelopes, _) = run(traced(), || {
        let tx = sentry_core::start_transaction(TransactionContext::new("t", "task"));
        let child = tx.start_child("c", "d");
        drop(child);
        drop(tx);
    });
    let (_, tx) = transactions(&envelopes)[0];
    assert_eq!(tx.spans.len(), 1);
}

#[test]
fn a_new_transaction_context_joins_a_continued_trace_until_a_new_trace_starts() {
    let (envelopes, _) = run(traced(), || {
        let _ignored = sentry_core::continue_trace(INCOMING);
        sentry_core::start_transaction(TransactionContext::new("joins", "task")).finish();
        sentry_core::start_new_trace();
        sentry_core::start_transaction(TransactionContext::new("own", "task")).finish();
        sentry_core::start_transaction(TransactionContext::new("own too", "task")).finish();
    });
    let txs = transactions(&envelopes);
    let trace = |i: usize| trace_of(txs[i].1).trace_id.to_string();
    assert_eq!(trace(0), "771a43a4192642f0b136d5159a501700");
    assert_eq!(header(txs[0].0, "public_key"), Some("upstream"));
    assert_ne!(trace(1), trace(0));
    assert_ne!(trace(2), trace(1), "a trace started here is not joined");
}

#[test]
fn logs_inside_a_span_carry_its_ids_sampled_or_not() {
    for rate in [1.0, 0.0] {
        let options = ClientOptions {
            traces_sample_rate: Some(rate),
            enable_logs: true,
            ..Default::default()
        };
        let mut ids = None;
        let (envelopes, _) = run(options, || {
            let tx = sentry_core::start_transaction(TransactionContext::new("t", "task")).enter();
            let span = sentry_core::start_span("work", "w").enter();
            // An unsampled span has no id of its own: it answers with its transaction's.
            let span_id = if span.is_sampled() {
                span.span_id()
            } else {
                tx.span_id()
            };
            ids = Some((tx.trace_id().unwrap(), span_id.unwrap()));
            sentry_core::logger::info!("inside");
        });
        let logs: Vec<_> = envelopes
            .iter()
            .flat_map(Envelope::items)
            .filter_map(|item| match item {
                EnvelopeItem::Logs(logs) => Some(logs.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        let (trace_id, span_id) = ids.unwrap();
        assert_eq!(logs.len(), 1, "rate {rate}");
        assert_eq!(logs[0].trace_id, trace_id, "rate {rate}");
        assert_eq!(logs[0].span_id, Some(span_id), "rate {rate}");
    }
}
