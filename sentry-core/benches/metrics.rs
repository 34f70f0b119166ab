//! The calling-thread cost of metrics: a counter increment (with and without attributes) and a
//! distribution with a unit while metrics are on (the record is stamped, the current trace read
//! and the record buffered), and the same calls while metrics are off (one atomic load).
//!
//! Only the calling thread's time is measured: the buffer is emptied between timed runs of at
//! most 900 calls, outside the measurement, so no metric is ever dropped for a full buffer
//! (which would measure the drop path instead) and no other thread competes.

use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::metrics::{self, unit};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::MetricBuffer;
use sentry_core::transport::{Transport, TransportOptions};
use sentry_core::{Client, ClientOptions};

/// The client's metric buffer, handed over by the transport factory.
static BUFFER: OnceLock<Arc<MetricBuffer>> = OnceLock::new();

/// Times `iters` calls of `f` in runs that never fill the buffer.
fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let buffer = BUFFER.get().expect("metrics are on");
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let run = left.min(900);
        let start = Instant::now();
        for _ in 0..run {
            f();
        }
        total += start.elapsed();
        left -= run;
        while buffer.take_batch(Instant::now(), true).is_some() {}
    }
    total
}

fn bench_metrics(c: &mut Criterion) {
    let mut group = c.benchmark_group("metrics");

    group.bench_function("count_metrics_off", |b| {
        b.iter(|| metrics::count("orders", black_box(1)))
    });
    group.bench_function("count_with_2_attributes_metrics_off", |b| {
        b.iter(|| metrics::count_with("orders", black_box(1), &[("region", &"eu"), ("n", &3)]))
    });

    let factory = |options: &TransportOptions| -> Arc<dyn Transport> {
        if let Some(metrics) = &options.metrics {
            let _ = BUFFER.set(Arc::clone(metrics));
        }
        Arc::new(DiscardTransport)
    };
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        release: Some("bench@1.0.0".into()),
        ..Default::default()
    }));
    sentry_core::bind_client(Some(Arc::clone(&client)));

    group.bench_function("count", |b| {
        b.iter_custom(|iters| timed(iters, || metrics::count("orders", black_box(1))))
    });
    group.bench_function("count_with_2_attributes", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                metrics::count_with("orders", black_box(1), &[("region", &"eu"), ("n", &3)])
            })
        })
    });
    group.bench_function("distribution_with_unit", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                metrics::distribution_with("db.query", black_box(12.5), unit::MILLISECOND, &[])
            })
        })
    });
    group.finish();

    assert!(
        client.client_reports().take().is_none(),
        "no metric was dropped while benchmarking"
    );
    client.close(None);
}

criterion_group!(benches, bench_metrics);
criterion_main!(benches);
