//! End to end through the `tracing` bridge: the HTTP transport, the loopback server, Relay's
//! normalizer over the events (span contexts and exception chains included) and over the
//! transaction the span became, and the log items checked field by field against the protocol.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use sentry_core::ClientOptions;
use sentry_tests::log_protocol::log_item_problems;
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, Request, TestServer};
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct ChargeError(std::io::Error);

impl std::fmt::Display for ChargeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("charge declined")
    }
}

impl Error for ChargeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn events_arrive_over_http_and_conform() {
    tracing_subscriber::registry()
        .with(sentry_log::tracing::layer())
        .init();
    let server = TestServer::start();
    let guard = sentry_core::init(ClientOptions {
        dsn: server.dsn().parse().ok(),
        transport: Some(Arc::new(sentry_transport_http::factory())),
        release: Some("tracing-e2e@1.0.0".into()),
        environment: Some("staging".into()),
        enable_logs: true,
        traces_sample_rate: Some(1.0),
        ..Default::default()
    });
    assert!(guard.is_enabled());

    let span = tracing::info_span!("checkout", order_id = 1234u64, currency = "EUR");
    let entered = span.enter();
    tracing::info_span!("load_cart", items = 3).in_scope(|| {});
    tracing::debug!("ignored");
    tracing::info!(items = 3, "cart loaded");
    tracing::warn!(latency_ms = 812.5, "slow provider");
    let err = ChargeError(std::io::Error::other("card expired"));
    tracing::error!(
        error = &err as &dyn Error,
        provider = "acme",
        "payment failed"
    );
    tracing::error!("plain failure");
    drop(entered);
    drop(span);
    assert!(sentry_core::flush(Some(Duration::from_secs(10))));
    drop(guard);

    let requests = server.requests();
    assert!(
        server.envelope_errors().is_empty(),
        "{:?}",
        server.envelope_errors()
    );
    let events = server.events();
    let messages: Vec<_> = events.iter().filter_map(|e| e.message.as_deref()).collect();
    assert_eq!(messages, ["payment failed", "plain failure"]);
    let payment = &events[0];
    let chain: Vec<_> = payment.exception.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(chain, ["Error", "ChargeError"]);
    assert_eq!(
        payment.exception[0].module.as_deref(),
        Some("std::io::error")
    );
    assert!(payment.contexts.contains_key("span:checkout"));
    assert!(payment.contexts.contains_key("tracing"));
    relay::assert_conformant(&raw_event_payloads(&requests));

    let transactions: Vec<serde_json::Value> = requests
        .iter()
        .flat_map(Request::raw_items)
        .filter(|(header, _)| header["type"] == "transaction")
        .map(|(_, payload)| serde_json::from_slice(&payload).unwrap())
        .collect();
    assert_eq!(transactions.len(), 1);
    let checkout = &transactions[0];
    assert_eq!(checkout["transaction"], "checkout");
    let trace = &checkout["contexts"]["trace"];
    assert_eq!(trace["op"], "function");
    assert_eq!(trace["origin"], "auto.tracing");
    assert_eq!(trace["status"], "internal_error");
    assert_eq!(trace["data"]["order_id"], 1234);
    assert_eq!(checkout["spans"][0]["description"], "load_cart");
    assert_eq!(checkout["spans"][0]["parent_span_id"], trace["span_id"]);
    let payment_trace = &events[0].contexts["trace"];
    let sentry_core::protocol::Context::Trace(payment_trace) = payment_trace else {
        panic!("no trace context: {payment_trace:?}");
    };
    assert_eq!(payment_trace.span_id.to_string(), trace["span_id"]);
    relay::assert_conformant(&transactions);

    let log_items: Vec<_> = requests
        .iter()
        .flat_map(Request::raw_items)
        .filter(|(header, _)| header["type"] == "log")
        .collect();
    assert!(!log_items.is_empty());
    for (header, payload) in &log_items {
        assert_eq!(log_item_problems(header, payload), Vec::<String>::new());
    }
    let logs: Vec<serde_json::Value> = log_items
        .iter()
        .flat_map(|(_, payload)| {
            let json: serde_json::Value = serde_json::from_slice(payload).unwrap();
            json["items"].as_array().unwrap().clone()
        })
        .collect();
    let bodies: Vec<_> = logs.iter().map(|l| l["body"].as_str().unwrap()).collect();
    assert_eq!(
        bodies,
        [
            "cart loaded",
            "slow provider",
            "payment failed",
            "plain failure"
        ]
    );
    let attributes = &logs[1]["attributes"];
    assert_eq!(
        attributes["latency_ms"],
        serde_json::json!({"value": 812.5, "type": "double"})
    );
    assert_eq!(attributes["sentry.origin"]["value"], "auto.log.tracing");
    assert_eq!(attributes["sentry.environment"]["value"], "staging");
    assert!(
        attributes.get("user.id").is_none(),
        "no PII without send_default_pii"
    );
    assert_eq!(logs[0]["attributes"]["items"]["type"], "integer");
}
