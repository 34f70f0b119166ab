//! Deferred symbolication on the real transport worker: the stack trace integration registers
//! its event finalizer, and the worker runs it before it serializes the event.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry_backtrace::StacktraceIntegration;
use sentry_core::ClientOptions;

mod support;

#[inline(never)]
fn report() {
    let err = "x".parse::<u8>().unwrap_err();
    sentry_core::capture_error(&err);
}

/// Before `before_send` frames are raw addresses; the worker sends them resolved.
#[test]
fn worker_resolves() {
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let factory = support::worker_into(&bodies);
    let _guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(factory),
        before_send: Some(Arc::new(|event, _| {
            let frames = &event
                .exception
                .last()
                .unwrap()
                .stacktrace
                .as_ref()
                .unwrap()
                .frames;
            assert!(
                frames.iter().all(|f| f.function.is_none()),
                "unresolved in before_send"
            );
            Some(event)
        })),
        integrations: vec![Arc::new(StacktraceIntegration::new())],
        ..ClientOptions::default()
    });
    assert!(sentry_backtrace::is_deferred_symbolication());
    report();
    report();
    assert!(sentry_core::flush(Some(Duration::from_secs(5))));
    let bodies = bodies.lock().unwrap();
    let text = String::from_utf8_lossy(&bodies[0]);
    let event_line = text.lines().nth(2).unwrap();
    let event: serde_json::Value = serde_json::from_str(event_line).unwrap();
    let frames = event["exception"]["values"][0]["stacktrace"]["frames"]
        .as_array()
        .unwrap();
    let top = frames.last().unwrap();
    assert_eq!(top["function"], "worker_finalizer::report", "{top}");
    if sentry_backtrace::reads_debug_info() {
        assert!(top["context_line"]
            .as_str()
            .unwrap()
            .contains("capture_error"));
    }
    assert!(event["debug_meta"]["images"].as_array().is_some());
}
