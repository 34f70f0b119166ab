//! A program built with `panic = "abort"` that panics with the SDK installed: the panic hook
//! reports the panic, then the process aborts.
//!
//! The panic tests build it with the workspace's `panic-abort` profile and check that the event
//! arrives: directly when the server answers, or through the offline cache when it does not.
//!
//! ```text
//! cargo run -p sentry-panic --example abort_on_panic --profile panic-abort
//! ```
//!
//! Environment: `SENTRY_DSN` (where to report), and optionally `ABORT_CACHE_DIR` (an offline
//! cache directory) and `ABORT_SHUTDOWN_MS` (how long the hook may wait for delivery; the
//! SDK's default `shutdown_timeout` without it).

use std::sync::Arc;
use std::time::Duration;

use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
use sentry_core::ClientOptions;
use sentry_panic::PanicIntegration;

#[inline(never)]
fn parse_config(text: &str) -> u16 {
    text.parse().expect("the port must be a number") // ABORT_EXAMPLE_PANIC
}

fn main() {
    let shutdown_timeout = std::env::var("ABORT_SHUTDOWN_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(
            ClientOptions::default().shutdown_timeout,
            Duration::from_millis,
        );
    let mut options = ClientOptions {
        release: Some("abort-on-panic@1.0.0".into()),
        transport: Some(Arc::new(sentry_transport_http::HttpTransportFactory)),
        integrations: vec![
            Arc::new(PanicIntegration::new()),
            Arc::new(StacktraceIntegration::new()),
            Arc::new(ContextIntegration::new()),
        ],
        shutdown_timeout,
        cache_dir: std::env::var_os("ABORT_CACHE_DIR").map(Into::into),
        ..ClientOptions::default()
    };
    if let Err(error) = options.apply_env() {
        eprintln!("bad environment: {error}");
        std::process::exit(2);
    }
    let _guard = sentry_core::init(options);
    let port = parse_config(std::hint::black_box("eighty"));
    std::hint::black_box(port);
}
