//! With no SDK installed, facade calls allocate nothing and run no closure.
//!
//! Its own test binary: a counting global allocator (`support/counting_alloc.rs`) sees every
//! allocation of the process.

use std::sync::atomic::Ordering;

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::ALLOCATIONS;

#[test]
fn facade_calls_allocate_nothing_when_off() {
    use sentry_minimal::{Breadcrumb, Event, Level};
    let err = "x".parse::<u8>().unwrap_err();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..1000 {
        sentry_minimal::add_breadcrumb(|| Breadcrumb::new(format!("{}", 1)));
        sentry_minimal::capture_message("m", Level::Error);
        sentry_minimal::capture_error(&err);
        sentry_minimal::capture_event(|| Event::new().message("m"));
        sentry_minimal::configure_scope(|s| s.set_tag("k", "v".to_string()));
        sentry_minimal::with_scope(|s| s.set_tag("k", "v".to_string()), || ());
        let _ = sentry_minimal::last_event_id();
        let span = sentry_minimal::start_span("db.query", "SELECT 1");
        span.set_data("db.rows", 1);
        span.set_status(sentry_minimal::SpanStatus::Ok);
        assert!(!span.is_recording());
        span.finish();
        drop(sentry_minimal::start_span("task", "dropped"));
        let out = sentry_minimal::with_span("http.client", "GET /", |span| {
            span.set_data("http.response.status_code", 200);
            span.is_recording()
        });
        assert!(!out);
        // sentry-core's own API behind the same gate:
        sentry_core::add_breadcrumb(|| Breadcrumb::new(format!("{}", 1)));
        sentry_core::capture_message("m", Level::Error);
        sentry_core::with_scope(|s| s.set_tag("k", "v".to_string()), || ());
    }
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);
}
