//! The calling thread's cost of tracing one outgoing HTTP request with
//! `start_outgoing_request` (the `reqwest` and `ureq` adapters add only the header copies of
//! their client): start, the headers to set, `finish` with a status code.
//!
//! - `off`: no SDK in the process (one atomic load);
//! - `sampled_target`: a child `http.client` span of a sampled transaction, the URL a
//!   propagation target (trace headers built from the span), the breadcrumb;
//! - `sampled_target_merging_baggage`: the same for a request that has a `baggage` header of
//!   its own, merged;
//! - `no_transaction_not_target`: an enabled SDK with tracing on but no transaction and a URL
//!   that is not a target: no span, no headers, the breadcrumb only.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::test::DiscardTransport;
use sentry_core::{ClientOptions, TracePropagationTargets, TransactionContext};

const URL: &str = "https://stock.internal/items/42?fields=name,price";

fn request() {
    request_with_baggage(None);
}

fn request_with_baggage(existing: Option<&str>) {
    let request = sentry_core::start_outgoing_request(black_box("GET"), black_box(URL));
    for header in request.headers_to_set(black_box(existing)) {
        black_box(header);
    }
    request.finish(black_box(200));
}

fn outgoing(c: &mut Criterion) {
    let mut group = c.benchmark_group("outgoing");
    assert!(!sentry_minimal::is_enabled(), "no SDK may be enabled here");
    group.bench_function("off", |b| b.iter(request));

    let guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(DiscardTransport::factory()),
        traces_sample_rate: Some(1.0),
        trace_propagation_targets: TracePropagationTargets::from_iter(["stock.internal"]),
        ..Default::default()
    });
    // A transaction records at most 1,000 spans: a new one every 1,000 requests, untimed.
    for (name, existing) in [
        ("sampled_target", None),
        ("sampled_target_merging_baggage", Some("othervendor=1")),
    ] {
        group.bench_function(name, |b| {
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
                        request_with_baggage(existing);
                    }
                    total += start.elapsed();
                    drop(tx);
                    left -= n;
                }
                total
            })
        });
    }
    drop(guard);

    let guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(DiscardTransport::factory()),
        traces_sample_rate: Some(1.0),
        trace_propagation_targets: TracePropagationTargets::from_iter(["elsewhere.internal"]),
        ..Default::default()
    });
    group.bench_function("no_transaction_not_target", |b| b.iter(request));
    drop(guard);
    group.finish();
}

criterion_group!(benches, outgoing);
criterion_main!(benches);
