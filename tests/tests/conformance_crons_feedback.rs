//! Wire conformance of check-ins and feedback.
//!
//! A feedback item's payload is an event: it goes through Relay's store normalizer like any
//! event and must come back with no `errors` and no `_meta`. The pinned `sentry-relay` package
//! has no entry point for check-ins (Relay's `relay-monitors` is not exposed to Python), so a
//! check-in is checked field by field against what Relay's check-in reader keeps: the known
//! keys only, the types it reads, the slug and environment limits.
//!
//! Needs a Python with `sentry-relay`; `sentry_tests::relay` sets one up on first use.

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{
    new_event_id, new_trace_id, CheckIn, CheckInStatus, Feedback, IntervalUnit, MonitorConfig,
    MonitorSchedule,
};
use sentry_tests::relay::assert_conformant;
use serde_json::Value;

fn payload_json(envelope: &Envelope) -> Value {
    let bytes = envelope.to_vec(None);
    let text = String::from_utf8(bytes).expect("utf-8");
    let payload = text.lines().nth(2).expect("payload line");
    serde_json::from_str(payload).expect("payload json")
}

#[test]
fn feedback_payload_passes_relays_normalizer() {
    let event = Feedback {
        contact_email: Some("jane@example.com".into()),
        name: Some("Jane".into()),
        url: Some("https://app.example.com/export".into()),
        associated_event_id: Some(new_event_id()),
        ..Feedback::new("The export hangs at 99%")
    }
    .into_event();
    let envelope = Envelope::from_feedback(event);
    let json = payload_json(&envelope);
    for key in ["event_id", "timestamp", "platform"] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    assert_eq!(
        json["contexts"]["feedback"]["message"],
        "The export hangs at 99%"
    );
    assert_conformant(&[json]);
}

fn check_key_types(json: &Value) {
    let object = json.as_object().expect("object");
    for (key, value) in object {
        let ok = match key.as_str() {
            "check_in_id" => value
                .as_str()
                .is_some_and(|s| s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())),
            "monitor_slug" => value
                .as_str()
                .is_some_and(|s| !s.is_empty() && s.chars().count() <= 50),
            "status" => matches!(value.as_str(), Some("in_progress" | "ok" | "error")),
            "duration" => value.is_f64(),
            "release" => value.is_string(),
            "environment" => value.as_str().is_some_and(|s| s.chars().count() <= 64),
            "monitor_config" => check_config(value),
            "contexts" => {
                let trace = &value["trace"];
                value.as_object().is_some_and(|c| c.len() == 1)
                    && trace.as_object().is_some_and(|t| t.len() == 1)
                    && trace["trace_id"].as_str().is_some_and(|s| s.len() == 32)
            }
            _ => false,
        };
        assert!(ok, "`{key}` is not what Relay reads: {value}");
    }
    for key in ["check_in_id", "monitor_slug", "status"] {
        assert!(object.contains_key(key), "missing {key}");
    }
}

fn check_config(config: &Value) -> bool {
    let Some(object) = config.as_object() else {
        return false;
    };
    object.iter().all(|(key, value)| match key.as_str() {
        "schedule" => match value["type"].as_str() {
            Some("crontab") => value["value"].is_string() && value.as_object().unwrap().len() == 2,
            Some("interval") => {
                value["value"].as_u64().is_some_and(|n| n >= 1)
                    && matches!(
                        value["unit"].as_str(),
                        Some("year" | "month" | "week" | "day" | "hour" | "minute")
                    )
            }
            _ => false,
        },
        "checkin_margin" | "max_runtime" | "failure_issue_threshold" | "recovery_threshold" => {
            value.is_u64()
        }
        "timezone" | "owner" => value.is_string(),
        _ => false,
    })
}

#[test]
fn check_in_payloads_carry_only_what_relay_reads() {
    let full = CheckIn {
        duration: Some(12.5),
        release: Some("app@1".into()),
        environment: Some("production".into()),
        monitor_config: Some(MonitorConfig {
            checkin_margin: Some(5),
            max_runtime: Some(30),
            timezone: Some("Europe/Vienna".into()),
            failure_issue_threshold: Some(2),
            recovery_threshold: Some(3),
            owner: Some("team:ops".into()),
            ..MonitorConfig::new(MonitorSchedule::crontab("0 3 * * MON-FRI").unwrap())
        }),
        trace_id: Some(new_trace_id()),
        ..CheckIn::new("nightly-backup", CheckInStatus::Ok)
    };
    let interval = CheckIn {
        monitor_config: Some(MonitorConfig::new(
            MonitorSchedule::interval(10, IntervalUnit::Minute).unwrap(),
        )),
        ..CheckIn::new("x".repeat(50), CheckInStatus::InProgress)
    };
    let minimal = CheckIn::new("m", CheckInStatus::Error);
    for check_in in [full, interval, minimal] {
        let envelope = Envelope::from_check_in(check_in.clone());
        let text = String::from_utf8(envelope.to_vec(None)).unwrap();
        assert!(text
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(r#"{"type":"check_in","#));
        check_key_types(&payload_json(&envelope));
        // What is written reads back the same.
        let parsed = Envelope::from_bytes(text.as_bytes()).unwrap();
        assert_eq!(
            parsed.items().next().and_then(EnvelopeItem::as_check_in),
            Some(&check_in)
        );
    }
}
