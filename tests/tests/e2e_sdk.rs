//! End to end: the `sentry` crate, its HTTP transport, the loopback server, and Relay's
//! normalizer over every event the server received.
//!
//! `init` binds a process-wide client, so the tests of this file take turns.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sentry::{Breadcrumb, ClientOptions, Level, Scopes, User};
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, TestServer};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct PortError(std::num::ParseIntError);

impl std::fmt::Display for PortError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid port")
    }
}

impl std::error::Error for PortError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn events_arrive_over_http_and_pass_relay() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = sentry::init((
        server.dsn().as_str(),
        ClientOptions {
            release: Some("e2e@1.0.0".into()),
            // One envelope per event: the application session's updates would add envelopes
            // (release health is tested on its own).
            auto_session_tracking: false,
            // The first event's stack is symbolicated from the test binary's full debug
            // info, which can take a while on a loaded machine; this test is about what
            // arrives, not how fast.
            shutdown_timeout: Duration::from_secs(15),
            ..Default::default()
        },
    ));
    assert!(guard.is_enabled());

    sentry::set_user(Some(User {
        id: Some("7".into()),
        ..Default::default()
    }));
    sentry::set_tag("suite", "e2e");
    sentry::add_breadcrumb(Breadcrumb::new("step one").category("test"));
    let message_id = sentry::capture_message("hello over http", Level::Warning);
    let err = PortError("x".parse::<u16>().unwrap_err());
    let error_id = sentry::capture_error(&err);
    sentry::with_scope(
        |scope| {
            scope.set_extra("attempt", 3);
            scope.set_fingerprint(Some(&["{{ default }}", "scoped"]));
        },
        || sentry_minimal::capture_message("from the facade", Level::Info),
    );
    let request_scopes = Scopes::current().fork_isolation();
    std::thread::spawn(move || {
        request_scopes.bind(|| {
            sentry::set_tag("request", "r1");
            sentry::capture_message("from a request thread", Level::Error);
        })
    })
    .join()
    .unwrap();
    sentry::capture_message("back on main", Level::Info);
    drop(guard); // flushes

    let requests = server.wait_for_requests(5, Duration::from_secs(5));
    assert_eq!(requests.len(), 5, "one envelope per event");
    for request in &requests {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path_only(), "/api/1/envelope/");
        assert_eq!(
            request.header("content-type"),
            Some("application/x-sentry-envelope")
        );
        let auth = request.header("x-sentry-auth").unwrap_or_default();
        assert!(auth.contains("sentry_key=public"), "{auth}");
        assert!(auth.contains("sentry_version=7"), "{auth}");
        let envelope = request
            .parsed_envelope()
            .expect("the server parsed the envelope");
        assert!(envelope.headers().sent_at.is_some(), "sent_at is stamped");
        assert!(envelope.headers().event_id.is_some());
    }

    let events = server.events();
    let find = |message: &str| {
        events
            .iter()
            .find(|e| e.message.as_deref() == Some(message))
            .unwrap_or_else(|| panic!("no event {message:?} in {events:#?}"))
    };
    let hello = find("hello over http");
    assert_eq!(hello.event_id, message_id);
    assert_eq!(hello.level, Level::Warning);
    assert_eq!(hello.release.as_deref(), Some("e2e@1.0.0"));
    assert_eq!(hello.tags.get("suite").map(|v| v.as_ref()), Some("e2e"));
    assert_eq!(hello.breadcrumbs.len(), 1);
    assert_eq!(hello.user.as_ref().and_then(|u| u.id.as_deref()), Some("7"));

    let error = events
        .iter()
        .find(|e| e.event_id == error_id)
        .expect("error event");
    let types: Vec<_> = error.exception.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(types, ["ParseIntError", "PortError"]);

    let facade = find("from the facade");
    assert_eq!(facade.extra.get("attempt"), Some(&sentry::Value::I64(3)));
    assert!(facade.fingerprint.iter().any(|f| f == "scoped"));

    let threaded = find("from a request thread");
    assert_eq!(threaded.tags.get("request").map(|v| v.as_ref()), Some("r1"));
    // A forked isolation scope starts as a copy of its parent...
    assert_eq!(threaded.tags.get("suite").map(|v| v.as_ref()), Some("e2e"));
    // ...and what the request sets stays in the request.
    let main = find("back on main");
    assert_eq!(main.tags.get("request"), None);

    // Every item is length-framed, and Relay's own normalizer accepts every byte we sent.
    for request in &requests {
        for (header, _) in request.raw_items() {
            assert!(header["length"].is_u64(), "item without length: {header}");
        }
    }
    let payloads = raw_event_payloads(&requests);
    assert_eq!(payloads.len(), 5);
    relay::assert_conformant(&payloads);
}

#[test]
fn guard_drop_delivers_a_burst() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = sentry::init(server.dsn().as_str());
    for i in 0..200 {
        sentry::capture_message(&format!("burst {i}"), Level::Info);
    }
    let started = Instant::now();
    drop(guard);
    assert!(started.elapsed() < Duration::from_millis(2500));
    assert_eq!(
        server.wait_for_envelopes(200, Duration::from_secs(5)).len(),
        200
    );
}

#[test]
fn before_send_can_drop_and_is_reported() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = sentry::init((
        server.dsn().as_str(),
        ClientOptions {
            before_send: Some(Arc::new(|event: sentry::protocol::Event, _| {
                (event.level != Level::Debug).then_some(event)
            })),
            ..Default::default()
        },
    ));
    sentry::capture_message("dropped", Level::Debug);
    sentry::capture_message("kept", Level::Info);
    drop(guard);
    server.wait_idle(Duration::from_millis(200), Duration::from_secs(5));
    let messages: Vec<_> = server
        .events()
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert_eq!(messages, ["kept"]);
    assert_eq!(server.discarded("before_send", "error"), 1);
}

#[test]
fn invalid_dsn_is_disabled_and_sends_nothing() {
    let _serial = serial();
    let guard = sentry::init("https://public@127.0.0.1:1/not a project");
    assert!(!guard.is_enabled());
    assert!(sentry::capture_message("nowhere", Level::Error).is_nil());
    assert!(sentry::try_init("definitely not a dsn").is_err());
    // Parts that look like a DSN but could never be sent to: a project id that is not a u64,
    // port 0, hosts without a letter or digit, `..` and bad %-escapes in the path.
    let project = format!("https://public@127.0.0.1:1/{}", "9".repeat(100_000));
    for dsn in [
        project.as_str(),
        "https://public@127.0.0.1:0/1",
        "https://public@-/1",
        "https://public@_/1",
        "https://public@....../1",
        "https://public@host/../1",
        "https://public@host/%zz/1",
    ] {
        let err = sentry::try_init(dsn).err();
        assert!(err.is_some(), "{dsn:.60} was accepted");
        assert!(!sentry_minimal::is_enabled(), "{dsn:.60}");
    }
}

#[test]
fn init_after_threads_exist_reaches_them() {
    let _serial = serial();
    let server = TestServer::start();
    let (go, wait) = std::sync::mpsc::channel::<()>();
    // A thread that exists (and has touched the SDK) before init.
    let early = std::thread::spawn(move || {
        sentry::add_breadcrumb(Breadcrumb::new("before init"));
        wait.recv().unwrap();
        sentry::capture_message("captured by a thread older than init", Level::Info)
    });
    let guard = sentry::init(server.dsn().as_str());
    go.send(()).unwrap();
    let id = early.join().unwrap();
    assert!(!id.is_nil(), "the old thread reports to the new client");
    drop(guard);
    let events = server.wait_for_envelopes(1, Duration::from_secs(5));
    assert_eq!(events.len(), 1);
}
