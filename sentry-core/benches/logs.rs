//! The calling-thread cost of structured logs: a logger call with attributes while logs are on
//! (the record is built, the scope applied and the record buffered), and the same call while
//! logs are off.
//!
//! Only the calling thread's time is measured: the buffer is emptied between timed runs of at
//! most 900 calls, outside the measurement, so no log is ever dropped for a full buffer (which
//! would measure the drop path instead) and no other thread competes.

use std::hint::black_box;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::LogBuffer;
use sentry_core::transport::{Transport, TransportOptions};
use sentry_core::{Client, ClientOptions};

/// The client's log buffer, handed over by the transport factory.
static BUFFER: OnceLock<Arc<LogBuffer>> = OnceLock::new();

/// Times `iters` calls of `f` in runs that never fill the buffer.
fn timed(iters: u64, mut f: impl FnMut()) -> Duration {
    let buffer = BUFFER.get().expect("logs are on");
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

fn logs(c: &mut Criterion) {
    let mut group = c.benchmark_group("logs");

    group.bench_function("logger_info_3_attributes_logs_off", |b| {
        b.iter(|| {
            sentry_core::logger::info!("User logged in"; "user_id" => black_box(42), "plan" => "pro", "admin" => false)
        })
    });

    let factory = |options: &TransportOptions| -> Arc<dyn Transport> {
        if let Some(logs) = &options.logs {
            let _ = BUFFER.set(Arc::clone(logs));
        }
        Arc::new(DiscardTransport)
    };
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        enable_logs: true,
        release: Some("bench@1.0.0".into()),
        ..Default::default()
    }));
    sentry_core::bind_client(Some(Arc::clone(&client)));

    group.bench_function("logger_info_3_attributes", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                sentry_core::logger::info!("User logged in"; "user_id" => black_box(42), "plan" => "pro", "admin" => false)
            })
        })
    });
    group.bench_function("logger_info_1_parameter_3_attributes", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                sentry_core::logger::info!("User {} logged in", black_box(42); "plan" => "pro", "admin" => false, "attempt" => 3)
            })
        })
    });
    group.bench_function("logger_fn_info_3_attributes", |b| {
        b.iter_custom(|iters| {
            timed(iters, || {
                sentry_core::logger::info(
                    "User logged in",
                    &[],
                    &[
                        ("user_id", &black_box(42)),
                        ("plan", &"pro"),
                        ("admin", &false),
                    ],
                )
            })
        })
    });
    group.finish();

    assert!(
        client.client_reports().take().is_none(),
        "no log was dropped while benchmarking"
    );
    client.close(None);
}

criterion_group!(benches, logs);
criterion_main!(benches);
