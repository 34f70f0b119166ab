//! Metrics through the client: each kind on the wire, default attributes, the trace of the
//! current span, `before_send_metric`, batching on flush, the buffer cap, and the envelope.

use std::sync::Arc;

use serde_json::{json, Value as Json};

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::metrics::{self, unit};
use sentry_core::protocol::{DataCategory, DiscardReason, Metric, MetricType, MetricValue};
use sentry_core::test::{with_captured_envelopes_options, TestTransport};
use sentry_core::{Client, ClientOptions, Scopes, TransactionContext, User};

fn metrics_of(envelopes: &[Envelope]) -> Vec<Metric> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::Metrics(metrics) => Some(metrics.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A client with a transport that only records (no worker: nothing drains the buffer but
/// flush and close), bound to fresh scopes.
fn client(options: ClientOptions) -> (Arc<Client>, Arc<TestTransport>, Scopes) {
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        ..options
    }));
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(Some(Arc::clone(&client))));
    (client, transport, scopes)
}

fn count(client: &Client, reason: DiscardReason, category: DataCategory) -> u64 {
    client
        .client_reports()
        .take()
        .map(|report| {
            report
                .discarded_events
                .iter()
                .filter(|d| d.reason == reason && d.category == category)
                .map(|d| d.quantity)
                .sum()
        })
        .unwrap_or(0)
}

/// The `items` of the one `trace_metric` item of `envelope`, as written, with its headers.
fn wire(envelope: &Envelope) -> (Json, Vec<Json>) {
    let bytes = envelope.to_vec(None);
    let text = String::from_utf8(bytes).unwrap();
    let mut lines = text.lines();
    let header: Json = serde_json::from_str(lines.next().unwrap()).unwrap();
    let item_header: Json = serde_json::from_str(lines.next().unwrap()).unwrap();
    let payload: Json = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(payload.as_object().unwrap().len(), 1, "only `items`");
    let items = payload["items"].as_array().unwrap().clone();
    (json!({"envelope": header, "item": item_header}), items)
}

#[test]
fn each_kind_on_the_wire() {
    let (client, transport, scopes) = client(ClientOptions {
        release: Some("app@3.1".into()),
        environment: Some("staging".into()),
        server_name: Some("web-1".into()),
        ..Default::default()
    });
    let trace_id = scopes.bind(|| {
        metrics::count("orders", 1);
        metrics::gauge_with("queue.depth", 42, "job", &[("queue", &"emails")]);
        metrics::distribution_with(
            "db.query",
            12.5,
            unit::MILLISECOND,
            &[("table", &"users"), ("cached", &false), ("rows", &3)],
        );
        sentry_core::get_traceparent().expect("the SDK is on")
    });
    assert!(client.close(None));
    let envelopes = transport.envelopes();
    assert_eq!(envelopes.len(), 1);
    let (headers, items) = wire(&envelopes[0]);
    assert_eq!(headers["item"]["type"], "trace_metric");
    assert_eq!(headers["item"]["item_count"], 3);
    assert_eq!(
        headers["item"]["content_type"],
        "application/vnd.sentry.items.trace-metric+json"
    );
    assert_eq!(headers["envelope"]["sdk"]["name"], "sentry.rust");
    assert!(
        headers["envelope"].get("trace").is_none(),
        "metric envelopes carry no DSC"
    );

    let trace = &trace_id[..32];
    let expected = [
        ("orders", "counter", json!(1), None),
        ("queue.depth", "gauge", json!(42), Some("job")),
        ("db.query", "distribution", json!(12.5), Some("millisecond")),
    ];
    for (item, (name, ty, value, unit)) in items.iter().zip(expected) {
        let object = item.as_object().unwrap();
        assert!(object["timestamp"].is_f64(), "{item}");
        assert_eq!(object["trace_id"], trace, "the scope's trace");
        assert!(object.get("span_id").is_none(), "no span is current");
        assert_eq!(object["name"], name);
        assert_eq!(object["type"], ty);
        assert_eq!(object["value"], value);
        assert_eq!(object.get("unit").and_then(Json::as_str), unit);
        for key in object.keys() {
            assert!(
                [
                    "timestamp",
                    "trace_id",
                    "span_id",
                    "name",
                    "type",
                    "value",
                    "unit",
                    "attributes"
                ]
                .contains(&key.as_str()),
                "unknown field {key}"
            );
        }
        let attributes = object["attributes"].as_object().unwrap();
        let string = |v: &str| json!({"value": v, "type": "string"});
        assert_eq!(attributes["sentry.environment"], string("staging"));
        assert_eq!(attributes["sentry.release"], string("app@3.1"));
        assert_eq!(attributes["sentry.sdk.name"], string("sentry.rust"));
        assert_eq!(
            attributes["sentry.sdk.version"],
            string(sentry_core::SDK_VERSION)
        );
        assert_eq!(attributes["server.address"], string("web-1"));
        assert!(!attributes.contains_key("user.id"));
    }
    assert_eq!(
        items[1]["attributes"]["queue"],
        json!({"value": "emails", "type": "string"})
    );
    let db = &items[2]["attributes"];
    assert_eq!(db["cached"], json!({"value": false, "type": "boolean"}));
    assert_eq!(db["rows"], json!({"value": 3, "type": "integer"}));
    // And back: the typed reader accepts what was written, and writes it again unchanged
    // (timestamps are written in whole microseconds).
    let bytes = envelopes[0].to_vec(None);
    let parsed = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(metrics_of(std::slice::from_ref(&parsed)).len(), 3);
    assert_eq!(parsed.to_vec(None), bytes);
}

#[test]
fn the_current_span_gives_trace_and_span_ids() {
    let (client, transport, scopes) = client(ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    });
    let (trace_id, span_id) = scopes.bind(|| {
        let tx = sentry_core::start_transaction(TransactionContext::new("checkout", "task"));
        let guard = tx.clone().enter();
        metrics::count("inside", 1);
        let ids = (
            tx.trace_id().expect("sampled"),
            tx.span_id().expect("sampled"),
        );
        drop(guard);
        tx.finish();
        ids
    });
    assert!(client.close(None));
    let metrics = metrics_of(&transport.envelopes());
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].trace_id, trace_id);
    assert_eq!(metrics[0].span_id, Some(span_id));
}

#[test]
fn user_attributes_only_with_send_default_pii() {
    for pii in [false, true] {
        let (client, transport, scopes) = client(ClientOptions {
            send_default_pii: pii,
            ..Default::default()
        });
        scopes.bind(|| {
            sentry_core::set_user(Some(User {
                id: Some("7".into()),
                email: Some("a@example.com".into()),
                ..Default::default()
            }));
            metrics::count_with("logins", 1, &[("user.id", &"mine")]);
        });
        assert!(client.close(None));
        let metrics = metrics_of(&transport.envelopes());
        let attr = |key: &str| {
            metrics[0]
                .attributes
                .get(key)
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        // What the caller set wins either way.
        assert_eq!(attr("user.id").as_deref(), Some("mine"));
        let email = attr("user.email");
        assert_eq!(
            email.as_deref(),
            pii.then_some("a@example.com"),
            "pii {pii}"
        );
    }
}

#[test]
fn before_send_metric_sees_defaults_edits_drops_and_survives_panics() {
    let (client, transport, scopes) = client(ClientOptions {
        release: Some("app@1".into()),
        before_send_metric: Some(Arc::new(|mut metric: Metric| {
            assert!(
                metric.attributes.contains_key("sentry.release"),
                "defaults come first"
            );
            match &*metric.name {
                "drop" => None,
                "panic" => panic!("a bug in the callback"),
                _ => {
                    metric.value = MetricValue::I64(99);
                    metric.attributes.remove("sentry.release");
                    Some(metric)
                }
            }
        })),
        ..Default::default()
    });
    scopes.bind(|| {
        metrics::count("keep", 1);
        metrics::count("drop", 1);
        metrics::count("panic", 1);
    });
    assert_eq!(
        count(
            &client,
            DiscardReason::BeforeSend,
            DataCategory::TraceMetric
        ),
        2
    );
    assert!(client.close(None));
    let metrics = metrics_of(&transport.envelopes());
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].name, "keep");
    assert_eq!(metrics[0].value, MetricValue::I64(99));
    // Removed by the callback, not added back afterwards.
    assert!(!metrics[0].attributes.contains_key("sentry.release"));
    assert!(metrics[0].attributes.contains_key("sentry.sdk.name"));
}

#[test]
fn flush_sends_batches_of_at_most_100_in_order() {
    let (client, transport, scopes) = client(ClientOptions::default());
    scopes.bind(|| {
        for i in 0..250 {
            metrics::distribution("n", i);
        }
    });
    assert!(client.flush(None));
    let envelopes = transport.envelopes();
    let sizes: Vec<usize> = envelopes
        .iter()
        .map(|e| metrics_of(std::slice::from_ref(e)).len())
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    let values: Vec<MetricValue> = metrics_of(&envelopes).iter().map(|m| m.value).collect();
    let expected: Vec<MetricValue> = (0..250).map(MetricValue::from).collect();
    assert_eq!(values, expected);
    assert!(client.close(None));
}

#[test]
fn at_most_1000_metrics_wait_and_drops_are_counted() {
    let (client, transport, scopes) = client(ClientOptions::default());
    scopes.bind(|| {
        for _ in 0..1004 {
            metrics::count("n", 1);
        }
    });
    assert_eq!(
        count(
            &client,
            DiscardReason::BufferOverflow,
            DataCategory::TraceMetric
        ),
        4
    );
    assert!(client.close(None));
    assert_eq!(metrics_of(&transport.envelopes()).len(), 1000);
}

#[test]
fn invalid_values_are_dropped_and_counted() {
    let (client, transport, scopes) = client(ClientOptions::default());
    scopes.bind(|| {
        metrics::gauge("nan", f64::NAN);
        metrics::distribution("inf", f64::INFINITY);
        metrics::count("", 1);
        metrics::gauge("fine", -0.5);
    });
    assert_eq!(
        count(&client, DiscardReason::Invalid, DataCategory::TraceMetric),
        3
    );
    assert!(client.close(None));
    let metrics = metrics_of(&transport.envelopes());
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].name, "fine");
}

#[test]
fn metrics_off_or_closed_capture_nothing() {
    let (client, transport, scopes) = client(ClientOptions {
        enable_metrics: false,
        ..Default::default()
    });
    scopes.bind(|| metrics::count("off", 1));
    let (open, open_transport, open_scopes) = client_pair();
    assert!(open.close(None));
    open_scopes.bind(|| metrics::count("closed", 1));
    assert!(client.close(None));
    assert!(transport.envelopes().is_empty());
    assert!(metrics_of(&open_transport.envelopes()).is_empty());
}

fn client_pair() -> (Arc<Client>, Arc<TestTransport>, Scopes) {
    client(ClientOptions::default())
}

#[test]
fn captured_metrics_keep_their_own_trace_and_timestamp() {
    let mut metric = Metric::new(MetricType::Gauge, "backlog", 17u32);
    metric.trace_id = sentry_core::TraceId::from_bytes([7; 16]);
    metric.timestamp = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let expected = metric.clone();
    let envelopes = with_captured_envelopes_options(ClientOptions::default(), || {
        metrics::capture(metric);
    });
    let metrics = metrics_of(&envelopes);
    assert_eq!(metrics.len(), 1);
    assert_eq!(metrics[0].trace_id, expected.trace_id);
    assert_eq!(metrics[0].timestamp, expected.timestamp);
    assert_eq!(metrics[0].span_id, None);
}
