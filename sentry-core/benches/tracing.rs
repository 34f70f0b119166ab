//! The cost of tracing on the calling thread, with a transport that discards envelopes (the
//! worker's serialization and sending are not part of these numbers).
//!
//! Targets: a child span started and finished under a sampled transaction ≤ 150 ns, in both
//! trace lifecycles (`child_span_start_finish` and `child_span_start_finish_stream`); the
//! facade's `start_span` + finish with no SDK ≤ 1 ns; an unsampled transaction with 100 child
//! spans ≤ 2 µs in all; a sampled transaction with 100 spans, captured, ≤ 20 µs.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::{Transport, TransportFactory};
use sentry_core::{ClientInitGuard, ClientOptions, TraceLifecycle, TransactionContext};

fn init(traces_sample_rate: f64) -> ClientInitGuard {
    init_with(traces_sample_rate, TraceLifecycle::Static)
}

fn init_with(traces_sample_rate: f64, trace_lifecycle: TraceLifecycle) -> ClientInitGuard {
    let transport: Arc<dyn Transport> = Arc::new(DiscardTransport);
    let factory: Arc<dyn TransportFactory> = Arc::new(transport);
    sentry_core::init(ClientOptions {
        dsn: Some(
            "https://public@sentry.invalid/1"
                .parse()
                .expect("valid DSN"),
        ),
        transport: Some(factory),
        traces_sample_rate: Some(traces_sample_rate),
        trace_lifecycle,
        ..Default::default()
    })
}

/// (b) The facade with no SDK: one relaxed load, no allocation. Runs first, before any client
/// exists in this process.
fn facade_off(c: &mut Criterion) {
    assert!(!sentry_minimal::is_enabled(), "no SDK may be enabled here");
    let mut group = c.benchmark_group("tracing_off");
    group.bench_function("facade_start_span_finish", |b| {
        b.iter(|| sentry_minimal::start_span(black_box("db.query"), black_box("SELECT 1")).finish())
    });
    group.finish();
}

fn tracing(c: &mut Criterion) {
    let mut group = c.benchmark_group("tracing");

    // (a) A child span of the current, sampled transaction, on the calling thread. A
    // transaction records at most 1,000 spans (later ones are only counted, which is cheaper),
    // so a new transaction starts every 1,000 spans; only the spans are timed.
    {
        let guard = init(1.0);
        group.bench_function("child_span_start_finish", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(1000);
                    let tx =
                        sentry_core::start_transaction(TransactionContext::new("bench", "task"))
                            .enter();
                    let start = Instant::now();
                    for _ in 0..n {
                        sentry_core::start_span(black_box("db.query"), black_box("SELECT 1"))
                            .finish();
                    }
                    total += start.elapsed();
                    drop(tx);
                    left -= n;
                }
                total
            })
        });
        drop(guard);
    }

    // (a') The same in `Stream` mode: each finished span goes into the span buffer. Its
    // pipeline's other half runs off the calling thread, as on the worker: here a flush every
    // 1,000 spans (untimed) on another thread empties the buffer, as the worker's 1,000-span
    // trigger would. (A flush on the calling thread would serialize the spans there, which the
    // worker never does.)
    {
        let guard = init_with(1.0, TraceLifecycle::Stream);
        let (flush, flushes) = std::sync::mpsc::channel::<std::sync::mpsc::Sender<()>>();
        let flusher = std::thread::spawn(move || {
            for done in flushes {
                sentry_core::flush(None);
                let _ = done.send(());
            }
        });
        group.bench_function("child_span_start_finish_stream", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(1000);
                    let tx =
                        sentry_core::start_transaction(TransactionContext::new("bench", "task"))
                            .enter();
                    let start = Instant::now();
                    for _ in 0..n {
                        sentry_core::start_span(black_box("db.query"), black_box("SELECT 1"))
                            .finish();
                    }
                    total += start.elapsed();
                    drop(tx);
                    let (done, flushed) = std::sync::mpsc::channel();
                    flush.send(done).expect("the flusher runs");
                    flushed.recv().expect("the flusher answers");
                    left -= n;
                }
                total
            })
        });
        drop(flush);
        flusher.join().expect("the flusher ends");
        drop(guard);
    }

    // (c) A transaction sampled out, with 100 children: allocates no span record.
    {
        let guard = init(0.0);
        group.bench_function("unsampled_transaction_100_spans", |b| {
            b.iter(|| {
                let tx = sentry_core::start_transaction(TransactionContext::new("bench", "task"))
                    .enter();
                for _ in 0..100 {
                    sentry_core::start_span(black_box("db.query"), black_box("SELECT 1")).finish();
                }
                drop(tx);
            })
        });
        drop(guard);
    }

    // (d) A sampled transaction with 100 spans, captured (the envelope is built and handed to
    // the transport, which drops it).
    {
        let guard = init(1.0);
        group.bench_function("sampled_transaction_100_spans_captured", |b| {
            b.iter(|| {
                let tx = sentry_core::start_transaction(TransactionContext::new("bench", "task"))
                    .enter();
                for _ in 0..100 {
                    sentry_core::start_span(black_box("db.query"), black_box("SELECT 1")).finish();
                }
                drop(tx);
            })
        });
        drop(guard);
    }

    group.finish();
}

criterion_group!(benches, facade_off, tracing);
criterion_main!(benches);
