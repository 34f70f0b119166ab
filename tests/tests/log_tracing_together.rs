//! `log` and `tracing` in one application, as tracing-subscriber sets them up: the Sentry
//! `tracing` layer in the subscriber, and tracing-log's `LogTracer` as `log`'s logger (what
//! tracing-subscriber's `init()` installs with its default `tracing-log` feature). A
//! `log::error!` reaches the server exactly once, and the double setup (the `log` bridge
//! forwarding to `LogTracer`) is detected and explained.
//!
//! `log` and `tracing` loggers are global, so each setup runs in a child process of this test
//! binary, against a loopback server of the parent's.

use std::process::Command;
use std::time::Duration;

use sentry::ClientOptions;
use sentry_tests::server::{raw_event_payloads, TestServer};
use tracing_subscriber::prelude::*;

/// Set in a child: which setup to run, and the DSN.
const CHILD_ENV: &str = "SENTRY_TEST_LOG_TRACING_CHILD";

/// The message of the record every setup logs once.
const MESSAGE: &str = "card declined for order 1234";

fn init(dsn: &str) -> sentry::ClientInitGuard {
    let guard = sentry::init((
        dsn,
        ClientOptions {
            auto_session_tracking: false,
            shutdown_timeout: Duration::from_secs(10),
            ..Default::default()
        },
    ));
    assert!(guard.is_enabled());
    guard
}

/// The child: installs the setup named in [`CHILD_ENV`], logs [`MESSAGE`] once at `error`,
/// and flushes. Does nothing when run as a test of its own.
#[test]
fn log_tracing_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (setup, dsn) = spec.split_once('|').expect("setup|dsn");
    let guard = init(dsn);
    tracing_subscriber::registry()
        .with(sentry_log::tracing::layer())
        .init();
    match setup {
        // tracing-subscriber's `init()` with `tracing-log`: the subscriber, then `LogTracer`.
        "common" => {
            tracing_log::LogTracer::init().expect("the first logger");
            // The `log` bridge cannot be installed too, and says why.
            let err = sentry_log::init().expect_err("a logger is installed");
            eprintln!("init error: {err}");
        }
        // The `log` bridge wrapping `LogTracer`: both bridges see every record.
        "double" => {
            sentry_log::SentryLogger::with_dest(tracing_log::LogTracer::new())
                .install()
                .expect("the first logger");
        }
        other => panic!("unknown setup {other}"),
    }
    log::error!(target: "payments", order = 1234; "{MESSAGE}");
    eprintln!(
        "double setup detected: {}",
        sentry_log::double_setup_detected()
    );
    assert!(sentry::flush(Some(Duration::from_secs(10))), "flushed");
    drop(guard);
}

/// Runs the child with `setup`; returns its stderr and the events the server received.
fn run_child(setup: &str) -> (String, Vec<serde_json::Value>) {
    let server = TestServer::start();
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args([
            "log_tracing_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{setup}|{}", server.dsn()))
        .output()
        .expect("run the child");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "{setup}: the child failed ({}):\n{stderr}",
        output.status
    );
    let events = raw_event_payloads(&server.take_requests())
        .into_iter()
        .filter(|event| event.to_string().contains(MESSAGE))
        .collect();
    (stderr, events)
}

#[test]
fn a_log_record_arrives_once_through_the_tracing_layer() {
    let (stderr, events) = run_child("common");
    assert_eq!(events.len(), 1, "one event:\n{events:#?}\n{stderr}");
    let event = &events[0];
    // The record's own target and location, not tracing-log's `log` target and fields.
    assert_eq!(event["logger"], "payments", "{event:#}");
    assert_eq!(event["level"], "error");
    // tracing-log carries the message and the location, not the key-values.
    assert!(event["extra"].get("log.target").is_none(), "{event:#}");
    assert!(event["contexts"]["log"]["line"].is_number(), "{event:#}");
    assert!(stderr.contains("double setup detected: false"), "{stderr}");
    // `sentry_log::init()` explains why it is not needed.
    assert!(
        stderr.contains("init error: the Sentry `log` bridge was not installed")
            && stderr.contains("reach Sentry through the layer; remove this call"),
        "{stderr}"
    );
}

#[test]
fn a_log_bridge_wrapping_log_tracer_is_detected_and_captures_once() {
    let (stderr, events) = run_child("double");
    assert_eq!(events.len(), 1, "one event:\n{events:#?}\n{stderr}");
    assert_eq!(events[0]["logger"], "payments");
    assert!(stderr.contains("double setup detected: true"), "{stderr}");
    assert!(
        stderr.contains("`log` records reach Sentry twice")
            && stderr.contains("drop `SentryLogger`"),
        "{stderr}"
    );
}
