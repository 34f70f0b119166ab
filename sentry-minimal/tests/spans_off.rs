//! Spans with no backend installed: empty, and the body of `with_span` still runs once.
//!
//! Its own test binary, so no backend is ever installed in this process.

use sentry_minimal::{backend, start_span, with_span, SpanStatus};

#[test]
fn spans_are_empty_without_a_backend() {
    // Turning the facade on without a backend has no effect.
    backend::set_active(true);
    let span = start_span("db.query", "SELECT 1");
    assert!(!span.is_recording());
    span.set_data("db.rows", 1);
    span.set_status(SpanStatus::Ok);
    span.finish();

    let mut runs = 0;
    let out = with_span("http.client", "GET /", |span| {
        runs += 1;
        span.set_status(SpanStatus::NotFound);
        span.is_recording()
    });
    assert_eq!((runs, out), (1, false));
}

#[test]
#[should_panic(expected = "boom")]
fn a_panic_in_the_body_propagates() {
    with_span("task", "panics", |_| panic!("boom"));
}
