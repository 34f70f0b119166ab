//! The limits end to end: deeply nested and huge data through the `sentry` crate, its HTTP
//! transport and the loopback server, and what Relay's normalizer says about the trimmed
//! events.
//!
//! Deep data runs in a child process (this test binary again, with `SENTRY_LIMITS_CHILD` set,
//! running only [`deep_child`]): before the limits, serializing or freeing such data overflowed
//! a thread's stack, and Rust aborts the whole process on that.
//!
//! `init` binds a process-wide client, so the in-process tests take turns.

use std::process::Command;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sentry::protocol::{Context, Event, Map, Value};
use sentry::{Breadcrumb, ClientOptions, Level};
use sentry_core::limits::{DEPTH_MARKER, MAX_DEPTH, MAX_EVENT_BYTES};
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, TestServer};

const CHILD_ENV: &str = "SENTRY_LIMITS_CHILD";

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `depth` maps nested in each other around `"leaf"`, built without recursion.
fn deep_map(depth: usize) -> Value {
    let mut value = Value::from("leaf");
    for _ in 0..depth {
        let mut map = Map::new();
        map.insert("k".to_owned(), value);
        value = Value::Map(map);
    }
    value
}

/// `depth` arrays nested in each other around `"leaf"`.
fn deep_array(depth: usize) -> Value {
    let mut value = Value::from("leaf");
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

/// The child's side: data `depth` levels deep in a scope extra, a context, a breadcrumb's data
/// and the event's own extra, captured and flushed to `dsn`. Returning normally (exit code 0)
/// is the point.
#[test]
fn deep_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // Not the child: nothing to do.
    };
    let (depth, dsn) = spec.split_once('|').expect("depth|dsn");
    let depth: usize = depth.parse().expect("a depth");
    let guard = sentry::init((
        dsn,
        ClientOptions {
            shutdown_timeout: Duration::from_secs(10),
            ..Default::default()
        },
    ));
    sentry::configure_scope(|scope| {
        scope.set_extra("deep", deep_map(depth));
        let mut context = Map::new();
        context.insert("deep".to_owned(), deep_array(depth));
        scope.set_context("deep", Context::Other(context));
    });
    sentry::add_breadcrumb(Breadcrumb::new("deep data").data("deep", deep_array(depth)));
    let mut event = Event {
        message: Some(format!("{depth} levels deep")),
        level: Level::Error,
        ..Event::new()
    };
    event.extra.insert("own".to_owned(), deep_array(depth));
    sentry::capture_event(event);
    assert!(sentry::flush(Some(Duration::from_secs(10))), "flushed");
    drop(guard);
}

/// Runs [`deep_child`] with `depth` against `server`; returns the event it sent.
fn run_deep_child(depth: usize, server: &TestServer) -> serde_json::Value {
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args(["deep_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{depth}|{}", server.dsn()))
        .output()
        .expect("run the child");
    assert!(
        output.status.success(),
        "depth {depth}: the child failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut events = raw_event_payloads(&server.take_requests());
    assert_eq!(events.len(), 1, "depth {depth}: one event");
    events.remove(0)
}

/// Follows `key` (or the first item of arrays) down `levels` levels.
fn descend<'a>(
    mut value: &'a serde_json::Value,
    levels: usize,
    key: &str,
) -> &'a serde_json::Value {
    for _ in 0..levels {
        value = match value {
            serde_json::Value::Array(items) => &items[0],
            other => &other[key],
        };
    }
    value
}

/// Data nested 5,000 levels deep (which overflowed the stack of a debug build) and 200,000
/// levels deep (which overflowed release builds too) is sent cut at the depth limit, with the
/// marker where the cut is; the process exits normally.
#[test]
fn deeply_nested_data_is_cut_and_sent_without_aborting() {
    let server = TestServer::start();
    let mut events = Vec::new();
    for depth in [5_000, 200_000] {
        let event = run_deep_child(depth, &server);
        for (what, value) in [
            ("scope extra", &event["extra"]["deep"]),
            ("event extra", &event["extra"]["own"]),
            ("context", &event["contexts"]["deep"]["deep"]),
            (
                "breadcrumb data",
                &event["breadcrumbs"]["values"][0]["data"]["deep"],
            ),
        ] {
            assert!(
                !descend(value, MAX_DEPTH - 1, "k").is_string(),
                "{what}: {MAX_DEPTH} levels are kept"
            );
            assert_eq!(
                descend(value, MAX_DEPTH, "k"),
                DEPTH_MARKER,
                "{what} at depth {depth}"
            );
        }
        events.push(event);
    }
    assert_relay_accepts(&events);
}

/// Relay's normalizer accepts the trimmed events: no errors, and (the SDK cut before Relay
/// would have) no `_meta` either.
fn assert_relay_accepts(events: &[serde_json::Value]) {
    relay::assert_conformant(events);
}

fn init(server: &TestServer) -> sentry::ClientInitGuard {
    sentry::init((
        server.dsn().as_str(),
        ClientOptions {
            shutdown_timeout: Duration::from_secs(10),
            ..Default::default()
        },
    ))
}

/// A 50 MB extra made of many strings (each within `max_value_length`) is cut to fit the 1 MiB
/// event limit, keeping its first entries and saying how many were removed; the event is sent.
/// A 50 MB message is cut to `max_value_length` characters and sent. Before, the first was
/// sent as a 52 MB body and the second dropped as `queue_overflow`.
#[test]
fn huge_data_is_trimmed_to_what_sentry_accepts_and_sent() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = init(&server);
    let big: Map = (0..1000)
        .map(|i| (format!("part{i:04}"), Value::from("x".repeat(50_000))))
        .collect();
    let mut event = Event {
        message: Some("huge extra".into()),
        ..Event::new()
    };
    event.extra.insert("big".to_owned(), Value::Map(big));
    event.extra.insert("small".to_owned(), "kept".into());
    sentry::capture_event(event);
    sentry::capture_message(&"m".repeat(50_000_000), Level::Error);
    // 30 breadcrumbs of 50 KB each: the oldest go, and the first breadcrumb says so.
    sentry::with_isolation_scope(
        |_| {},
        || {
            for i in 0..30 {
                sentry::add_breadcrumb(Breadcrumb::new(format!("{i:02} {}", "b".repeat(50_000))));
            }
            sentry::capture_message("many large breadcrumbs", Level::Warning);
        },
    );
    assert!(sentry::flush(Some(Duration::from_secs(10))));
    drop(guard);

    let requests = server.requests();
    let items: Vec<_> = requests
        .iter()
        .flat_map(|r| r.raw_items())
        .filter(|(header, _)| header["type"] == "event")
        .collect();
    assert_eq!(items.len(), 3, "every event is sent");
    for (_, payload) in &items {
        assert!(payload.len() <= MAX_EVENT_BYTES, "{} bytes", payload.len());
    }
    let events = raw_event_payloads(&requests);
    let extra = &events[0]["extra"];
    assert_eq!(extra["small"], "kept");
    assert_eq!(extra["big"]["part0000"], "x".repeat(50_000));
    let marker = extra["big"]["…"].as_str().expect("a marker entry");
    assert!(
        marker.starts_with("[truncated: ") && marker.ends_with(" more entries]"),
        "{marker}"
    );
    assert!(
        items[0].1.len() > MAX_EVENT_BYTES * 9 / 10,
        "cut no more than needed"
    );
    let message = events[1]["logentry"]["formatted"]
        .as_str()
        .expect("a message");
    assert_eq!(message.chars().count(), 100_000);
    assert!(message.ends_with("m…"));
    let crumbs = events[2]["breadcrumbs"]["values"]
        .as_array()
        .expect("breadcrumbs");
    let first = crumbs[0]["message"].as_str().expect("a message");
    assert!(
        first.starts_with("[truncated: ") && first.contains("older breadcrumbs removed"),
        "{first}"
    );
    let last = crumbs[crumbs.len() - 1]["message"]
        .as_str()
        .expect("a message");
    assert!(last.starts_with("29 "), "the newest is kept");
    assert!(crumbs.len() > 15, "{} kept", crumbs.len());
    assert_relay_accepts(&events);
}

/// An event that cannot be trimmed under the limit (its size is in tags, which are never cut)
/// is dropped, with a debug line and an `invalid` client report, and nothing else is lost.
#[test]
fn an_event_too_large_to_trim_is_dropped_and_counted() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = init(&server);
    let mut event = Event::new();
    for i in 0..40_000 {
        event
            .tags
            .insert(format!("tag{i:05}").into(), "a value of the tag".into());
    }
    assert!(sentry::capture_event(event).is_nil(), "dropped");
    sentry::capture_message("after the large one", Level::Info);
    drop(guard); // close: sends the client report

    let events = raw_event_payloads(&server.requests());
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["logentry"]["formatted"], "after the large one");
    assert_eq!(server.discarded("invalid", "error"), 1);
}
