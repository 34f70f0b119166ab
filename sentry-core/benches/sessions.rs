//! The calling-thread cost of a request session: `start_session` + `end_session` on a forked
//! isolation scope (the session is created on the scope, then ended and counted in its
//! minute's bucket), and the same calls while the SDK is off (one atomic load each).
//!
//! The aggregator is emptied outside the measurement now and then, so its buckets stay few,
//! as they are when the worker sends them every minute.

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::test::DiscardTransport;
use sentry_core::transport::{SessionAggregator, Transport, TransportOptions};
use sentry_core::{Client, ClientOptions, Scopes, SessionMode};

/// The client's aggregator, handed over by the transport factory.
static AGGREGATOR: OnceLock<Arc<SessionAggregator>> = OnceLock::new();

fn sessions(c: &mut Criterion) {
    let mut group = c.benchmark_group("sessions");

    group.bench_function("start_end_request_session_disabled", |b| {
        b.iter(|| {
            sentry_core::start_session();
            sentry_core::end_session();
        })
    });

    let factory = |options: &TransportOptions| -> Arc<dyn Transport> {
        if let Some(sessions) = &options.sessions {
            let _ = AGGREGATOR.set(Arc::clone(sessions));
        }
        Arc::new(DiscardTransport)
    };
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        release: Some("bench@1.0.0".into()),
        session_mode: SessionMode::Request,
        ..Default::default()
    }));
    sentry_core::bind_client(Some(Arc::clone(&client)));
    let aggregator = AGGREGATOR.get().expect("request mode");

    // One request's scopes, entered once: the cost measured is the session's alone.
    let _request = Scopes::current().fork_isolation().enter();
    group.bench_function("start_end_request_session", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                sentry_core::start_session();
                sentry_core::end_session();
            }
            let elapsed = start.elapsed();
            while aggregator.take_batch(Instant::now(), true).is_some() {}
            elapsed
        })
    });
    group.finish();
    client.close(None);
}

criterion_group!(benches, sessions);
criterion_main!(benches);
