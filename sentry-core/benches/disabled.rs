//! The cost of every API call when no SDK is installed: one atomic load, measured against a
//! bare relaxed load.
//!
//! Its own bench binary: no client is ever created in this process.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{criterion_group, criterion_main, Criterion};
use sentry_minimal::{Breadcrumb, Level};

static FLAG: AtomicBool = AtomicBool::new(false);

fn disabled(c: &mut Criterion) {
    let mut group = c.benchmark_group("disabled");
    group.bench_function("baseline_relaxed_load", |b| {
        b.iter(|| black_box(FLAG.load(Ordering::Relaxed)))
    });
    group.bench_function("minimal_capture_message", |b| {
        b.iter(|| sentry_minimal::capture_message(black_box("hello"), Level::Info))
    });
    group.bench_function("minimal_add_breadcrumb", |b| {
        b.iter(|| sentry_minimal::add_breadcrumb(|| Breadcrumb::new(format!("{}", black_box(1)))))
    });
    group.bench_function("minimal_with_scope", |b| {
        b.iter(|| sentry_minimal::with_scope(|s| s.set_tag("k", "v"), || black_box(1)))
    });
    group.bench_function("minimal_start_span_finish", |b| {
        b.iter(|| sentry_minimal::start_span(black_box("db.query"), black_box("SELECT 1")).finish())
    });
    group.bench_function("minimal_with_span", |b| {
        b.iter(|| sentry_minimal::with_span(black_box("task"), black_box("work"), |_| black_box(1)))
    });
    group.bench_function("core_capture_message", |b| {
        b.iter(|| sentry_core::capture_message(black_box("hello"), Level::Info))
    });
    group.bench_function("core_add_breadcrumb", |b| {
        b.iter(|| sentry_core::add_breadcrumb(|| Breadcrumb::new(format!("{}", black_box(1)))))
    });
    group.bench_function("core_with_scope", |b| {
        b.iter(|| sentry_core::with_scope(|s| s.set_tag("k", "v"), || black_box(1)))
    });
    group.finish();
}

criterion_group!(benches, disabled);
criterion_main!(benches);
