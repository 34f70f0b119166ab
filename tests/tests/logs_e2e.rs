//! Structured logs end to end: the `sentry` crate's logger, the HTTP transport's worker draining
//! the log buffer, and the loopback server. Checks the batching limits with the real worker
//! (100 logs go out at once, fewer 5 seconds after the first, at most 1,000 wait) and every log
//! item field by field against the protocol.
//!
//! Relay's normalizer in the pinned `sentry-relay` package validates events only (its Python
//! API has no entry point for log items), so log items are checked here against the protocol's
//! rules, and by the SDK's strict envelope parser (which the server runs on every request).
//!
//! `init` binds a process-wide client, so the tests of this file take turns.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use sentry::ClientOptions;
use sentry_tests::server::{Behavior, Request, TestServer};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn init(server: &TestServer) -> sentry::ClientInitGuard {
    let guard = sentry::init((
        server.dsn().as_str(),
        ClientOptions {
            enable_logs: true,
            release: Some("logs-e2e@1.0.0".into()),
            ..Default::default()
        },
    ));
    assert!(guard.is_enabled());
    guard
}

/// What is wrong with one log item as sent (empty when it follows the protocol).
fn log_item_problems(header: &serde_json::Value, payload: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut check = |ok: bool, what: &str| {
        if !ok {
            problems.push(what.to_owned());
        }
    };
    let mut keys: Vec<_> = header
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    check(
        keys == ["content_type", "item_count", "length", "type"],
        "header keys",
    );
    check(header["type"] == "log", "type");
    check(
        header["length"].as_u64() == Some(payload.len() as u64),
        "length",
    );
    check(
        header["content_type"] == "application/vnd.sentry.items.log+json",
        "content_type",
    );
    let json: serde_json::Value = serde_json::from_slice(payload).unwrap();
    check(json.as_object().unwrap().len() == 1, "payload keys");
    let items = json["items"].as_array().unwrap();
    check(
        header["item_count"].as_u64() == Some(items.len() as u64),
        "item_count",
    );
    check((1..=100).contains(&items.len()), "1 to 100 items");
    for item in items {
        let trace_id = item["trace_id"].as_str().unwrap_or("");
        check(
            trace_id.len() == 32
                && trace_id
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                && trace_id.bytes().any(|b| b != b'0'),
            "trace_id",
        );
        check(
            item["timestamp"].as_f64().is_some_and(|t| t > 1.6e9),
            "timestamp",
        );
        let severity = match item["level"].as_str() {
            Some("trace") => 1,
            Some("debug") => 5,
            Some("info") => 9,
            Some("warn") => 13,
            Some("error") => 17,
            Some("fatal") => 21,
            _ => 0,
        };
        check(
            item["severity_number"] == severity,
            "level and severity_number",
        );
        check(item["body"].is_string(), "body");
        for attribute in item["attributes"].as_object().unwrap().values() {
            let typed = match attribute["type"].as_str() {
                Some("string") => attribute["value"].is_string(),
                Some("integer") => attribute["value"].is_i64(),
                Some("double") => attribute["value"].is_f64(),
                Some("boolean") => attribute["value"].is_boolean(),
                _ => false,
            };
            check(
                typed && attribute.as_object().unwrap().len() == 2,
                "attribute",
            );
        }
        let attributes = &item["attributes"];
        check(
            attributes["sentry.sdk.name"]["value"] == "sentry.rust",
            "sdk name",
        );
        check(
            attributes["sentry.release"]["value"] == "logs-e2e@1.0.0",
            "release",
        );
        check(
            attributes["sentry.environment"]["value"] == "production",
            "environment",
        );
    }
    problems
}

/// The log items of `requests` (header and payload as sent), each checked against the protocol,
/// and the bodies of their logs.
fn checked_log_items(requests: &[Request]) -> Vec<(serde_json::Value, Vec<String>)> {
    requests
        .iter()
        .flat_map(Request::raw_items)
        .filter(|(header, _)| header["type"] == "log")
        .map(|(header, payload)| {
            assert_eq!(log_item_problems(&header, &payload), Vec::<String>::new());
            let json: serde_json::Value = serde_json::from_slice(&payload).unwrap();
            let bodies = json["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["body"].as_str().unwrap().to_owned())
                .collect();
            (header, bodies)
        })
        .collect()
}

fn wait_for_log_requests(server: &TestServer, n: usize, timeout: Duration) -> Vec<Request> {
    let deadline = Instant::now() + timeout;
    loop {
        let requests: Vec<_> = server
            .requests()
            .into_iter()
            .filter(|r| r.raw_items().iter().any(|(h, _)| h["type"] == "log"))
            .collect();
        if requests.len() >= n || Instant::now() >= deadline {
            return requests;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn full_batches_go_at_once_and_the_rest_five_seconds_after_the_first_log() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = init(&server);

    let first_log = SystemTime::now();
    for i in 0..250 {
        sentry::logger::info!("batch {}", i; "index" => i);
    }
    // Two full batches, without any flush.
    let full = wait_for_log_requests(&server, 2, Duration::from_secs(4));
    assert_eq!(full.len(), 2, "two batches of 100 are sent at once");
    for request in &full {
        let since_first = request.received_at.duration_since(first_log).unwrap();
        assert!(since_first < Duration::from_secs(4), "{since_first:?}");
    }
    // The other 50: five seconds after the first log was captured.
    let all = wait_for_log_requests(&server, 3, Duration::from_secs(10));
    assert_eq!(all.len(), 3);
    let since_first = all[2].received_at.duration_since(first_log).unwrap();
    assert!(
        since_first >= Duration::from_millis(4900) && since_first < Duration::from_secs(9),
        "the partial batch left {since_first:?} after the first log"
    );
    drop(guard);

    let items = checked_log_items(&server.requests());
    let counts: Vec<_> = items
        .iter()
        .map(|(header, bodies)| (header["item_count"].as_u64().unwrap(), bodies.len()))
        .collect();
    assert_eq!(counts, [(100, 100), (100, 100), (50, 50)]);
    let bodies: Vec<_> = items.into_iter().flat_map(|(_, bodies)| bodies).collect();
    let expected: Vec<_> = (0..250).map(|i| format!("batch {i}")).collect();
    assert_eq!(bodies, expected, "in order, none lost");
    assert!(server.envelope_errors().is_empty());
}

#[test]
fn at_most_1000_logs_wait_while_the_worker_is_busy() {
    let _serial = serial();
    let server = TestServer::start();
    // The first request takes 3 s: the worker is stuck in it and drains nothing meanwhile.
    server.set_behavior(Behavior::sequence([Behavior::slow(
        Duration::from_secs(3),
        Behavior::ok(),
    )]));
    let guard = init(&server);
    sentry::capture_message("blocker", sentry::Level::Info);
    assert_eq!(server.wait_for_request_count(1, Duration::from_secs(5)), 1);

    for i in 0..1500 {
        sentry::logger::warn!("cap {}", i);
    }
    assert!(sentry::flush(Some(Duration::from_secs(20))));
    drop(guard);

    let requests = server.requests();
    let items = checked_log_items(&requests);
    assert!(items.iter().all(|(_, bodies)| bodies.len() <= 100));
    let bodies: Vec<_> = items.into_iter().flat_map(|(_, bodies)| bodies).collect();
    let expected: Vec<_> = (0..1000).map(|i| format!("cap {i}")).collect();
    assert_eq!(bodies, expected, "the first 1000 were kept");
    assert_eq!(server.discarded("buffer_overflow", "log_item"), 500);
    assert!(server.discarded("buffer_overflow", "log_byte") > 500 * 100);
    assert!(server.envelope_errors().is_empty());
}
