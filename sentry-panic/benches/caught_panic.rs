//! What a caught panic costs the thread that panics, with the SDK's hook installed and the
//! server hanging (the transport's worker is stuck in a send the whole time):
//!
//! - `caught_panic/without_sdk`: `catch_unwind(|| panic!())` with a silent hook only: Rust's
//!   own panic machinery, the floor;
//! - `caught_panic/hung_server`: the same with the SDK initialised: the hook captures the
//!   stack, runs the pipeline on its helper thread and queues the event, then returns (it
//!   does not wait for the network in an unwinding build).
//!
//! Run with `cargo bench -p sentry-panic`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_backtrace::StacktraceIntegration;
use sentry_core::ClientOptions;
use sentry_panic::PanicIntegration;
use sentry_tests::server::{Behavior, TestServer};

#[inline(never)]
fn caught_panic() {
    let result = std::panic::catch_unwind(|| panic!("caught"));
    black_box(result.is_err());
}

fn bench(c: &mut Criterion) {
    // The default hook would print every panic; the SDK's hook calls this one after its own.
    std::panic::set_hook(Box::new(|_| {}));
    let mut group = c.benchmark_group("caught_panic");
    group.bench_function("without_sdk", |b| b.iter(caught_panic));

    let server = TestServer::start();
    server.set_behavior(Behavior::Hang);
    let guard = sentry_core::init(ClientOptions {
        dsn: server.dsn().parse().ok(),
        transport: Some(Arc::new(sentry_transport_http::HttpTransportFactory)),
        integrations: vec![
            Arc::new(PanicIntegration::new()),
            Arc::new(StacktraceIntegration::new()),
        ],
        shutdown_timeout: Duration::from_millis(200),
        ..ClientOptions::default()
    });
    // The worker takes the first event and hangs in its send from then on.
    caught_panic();
    group.bench_function("hung_server", |b| b.iter(caught_panic));
    group.finish();
    drop(guard);
}

criterion_group!(benches, bench);
criterion_main!(benches);
