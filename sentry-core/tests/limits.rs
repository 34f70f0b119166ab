//! The limits on event data, through the client: `max_value_length` on every kind of string,
//! depth and breadth cuts on scope data and events, envelopes built by hand, logs too large to
//! send, and reading deeply nested JSON.

use std::sync::Arc;

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::limits::{DEPTH_MARKER, MAX_BREADTH, MAX_DEPTH};
use sentry_core::protocol::{
    Context, DataCategory, DiscardReason, Event, Exception, Log, LogLevel, LogValue,
};
use sentry_core::test::{with_captured_events_options, with_captured_logs, TestTransport};
use sentry_core::{Breadcrumb, Client, ClientOptions, Level, Map, User, Value};

/// Seven characters, the fifth and sixth four bytes each: cut at six, the last kept character
/// is a multi-byte one.
const SEVEN: &str = "abcd😀😀e";
/// What [`SEVEN`] becomes with `max_value_length: 6`.
const SEVEN_CUT: &str = "abcd😀…";
/// Six multi-byte characters (24 bytes): at the limit, kept whole.
const SIX: &str = "😀é😀é😀é";

fn options() -> ClientOptions {
    ClientOptions {
        max_value_length: 6,
        ..Default::default()
    }
}

fn map(entries: &[(&str, Value)]) -> Map {
    entries
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

#[test]
fn max_value_length_cuts_every_kind_of_string_on_a_char_boundary() {
    let events = with_captured_events_options(options(), || {
        sentry_core::with_isolation_scope(
            |scope| {
                scope.set_extra("scope", SEVEN);
                scope.set_context(
                    "ctx",
                    Context::Other(map(&[("field", SEVEN.into()), ("whole", SIX.into())])),
                );
                scope.set_user(Some(User {
                    id: Some("42".into()),
                    other: map(&[("note", SEVEN.into())]),
                    ..User::default()
                }));
            },
            || {
                sentry_core::add_breadcrumb(Breadcrumb::new(SEVEN).data("k", SEVEN));
                sentry_core::add_breadcrumb(Breadcrumb::new(SIX));
                let mut event = Event {
                    message: Some(SEVEN.into()),
                    exception: vec![Exception {
                        ty: "Error".into(),
                        value: Some(SEVEN.into()),
                        ..Exception::default()
                    }],
                    ..Event::default()
                };
                event.extra.insert(
                    "nested".into(),
                    Value::Map(map(&[("list", Value::from(vec![SEVEN, SIX]))])),
                );
                event.extra.insert("long-key-1234".into(), 1.into());
                sentry_core::capture_event(event);
            },
        );
    });
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(event.message.as_deref(), Some(SEVEN_CUT));
    assert_eq!(event.exception[0].value.as_deref(), Some(SEVEN_CUT));
    assert_eq!(event.exception[0].ty, "Error");
    assert_eq!(event.extra["scope"], Value::from(SEVEN_CUT));
    assert_eq!(
        event.extra["nested"],
        Value::Map(map(&[("list", Value::from(vec![SEVEN_CUT, SIX]))]))
    );
    // Keys are cut too.
    assert_eq!(event.extra["long-…"], Value::from(1));
    let Context::Other(ctx) = &event.contexts["ctx"] else {
        panic!("not a map context")
    };
    assert_eq!(ctx["field"], Value::from(SEVEN_CUT));
    assert_eq!(ctx["whole"], Value::from(SIX));
    let user = event.user.as_ref().expect("a user");
    assert_eq!(user.other["note"], Value::from(SEVEN_CUT));
    assert_eq!(user.id.as_deref(), Some("42"));
    let crumbs: Vec<_> = event
        .breadcrumbs
        .iter()
        .map(|b| b.message.as_deref().unwrap_or_default())
        .collect();
    assert_eq!(crumbs, [SEVEN_CUT, SIX]);
    assert_eq!(event.breadcrumbs[0].data["k"], Value::from(SEVEN_CUT));
}

#[test]
fn max_value_length_cuts_log_bodies_and_string_attributes() {
    let logs = with_captured_logs(options(), || {
        let mut log = Log::new(LogLevel::Info, SEVEN);
        log.attributes.insert("text", SEVEN);
        log.attributes.insert("whole", SIX);
        log.attributes.insert("number", 1_234_567_890_i64);
        sentry_core::capture_log(log);
    });
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].body, SEVEN_CUT);
    assert_eq!(
        logs[0].attributes.get("text").and_then(LogValue::as_str),
        Some(SEVEN_CUT)
    );
    assert_eq!(
        logs[0].attributes.get("whole").and_then(LogValue::as_str),
        Some(SIX)
    );
    assert_eq!(
        logs[0].attributes.get("number"),
        Some(&LogValue::I64(1_234_567_890))
    );
}

#[test]
fn the_default_keeps_100_000_characters() {
    let events = with_captured_events_options(ClientOptions::default(), || {
        sentry_core::capture_message(&"é".repeat(100_000), Level::Info);
        sentry_core::capture_message(&"é".repeat(100_001), Level::Info);
    });
    let whole = events[0].message.as_deref().unwrap_or_default();
    assert_eq!(whole.chars().count(), 100_000);
    assert!(!whole.ends_with('…'));
    let cut = events[1].message.as_deref().unwrap_or_default();
    assert_eq!(cut.chars().count(), 100_000);
    assert!(cut.ends_with("é…"));
}

#[test]
fn zero_max_value_length_is_an_options_error() {
    let options = ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(TestTransport::new().factory()),
        max_value_length: 0,
        ..Default::default()
    };
    let err = Client::try_new(options).expect_err("an error");
    assert!(err.to_string().contains("max_value_length"), "{err}");
}

/// `depth` arrays nested in each other around `"leaf"`.
fn nested(depth: usize) -> Value {
    let mut value = Value::from("leaf");
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

/// Follows the first item of `depth` arrays.
fn descend(mut value: &Value, depth: usize) -> &Value {
    for level in 0..depth {
        value = match value {
            Value::Array(items) => &items[0],
            other => panic!("level {level}: expected an array, got {other:?}"),
        };
    }
    value
}

fn assert_cut_at_depth_limit(value: &Value) {
    let inner = descend(value, MAX_DEPTH);
    assert_eq!(inner, &Value::from(DEPTH_MARKER));
}

#[test]
fn deep_and_wide_data_is_cut_visibly() {
    let events = with_captured_events_options(ClientOptions::default(), || {
        sentry_core::with_isolation_scope(
            |scope| {
                scope.set_extra("deep", nested(50));
                scope.set_context("ctx", Context::Other(map(&[("deep", nested(50))])));
                scope.set_user(Some(User {
                    other: map(&[("deep", nested(50))]),
                    ..User::default()
                }));
            },
            || {
                sentry_core::add_breadcrumb(Breadcrumb::new("crumb").data("deep", nested(50)));
                let mut event = Event::default();
                event.extra.insert("own".into(), nested(50));
                event
                    .extra
                    .insert("wide".into(), (0..MAX_BREADTH + 5).collect::<Value>());
                sentry_core::capture_event(event);
            },
        );
    });
    let event = &events[0];
    assert_cut_at_depth_limit(&event.extra["deep"]);
    assert_cut_at_depth_limit(&event.extra["own"]);
    let Context::Other(ctx) = &event.contexts["ctx"] else {
        panic!("not a map context")
    };
    assert_cut_at_depth_limit(&ctx["deep"]);
    assert_cut_at_depth_limit(&event.user.as_ref().expect("user").other["deep"]);
    assert_cut_at_depth_limit(&event.breadcrumbs[0].data["deep"]);
    let Value::Array(wide) = &event.extra["wide"] else {
        panic!("not an array")
    };
    assert_eq!(wide.len(), MAX_BREADTH + 1);
    assert_eq!(wide[MAX_BREADTH], Value::from("[truncated: 5 more items]"));
}

#[test]
fn envelopes_built_by_hand_are_held_to_the_depth_limit() {
    let transport = TestTransport::new();
    let client = Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        ..Default::default()
    });
    let mut event = Event::default();
    event.extra.insert("deep".into(), nested(50));
    let long = "x".repeat(200_000);
    event.extra.insert("long".into(), long.clone().into());
    client.send_envelope(Envelope::from_event(event));
    client.close(None);
    let envelopes = transport.envelopes();
    let sent = envelopes[0].event().expect("an event");
    assert_cut_at_depth_limit(&sent.extra["deep"]);
    // Sent "as it is" otherwise: strings are not cut.
    assert_eq!(sent.extra["long"], Value::from(long));
}

#[test]
fn a_log_too_large_to_send_is_dropped_and_counted() {
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        enable_logs: true,
        ..Default::default()
    }));
    let mut log = Log::new(LogLevel::Info, "big");
    for i in 0..20 {
        log.attributes.insert(format!("a{i}"), "x".repeat(100_000));
    }
    client.capture_log(log, None);
    client.capture_log(Log::new(LogLevel::Info, "small"), None);
    let report = client.client_reports().take().expect("a report");
    let count = |category| {
        report
            .discarded_events
            .iter()
            .filter(|d| d.reason == DiscardReason::Invalid && d.category == category)
            .map(|d| d.quantity)
            .sum::<u64>()
    };
    assert_eq!(count(DataCategory::LogItem), 1);
    assert!(count(DataCategory::LogByte) > 2_000_000);
    client.close(None);
    let bodies: Vec<String> = transport
        .envelopes()
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::Logs(logs) => Some(logs.iter().map(|l| l.body.clone())),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(bodies, ["small"]);
}

#[test]
fn deeply_nested_json_converts_and_parses_without_exhausting_the_stack() {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            // Converting a hand-built serde_json value: deeper than serde_json ever reads.
            let mut json = serde_json::Value::from("leaf");
            for _ in 0..100_000 {
                json = serde_json::Value::Array(vec![json]);
            }
            let value = sentry_core::protocol::value_from_json(json);
            assert_eq!(descend(&value, 128), &Value::from(DEPTH_MARKER));
            // An envelope whose header line is nested 100,000 levels deep is an error.
            let mut bytes = "[".repeat(100_000).into_bytes();
            bytes.extend_from_slice("]".repeat(100_000).as_bytes());
            bytes.extend_from_slice(b"\n{\"type\":\"event\",\"length\":2}\n{}\n");
            assert!(Envelope::from_bytes(&bytes).is_err());
        })
        .expect("spawn")
        .join()
        .expect("no stack overflow");
}
