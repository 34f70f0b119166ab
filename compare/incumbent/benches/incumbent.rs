//! The official `sentry` crate (pinned in `Cargo.toml`) on the hot paths that
//! `cargo xtask compare` sets against the SDK's own benchmarks. Each row mirrors one of ours:
//!
//! | row here | ours |
//! |---|---|
//! | `incumbent/push_scope_drop` | `sentry-core` `scopes`: `enabled/fork_current_enter_drop`, `enabled/push_scope_drop` |
//! | `incumbent/with_scope_noop` | `sentry-core` `scopes`: `enabled/with_scope_noop` |
//! | `incumbent/with_scope_set_tag` | `sentry-core` `scopes`: `enabled/with_scope_set_tag` |
//! | `incumbent/add_breadcrumb` | `sentry-core` `scopes`: `enabled/add_breadcrumb` |
//! | `incumbent/capture_error` | `sentry-backtrace` `capture`: `calling_thread/capture_error_with_stack_deferred` |
//! | `incumbent/log_debug_filtered` | `sentry-log` `bridges`: `bridges/log_debug_filtered` |
//! | `incumbent/capture_message_10_tags_100_breadcrumbs` | `sentry-core` `scopes`: `enabled/capture_message_10_tags_100_breadcrumbs` |
//! | `incumbent/capture_error_attach_stacktrace` | `calling_thread/capture_error_with_stack_deferred` |
//! | `incumbent/child_span_start_finish` | `sentry-core` `tracing`: `tracing/child_span_start_finish` |
//! | `incumbent/tracing_span_sampled` | `sentry-log` `bridges`: `bridges/tracing_span_sampled` |
//!
//! The setup is ours: the same DSN, `sample_rate` 1, a transport that drops every envelope, and
//! the default integrations (stack processing, debug images, contexts, panics; no
//! `attach_stacktrace`, so `capture_error` sends no stack). `capture_error` runs first, on empty
//! scopes, as ours does in its own process; the last row captures errors again with
//! `attach_stacktrace`, the official crate's way to send an error with its stack (walked and
//! symbolicated on the calling thread).
//!
//! The span rows run last, with every transaction sampled: a child span of a transaction
//! started and finished (1,000 per transaction, as ours; the official crate's cheapest way,
//! `start_child` on the transaction itself, where ours reads the current span from the
//! scopes), and an `#[instrument]`ed call inside a `tracing` root span with the official
//! `tracing` layers installed as its documentation shows (`SpanLayer` and `LogLayer` at `INFO`) (100 per transaction, as ours with our layer). Starting and
//! sending the transactions is not timed on either side.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry::{Breadcrumb, ClientOptions, Envelope, TransactionContext, Transport};
use sentry::integrations::tracing::{LogLayer, SpanLayer};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

/// Drops every envelope, as the SDK's `DiscardTransport` does.
struct DiscardTransport;

impl Transport for DiscardTransport {
    fn send_envelope(&self, envelope: Envelope) {
        drop(envelope);
    }
}

#[inline(never)]
fn fail() -> std::num::ParseIntError {
    "x".parse::<u8>().unwrap_err()
}

/// The function of the `tracing` span row: its span is created, entered, exited and closed.
#[tracing::instrument]
fn instrumented(n: u64) -> u64 {
    black_box(n)
}

/// Times `iters` calls of [`instrumented`], 100 per transaction (a `tracing` root span), as
/// ours does.
fn spans_in_transactions(iters: u64) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(100);
        let root = tracing::info_span!("root");
        let entered = root.enter();
        let start = Instant::now();
        for i in 0..n {
            instrumented(i);
        }
        timed += start.elapsed();
        drop(entered);
        drop(root);
        left -= n;
    }
    timed
}

/// Times `iters` child spans started and finished, 1,000 per transaction, as ours does.
fn child_spans(iters: u64) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(1000);
        let tx = sentry::start_transaction(TransactionContext::new("bench", "task"));
        let start = Instant::now();
        for _ in 0..n {
            tx.start_child(black_box("db.query"), black_box("SELECT 1"))
                .finish();
        }
        timed += start.elapsed();
        tx.finish();
        left -= n;
    }
    timed
}

fn incumbent(c: &mut Criterion) {
    let logger = sentry::integrations::log::SentryLogger::new();
    log::set_boxed_logger(Box::new(logger)).expect("the only logger of this process");
    // As the official crate's documentation sets it up (ours sets the same level itself).
    log::set_max_level(log::LevelFilter::Info);

    let _guard = sentry::init(
        ClientOptions::new()
            .dsn("https://public@sentry.invalid/1")
            .transport(Arc::new(DiscardTransport))
            .sample_rate(1.0),
    );
    assert!(sentry::Hub::current()
        .client()
        .is_some_and(|c| c.is_enabled()));

    let mut group = c.benchmark_group("incumbent");
    let err = fail();
    group.bench_function("capture_error", |b| {
        b.iter(|| sentry::capture_error(black_box(&err)))
    });
    group.bench_function("push_scope_drop", |b| {
        b.iter(|| drop(black_box(sentry::Hub::current().push_scope())))
    });
    group.bench_function("with_scope_noop", |b| {
        b.iter(|| sentry::with_scope(|_| {}, || black_box(1)))
    });
    group.bench_function("with_scope_set_tag", |b| {
        b.iter(|| sentry::with_scope(|s| s.set_tag("key", "value"), || black_box(1)))
    });
    // The ring (100 breadcrumbs, the default of both) is full after the warm-up.
    group.bench_function("add_breadcrumb", |b| {
        b.iter(|| {
            sentry::add_breadcrumb(|| Breadcrumb {
                message: Some("clicked".into()),
                category: Some("ui".into()),
                ..Breadcrumb::default()
            })
        })
    });
    group.bench_function("log_debug_filtered", |b| {
        b.iter(|| log::debug!("cache miss for {}", black_box(42)))
    });
    // A service's usual capture: 10 tags and 100 breadcrumbs on the scopes, as ours sets them.
    for i in 0..10 {
        sentry::configure_scope(|scope| scope.set_tag(&format!("tag{i}"), format!("value{i}")));
    }
    for i in 0..100 {
        sentry::add_breadcrumb(Breadcrumb {
            message: Some(format!("breadcrumb {i}")),
            category: Some("bench".into()),
            ..Breadcrumb::default()
        });
    }
    group.bench_function("capture_message_10_tags_100_breadcrumbs", |b| {
        b.iter(|| sentry::capture_message(black_box("something happened"), sentry::Level::Info))
    });

    // What the official crate's users pay for an error with a stack: `attach_stacktrace` (its
    // only way to put one on `capture_error`'s event), on empty scopes again.
    sentry::configure_scope(|scope| scope.clear_breadcrumbs());
    let _guard = sentry::init(
        ClientOptions::new()
            .dsn("https://public@sentry.invalid/1")
            .transport(Arc::new(DiscardTransport))
            .sample_rate(1.0)
            .attach_stacktrace(true),
    );
    group.bench_function("capture_error_attach_stacktrace", |b| {
        b.iter(|| sentry::capture_error(black_box(&err)))
    });

    // Spans: every transaction sampled, the official `tracing` layer installed.
    let _guard = sentry::init(
        ClientOptions::new()
            .dsn("https://public@sentry.invalid/1")
            .transport(Arc::new(DiscardTransport))
            .sample_rate(1.0)
            .traces_sample_rate(1.0),
    );
    // As the official crate's documentation sets its layers up.
    tracing_subscriber::registry()
        .with(SpanLayer::new().with_filter(LevelFilter::INFO))
        .with(LogLayer::new().with_filter(LevelFilter::INFO))
        .init();
    group.bench_function("child_span_start_finish", |b| b.iter_custom(child_spans));
    group.bench_function("tracing_span_sampled", |b| {
        b.iter_custom(spans_in_transactions)
    });
    group.finish();
}

criterion_group!(benches, incumbent);
criterion_main!(benches);
