//! Spans a library starts through `sentry-minimal`, recorded by this crate: they are children
//! of the application's current span, with their data and status; unsampled, they cost no
//! allocation and nothing is sent.
//!
//! Its own test binary: a global allocator counts the allocations of the calling thread.
#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait; this test only counts and forwards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sentry_core::protocol::{Context, Event, SpanStatus, TraceContext, Value};
use sentry_core::test::with_captured_transactions_options;
use sentry_core::{ClientOptions, TransactionContext};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; the counter is a
// const-initialized thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_on_this_thread() -> usize {
    ALLOCATIONS.with(Cell::get)
}

/// A library function: it knows only the facade.
fn fetch_user(id: u32) -> Result<String, String> {
    sentry_minimal::with_span("db.query", "SELECT * FROM users WHERE id = ?", |span| {
        span.set_data("db.system", "sqlite");
        span.set_data("user.id", id);
        // A nested span, started (not entered) inside the first one.
        let cache = sentry_minimal::start_span("cache.get", "user");
        cache.set_data("cache.hit", false);
        cache.set_status(SpanStatus::NotFound);
        cache.finish();
        span.set_status(SpanStatus::Ok);
        Ok(format!("user {id}"))
    })
}

fn options(rate: f64) -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(rate),
        ..Default::default()
    }
}

fn trace_of(event: &Event) -> &TraceContext {
    match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace,
        other => panic!("no trace context: {other:?}"),
    }
}

fn span_by_op<'a>(transaction: &'a Event, op: &str) -> &'a sentry_core::protocol::Span {
    transaction
        .spans
        .iter()
        .find(|s| s.op.as_deref() == Some(op))
        .unwrap_or_else(|| panic!("no {op} span in {:?}", transaction.spans))
}

#[test]
fn facade_spans_are_children_of_the_current_span() {
    let transactions = with_captured_transactions_options(options(1.0), || {
        let _tx =
            sentry_core::start_transaction(TransactionContext::new("GET /user", "http.server"))
                .enter();
        assert_eq!(fetch_user(7).as_deref(), Ok("user 7"));
    });
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx.spans.len(), 2, "{:?}", tx.spans);

    let query = span_by_op(tx, "db.query");
    assert_eq!(
        query.description.as_deref(),
        Some("SELECT * FROM users WHERE id = ?")
    );
    assert_eq!(query.status, Some(SpanStatus::Ok));
    assert_eq!(query.data.get("db.system"), Some(&Value::from("sqlite")));
    assert!(query.data.contains_key("user.id"));
    assert_eq!(query.parent_span_id, Some(trace_of(tx).span_id));

    // `with_span` made the query current: the cache span is its child.
    let cache = span_by_op(tx, "cache.get");
    assert_eq!(cache.parent_span_id, Some(query.span_id));
    assert_eq!(cache.status, Some(SpanStatus::NotFound));
    assert_eq!(cache.data.get("cache.hit"), Some(&Value::from(false)));
    assert!(cache.timestamp <= query.timestamp);
}

#[test]
fn unsampled_facade_spans_allocate_nothing_and_send_nothing() {
    let transactions = with_captured_transactions_options(options(0.0), || {
        let _tx =
            sentry_core::start_transaction(TransactionContext::new("GET /user", "http.server"))
                .enter();
        // Warm up whatever the first call initializes lazily.
        drop(sentry_minimal::start_span("warm", "up"));
        let before = allocations_on_this_thread();
        let span = sentry_minimal::start_span("db.query", "SELECT 1");
        assert!(!span.is_recording());
        span.set_data("db.rows", 1);
        span.set_status(SpanStatus::Ok);
        span.finish();
        assert_eq!(allocations_on_this_thread() - before, 0);

        let recording = sentry_minimal::with_span("db.query", "SELECT 2", |span| {
            span.set_data("db.rows", 2);
            span.is_recording()
        });
        assert!(!recording);
        assert_eq!(fetch_user(1).as_deref(), Ok("user 1"));
    });
    assert!(transactions.is_empty(), "{transactions:?}");
}

#[test]
fn without_a_transaction_facade_spans_are_empty() {
    let transactions = with_captured_transactions_options(options(1.0), || {
        let span = sentry_minimal::start_span("db.query", "SELECT 1");
        assert!(!span.is_recording());
        span.finish();
        assert!(!sentry_minimal::with_span("task", "t", |span| span.is_recording()));
    });
    assert!(transactions.is_empty(), "{transactions:?}");
}
