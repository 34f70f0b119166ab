//! The official `sentry` crate (pinned in `Cargo.toml`) on the hot paths that
//! `cargo xtask compare` sets against the SDK's own benchmarks. Each row mirrors one of ours:
//!
//! | row here | ours |
//! |---|---|
//! | `incumbent/push_scope_drop` | `sentry-core` `scopes`: `enabled/fork_current_enter_drop` |
//! | `incumbent/with_scope_noop` | `sentry-core` `scopes`: `enabled/with_scope_noop` |
//! | `incumbent/with_scope_set_tag` | `sentry-core` `scopes`: `enabled/with_scope_set_tag` |
//! | `incumbent/add_breadcrumb` | `sentry-core` `scopes`: `enabled/add_breadcrumb` |
//! | `incumbent/capture_error` | `sentry-backtrace` `capture`: `calling_thread/capture_error_with_stack_deferred` |
//! | `incumbent/log_debug_filtered` | `sentry-log` `bridges`: `bridges/log_debug_filtered` |
//! | `incumbent/capture_message_10_tags_100_breadcrumbs` | `sentry-core` `scopes`: `enabled/capture_message_10_tags_100_breadcrumbs` |
//! | `incumbent/capture_error_attach_stacktrace` | `calling_thread/capture_error_with_stack_deferred` |
//!
//! The setup is ours: the same DSN, `sample_rate` 1, a transport that drops every envelope, and
//! the default integrations (stack processing, debug images, contexts, panics; no
//! `attach_stacktrace`, so `capture_error` sends no stack). `capture_error` runs first, on empty
//! scopes, as ours does in its own process; the last row captures errors again with
//! `attach_stacktrace`, the official crate's way to send an error with its stack (walked and
//! symbolicated on the calling thread).
#![allow(missing_docs)]

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use sentry::{Breadcrumb, ClientOptions, Envelope, Transport};

/// Drops every envelope, as the SDK's `DiscardTransport` does.
struct DiscardTransport;

impl Transport for DiscardTransport {
    fn send_envelope(&self, envelope: Envelope) {
        drop(envelope);
    }
}

#[inline(never)]
fn fail() -> std::num::ParseIntError {
    "x".parse::<u8>().unwrap_err()
}

fn incumbent(c: &mut Criterion) {
    let logger = sentry::integrations::log::SentryLogger::new();
    log::set_boxed_logger(Box::new(logger)).expect("the only logger of this process");
    // As the official crate's documentation sets it up (ours sets the same level itself).
    log::set_max_level(log::LevelFilter::Info);

    let _guard = sentry::init(
        ClientOptions::new()
            .dsn("https://public@sentry.invalid/1")
            .transport(Arc::new(DiscardTransport))
            .sample_rate(1.0),
    );
    assert!(sentry::Hub::current()
        .client()
        .is_some_and(|c| c.is_enabled()));

    let mut group = c.benchmark_group("incumbent");
    let err = fail();
    group.bench_function("capture_error", |b| {
        b.iter(|| sentry::capture_error(black_box(&err)))
    });
    group.bench_function("push_scope_drop", |b| {
        b.iter(|| drop(black_box(sentry::Hub::current().push_scope())))
    });
    group.bench_function("with_scope_noop", |b| {
        b.iter(|| sentry::with_scope(|_| {}, || black_box(1)))
    });
    group.bench_function("with_scope_set_tag", |b| {
        b.iter(|| sentry::with_scope(|s| s.set_tag("key", "value"), || black_box(1)))
    });
    // The ring (100 breadcrumbs, the default of both) is full after the warm-up.
    group.bench_function("add_breadcrumb", |b| {
        b.iter(|| {
            sentry::add_breadcrumb(|| Breadcrumb {
                message: Some("clicked".into()),
                category: Some("ui".into()),
                ..Breadcrumb::default()
            })
        })
    });
    group.bench_function("log_debug_filtered", |b| {
        b.iter(|| log::debug!("cache miss for {}", black_box(42)))
    });
    // A service's usual capture: 10 tags and 100 breadcrumbs on the scopes, as ours sets them.
    for i in 0..10 {
        sentry::configure_scope(|scope| scope.set_tag(&format!("tag{i}"), format!("value{i}")));
    }
    for i in 0..100 {
        sentry::add_breadcrumb(Breadcrumb {
            message: Some(format!("breadcrumb {i}")),
            category: Some("bench".into()),
            ..Breadcrumb::default()
        });
    }
    group.bench_function("capture_message_10_tags_100_breadcrumbs", |b| {
        b.iter(|| sentry::capture_message(black_box("something happened"), sentry::Level::Info))
    });

    // What the official crate's users pay for an error with a stack: `attach_stacktrace` (its
    // only way to put one on `capture_error`'s event), on empty scopes again.
    sentry::configure_scope(|scope| scope.clear_breadcrumbs());
    let _guard = sentry::init(
        ClientOptions::new()
            .dsn("https://public@sentry.invalid/1")
            .transport(Arc::new(DiscardTransport))
            .sample_rate(1.0)
            .attach_stacktrace(true),
    );
    group.bench_function("capture_error_attach_stacktrace", |b| {
        b.iter(|| sentry::capture_error(black_box(&err)))
    });
    group.finish();
}

criterion_group!(benches, incumbent);
criterion_main!(benches);
