//! What a stack trace costs, split the way the SDK splits the work:
//!
//! - `calling_thread/*`: what the thread calling `capture_error` pays, through the whole
//!   pipeline to a transport that drops envelopes: without a stack, with a stack completed on
//!   the worker (deferred: the capture only), and with the stack completed inline; and with the
//!   stack walked in the pipeline rather than at the entry point (a client that samples);
//! - `raw_capture`: walking the stack alone;
//! - `symbolication/resolve_event`: completing one captured error stack (symbols, trimming,
//!   in-app, source context, debug images), what the worker pays per event in deferred mode;
//!   `symbolication/read_proc_maps` and `symbolication/debug_images` are parts of it.
//!
//! Run with `cargo bench -p sentry-backtrace`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use sentry_backtrace::{ContextIntegration, RawStack, StacktraceIntegration};
use sentry_core::protocol::{Event, Exception};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::Transport;
use sentry_core::{ClientOptions, Integration};

fn init(integrations: Vec<Arc<dyn Integration>>) -> sentry_core::ClientInitGuard {
    init_sampled(integrations, 1.0)
}

fn init_sampled(
    integrations: Vec<Arc<dyn Integration>>,
    sample_rate: f32,
) -> sentry_core::ClientInitGuard {
    let transport: Arc<dyn Transport> = Arc::new(DiscardTransport);
    sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(transport)),
        integrations,
        sample_rate,
        ..ClientOptions::default()
    })
}

fn stack_integrations() -> Vec<Arc<dyn Integration>> {
    vec![
        Arc::new(StacktraceIntegration::new()),
        Arc::new(ContextIntegration::new()),
    ]
}

#[inline(never)]
fn fail() -> std::num::ParseIntError {
    "x".parse::<u8>().unwrap_err()
}

fn calling_thread(c: &mut Criterion) {
    let err = fail();
    let mut group = c.benchmark_group("calling_thread");

    let guard = init(Vec::new());
    group.bench_function("capture_error_without_stack", |b| {
        b.iter(|| sentry_core::capture_error(black_box(&err)))
    });
    drop(guard);

    let guard = init(stack_integrations());
    sentry_backtrace::set_deferred_symbolication(true);
    group.bench_function("capture_error_with_stack_deferred", |b| {
        b.iter(|| sentry_core::capture_error(black_box(&err)))
    });
    sentry_backtrace::set_deferred_symbolication(false);
    group.bench_function("capture_error_with_stack_inline", |b| {
        b.iter(|| sentry_core::capture_error(black_box(&err)))
    });
    drop(guard);

    // A client that samples errors (a rate that keeps all but about one in ten million) has
    // the stack walked in the pipeline, by the integration, after sampling: the path every
    // capture took before the walk moved to `capture_error`'s entry point.
    let guard = init_sampled(stack_integrations(), 0.999_999_9);
    sentry_backtrace::set_deferred_symbolication(true);
    group.bench_function("capture_error_with_stack_walked_in_pipeline", |b| {
        b.iter(|| sentry_core::capture_error(black_box(&err)))
    });
    drop(guard);
    group.finish();

    c.bench_function("raw_capture", |b| b.iter(RawStack::capture));
}

fn symbolication(c: &mut Criterion) {
    let event = Event {
        exception: vec![Exception {
            ty: "ParseIntError".into(),
            stacktrace: Some(RawStack::capture().into_stacktrace()),
            ..Exception::default()
        }],
        ..Event::default()
    };
    // The first resolution loads the debug information; measure the steady state.
    sentry_backtrace::resolve_event(&mut event.clone());
    let mut group = c.benchmark_group("symbolication");
    group.bench_function("resolve_event", |b| {
        b.iter_batched(
            || event.clone(),
            |mut event| {
                sentry_backtrace::resolve_event(&mut event);
                event
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("read_proc_maps", |b| {
        b.iter(sentry_backtrace::loaded_images)
    });
    group.bench_function("debug_images", |b| b.iter(sentry_backtrace::debug_images));
    group.finish();
}

criterion_group!(benches, calling_thread, symbolication);
criterion_main!(benches);
