//! A panic in a real process crashes the application session, and the crashed session update
//! travels in the same envelope as the panic event. The test re-executes its own binary with
//! `CRASHED_SESSION_DSN` set (running only this test); the child initialises the SDK with the
//! HTTP transport against a loopback receiver in the parent, lets a thread panic, and closes.

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_core::envelope::EnvelopeItem;
use sentry_core::protocol::SessionStatus;
use sentry_core::ClientOptions;
use sentry_panic::PanicIntegration;
use sentry_tests::server::TestServer;

const DSN: &str = "CRASHED_SESSION_DSN";
const RELEASE: &str = "crashed-session-test@1.0.0";
const TEST_NAME: &str = "a_panic_delivers_a_crashed_session_with_its_event";

fn child(dsn: &str) {
    let guard = sentry_core::init(ClientOptions {
        dsn: dsn.parse().ok(),
        release: Some(RELEASE.into()),
        transport: Some(Arc::new(sentry_transport_http::HttpTransportFactory)),
        integrations: vec![Arc::new(PanicIntegration::new())],
        shutdown_timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    });
    assert!(guard.is_enabled());
    let crashed = std::thread::spawn(|| panic!("the worker gave up")).join();
    assert!(crashed.is_err());
    // Close: the session crashed already, so no `exited` update follows.
    drop(guard);
}

#[test]
fn a_panic_delivers_a_crashed_session_with_its_event() {
    if let Ok(dsn) = std::env::var(DSN) {
        child(&dsn);
        return;
    }
    let server = TestServer::start();
    let exe = std::env::current_exe().expect("own path");
    let mut process = Command::new(exe)
        .args(["--exact", TEST_NAME, "--test-threads=1"])
        .env(DSN, server.dsn())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("child started");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = process.try_wait().expect("child status") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = process.kill();
            panic!("the child did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(status.success(), "the child failed: {status:?}");
    server.wait_idle(Duration::from_millis(200), Duration::from_secs(5));

    let envelopes = server.envelopes();
    let sessions: Vec<_> = envelopes
        .iter()
        .flat_map(|envelope| {
            let event = envelope.event().cloned();
            envelope.items().filter_map(move |item| match item {
                EnvelopeItem::Session(update) => Some((event.clone(), update.clone())),
                _ => None,
            })
        })
        .collect();
    assert_eq!(sessions.len(), 1, "one update, the crash: {sessions:?}");
    let (event, update) = &sessions[0];
    let event = event
        .as_ref()
        .expect("the update rides with the panic event");
    let exception = &event.exception[0];
    assert_eq!(exception.ty, "panic");
    assert_eq!(exception.value.as_deref(), Some("the worker gave up"));
    assert_eq!(
        exception.mechanism.as_ref().and_then(|m| m.handled),
        Some(false)
    );
    assert_eq!(update.status, SessionStatus::Crashed);
    assert_eq!(update.errors, 1);
    assert!(update.init, "the first update of the session");
    assert_eq!(update.seq, 0);
    assert_eq!(update.attrs.release, RELEASE);
    assert_eq!(update.attrs.environment.as_deref(), Some("production"));
    assert!(update.duration.is_some_and(|d| d >= 0.0));
    assert!(update.started <= update.timestamp.expect("timestamp"));
}
