//! The `tracing` bridge's spans: `tracing` spans become Sentry spans and transactions, with
//! their parents taken from `tracing`'s own span tree (also across the threads of a
//! multi-threaded runtime), the `sentry.*` overrides, the span filter, and events inside spans
//! carrying the span's trace.
//!
//! One subscriber with the default layer is installed for the whole process (tasks of the
//! tokio runtime run on its worker threads); tests that need another layer install it for their
//! own thread. Each test sends to its own recording client, bound in its own scopes.

mod support;

use std::sync::Once;

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{Context, Event, SpanId, SpanStatus, TraceContext, TraceId};
use sentry_core::test::with_captured_envelopes_options;
use sentry_core::{BindScopes, ClientOptions, Scopes, Value};
use sentry_log::tracing::LayerBuilder;
use tracing::level_filters::LevelFilter;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

fn install_global_subscriber() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing_subscriber::registry()
            .with(sentry_log::tracing::layer())
            .init();
    });
}

/// What a test sent: transactions and events.
#[derive(Debug, Default)]
struct Sent {
    transactions: Vec<Event>,
    events: Vec<Event>,
}

fn sent(envelopes: &[Envelope]) -> Sent {
    let mut sent = Sent::default();
    for item in envelopes.iter().flat_map(Envelope::items) {
        match item {
            EnvelopeItem::Transaction(tx) => sent.transactions.push((**tx).clone()),
            EnvelopeItem::Event(event) => sent.events.push((**event).clone()),
            _ => {}
        }
    }
    sent
}

/// Runs `f` with the process's subscriber and a recording client (sample rate `rate`) in
/// scopes of its own.
fn run(rate: f64, f: impl FnOnce()) -> Sent {
    install_global_subscriber();
    let options = ClientOptions {
        traces_sample_rate: Some(rate),
        ..Default::default()
    };
    let envelopes = with_captured_envelopes_options(options, || {
        Scopes::current().fork_isolation().bind(f);
    });
    sent(&envelopes)
}

/// Like [`run`] with the layer `builder` builds, for this thread only.
fn run_with(builder: LayerBuilder, f: impl FnOnce()) -> Sent {
    let subscriber = tracing_subscriber::registry().with(builder.build());
    run(1.0, || tracing::subscriber::with_default(subscriber, f))
}

fn trace_context(event: &Event) -> &TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("no trace context: {other:?}"),
    }
}

/// A span of a transaction, flattened: (name, op, span id, parent span id, data).
#[derive(Debug, Clone)]
struct Flat {
    name: String,
    op: String,
    id: SpanId,
    parent: Option<SpanId>,
    trace: TraceId,
    data: sentry_core::Map,
    status: Option<SpanStatus>,
    origin: Option<String>,
}

/// The transaction's root span first, then its child spans in the order they were sent.
fn flatten(tx: &Event) -> Vec<Flat> {
    let trace = trace_context(tx);
    let mut spans = vec![Flat {
        name: tx.transaction.clone().unwrap_or_default(),
        op: trace.op.clone().unwrap_or_default(),
        id: trace.span_id,
        parent: trace.parent_span_id,
        trace: trace.trace_id,
        data: trace.data.clone(),
        status: trace.status,
        origin: trace.origin.clone(),
    }];
    for span in &tx.spans {
        spans.push(Flat {
            name: span.description.clone().unwrap_or_default().into(),
            op: span.op.clone().unwrap_or_default().into(),
            id: span.span_id,
            parent: span.parent_span_id,
            trace: span.trace_id,
            data: span.data.clone(),
            status: span.status,
            origin: span.origin.clone().map(String::from),
        });
    }
    spans
}

fn only<'a>(spans: &'a [Flat], name: &str) -> &'a Flat {
    let found: Vec<_> = spans.iter().filter(|s| s.name == name).collect();
    assert_eq!(found.len(), 1, "one span {name:?} in {spans:#?}");
    found[0]
}

#[test]
fn nested_spans_are_one_transaction() {
    let sent = run(1.0, || {
        let request = tracing::info_span!("request", user = 7u64, admin = true);
        let _request = request.enter();
        let db = tracing::info_span!("db", table = "orders", rows = -3i64, ratio = 0.5);
        let _db = db.enter();
        tracing::warn_span!("row").in_scope(|| {
            // A status the application sets is kept.
            let row = sentry_core::get_current_span().expect("row is current");
            row.set_status(SpanStatus::NotFound);
        });
    });
    assert_eq!(sent.transactions.len(), 1, "{sent:#?}");
    let spans = flatten(&sent.transactions[0]);
    assert_eq!(spans.len(), 3);
    let (request, db, row) = (
        only(&spans, "request"),
        only(&spans, "db"),
        only(&spans, "row"),
    );
    assert_eq!(request.parent, None);
    assert_eq!(db.parent, Some(request.id));
    assert_eq!(row.parent, Some(db.id));
    assert!(spans.iter().all(|s| s.trace == request.trace));
    assert!(spans.iter().all(|s| s.op == "function"));
    assert!(spans
        .iter()
        .all(|s| s.origin.as_deref() == Some("auto.tracing")));
    assert_eq!(request.status, Some(SpanStatus::Ok));
    assert_eq!(db.status, Some(SpanStatus::Ok));
    assert_eq!(row.status, Some(SpanStatus::NotFound));
    assert_eq!(request.data["user"], Value::U64(7));
    assert_eq!(request.data["admin"], Value::Bool(true));
    assert_eq!(db.data["table"], Value::from("orders"));
    assert_eq!(db.data["rows"], Value::I64(-3));
    assert_eq!(db.data["ratio"], Value::F64(0.5));
    assert_eq!(db.data["code.namespace"], Value::from("tracing_spans"));
    assert!(db.data["code.filepath"]
        .as_str()
        .is_some_and(|f| f.ends_with("tracing_spans.rs")));
    assert!(db.data.contains_key("code.lineno"));
    assert!(!db.data.contains_key("tracing.target"));
}

#[test]
fn recorded_fields_become_data_and_rename() {
    let sent = run(1.0, || {
        let span = tracing::info_span!(
            "job",
            sentry.name = tracing::field::Empty,
            sentry.op = tracing::field::Empty,
            outcome = tracing::field::Empty,
        );
        span.record("outcome", "done");
        span.record("sentry.name", "nightly cleanup");
        span.record("sentry.op", "queue.task");
    });
    let spans = flatten(&sent.transactions[0]);
    assert_eq!(spans[0].name, "nightly cleanup");
    assert_eq!(spans[0].op, "queue.task");
    assert_eq!(spans[0].data["outcome"], Value::from("done"));
    assert!(!spans[0].data.contains_key("sentry.name"));
}

#[test]
fn sentry_fields_override_name_op_and_trace() {
    let trace = "0123456789abcdef0123456789abcdef";
    let parent = "fedcba9876543210";
    let sent = run(1.0, || {
        let outer = tracing::info_span!("outer");
        let _outer = outer.enter();
        let header = format!("{trace}-{parent}-1");
        let request = tracing::info_span!(
            target: "my_server::http",
            "request",
            sentry.name = "GET /orders",
            sentry.op = "http.server",
            sentry.trace = header.as_str(),
        );
        let _request = request.enter();
        tracing::info_span!("query", sentry.op = "db.query").in_scope(|| {});
    });
    assert_eq!(sent.transactions.len(), 2, "{sent:#?}");
    let request = sent
        .transactions
        .iter()
        .find(|t| t.transaction.as_deref() == Some("GET /orders"))
        .expect("the continued transaction");
    let spans = flatten(request);
    assert_eq!(spans[0].op, "http.server");
    assert_eq!(spans[0].trace.to_string(), trace);
    assert_eq!(
        spans[0].parent.map(|p| p.to_string()).as_deref(),
        Some(parent)
    );
    assert_eq!(
        spans[0].data["tracing.target"],
        Value::from("my_server::http")
    );
    let query = only(&spans, "query");
    assert_eq!(query.op, "db.query");
    assert_eq!(query.parent, Some(spans[0].id));
    let outer = sent
        .transactions
        .iter()
        .find(|t| t.transaction.as_deref() == Some("outer"))
        .expect("the outer transaction");
    assert_eq!(flatten(outer).len(), 1);
    assert_ne!(trace_context(outer).trace_id.to_string(), trace);
}

#[test]
fn events_inside_spans_carry_their_trace() {
    let sent = run(1.0, || {
        let request = tracing::info_span!("request");
        let _request = request.enter();
        tracing::error!("outside db");
        tracing::info_span!("db").in_scope(|| tracing::error!("inside db"));
    });
    let spans = flatten(&sent.transactions[0]);
    let (request, db) = (only(&spans, "request"), only(&spans, "db"));
    let event = |message: &str| {
        let event = sent
            .events
            .iter()
            .find(|e| e.message.as_deref() == Some(message))
            .unwrap_or_else(|| panic!("no event {message:?}"));
        let trace = trace_context(event);
        (trace.trace_id, trace.span_id)
    };
    assert_eq!(event("outside db"), (request.trace, request.id));
    assert_eq!(event("inside db"), (db.trace, db.id));
    // The error marks the span it happened in, not its parent.
    assert_eq!(request.status, Some(SpanStatus::InternalError));
    assert_eq!(db.status, Some(SpanStatus::InternalError));
    assert!(sent.events[0].contexts.contains_key("span:request"));
}

#[test]
fn an_explicit_parent_wins_over_the_entered_span() {
    let sent = run(1.0, || {
        let root = tracing::info_span!("root");
        let _root = root.enter();
        let a = tracing::info_span!("a");
        let b = tracing::info_span!("b");
        let _b = b.enter();
        tracing::info_span!(parent: &a, "c").in_scope(|| {});
    });
    let spans = flatten(&sent.transactions[0]);
    assert_eq!(only(&spans, "c").parent, Some(only(&spans, "a").id));
    assert_eq!(only(&spans, "b").parent, Some(only(&spans, "root").id));
}

#[test]
fn facade_spans_inside_a_tracing_span_are_its_children() {
    let sent = run(1.0, || {
        let request = tracing::info_span!("request");
        let _request = request.enter();
        let current = sentry_core::get_current_span().expect("the request span is current");
        assert!(current.is_transaction());
        sentry_core::start_span("cache.get", "user:7").finish();
    });
    let spans = flatten(&sent.transactions[0]);
    let cache = only(&spans, "user:7");
    assert_eq!(cache.op, "cache.get");
    assert_eq!(cache.parent, Some(only(&spans, "request").id));
}

#[test]
fn tracing_spans_go_under_a_current_sentry_transaction() {
    let sent = run(1.0, || {
        let tx =
            sentry_core::start_transaction(sentry_core::TransactionContext::new("manual", "task"));
        let guard = tx.clone().enter();
        tracing::info_span!("step").in_scope(|| {
            // An explicit root is a transaction of its own.
            tracing::info_span!(parent: None, "detached").in_scope(|| {});
        });
        drop(guard);
    });
    assert_eq!(sent.transactions.len(), 2, "{sent:#?}");
    let manual = sent
        .transactions
        .iter()
        .find(|t| t.transaction.as_deref() == Some("manual"))
        .expect("the manual transaction");
    let spans = flatten(manual);
    assert_eq!(only(&spans, "step").parent, Some(spans[0].id));
    assert!(sent
        .transactions
        .iter()
        .any(|t| t.transaction.as_deref() == Some("detached")));
}

#[test]
fn filtered_spans_do_not_break_parentage() {
    let builder = LayerBuilder::new()
        .max_level(LevelFilter::TRACE)
        .span_filter(|metadata| {
            metadata.name() != "refused" && *metadata.level() <= tracing::Level::INFO
        });
    let sent = run_with(builder, || {
        let root = tracing::info_span!("root");
        let _root = root.enter();
        let debug = tracing::debug_span!("verbose");
        let _debug = debug.enter();
        let refused = tracing::info_span!("refused");
        let _refused = refused.enter();
        tracing::info_span!("leaf").in_scope(|| tracing::error!("in leaf"));
    });
    assert_eq!(sent.transactions.len(), 1, "{sent:#?}");
    let spans = flatten(&sent.transactions[0]);
    let names: Vec<_> = spans.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["root", "leaf"]);
    assert_eq!(spans[1].parent, Some(spans[0].id));
    // The refused spans still give the event their contexts.
    let event = &sent.events[0];
    assert_eq!(trace_context(event).span_id, spans[1].id);
    assert!(event.contexts.contains_key("span:verbose"));
    assert!(event.contexts.contains_key("span:refused"));
}

#[test]
fn a_panicking_span_filter_records_nothing() {
    let builder = LayerBuilder::new().span_filter(|_| panic!("span filter bug"));
    let sent = run_with(builder, || {
        tracing::info_span!("root").in_scope(|| tracing::error!("still captured"));
    });
    assert!(sent.transactions.is_empty());
    assert_eq!(sent.events.len(), 1);
}

#[test]
fn unsampled_spans_send_nothing_and_are_counted() {
    let mut trace = None;
    let mut report = None;
    let sent = run(0.0, || {
        {
            let root = tracing::info_span!("root", big = "x".repeat(100));
            let _root = root.enter();
            tracing::info_span!("child").in_scope(|| {
                let current =
                    sentry_core::get_current_span().expect("the unsampled child is current");
                assert!(!current.is_sampled());
                trace = current.trace_id();
                tracing::error!("unsampled");
            });
            tracing::info_span!("sibling").in_scope(|| {});
        }
        report = Scopes::current().client().client_reports().take();
    });
    assert!(sent.transactions.is_empty());
    assert_eq!(sent.events.len(), 1);
    assert_eq!(Some(trace_context(&sent.events[0]).trace_id), trace);
    let dropped = |category: &str| -> u64 {
        report
            .iter()
            .flat_map(|r| &r.discarded_events)
            .filter(|d| d.reason.to_string() == "sample_rate" && d.category.to_string() == category)
            .map(|d| d.quantity)
            .sum()
    };
    assert_eq!(dropped("transaction"), 1);
    assert_eq!(dropped("span"), 3, "the root span and its two children");
}

#[test]
fn nested_unsampled_spans_keep_the_trace_current_in_any_exit_order() {
    let mut trace = None;
    let sent = run(0.0, || {
        // The test's scopes (its client), with no span current.
        let outer = Scopes::current();
        let root = tracing::info_span!("root");
        let entered_root = root.enter();
        trace = sentry_core::get_current_span().and_then(|s| s.trace_id());
        let a = tracing::info_span!("a");
        let b = tracing::info_span!(parent: &a, "b");
        let entered_a = a.enter();
        // `b` stands for the same transaction as `a`: entering it switches no scopes.
        let entered_b = b.enter();
        tracing::error!("in b");
        // Out of order: `a` is left while `b` stays entered, and `b` stays current.
        drop(entered_a);
        assert_eq!(
            sentry_core::get_current_span().and_then(|s| s.trace_id()),
            trace
        );
        tracing::error!("in b after a");
        drop(entered_b);
        // `b` entered on another thread, in the test's scopes, where no span is current.
        std::thread::scope(|threads| {
            threads.spawn(|| {
                outer.bind(|| {
                    let _b = b.enter();
                    tracing::error!("in b on another thread");
                })
            });
        });
        drop(entered_root);
        assert!(sentry_core::get_current_span().is_none());
    });
    assert!(trace.is_some());
    assert!(sent.transactions.is_empty());
    assert_eq!(sent.events.len(), 3);
    for event in &sent.events {
        assert_eq!(
            Some(trace_context(event).trace_id),
            trace,
            "{:?}",
            event.message
        );
    }
}

#[test]
fn out_of_order_exits_keep_the_right_span_current() {
    let sent = run(1.0, || {
        let a = tracing::info_span!("a");
        let b = tracing::info_span!(parent: &a, "b");
        let entered_a = a.enter();
        let entered_b = b.enter();
        let b_span = sentry_core::get_current_span().expect("b is current");
        drop(entered_a); // out of order
        let current = sentry_core::get_current_span().expect("b is still entered");
        assert_eq!(current.span_id(), b_span.span_id());
        tracing::error!("in b");
        drop(entered_b);
        assert!(sentry_core::get_current_span().is_none());
    });
    let spans = flatten(&sent.transactions[0]);
    assert_eq!(trace_context(&sent.events[0]).span_id, only(&spans, "b").id);
}

// --- a multi-threaded runtime -------------------------------------------------------------

#[tracing::instrument(skip(foreign))]
async fn handle(request: u32, foreign: Scopes) {
    for step in 0..3 {
        work(request, step).await;
    }
    // A task on any thread, under a span made here.
    let spawned = tracing::info_span!("spawned", request);
    tokio::spawn(
        leaf(request)
            .instrument(spawned)
            .bind_scopes(Scopes::current()),
    )
    .await
    .expect("the task ran");
    // A task that stays in this function's span.
    tokio::spawn(
        leaf(request)
            .in_current_span()
            .bind_scopes(Scopes::current()),
    )
    .await
    .expect("the task ran");
    // A task in this function's span but in scopes from elsewhere, with no current span: the
    // span of `leaf` is made inside them, and still goes under this function's span.
    tokio::spawn(
        async move { leaf(request).await }
            .bind_scopes(foreign)
            .in_current_span(),
    )
    .await
    .expect("the task ran");
}

#[tracing::instrument]
async fn work(request: u32, step: u32) {
    tokio::task::yield_now().await;
    let span = sentry_core::start_span("manual", &format!("facade {request}.{step}"));
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    span.finish();
    tokio::task::yield_now().await;
    tracing::error!(request, step, "failed step");
}

#[tracing::instrument]
async fn leaf(request: u32) {
    tokio::task::yield_now().await;
}

#[test]
fn instrumented_tasks_hop_threads_and_keep_their_parents() {
    const REQUESTS: u32 = 8;
    let sent = run(1.0, || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_time()
            .build()
            .expect("a runtime");
        let batch = tracing::info_span!("batch");
        let scopes = Scopes::current();
        let foreign = Scopes::current().fork_isolation();
        runtime.block_on(
            async {
                let tasks: Vec<_> = (0..REQUESTS)
                    .map(|r| {
                        tokio::spawn(handle(r, foreign.clone()).bind_scopes(Scopes::current()))
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("the task ran");
                }
            }
            .instrument(batch)
            .bind_scopes(scopes),
        );
        drop(runtime);
    });
    assert_eq!(sent.transactions.len(), 1, "{:#?}", sent.transactions);
    let spans = flatten(&sent.transactions[0]);
    // batch, per request: handle, 3 × (work + facade), spawned, 3 × leaf.
    assert_eq!(spans.len(), 1 + REQUESTS as usize * 11, "{spans:#?}");
    let batch = only(&spans, "batch");
    let request_of = |s: &Flat| s.data.get("request").and_then(Value::as_u64);
    let by_id = |id: Option<SpanId>| spans.iter().find(|s| Some(s.id) == id);
    for r in 0..u64::from(REQUESTS) {
        let of_r: Vec<_> = spans.iter().filter(|s| request_of(s) == Some(r)).collect();
        let handle = of_r.iter().find(|s| s.name == "handle").expect("handle");
        assert_eq!(handle.parent, Some(batch.id));
        let works: Vec<_> = of_r.iter().filter(|s| s.name == "work").collect();
        assert_eq!(works.len(), 3);
        for work in &works {
            assert_eq!(work.parent, Some(handle.id));
            // Each error event marked its own step.
            assert_eq!(work.status, Some(SpanStatus::InternalError));
            let step = work.data["step"].as_u64().expect("a step");
            let facade = only(&spans, &format!("facade {r}.{step}"));
            assert_eq!(facade.parent, Some(work.id));
        }
        let spawned = of_r.iter().find(|s| s.name == "spawned").expect("spawned");
        assert_eq!(spawned.parent, Some(handle.id));
        let leaves: Vec<_> = of_r.iter().filter(|s| s.name == "leaf").collect();
        assert_eq!(leaves.len(), 3);
        let mut parents: Vec<_> = leaves.iter().map(|l| l.parent).collect();
        parents.sort_by_key(|p| p.map(|p| p.to_string()));
        let mut expected = vec![Some(spawned.id), Some(handle.id), Some(handle.id)];
        expected.sort_by_key(|p| p.map(|p| p.to_string()));
        assert_eq!(parents, expected);
        assert!(by_id(handle.parent).is_some());
    }
    // Every error event carries the span of its step.
    assert_eq!(sent.events.len(), REQUESTS as usize * 3);
    for event in &sent.events {
        let trace = trace_context(event);
        let span = by_id(Some(trace.span_id)).expect("the event's span was sent");
        assert_eq!(span.name, "work");
        assert_eq!(trace.trace_id, batch.trace);
        assert_eq!(span.data["request"], event.extra["request"]);
        assert_eq!(span.data["step"], event.extra["step"]);
    }
}
