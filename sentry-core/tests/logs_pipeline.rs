//! Structured logs through the client: default attributes, PII, the trace, `before_send_log`,
//! batching on flush, the buffer cap, and the log item's wire format.

use std::sync::Arc;

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{Context, DataCategory, DiscardReason, Log, LogLevel, LogValue};
use sentry_core::test::{with_captured_envelopes_options, TestTransport};
use sentry_core::{logger, Client, ClientOptions, Level, Scopes, User};
use sentry_tests::log_protocol::log_item_problems;

fn logs_of(envelopes: &[Envelope]) -> Vec<Log> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::Logs(logs) => Some(logs.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// A client with logs on and a transport that only records (no worker: nothing drains the
/// buffer but flush and close), bound to fresh scopes.
fn client(options: ClientOptions) -> (Arc<Client>, Arc<TestTransport>, Scopes) {
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        enable_logs: true,
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

#[test]
fn default_attributes_and_the_scope_trace() {
    let envelopes = with_captured_envelopes_options(
        ClientOptions {
            enable_logs: true,
            release: Some("app@2.0".into()),
            environment: Some("staging".into()),
            server_name: Some("web-1".into()),
            ..Default::default()
        },
        || {
            Scopes::current().fork_isolation().bind(|| {
                sentry_core::set_user(Some(User {
                    id: Some("7".into()),
                    ..Default::default()
                }));
                logger::info!("hello {}", "world"; "sentry.environment" => "overridden");
                logger::warn!("plain");
                sentry_core::capture_message("probe", Level::Info);
            });
        },
    );
    let logs = logs_of(&envelopes);
    let event = envelopes
        .iter()
        .find_map(Envelope::event)
        .expect("the probe");
    let Some(Context::Trace(trace)) = event.contexts.get("trace") else {
        panic!("the event has a trace context");
    };
    for log in &logs {
        assert_eq!(
            log.trace_id, trace.trace_id,
            "same trace as the scope's events"
        );
        assert_eq!(log.span_id, None, "no active span");
    }
    let attr = |log: &Log, key: &str| log.attributes.get(key).cloned();
    let plain = &logs[1];
    assert_eq!(
        attr(plain, "sentry.environment"),
        Some(LogValue::from("staging"))
    );
    assert_eq!(
        attr(plain, "sentry.release"),
        Some(LogValue::from("app@2.0"))
    );
    assert_eq!(
        attr(plain, "sentry.sdk.name"),
        Some(LogValue::from("sentry.rust"))
    );
    assert_eq!(
        attr(plain, "sentry.sdk.version"),
        Some(LogValue::from(sentry_core::SDK_VERSION))
    );
    assert!(!plain.attributes.contains_key("sentry.message.template"));
    assert!(
        !plain.attributes.contains_key("sentry.origin"),
        "direct API calls have no origin"
    );
    // No PII by default: neither the user nor the server.
    assert!(!plain.attributes.contains_key("user.id"));
    assert!(!plain.attributes.contains_key("server.address"));
    // What the caller sets wins over the defaults.
    assert_eq!(
        attr(&logs[0], "sentry.environment"),
        Some(LogValue::from("overridden"))
    );
}

#[test]
fn with_send_default_pii_the_user_and_server_are_attributes() {
    let (client, transport, scopes) = client(ClientOptions {
        send_default_pii: true,
        server_name: Some("web-1".into()),
        ..Default::default()
    });
    scopes.bind(|| {
        sentry_core::configure_scope(|scope| {
            scope.set_user(Some(User {
                id: Some("42".into()),
                email: Some("a@example.com".into()),
                username: Some("ada".into()),
                ..Default::default()
            }))
        });
        logger::info!("with user");
    });
    assert!(client.close(None));
    let logs = logs_of(&transport.envelopes());
    let attr = |key: &str| {
        logs[0]
            .attributes
            .get(key)
            .and_then(LogValue::as_str)
            .map(str::to_owned)
    };
    assert_eq!(attr("user.id").as_deref(), Some("42"));
    assert_eq!(attr("user.email").as_deref(), Some("a@example.com"));
    assert_eq!(attr("user.name").as_deref(), Some("ada"));
    assert_eq!(attr("server.address").as_deref(), Some("web-1"));
}

#[test]
fn before_send_log_changes_and_drops_and_counts() {
    let (client, transport, scopes) = client(ClientOptions {
        before_send_log: Some(Arc::new(|mut log: Log| match log.body.as_str() {
            "drop me" => None,
            "panic" => panic!("before_send_log failed"),
            _ => {
                log.attributes.insert("seen", true);
                Some(log)
            }
        })),
        ..Default::default()
    });
    scopes.bind(|| {
        logger::info!("keep me");
        logger::info!("drop me");
        logger::info!("panic");
    });
    client.flush(None);
    let logs = logs_of(&transport.envelopes());
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].attributes.get("seen"), Some(&LogValue::Bool(true)));
    // Every drop is counted, items and bytes (the panic too).
    scopes.bind(|| logger::info!("drop me"));
    let report = client.client_reports().take().expect("counted");
    let quantity = |category| {
        report
            .discarded_events
            .iter()
            .find(|d| d.reason == DiscardReason::BeforeSend && d.category == category)
            .map_or(0, |d| d.quantity)
    };
    assert_eq!(quantity(DataCategory::LogItem), 3);
    assert!(quantity(DataCategory::LogByte) > 3 * 100);
    client.close(None);
}

#[test]
fn flush_sends_batches_of_at_most_100_in_order() {
    let (client, transport, scopes) = client(ClientOptions::default());
    scopes.bind(|| {
        for i in 0..250 {
            logger::debug!("log {}", i);
        }
    });
    assert!(
        transport.envelopes().is_empty(),
        "nothing before a flush without a worker"
    );
    assert!(client.flush(None));
    let envelopes = transport.envelopes();
    let sizes: Vec<_> = envelopes
        .iter()
        .map(|e| match e.items().next() {
            Some(EnvelopeItem::Logs(logs)) => logs.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes, [100, 100, 50]);
    let bodies: Vec<_> = logs_of(&envelopes).into_iter().map(|l| l.body).collect();
    let expected: Vec<_> = (0..250).map(|i| format!("log {i}")).collect();
    assert_eq!(bodies, expected);
    assert!(envelopes[0].headers().sdk.is_some());
    client.close(None);
}

#[test]
fn at_most_1000_logs_wait_and_drops_are_counted() {
    let (client, transport, scopes) = client(ClientOptions::default());
    scopes.bind(|| {
        for i in 0..1500 {
            logger::info!("flood {}", i);
        }
    });
    assert_eq!(
        count(
            &client,
            DiscardReason::BufferOverflow,
            DataCategory::LogItem
        ),
        500
    );
    scopes.bind(|| logger::info!("one more"));
    let report = client.client_reports().take().unwrap();
    let bytes: u64 = report
        .discarded_events
        .iter()
        .filter(|d| d.category == DataCategory::LogByte)
        .map(|d| d.quantity)
        .sum();
    assert!(bytes > 0);
    assert!(client.close(None));
    let logs = logs_of(&transport.envelopes());
    assert_eq!(logs.len(), 1000);
    assert_eq!(logs[999].body, "flood 999", "the oldest are kept");
}

#[test]
fn logs_off_or_closed_capture_nothing() {
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        ..Default::default()
    }));
    client.capture_log(Log::new(LogLevel::Info, "off"), None);
    assert!(client.close(None));
    assert!(transport.envelopes().is_empty());

    let (client, transport, _) = client_pair();
    assert!(client.close(None));
    client.capture_log(Log::new(LogLevel::Info, "after close"), None);
    assert!(transport.envelopes().is_empty());
}

fn client_pair() -> (Arc<Client>, Arc<TestTransport>, Scopes) {
    client(ClientOptions::default())
}

#[test]
fn logs_from_sdk_callbacks_are_dropped() {
    let (client, transport, scopes) = client(ClientOptions {
        before_send: Some(Arc::new(|event, _| {
            logger::error!("from before_send");
            Some(event)
        })),
        ..Default::default()
    });
    scopes.bind(|| {
        sentry_core::capture_message("boom", Level::Error);
    });
    assert!(client.close(None));
    assert!(logs_of(&transport.envelopes()).is_empty());
}

#[test]
fn the_log_item_on_the_wire() {
    let (client, transport, scopes) = client(ClientOptions::default());
    scopes.bind(|| {
        logger::info!("User {} logged in", 42; "plan" => "pro", "ratio" => 0.5, "admin" => false);
        logger::fatal!("Out of {}", "memory");
    });
    assert!(client.close(None));
    let envelopes = transport.envelopes();
    assert_eq!(envelopes.len(), 1);
    let bytes = envelopes[0].to_vec(Some(std::time::SystemTime::now()));
    let mut lines = bytes.split(|&b| b == b'\n');
    let envelope_header: serde_json::Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
    assert!(envelope_header.get("event_id").is_none());
    assert!(envelope_header.get("trace").is_none());
    assert_eq!(envelope_header["sdk"]["name"], "sentry.rust");
    let header: serde_json::Value = serde_json::from_slice(lines.next().unwrap()).unwrap();
    let payload = lines.next().unwrap();
    assert_eq!(log_item_problems(&header, payload), Vec::<String>::new());
    assert_eq!(header["type"], "log");
    assert_eq!(header["item_count"], 2);
    assert_eq!(
        header["content_type"],
        "application/vnd.sentry.items.log+json"
    );
    let json: serde_json::Value = serde_json::from_slice(payload).unwrap();
    let first = &json["items"][0];
    assert_eq!(first["body"], "User 42 logged in");
    assert_eq!(first["level"], "info");
    assert_eq!(first["severity_number"], 9);
    assert!(first["timestamp"].as_f64().unwrap() > 1.6e9);
    let attributes = &first["attributes"];
    assert_eq!(
        attributes["sentry.message.template"],
        serde_json::json!({"value": "User {} logged in", "type": "string"})
    );
    assert_eq!(
        attributes["sentry.message.parameter.0"],
        serde_json::json!({"value": 42, "type": "integer"})
    );
    assert_eq!(
        attributes["plan"],
        serde_json::json!({"value": "pro", "type": "string"})
    );
    assert_eq!(
        attributes["ratio"],
        serde_json::json!({"value": 0.5, "type": "double"})
    );
    assert_eq!(
        attributes["admin"],
        serde_json::json!({"value": false, "type": "boolean"})
    );
    let second = &json["items"][1];
    assert_eq!(
        (second["level"].as_str(), second["severity_number"].as_u64()),
        (Some("fatal"), Some(21))
    );
    assert!(lines.next().is_some_and(<[u8]>::is_empty));
}
