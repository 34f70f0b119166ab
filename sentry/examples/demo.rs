//! The demo application run by `cargo xtask demo`: it sends every kind of item the SDK can
//! send to the DSN in `SENTRY_DSN` — a message, an error chain with its stack trace,
//! breadcrumbs, scoped data, per-request data from another thread, a transaction with nested
//! spans traced across two services over HTTP (the second service streaming its spans as span
//! items), a cron monitor's check-ins, user feedback, an
//! error with attachments, structured logs (from the logger API and the `log` bridge),
//! metrics, release-health sessions (the application's own and a server's per-minute
//! aggregate) and a panic. Built with the `profiling` feature and run with
//! `SENTRY_PROFILE_SESSION_SAMPLE_RATE=1` (as `cargo xtask demo` does on Linux), it also
//! profiles itself and sends a profile chunk.
//!
//! Run it against the embedded receiver with `cargo xtask demo`, or against your own Sentry
//! with `SENTRY_DSN=https://… cargo run -p sentry --features tracing --example demo`.

use std::error::Error;
use std::fmt;

use sentry::{Breadcrumb, ClientOptions, Level, Scopes, User};

#[path = "demo/attachments.rs"]
mod attachments;
#[path = "demo/crons_feedback.rs"]
mod crons_feedback;
#[path = "demo/metrics.rs"]
mod metrics;
#[cfg(feature = "profiling")]
#[path = "demo/profiling.rs"]
mod profiling;
#[path = "demo/services.rs"]
mod services;
#[path = "demo/sessions.rs"]
mod sessions;

/// A "library" that depends only on the `sentry-minimal` facade: a breadcrumb, a message, and
/// a span (inside the application's transaction, when there is one).
mod inventory {
    use sentry_minimal::{add_breadcrumb, Breadcrumb, Level, SpanStatus};

    pub(crate) fn reserve(item: &str, quantity: u32) -> Result<(), String> {
        sentry_minimal::with_span("inventory.reserve", item, |span| {
            span.set_data("quantity", quantity);
            add_breadcrumb(|| {
                Breadcrumb::new(format!("reserving {quantity} x {item}"))
                    .category("inventory")
                    .data("quantity", quantity)
            });
            if quantity > 10 {
                span.set_status(SpanStatus::ResourceExhausted);
                sentry_minimal::capture_message("large reservation refused", Level::Warning);
                return Err(format!("only 10 {item} left"));
            }
            Ok(())
        })
    }
}

/// An application error with a cause, to show the error chain.
#[derive(Debug)]
struct ConfigError {
    path: &'static str,
    source: std::num::ParseIntError,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid port in {}", self.path)
    }
}

impl Error for ConfigError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

fn load_port() -> Result<u16, ConfigError> {
    "80a".parse::<u16>().map_err(|source| ConfigError {
        path: "/etc/demo.toml",
        source,
    })
}

fn main() {
    let guard = sentry::init(ClientOptions {
        release: sentry::release_name!(),
        environment: Some("demo".into()),
        server_name: Some("checkout-host".into()),
        // Every transaction is sent.
        traces_sample_rate: Some(1.0),
        // Structured logs (the logger API and the `log`/`tracing` bridges).
        enable_logs: true,
        before_send: Some(std::sync::Arc::new(|mut event, _hint| {
            event
                .tags
                .insert("processed_by".into(), "before_send".into());
            Some(event)
        })),
        ..Default::default()
    });
    // `tracing` spans and events go to Sentry through the bridge's layer.
    services::install_tracing();
    // `log` records become breadcrumbs and logs through the `log` bridge.
    if sentry::integrations::log::init().is_err() {
        eprintln!("demo: another logger was already installed");
    }
    // List the crates this binary was built with in every event (`modules`).
    sentry::set_modules(sentry::cargo_lock_modules!("../Cargo.lock"));
    if !guard.is_enabled() {
        eprintln!("demo: set SENTRY_DSN (or run `cargo xtask demo`) to send events");
        std::process::exit(2);
    }

    sentry::set_tag("demo", "true");
    // Attributes: on every log, metric and streamed span of this scope (tags are for events).
    sentry::set_attribute("demo.tenant", "acme");
    sentry::set_user(Some(User {
        id: Some("42".into()),
        username: Some("ada".into()),
        ..Default::default()
    }));
    sentry::add_breadcrumb(Breadcrumb::new("demo started").category("lifecycle"));
    // 0. Continuous profiling, when this process is sampled (SENTRY_PROFILE_SESSION_SAMPLE_RATE).
    #[cfg(feature = "profiling")]
    let profiled = profiling::start();

    // 1. A message.
    sentry::capture_message("Hello from the sentry demo", Level::Info);

    // 2. An error with its source chain.
    if let Err(err) = load_port() {
        sentry::capture_error(&err);
    }

    // 3. Data scoped to a block.
    sentry::with_scope(
        |scope| {
            scope.set_tag("phase", "import");
            scope.set_extra("rows", 1250);
        },
        || sentry::capture_message("import finished with warnings", Level::Warning),
    );

    // 4. A library using only the facade.
    let _ = inventory::reserve("widgets", 3);
    let _ = inventory::reserve("widgets", 25);

    // 5. A request handled on another thread, with its own isolation scope.
    let request = Scopes::current().fork_isolation();
    let worker = std::thread::spawn(move || {
        request.bind(|| {
            sentry::set_tag("request_id", "req-7f3a");
            sentry::add_breadcrumb(Breadcrumb::new("GET /checkout").category("http"));
            let err: Box<dyn Error + Send + Sync> = "payment provider timed out".into();
            sentry::capture_error(err.as_ref());
        })
    });
    let _ = worker.join();

    // 6. A transaction with nested spans (from a facade library, from `tracing`, and around an
    //    HTTP call) continued by a second service: one trace across both.
    services::distributed_checkout();

    // 7. A cron job under a monitor, and a user's feedback about an error.
    crons_feedback::run();

    // 8. An error with files attached.
    attachments::run();

    // 9. Structured logs: from the logger API, and a `log` record (also a breadcrumb).
    let orders = 3;
    sentry::logger::info!("processed {} orders", orders; "region" => "eu-west-1");
    sentry::logger::warn!("payment retries above threshold"; "retries" => 4);
    log::info!(target: "demo::cache", cache = "products"; "cache warmed");

    // 10. Metrics: a counter, a gauge and a distribution.
    metrics::run();

    // 11. Release health of a server: request sessions on a client in request mode, sent as
    //     per-minute aggregates. (This client's own application session ends with the demo.)
    sessions::run();

    // 12. CPU spent in named functions, inside a transaction (linked to the profile).
    #[cfg(feature = "profiling")]
    if profiled {
        profiling::busy_work();
    }

    // 13. A panic on a named thread: reported as a fatal event; the process goes on.
    let crashed = std::thread::Builder::new()
        .name("demo-worker".into())
        .spawn(|| {
            let rows: Vec<u32> = Vec::new();
            let _first = rows[0]; // index out of bounds
        })
        .map(|handle| handle.join().is_err());
    eprintln!("demo: the panicking thread crashed as intended: {crashed:?}");

    // Dropping the guard sends everything still queued (the profiler's last chunk too),
    // waiting at most shutdown_timeout.
    drop(guard);
}
