//! Contexts left to the transport worker (no `before_send`, the contexts integration last)
//! arrive in what the real worker serializes.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
use sentry_core::ClientOptions;

mod support;

#[test]
fn the_worker_sends_the_contexts() {
    let bodies: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let factory = support::worker_into(&bodies);
    let _guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(factory),
        integrations: vec![
            Arc::new(StacktraceIntegration::new()),
            Arc::new(ContextIntegration::new()),
        ],
        ..ClientOptions::default()
    });
    sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
    assert!(sentry_core::flush(Some(Duration::from_secs(5))));
    let bodies = bodies.lock().unwrap();
    let text = String::from_utf8_lossy(&bodies[0]);
    let event: serde_json::Value = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|value| value.get("exception").is_some())
        .expect("the event");
    let expected = sentry_backtrace::os_context();
    assert_eq!(
        event["contexts"]["os"]["name"].as_str(),
        expected.name.as_deref()
    );
    assert_eq!(event["contexts"]["runtime"]["name"], "rustc");
    assert!(event["contexts"]["device"]["arch"].is_string(), "{event}");
    assert!(
        event["contexts"]["app"]["app_start_time"].is_string(),
        "{event}"
    );
}
