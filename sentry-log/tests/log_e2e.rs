//! End to end through the `log` bridge: the HTTP transport, the loopback server, Relay's
//! normalizer over the events, and the log items checked field by field against the protocol.
//! The HTTP client's own `log` records on the worker thread reach the destination logger and
//! are never captured.

mod support;

use std::sync::Arc;
use std::time::Duration;

use log::LevelFilter;
use sentry_core::{ClientOptions, User};
use sentry_log::SentryLogger;
use sentry_tests::log_protocol::log_item_problems;
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, Request, TestServer};
use support::RecordingDest;

#[derive(Debug)]
struct ConfigError(std::num::ParseIntError);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("invalid worker count")
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn records_arrive_over_http_and_conform() {
    let dest = RecordingDest::default();
    SentryLogger::with_dest(dest.clone())
        .max_level(LevelFilter::Trace)
        .install()
        .expect("the only logger of this test process");

    let server = TestServer::start();
    let guard = sentry_core::init(ClientOptions {
        dsn: server.dsn().parse().ok(),
        transport: Some(Arc::new(sentry_transport_http::factory())),
        release: Some("log-e2e@1.0.0".into()),
        enable_logs: true,
        send_default_pii: true,
        ..Default::default()
    });
    assert!(guard.is_enabled());
    sentry_core::set_user(Some(User {
        id: Some("7".into()),
        email: Some("seven@example.com".into()),
        ..Default::default()
    }));

    log::debug!("e2e-debug");
    log::info!(user_id = 7, plan = "pro"; "e2e-info {}", 1);
    log::warn!(free_mb = 120u64, ratio = 0.25; "e2e-warn");
    let err = ConfigError("many".parse::<u8>().unwrap_err());
    log::error!(error:err = err, attempt = 2; "e2e-error");
    assert!(sentry_core::flush(Some(Duration::from_secs(10))));
    drop(guard);

    let requests = server.requests();
    assert!(
        server.envelope_errors().is_empty(),
        "{:?}",
        server.envelope_errors()
    );

    // The event: the message, the logger, the exception chain, the breadcrumbs.
    let events = server.events();
    assert_eq!(events.len(), 1, "{events:#?}");
    let event = &events[0];
    assert_eq!(event.message.as_deref(), Some("e2e-error"));
    assert_eq!(event.logger.as_deref(), Some("log_e2e"));
    let chain: Vec<_> = event.exception.iter().map(|e| e.ty.as_str()).collect();
    assert_eq!(chain, ["ParseIntError", "ConfigError"]);
    let crumbs: Vec<_> = event
        .breadcrumbs
        .iter()
        .filter_map(|b| b.message.as_deref())
        .collect();
    assert_eq!(crumbs, ["e2e-info 1", "e2e-warn"]);
    relay::assert_conformant(&raw_event_payloads(&requests));

    // The logs: checked against the protocol as sent, then read back.
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
        ["e2e-info 1", "e2e-warn", "e2e-error"],
        "nothing else, and no ureq logs"
    );
    let info = &logs[0]["attributes"];
    assert_eq!(
        info["user_id"],
        serde_json::json!({"value": 7, "type": "integer"})
    );
    assert_eq!(
        info["plan"],
        serde_json::json!({"value": "pro", "type": "string"})
    );
    assert_eq!(info["sentry.origin"]["value"], "auto.log.log");
    assert_eq!(info["sentry.release"]["value"], "log-e2e@1.0.0");
    assert_eq!(info["sentry.environment"]["value"], "production");
    assert_eq!(info["sentry.sdk.name"]["value"], "sentry.rust");
    assert_eq!(info["user.id"]["value"], "7");
    assert_eq!(info["user.email"]["value"], "seven@example.com");
    let warn = &logs[1]["attributes"];
    assert_eq!(
        warn["free_mb"],
        serde_json::json!({"value": "120", "type": "string"})
    );
    assert_eq!(
        warn["ratio"],
        serde_json::json!({"value": 0.25, "type": "double"})
    );
    assert_eq!(logs[2]["level"], "error");
    assert_eq!(logs[2]["severity_number"], 17);
    assert_eq!(
        logs[2]["trace_id"],
        serde_json::to_value(
            event
                .contexts
                .get("trace")
                .map(|c| serde_json::to_value(c).unwrap()["trace_id"].clone())
        )
        .unwrap(),
        "a log carries the trace of the events of its scope"
    );

    // Every record reached the destination, the HTTP client's own ones from the worker thread
    // included.
    let received = dest.received();
    assert!(received.iter().any(|r| r.message == "e2e-debug"));
    let from_worker: Vec<_> = received
        .iter()
        .filter(|r| r.thread.as_deref() == Some(sentry_core::transport::WORKER_THREAD_NAME))
        .collect();
    assert!(
        !from_worker.is_empty(),
        "the HTTP client logs on the worker thread"
    );
}
