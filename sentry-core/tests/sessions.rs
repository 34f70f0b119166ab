//! Release health: the application session's state machine as the pipeline drives it (which
//! events count, what is sent and in which envelope, nothing after a final state), the crash
//! update in the crash event's envelope, request sessions counted per minute, and sessions a
//! killed process left open reported as `abnormal` by the next start.
//!
//! The pinned Relay normalizer has no entry point for sessions (it normalizes events), so the
//! payloads are checked field by field against the specification here.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{
    DataCategory, DiscardReason, Event, Exception, Mechanism, SessionAggregates, SessionAttributes,
    SessionStatus, SessionUpdate,
};
use sentry_core::test::{with_captured_envelopes_options, TestTransport};
use sentry_core::transport::SessionAggregator;
use sentry_core::{ClientOptions, Level, SessionMode, User};

/// `init` binds the global scope: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

const RELEASE: &str = "sessions-test@1.0.0";

fn options(transport: &Arc<TestTransport>) -> ClientOptions {
    ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        release: Some(RELEASE.into()),
        environment: Some("test".into()),
        ..ClientOptions::default()
    }
}

/// What a test does between `init` and the guard's drop.
#[derive(Clone, Copy, Debug)]
enum Step {
    /// `capture_error`.
    Error,
    /// `capture_message` at `error`: never counts.
    MessageAtError,
    /// `capture_event` of a message-only event at `error`: counts.
    EventAtError,
    /// `capture_event` at `warning` without an exception: does not count.
    EventAtWarning,
    /// An unhandled exception (what the panic integration captures): crashes the session.
    Unhandled,
    /// `end_session()`.
    End,
    /// `start_session()`.
    Start,
}

fn unhandled_event() -> Event {
    Event {
        level: Level::Fatal,
        exception: vec![Exception {
            ty: "panic".into(),
            value: Some("boom".into()),
            mechanism: Some(Mechanism {
                ty: "panic".into(),
                handled: Some(false),
                ..Mechanism::default()
            }),
            ..Exception::default()
        }],
        ..Event::default()
    }
}

fn run_step(step: Step) {
    match step {
        Step::Error => {
            sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
        }
        Step::MessageAtError => {
            sentry_core::capture_message("bad", Level::Error);
        }
        Step::EventAtError => {
            sentry_core::capture_event(Event {
                message: Some("bad".into()),
                level: Level::Error,
                ..Event::default()
            });
        }
        Step::EventAtWarning => {
            sentry_core::capture_event(Event {
                message: Some("meh".into()),
                level: Level::Warning,
                ..Event::default()
            });
        }
        Step::Unhandled => {
            sentry_core::capture_event(unhandled_event());
        }
        Step::End => sentry_core::end_session(),
        Step::Start => sentry_core::start_session(),
    }
}

/// A session update as seen in an envelope: with an event or alone, its status, errors and
/// `init`.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    with_event: bool,
    status: SessionStatus,
    errors: u64,
    init: bool,
}

fn seen(status: SessionStatus, errors: u64, init: bool, with_event: bool) -> Seen {
    Seen {
        with_event,
        status,
        errors,
        init,
    }
}

fn updates(envelopes: &[Envelope]) -> Vec<(bool, SessionUpdate)> {
    envelopes
        .iter()
        .flat_map(|envelope| {
            let with_event = envelope.event().is_some();
            envelope.items().filter_map(move |item| match item {
                EnvelopeItem::Session(update) => Some((with_event, update.clone())),
                _ => None,
            })
        })
        .collect()
}

/// Runs `steps` between `init` and the drop of its guard; returns every envelope sent.
fn run_app(configure: impl FnOnce(&mut ClientOptions), steps: &[Step]) -> Vec<Envelope> {
    let transport = TestTransport::new();
    let mut options = options(&transport);
    configure(&mut options);
    let guard = sentry_core::init(options);
    for step in steps {
        run_step(*step);
    }
    drop(guard);
    transport.fetch_and_clear_envelopes()
}

/// Checks one update against the specification's `session` payload.
fn assert_session_payload(update: &SessionUpdate) {
    let json = serde_json::to_value(update).unwrap();
    let sid = json["sid"].as_str().unwrap();
    assert_eq!(sid.len(), 36, "a UUID with dashes: {sid}");
    assert_eq!(sid.matches('-').count(), 4);
    let started = json["started"].as_str().unwrap();
    assert!(started.ends_with('Z') && started.contains('T'), "{started}");
    assert!(json["timestamp"].as_str().unwrap().ends_with('Z'));
    assert!(json["duration"].as_f64().unwrap() >= 0.0);
    assert!(json["seq"].is_u64());
    assert!(json["errors"].is_u64());
    assert_eq!(json["attrs"]["release"], RELEASE);
    assert_eq!(json["attrs"]["environment"], "test");
    assert!(
        ["ok", "exited", "crashed", "abnormal"].contains(&json["status"].as_str().unwrap()),
        "{json}"
    );
    if update.init {
        assert_eq!(json["init"], true);
        assert_eq!(update.seq, 0, "the first update has seq 0");
    } else {
        assert!(json.get("init").is_none(), "init is written only when true");
    }
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    for key in keys {
        assert!(
            [
                "sid",
                "did",
                "seq",
                "timestamp",
                "started",
                "init",
                "duration",
                "status",
                "errors",
                "attrs"
            ]
            .contains(&key.as_str()),
            "unexpected field {key}"
        );
    }
}

/// The state machine as the pipeline drives it: which events count, which changes are sent
/// (first error, end) and in which envelope, and that nothing follows a final state.
#[test]
fn the_application_session_state_machine() {
    use SessionStatus::{Crashed, Exited};
    use Step::*;
    let _serial = serial();
    let table: &[(&[Step], &[Seen])] = &[
        // Nothing happened: one update, at close.
        (&[], &[seen(Exited, 0, true, false)]),
        // The first error goes with its event; later ones are only counted.
        (
            &[Error, Error, Error],
            &[
                seen(SessionStatus::Ok, 1, true, true),
                seen(Exited, 3, false, false),
            ],
        ),
        // `capture_message` never counts, even at `error`.
        (
            &[MessageAtError, MessageAtError],
            &[seen(Exited, 0, true, false)],
        ),
        // `capture_event` at `error` counts; below `error` without an exception it does not.
        (
            &[EventAtWarning, EventAtError],
            &[
                seen(SessionStatus::Ok, 1, true, true),
                seen(Exited, 1, false, false),
            ],
        ),
        // A crash ends the session in the crash event's envelope; close sends nothing more.
        (&[Unhandled], &[seen(Crashed, 1, true, true)]),
        (
            &[Error, Unhandled, Error],
            &[
                seen(SessionStatus::Ok, 1, true, true),
                seen(Crashed, 2, false, true),
            ],
        ),
        // Ended by hand: no update after the final state, errors included.
        (&[End, Error, End], &[seen(Exited, 0, true, false)]),
        (&[Unhandled, End], &[seen(Crashed, 1, true, true)]),
    ];
    for (steps, expected) in table {
        let envelopes = run_app(|_| {}, steps);
        let updates = updates(&envelopes);
        let got: Vec<Seen> = updates
            .iter()
            .map(|(with_event, u)| seen(u.status, u.errors, u.init, *with_event))
            .collect();
        assert_eq!(&got, expected, "{steps:?}");
        for (_, update) in &updates {
            assert_session_payload(update);
        }
        // One session per run: every update has the same id, and `seq` grows.
        assert!(updates.windows(2).all(|w| w[0].1.sid == w[1].1.sid));
        assert!(updates.windows(2).all(|w| w[0].1.seq < w[1].1.seq));
    }
}

/// Sampled-out events still count (their update is sent alone); events dropped by
/// `before_send` do not.
#[test]
fn sampled_out_errors_count_dropped_ones_do_not() {
    let _serial = serial();
    let envelopes = run_app(|o| o.sample_rate = 0.0, &[Step::Error, Step::Error]);
    let got: Vec<_> = updates(&envelopes)
        .into_iter()
        .map(|(with_event, u)| (with_event, u.status, u.errors))
        .collect();
    assert_eq!(
        got,
        [
            (false, SessionStatus::Ok, 1),
            (false, SessionStatus::Exited, 2)
        ]
    );

    let envelopes = run_app(
        |o| o.before_send = Some(Arc::new(|_, _| None)),
        &[Step::Error, Step::Unhandled],
    );
    let got: Vec<_> = updates(&envelopes)
        .into_iter()
        .map(|(_, u)| (u.status, u.errors))
        .collect();
    assert_eq!(got, [(SessionStatus::Exited, 0)]);
}

/// The distinct id comes from the user (id, else email, else username) known before the
/// first update; the IP address only with `send_default_pii`.
#[test]
fn the_user_names_the_session() {
    let _serial = serial();
    for pii in [false, true] {
        let transport = TestTransport::new();
        let guard = sentry_core::init(ClientOptions {
            send_default_pii: pii,
            ..options(&transport)
        });
        sentry_core::set_user(Some(User {
            email: Some("ada@example.com".into()),
            ip_address: Some("192.0.2.1".into()),
            ..User::default()
        }));
        sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
        sentry_core::set_user(Some(User {
            id: Some("later".into()),
            ..User::default()
        }));
        // Before the guard goes: with the SDK off it would change nothing.
        sentry_core::set_user(None);
        drop(guard);
        let updates = updates(&transport.fetch_and_clear_envelopes());
        assert_eq!(updates.len(), 2);
        for (_, update) in &updates {
            assert_eq!(update.did.as_deref(), Some("ada@example.com"));
            assert_eq!(update.attrs.ip_address.is_some(), pii);
        }
    }
}

/// Without a release, or with `auto_session_tracking` off, `init` tracks no session.
#[test]
fn no_session_without_release_or_when_off() {
    let _serial = serial();
    let envelopes = run_app(|o| o.release = None, &[Step::Error]);
    assert!(updates(&envelopes).is_empty());
    let envelopes = run_app(|o| o.auto_session_tracking = false, &[Step::Error]);
    assert!(updates(&envelopes).is_empty());
    // Started by hand, it is tracked; starting again ends the open one first.
    let envelopes = run_app(
        |o| o.auto_session_tracking = false,
        &[Step::End, Step::Start, Step::Error, Step::Start],
    );
    let got: Vec<_> = updates(&envelopes)
        .into_iter()
        .map(|(with_event, u)| (with_event, u.status, u.errors, u.sid))
        .collect();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!((got[0].0, got[0].1, got[0].2), (true, SessionStatus::Ok, 1));
    assert_eq!((got[1].1, got[1].2), (SessionStatus::Exited, 1));
    assert_eq!((got[2].1, got[2].2), (SessionStatus::Exited, 0));
    assert_eq!(got[0].3, got[1].3);
    assert_ne!(got[1].3, got[2].3, "a new session");
}

fn aggregates(envelopes: &[Envelope]) -> Vec<SessionAggregates> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::SessionAggregates(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

/// Request mode: a session per isolation scope, errors counted in it, ended sessions counted
/// per minute and sent at close; no application-wide session.
#[test]
fn request_sessions_are_aggregated() {
    let _serial = serial();
    let options = ClientOptions {
        release: Some(RELEASE.into()),
        session_mode: SessionMode::Request,
        ..ClientOptions::default()
    };
    let envelopes = with_captured_envelopes_options(options, || {
        let request = |steps: &[Step], end: Option<SessionStatus>| {
            sentry_core::with_isolation_scope(
                |_| {},
                || {
                    sentry_core::start_session();
                    for step in steps {
                        run_step(*step);
                    }
                    if let Some(status) = end {
                        sentry_core::end_session_with_status(status);
                    }
                },
            );
        };
        request(&[], Some(SessionStatus::Exited));
        request(&[], Some(SessionStatus::Exited));
        request(
            &[Step::Error, Step::MessageAtError],
            Some(SessionStatus::Exited),
        );
        request(&[Step::Unhandled], Some(SessionStatus::Exited));
        request(&[], Some(SessionStatus::Crashed));
        request(&[], Some(SessionStatus::Abnormal));
        // Never ended: counted as exited when its isolation scope goes away.
        request(&[], None);
    });
    assert!(updates(&envelopes).is_empty(), "no application session");
    let aggregates = aggregates(&envelopes);
    let all: Vec<_> = aggregates.iter().flat_map(|a| &a.aggregates).collect();
    let sum = |f: fn(&sentry_core::protocol::SessionAggregateItem) -> u64| -> u64 {
        all.iter().map(|b| f(b)).sum()
    };
    assert_eq!(sum(|b| b.exited), 3);
    assert_eq!(sum(|b| b.errored), 1);
    assert_eq!(sum(|b| b.crashed), 2);
    assert_eq!(sum(|b| b.abnormal), 1);
    for aggregate in &aggregates {
        assert_eq!(aggregate.attrs.release, RELEASE);
        assert_eq!(aggregate.attrs.environment.as_deref(), Some("production"));
        let json = serde_json::to_value(aggregate).unwrap();
        for bucket in json["aggregates"].as_array().unwrap() {
            let started = bucket["started"].as_str().unwrap();
            assert!(
                started.ends_with(":00.000000Z"),
                "minute-floored: {started}"
            );
            for (key, value) in bucket.as_object().unwrap() {
                assert!(
                    ["started", "did", "exited", "errored", "abnormal", "crashed"]
                        .contains(&key.as_str()),
                    "{key}"
                );
                if key != "started" && key != "did" {
                    assert!(value.as_u64().unwrap() > 0, "zero counts are left out");
                }
            }
        }
    }
}

/// The aggregator across a minute boundary, with the time passed in: sessions that started
/// at 12:00:59 and 12:01:00 land in two buckets, and the batch is due 60 s after the first
/// count, not before.
#[test]
fn aggregates_across_a_minute_boundary() {
    let reports = Arc::new(ClientReports::default());
    let aggregator = SessionAggregator::new(
        SessionAttributes {
            release: RELEASE.into(),
            ..SessionAttributes::default()
        },
        Arc::clone(&reports),
    );
    let noon = UNIX_EPOCH + Duration::from_secs(1_714_564_800); // 2024-05-01T12:00:00Z
    let at = |secs: u64| noon + Duration::from_secs(secs);
    aggregator.record(at(0), None, SessionStatus::Exited, 0);
    aggregator.record(at(59), None, SessionStatus::Exited, 2);
    aggregator.record(at(59), Some("u1"), SessionStatus::Crashed, 1);
    aggregator.record(at(60), None, SessionStatus::Exited, 0);
    aggregator.record(at(119), None, SessionStatus::Abnormal, 0);
    let first_count = Instant::now();
    let deadline = aggregator.next_deadline().unwrap();
    assert!(deadline >= first_count + Duration::from_secs(59));
    assert!(aggregator
        .take_batch(first_count + Duration::from_secs(30), false)
        .is_none());
    let envelope = aggregator
        .take_batch(first_count + Duration::from_secs(61), false)
        .expect("due after 60 s");
    let payload = String::from_utf8(envelope.to_vec(None)).unwrap();
    let body: serde_json::Value = serde_json::from_str(payload.lines().nth(2).unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "aggregates": [
                {"started": "2024-05-01T12:00:00.000000Z", "exited": 1, "errored": 1},
                {"started": "2024-05-01T12:00:00.000000Z", "did": "u1", "crashed": 1},
                {"started": "2024-05-01T12:01:00.000000Z", "exited": 1, "abnormal": 1},
            ],
            "attrs": {"release": RELEASE}
        })
    );
    assert!(payload
        .lines()
        .nth(1)
        .unwrap()
        .contains(r#""type":"sessions""#));
    assert!(aggregator.is_empty());
    assert!(reports.is_empty());
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sentry-sessions-{name}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn session_files(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("session-"))
        .collect();
    names.sort();
    names
}

/// With an offline cache, the open session is kept on disk; one left by a process that is
/// gone is reported as `abnormal` by the next start (a damaged one is deleted and counted),
/// and a session that ended leaves no file.
#[test]
fn a_session_left_open_is_reported_abnormal() {
    let _serial = serial();
    let dir = temp_dir("abnormal");
    let own = format!("session-{:010}.json", std::process::id());
    // A pid above Linux's pid_max: no such process.
    let dead = "session-0009999999.json";
    let damaged = "session-0009999998.json";

    let transport = TestTransport::new();
    let guard = sentry_core::init(ClientOptions {
        cache_dir: Some(dir.clone()),
        ..options(&transport)
    });
    assert_eq!(session_files(&dir), [own.as_str()]);
    sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
    sentry_core::capture_error(&"y".parse::<u8>().unwrap_err());
    // What a `kill -9` now would leave: the file as it is.
    std::fs::copy(dir.join(&own), dir.join(dead)).unwrap();
    std::fs::write(dir.join(damaged), b"{\"sid\": 12").unwrap();
    let sent_before = updates(&transport.fetch_and_clear_envelopes());
    drop(guard);
    assert_eq!(
        session_files(&dir),
        [damaged.to_owned(), dead.to_owned()],
        "an ended session leaves no file"
    );

    let transport = TestTransport::new();
    let guard = sentry_core::init(ClientOptions {
        cache_dir: Some(dir.clone()),
        ..options(&transport)
    });
    assert_eq!(session_files(&dir), [own.as_str()]);
    let reports = guard.client().unwrap().client_reports().take().unwrap();
    assert!(reports.discarded_events.iter().any(|d| {
        d.reason == DiscardReason::InternalSdkError
            && d.category == DataCategory::Session
            && d.quantity == 1
    }));
    let updates = updates(&transport.fetch_and_clear_envelopes());
    assert_eq!(updates.len(), 1);
    let (_, abnormal) = &updates[0];
    assert_session_payload(abnormal);
    assert_eq!(abnormal.status, SessionStatus::Abnormal);
    assert_eq!(abnormal.errors, 2);
    assert_eq!(abnormal.sid, sent_before[0].1.sid);
    assert!(
        !abnormal.init,
        "its first update was sent with the first error"
    );
    assert!(abnormal.seq > sent_before[0].1.seq);
    drop(guard);
    assert!(session_files(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
