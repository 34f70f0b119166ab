//! Scope attributes: set on the global, isolation or current scope, carried by every log,
//! metric and streamed span captured in them (not by events), with the item's own attributes
//! winning, inner scopes winning over outer ones, and the SDK's `sentry.` keys left alone.

use serde_json::Value as Json;

use sentry_core::envelope::{EnvelopeItem, ItemType};
use sentry_core::protocol::{Log, LogLevel, LogValue};
use sentry_core::test::{with_captured_events, with_captured_logs, with_isolated_client};
use sentry_core::{ClientOptions, Level, TraceLifecycle, TransactionContext};

#[test]
fn logs_carry_the_scopes_attributes_inner_scopes_and_own_attributes_winning() {
    let logs = with_captured_logs(ClientOptions::default(), || {
        sentry_core::configure_global_scope(|scope| {
            scope.set_attribute("layer", "global");
            scope.set_attribute("global.only", 1);
            scope.set_attribute("sentry.environment", "not-from-a-scope");
        });
        sentry_core::set_attribute("layer", "isolation");
        sentry_core::set_attributes([("isolation.only", LogValue::from(true))]);
        sentry_core::with_scope(
            |scope| {
                scope.set_attribute("layer", "current");
                scope.set_attribute("ratio", 0.5);
                scope.set_attribute("own", "scope");
            },
            || {
                let mut log = Log::new(LogLevel::Info, "inside");
                log.attributes.insert("own", "log");
                sentry_core::capture_log(log);
            },
        );
        sentry_core::remove_attribute("isolation.only");
        sentry_core::capture_log(Log::new(LogLevel::Info, "outside"));
        sentry_core::configure_global_scope(|scope| {
            for key in ["layer", "global.only", "sentry.environment"] {
                scope.remove_attribute(key);
            }
        });
    });
    assert_eq!(logs.len(), 2);
    let inside = &logs[0].attributes;
    assert_eq!(inside.get("layer"), Some(&LogValue::from("current")));
    assert_eq!(inside.get("own"), Some(&LogValue::from("log")));
    assert_eq!(inside.get("ratio"), Some(&LogValue::F64(0.5)));
    assert_eq!(inside.get("isolation.only"), Some(&LogValue::Bool(true)));
    assert_eq!(inside.get("global.only"), Some(&LogValue::I64(1)));
    assert_eq!(
        inside.get("sentry.environment"),
        Some(&LogValue::from("production"))
    );
    let outside = &logs[1].attributes;
    assert_eq!(outside.get("layer"), Some(&LogValue::from("isolation")));
    assert!(outside.get("isolation.only").is_none());
    assert!(outside.get("ratio").is_none());
}

#[test]
fn metrics_carry_the_scopes_attributes() {
    let (envelopes, _) = with_isolated_client(ClientOptions::default(), || {
        sentry_core::set_attribute("tenant", "acme");
        sentry_core::with_scope(
            |scope| scope.set_attribute("region", "eu"),
            || sentry_core::metrics::count_with("orders", 1, &[("region", &"us")]),
        );
        sentry_core::flush(None);
    });
    let metrics: Vec<_> = envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::Metrics(metrics) => Some(metrics.clone()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(metrics.len(), 1, "{envelopes:?}");
    let attributes = &metrics[0].attributes;
    assert_eq!(attributes.get("tenant"), Some(&LogValue::from("acme")));
    // The metric's own attribute wins over the current scope's.
    assert_eq!(attributes.get("region"), Some(&LogValue::from("us")));
}

#[test]
fn events_do_not_carry_attributes() {
    let events = with_captured_events(|| {
        sentry_core::set_attribute("tenant", "acme");
        sentry_core::capture_message("no attributes here", Level::Info);
    });
    let json = serde_json::to_string(&events[0]).expect("event");
    assert!(!json.contains("acme"), "{json}");
}

#[test]
fn streamed_spans_carry_the_attributes_of_the_scopes_their_root_started_in() {
    let options = ClientOptions {
        traces_sample_rate: Some(1.0),
        trace_lifecycle: TraceLifecycle::Stream,
        ..Default::default()
    };
    let (envelopes, discarded) = with_isolated_client(options, || {
        sentry_core::set_attribute("tenant", "acme");
        sentry_core::set_attribute("db.rows", "from-scope");
        let tx = sentry_core::start_transaction(TransactionContext::new("job", "task"));
        let child = tx.start_child("db.query", "SELECT 1");
        child.set_data("db.rows", 3);
        child.finish();
        tx.finish();
        sentry_core::flush(None);
    });
    assert!(discarded.is_empty(), "{discarded:?}");
    let spans: Vec<Json> = envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Span => {
                let payload: Json = serde_json::from_slice(&raw.payload).expect("payload");
                Some(payload["items"].as_array().expect("items").clone())
            }
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(spans.len(), 2, "{spans:#?}");
    for span in &spans {
        assert_eq!(
            span["attributes"]["tenant"],
            serde_json::json!({"type": "string", "value": "acme"})
        );
    }
    let child = spans
        .iter()
        .find(|s| s["name"] == "SELECT 1")
        .expect("child");
    assert_eq!(child["attributes"]["db.rows"]["value"], 3);
}
