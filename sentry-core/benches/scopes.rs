//! The cost of the enabled API on the calling thread, with a transport that discards
//! envelopes (the worker's serialization and sending are not part of these numbers).

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::{Transport, TransportFactory};
use sentry_core::{BeforeSend, Breadcrumb, ClientInitGuard, ClientOptions, Level, Scopes};

fn init(before_send: Option<BeforeSend>) -> ClientInitGuard {
    let transport: Arc<dyn Transport> = Arc::new(DiscardTransport);
    let factory: Arc<dyn TransportFactory> = Arc::new(transport);
    sentry_core::init(ClientOptions {
        dsn: Some(
            "https://public@sentry.invalid/1"
                .parse()
                .expect("valid DSN"),
        ),
        transport: Some(factory),
        before_send,
        ..Default::default()
    })
}

/// What a hint costs when nothing reads it: `capture_error` (the error is lent to the hooks in
/// the hint) without a hook, with a `before_send` that ignores the hint, and with one that
/// downcasts the error. Runs first, on empty scopes.
fn hints(c: &mut Criterion) {
    let err = "x".parse::<u8>().expect_err("not a number");
    let mut group = c.benchmark_group("hints");
    let cases: [(&str, Option<BeforeSend>); 3] = [
        ("capture_error_no_hook", None),
        (
            "capture_error_before_send_ignoring_hint",
            Some(Arc::new(|event, _| Some(event))),
        ),
        (
            "capture_error_before_send_downcasting",
            Some(Arc::new(|event, hint| {
                let parse = hint
                    .error()
                    .is_some_and(|e| e.is::<std::num::ParseIntError>());
                black_box(parse).then_some(event)
            })),
        ),
    ];
    for (name, before_send) in cases {
        let guard = init(before_send);
        group.bench_function(name, |b| {
            b.iter(|| sentry_core::capture_error(black_box(&err)))
        });
        drop(guard);
    }
    group.finish();
}

fn enabled(c: &mut Criterion) {
    let _guard = init(None);

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
    // The incumbent's `push_scope`: a fork of the current scope entered and left, nothing
    // written to it.
    group.bench_function("fork_current_enter_drop", |b| {
        b.iter(|| drop(black_box(Scopes::current().fork_current().enter())))
    });
    // The same in one call, as the incumbent's is (`Hub::current().push_scope()`): the fork
    // made and entered in one access to the thread's scopes.
    group.bench_function("push_scope_drop", |b| {
        b.iter(|| drop(black_box(sentry_core::push_scope())))
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

criterion_group!(benches, hints, enabled);
criterion_main!(benches);
