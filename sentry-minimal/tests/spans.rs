//! Spans through an installed backend: what reaches it, and when.
//!
//! Its own test binary: the backend is process-wide. The tests share it and a lock.

use std::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use sentry_minimal::backend::{self, Backend, ScopeBackend, SpanBackend};
use sentry_minimal::{start_span, with_span, Breadcrumb, Event, EventId, Level, SpanStatus, Value};

/// What the backend saw, in order.
static LOG: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Whether the backend records spans (as if sampled).
static SAMPLED: AtomicBool = AtomicBool::new(true);
/// Whether `with_span` breaks its contract and never calls the body.
static SKIP_BODY: AtomicBool = AtomicBool::new(false);
static SERIAL: Mutex<()> = Mutex::new(());

fn log(entry: String) {
    LOG.lock().unwrap().push(entry);
}

struct Recording(String);

impl SpanBackend for Recording {
    fn set_data(&self, key: &str, value: Value) {
        log(format!("{} data {key}={value:?}", self.0));
    }
    fn set_status(&self, status: SpanStatus) {
        log(format!("{} status {status}", self.0));
    }
    fn finish(&self) {
        log(format!("{} finish", self.0));
    }
}

struct TestBackend;

impl Backend for TestBackend {
    fn add_breadcrumb(&self, _: Breadcrumb) {}
    fn capture_event(&self, _: Event) -> EventId {
        EventId::nil()
    }
    fn capture_message(&self, _: &str, _: Level) -> EventId {
        EventId::nil()
    }
    fn capture_error(&self, _: &(dyn Error + 'static), _: Option<&'static str>) -> EventId {
        EventId::nil()
    }
    fn configure_scope(&self, _: &mut dyn FnMut(&mut dyn ScopeBackend)) {}
    fn with_scope(&self, _: &mut dyn FnMut(&mut dyn ScopeBackend), body: &mut dyn FnMut()) {
        body()
    }
    fn last_event_id(&self) -> Option<EventId> {
        None
    }
    fn start_span(&self, op: &str, name: &str) -> Option<Box<dyn SpanBackend>> {
        log(format!("start {op}:{name}"));
        SAMPLED
            .load(Ordering::SeqCst)
            .then(|| Box::new(Recording(name.to_owned())) as Box<dyn SpanBackend>)
    }
    fn with_span(&self, op: &str, name: &str, body: &mut dyn FnMut(Option<&dyn SpanBackend>)) {
        if SKIP_BODY.load(Ordering::SeqCst) {
            return;
        }
        log(format!("enter {op}:{name}"));
        if SAMPLED.load(Ordering::SeqCst) {
            let span = Recording(name.to_owned());
            body(Some(&span));
            log(format!("exit {op}:{name}"));
            span.finish();
        } else {
            body(None);
            log(format!("exit {op}:{name}"));
        }
    }
}

/// A backend that keeps the provided span methods.
struct Plain;

impl Backend for Plain {
    fn add_breadcrumb(&self, _: Breadcrumb) {}
    fn capture_event(&self, _: Event) -> EventId {
        EventId::nil()
    }
    fn capture_message(&self, _: &str, _: Level) -> EventId {
        EventId::nil()
    }
    fn capture_error(&self, _: &(dyn Error + 'static), _: Option<&'static str>) -> EventId {
        EventId::nil()
    }
    fn configure_scope(&self, _: &mut dyn FnMut(&mut dyn ScopeBackend)) {}
    fn with_scope(&self, _: &mut dyn FnMut(&mut dyn ScopeBackend), body: &mut dyn FnMut()) {
        body()
    }
    fn last_event_id(&self) -> Option<EventId> {
        None
    }
}

/// Installs the backend, turns the facade on, resets the log and the switches.
fn setup() -> MutexGuard<'static, ()> {
    static BACKEND: TestBackend = TestBackend;
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let _ = backend::set_backend(&BACKEND);
    backend::set_active(true);
    SAMPLED.store(true, Ordering::SeqCst);
    SKIP_BODY.store(false, Ordering::SeqCst);
    LOG.lock().unwrap().clear();
    guard
}

fn take_log() -> Vec<String> {
    std::mem::take(&mut *LOG.lock().unwrap())
}

#[test]
fn start_span_forwards_and_finishes_once_on_drop() {
    let _serial = setup();
    {
        let span = start_span("db.query", "SELECT 1");
        assert!(span.is_recording());
        span.set_data("db.rows", 1);
        span.set_data("db.system", "sqlite");
        span.set_status(SpanStatus::Ok);
        log("still open".into());
    }
    assert_eq!(
        take_log(),
        [
            "start db.query:SELECT 1",
            "SELECT 1 data db.rows=I64(1)",
            r#"SELECT 1 data db.system=String("sqlite")"#,
            "SELECT 1 status ok",
            "still open",
            "SELECT 1 finish",
        ]
    );
}

#[test]
fn finish_ends_the_span_exactly_once() {
    let _serial = setup();
    let span = start_span("task", "a");
    span.finish();
    log("after".into());
    assert_eq!(take_log(), ["start task:a", "a finish", "after"]);
}

#[test]
fn spans_can_end_on_another_thread() {
    let _serial = setup();
    let span = start_span("task", "moved");
    std::thread::spawn(move || span.set_status(SpanStatus::Aborted))
        .join()
        .unwrap();
    assert_eq!(
        take_log(),
        ["start task:moved", "moved status aborted", "moved finish"]
    );
}

#[test]
fn unsampled_spans_are_empty() {
    let _serial = setup();
    SAMPLED.store(false, Ordering::SeqCst);
    let span = start_span("db.query", "skipped");
    assert!(!span.is_recording());
    span.set_data("k", "v");
    span.set_status(SpanStatus::InternalError);
    span.finish();
    let ran = with_span("http.client", "GET /", |span| {
        assert!(!span.is_recording());
        span.set_data("k", "v");
        7
    });
    assert_eq!(ran, 7);
    assert_eq!(
        take_log(),
        [
            "start db.query:skipped",
            "enter http.client:GET /",
            "exit http.client:GET /"
        ]
    );
}

#[test]
fn with_span_lends_the_span_to_the_body_and_the_backend_finishes_it() {
    let _serial = setup();
    let out = with_span("http.client", "GET /users", |span| {
        assert!(span.is_recording());
        span.set_data("http.response.status_code", 404);
        span.set_status(SpanStatus::from_http_status(404).unwrap());
        // A span started inside: the backend sees it while the outer one is entered.
        start_span("db.query", "inner").finish();
        "done"
    });
    assert_eq!(out, "done");
    assert_eq!(
        take_log(),
        [
            "enter http.client:GET /users",
            "GET /users data http.response.status_code=I64(404)",
            "GET /users status not_found",
            "start db.query:inner",
            "inner finish",
            "exit http.client:GET /users",
            // Finished once, by the backend; dropping the lent span did not finish it.
            "GET /users finish",
        ]
    );
}

#[test]
fn with_span_runs_the_body_when_the_backend_does_not() {
    let _serial = setup();
    SKIP_BODY.store(true, Ordering::SeqCst);
    let mut runs = 0;
    let out = with_span("task", "skipped", |span| {
        runs += 1;
        span.is_recording()
    });
    assert_eq!((runs, out), (1, false));
    assert!(take_log().is_empty());
}

#[test]
fn off_means_empty_spans_and_no_backend_calls() {
    let _serial = setup();
    backend::set_active(false);
    let span = start_span("task", "off");
    assert!(!span.is_recording());
    span.set_data("k", 1);
    drop(span);
    assert!(!with_span("task", "off", |span| span.is_recording()));
    backend::set_active(true);
    assert!(take_log().is_empty());
}

#[test]
fn provided_backend_methods_record_nothing() {
    assert!(Plain.start_span("op", "name").is_none());
    let mut calls = Vec::new();
    Plain.with_span("op", "name", &mut |span| calls.push(span.is_none()));
    assert_eq!(calls, [true]);
}

#[test]
fn debug_shows_whether_recording() {
    let _serial = setup();
    let span = start_span("task", "debug");
    assert_eq!(format!("{span:?}"), "Span { recording: true }");
    assert_eq!(
        format!("{:?}", sentry_minimal::Span::noop()),
        "Span { recording: false }"
    );
}
