//! The cost of the bridges on the calling thread: a filtered-out `log::debug!` and
//! `tracing::debug!` with the bridges installed, and a `log::info!` that becomes a breadcrumb
//! (formatting included).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_core::envelope::Envelope;
use sentry_core::transport::{Transport, TransportOptions};
use sentry_core::{Client, ClientOptions};
use tracing_subscriber::prelude::*;

/// A transport that drops everything.
struct Discard;

impl Transport for Discard {
    fn send_envelope(&self, _: Envelope) {}

    fn flush(&self, _: Duration) -> bool {
        true
    }

    fn shutdown(&self, _: Duration) -> bool {
        true
    }
}

fn bridges(c: &mut Criterion) {
    sentry_log::init().expect("the only logger of this process");
    tracing_subscriber::registry()
        .with(sentry_log::tracing::layer())
        .init();
    let factory = |_: &TransportOptions| -> Arc<dyn Transport> { Arc::new(Discard) };
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        ..Default::default()
    }));
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
    group.finish();
    client.close(None);
}

criterion_group!(benches, bridges);
criterion_main!(benches);
