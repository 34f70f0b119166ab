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

/// What is wrong with one log item as sent (empty when it follows the protocol and carries this
/// test's SDK attributes).
fn log_item_problems(header: &serde_json::Value, payload: &[u8]) -> Vec<String> {
    let mut problems = sentry_tests::log_protocol::log_item_problems(header, payload);
    let Ok(json) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return problems;
    };
    for (i, item) in json["items"].as_array().into_iter().flatten().enumerate() {
        let attributes = &item["attributes"];
        for (key, expected) in [
            ("sentry.sdk.name", "sentry.rust"),
            ("sentry.release", "logs-e2e@1.0.0"),
            ("sentry.environment", "production"),
        ] {
            if attributes[key]["value"] != expected {
                problems.push(format!("item {i}: {key} is {}", attributes[key]));
            }
        }
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
    // Each batch keeps its order; batches may arrive out of order, several requests being
    // under way at once once the slow first request has made the transport send concurrently
    // (every log carries its own timestamp).
    let mut numbers: Vec<usize> = items
        .into_iter()
        .flat_map(|(_, bodies)| {
            let numbers: Vec<usize> = bodies
                .iter()
                .filter_map(|body| body.strip_prefix("cap ")?.parse().ok())
                .collect();
            assert!(numbers.windows(2).all(|pair| pair[0] < pair[1]));
            numbers
        })
        .collect();
    numbers.sort_unstable();
    let expected: Vec<usize> = (0..1000).collect();
    assert_eq!(numbers, expected, "the first 1000 were kept");
    assert_eq!(server.discarded("buffer_overflow", "log_item"), 500);
    assert!(server.discarded("buffer_overflow", "log_byte") > 500 * 100);
    assert!(server.envelope_errors().is_empty());
}
