//! The cost of the bridges on the calling thread: a filtered-out `log::debug!` and
//! `tracing::debug!` with the bridges installed, a `log::info!` that becomes a breadcrumb
//! (formatting included), and an `#[instrument]`ed call (span created, entered, exited and
//! closed) inside a transaction, sampled and not, and one with a nested call in a transaction
//! sampled out.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::{Transport, TransportOptions};
use sentry_core::{Client, ClientOptions};
use tracing_subscriber::prelude::*;

/// A client that sends to [`DiscardTransport`], sampling transactions at `traces_sample_rate`.
fn discarding_client(traces_sample_rate: Option<f64>) -> Arc<Client> {
    let factory = |_: &TransportOptions| -> Arc<dyn Transport> { Arc::new(DiscardTransport) };
    Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        traces_sample_rate,
        ..Default::default()
    }))
}

/// The function of the span benchmarks: its span is created, entered, exited and closed.
#[tracing::instrument]
fn instrumented(n: u64) -> u64 {
    black_box(n)
}

/// An `#[instrument]`ed call that makes another: a span and its child.
#[tracing::instrument]
fn instrumented_nested(n: u64) -> u64 {
    instrumented(black_box(n))
}

/// Times `iters` calls of [`instrumented`], 100 per transaction; starting and sending the
/// transactions is not timed.
fn spans_in_transactions(iters: u64) -> Duration {
    calls_in_transactions(iters, instrumented)
}

/// Times `iters` calls of `call`, 100 per transaction (see [`spans_in_transactions`]).
fn calls_in_transactions(iters: u64, call: fn(u64) -> u64) -> Duration {
    let mut timed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(100);
        let root = tracing::info_span!("root");
        let entered = root.enter();
        let start = Instant::now();
        for i in 0..n {
            call(i);
        }
        timed += start.elapsed();
        drop(entered);
        drop(root);
        left -= n;
    }
    timed
}

fn bridges(c: &mut Criterion) {
    // The baseline of the filtered `log::debug!`: `log`'s own max-level gate, no logger yet
    // (the gate is `Off`). With the bridge installed it is `Info`: one comparison either way.
    c.benchmark_group("bridges")
        .bench_function("log_debug_filtered_no_logger", |b| {
            b.iter(|| log::debug!("cache miss for {}", black_box(42)))
        });
    sentry_log::init().expect("the only logger of this process");
    assert_eq!(log::max_level(), log::LevelFilter::Info);
    tracing_subscriber::registry()
        .with(sentry_log::tracing::layer())
        .init();
    let client = discarding_client(None);
    sentry_core::bind_client(Some(Arc::clone(&client)));

    let mut group = c.benchmark_group("bridges");
    group.bench_function("log_debug_filtered", |b| {
        b.iter(|| log::debug!("cache miss for {}", black_box(42)))
    });
    group.bench_function("tracing_debug_filtered", |b| {
        b.iter(|| tracing::debug!(key = black_box(42), "cache miss"))
    });
    group.bench_function("log_info_to_breadcrumb", |b| {
        b.iter(|| log::info!("user {} logged in", black_box(42)))
    });
    group.bench_function("tracing_info_to_breadcrumb", |b| {
        b.iter(|| tracing::info!(user = black_box(42), "user logged in"))
    });
    client.close(None);

    // The baseline of the span benchmarks: the same spans with a bare registry (no Sentry
    // layer), so the layer's overhead per span is the difference.
    group.bench_function("tracing_span_registry_only", |b| {
        let registry = tracing_subscriber::registry();
        tracing::subscriber::with_default(registry, || b.iter_custom(spans_in_transactions))
    });

    for (name, rate) in [
        ("tracing_span_sampled", 1.0),
        ("tracing_span_unsampled", 0.0),
    ] {
        let client = discarding_client(Some(rate));
        sentry_core::bind_client(Some(Arc::clone(&client)));
        group.bench_function(name, |b| b.iter_custom(spans_in_transactions));
        client.close(None);
    }
    // Two nested spans a call in a trace sampled out: the child is entered inside a parent
    // that stands for the same transaction, which switches no scopes.
    let client = discarding_client(Some(0.0));
    sentry_core::bind_client(Some(Arc::clone(&client)));
    group.bench_function("tracing_span_unsampled_nested", |b| {
        b.iter_custom(|iters| calls_in_transactions(iters, instrumented_nested))
    });
    client.close(None);
    group.finish();
}

criterion_group!(benches, bridges);
criterion_main!(benches);
