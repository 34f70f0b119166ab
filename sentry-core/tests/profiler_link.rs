//! Transactions and spans recorded while a continuous profiler runs name it and their threads.

use sentry_core::profiling::{self, ProfilerId, RootSpanHooks};
use sentry_core::protocol::Context;
use sentry_core::test::with_captured_transactions_options;
use sentry_core::{ClientOptions, TransactionContext};
use std::sync::atomic::{AtomicUsize, Ordering};

static STARTED: AtomicUsize = AtomicUsize::new(0);
static FINISHED: AtomicUsize = AtomicUsize::new(0);

fn started() {
    STARTED.fetch_add(1, Ordering::SeqCst);
}
fn finished() {
    FINISHED.fetch_add(1, Ordering::SeqCst);
}

// One test: the profiler link is process-wide state.
#[test]
fn transactions_name_the_running_profiler_and_nothing_without_one() {
    without_a_profiler_nothing_is_added();
    a_transaction_carries_the_profiler_id_and_its_spans_their_thread();
}

fn a_transaction_carries_the_profiler_id_and_its_spans_their_thread() {
    let id = ProfilerId::new();
    profiling::set_active_profiler(Some(id));
    profiling::set_root_span_hooks(Some(RootSpanHooks {
        first_started: started,
        last_finished: finished,
    }));
    let options = ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    };
    let transactions = with_captured_transactions_options(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("job", "task"));
        assert_eq!(profiling::running_root_spans(), 1);
        let _tx = tx.enter();
        sentry_core::start_span("db.query", "SELECT 1").finish();
    });
    profiling::set_root_span_hooks(None);
    profiling::set_active_profiler(None);

    assert_eq!(STARTED.load(Ordering::SeqCst), 1);
    assert_eq!(FINISHED.load(Ordering::SeqCst), 1);
    assert_eq!(profiling::running_root_spans(), 0);
    let tx = &transactions[0];
    let Some(Context::Other(profile)) = tx.contexts.get("profile") else {
        panic!("no profile context: {:?}", tx.contexts);
    };
    assert_eq!(
        profile.get("profiler_id").and_then(|v| v.as_str()),
        Some(id.to_string().as_str())
    );
    let (thread_id, _) = profiling::current_thread();
    let span = &tx.spans[0];
    assert_eq!(
        span.data.get("thread.id").and_then(|v| v.as_str()),
        Some(thread_id.to_string().as_str())
    );
    let Some(Context::Trace(trace)) = tx.contexts.get("trace") else {
        panic!("no trace context");
    };
    assert!(trace.data.contains_key("thread.id"));
}

fn without_a_profiler_nothing_is_added() {
    let options = ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    };
    let transactions = with_captured_transactions_options(options, || {
        let tx = sentry_core::start_transaction(TransactionContext::new("job", "task"));
        let _tx = tx.enter();
        sentry_core::start_span("db.query", "SELECT 1").finish();
    });
    assert!(!transactions[0].contexts.contains_key("profile"));
    assert!(!transactions[0].spans[0].data.contains_key("thread.id"));
}
