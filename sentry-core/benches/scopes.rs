//! The cost of the enabled API on the calling thread, with a transport that discards
//! envelopes (the worker's serialization and sending are not part of these numbers).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::envelope::Envelope;
use sentry_core::transport::{Transport, TransportFactory};
use sentry_core::{Breadcrumb, ClientOptions, Level};

/// Drops every envelope: measures only the calling thread's work.
struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, envelope: Envelope) {
        black_box(envelope);
    }
    fn flush(&self, _: Duration) -> bool {
        true
    }
    fn shutdown(&self, _: Duration) -> bool {
        true
    }
}

fn enabled(c: &mut Criterion) {
    let transport: Arc<dyn Transport> = Arc::new(Discard);
    let factory: Arc<dyn TransportFactory> = Arc::new(transport);
    let _guard = sentry_core::init(ClientOptions {
        dsn: Some(
            "https://public@sentry.invalid/1"
                .parse()
                .expect("valid DSN"),
        ),
        transport: Some(factory),
        ..Default::default()
    });

    let mut group = c.benchmark_group("enabled");
    group.bench_function("add_breadcrumb", |b| {
        b.iter(|| sentry_core::add_breadcrumb(|| Breadcrumb::new("clicked").category("ui")))
    });
    // The same without the wall-clock read the breadcrumb constructor does (34 ns on the
    // reference VM): the SDK's own share of the cost.
    let prepared = Breadcrumb::new("clicked").category("ui");
    group.bench_function("add_breadcrumb_prebuilt", |b| {
        b.iter(|| sentry_core::add_breadcrumb(|| prepared.clone()))
    });
    group.bench_function("minimal_add_breadcrumb", |b| {
        b.iter(|| sentry_minimal::add_breadcrumb(|| Breadcrumb::new("clicked").category("ui")))
    });
    group.bench_function("with_scope_noop", |b| {
        b.iter(|| sentry_core::with_scope(|_| {}, || black_box(1)))
    });
    group.bench_function("with_scope_set_tag", |b| {
        b.iter(|| sentry_core::with_scope(|s| s.set_tag("key", "value"), || black_box(1)))
    });

    // 10 tags and 100 breadcrumbs on the scopes, then capture.
    for i in 0..10 {
        sentry_core::set_tag(format!("tag{i}"), format!("value{i}"));
    }
    for i in 0..100 {
        sentry_core::add_breadcrumb(Breadcrumb::new(format!("breadcrumb {i}")).category("bench"));
    }
    group.bench_function("capture_message_10_tags_100_breadcrumbs", |b| {
        b.iter(|| sentry_core::capture_message(black_box("something happened"), Level::Info))
    });
    // The typical error event of the throughput benchmarks (24 raw frames, 20 breadcrumbs of
    // its own, 8 tags, 30 modules) through the same scopes: the pipeline's size and limit
    // survey over a realistic event. Building the event is part of the iteration.
    group.bench_function("capture_typical_event", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            sentry_core::capture_event(sentry_tests::fixtures::typical_event(black_box(i)))
        })
    });
    // The event alone, to subtract from the capture above.
    group.bench_function("build_typical_event", |b| {
        let mut i = 0;
        b.iter(|| {
            i += 1;
            sentry_tests::fixtures::typical_event(black_box(i))
        })
    });
    group.finish();
}

criterion_group!(benches, enabled);
criterion_main!(benches);
