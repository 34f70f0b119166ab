//! Every drop is reported: `close` sends a final client report within its deadline, and what
//! cannot be sent then (server down, rate limited) is persisted with the offline cache and
//! sent by the next client.
//!
//! Each test builds its own [`Client`] (no process-wide `init`), so they run in parallel.

use sentry_tests::places::{refused_dsn, temp_dir};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::protocol::Event;
use sentry::{Client, ClientOptions};
use sentry_tests::server::{Behavior, Response, TestServer};
use sentry_transport_http::HttpTransportFactory;

fn client(dsn: &str, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(dsn.parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        ..options
    })
}

fn drop_everything() -> ClientOptions {
    ClientOptions {
        before_send: Some(Arc::new(|_: Event, _| None)),
        ..Default::default()
    }
}

fn message(text: &str) -> Event {
    Event {
        message: Some(text.to_owned()),
        ..Event::default()
    }
}

/// A later client on the same cache directory, against a healthy server.
fn next_client_sends(dir: &Path) -> TestServer {
    let server = TestServer::start();
    let next = client(
        &server.dsn(),
        ClientOptions {
            cache_dir: Some(dir.to_owned()),
            ..Default::default()
        },
    );
    assert!(next.flush(Some(Duration::from_secs(10))));
    assert!(next.close(Some(Duration::from_secs(5))));
    server
}

#[test]
fn close_sends_a_final_client_report() {
    let server = TestServer::start();
    let client = client(&server.dsn(), drop_everything());
    for i in 0..5 {
        client.capture_event(message(&format!("dropped {i}")), None);
    }
    assert!(client.close(Some(Duration::from_secs(5))));
    assert_eq!(server.discarded("before_send", "error"), 5);
}

#[test]
fn close_sends_a_final_client_report_within_its_deadline_despite_a_backlog() {
    let server = TestServer::start();
    // 100 ms per request: 500 events take 3 s at the default 16 requests at a time, the close
    // has 1 s.
    server.set_behavior(Behavior::slow(Duration::from_millis(100), Behavior::ok()));
    let client = client(&server.dsn(), ClientOptions::default());
    for i in 0..500 {
        client.capture_event(message(&format!("backlog {i}")), None);
    }
    let started = Instant::now();
    assert!(!client.close(Some(Duration::from_secs(1))), "not all sent");
    assert!(started.elapsed() < Duration::from_millis(1500));
    server.wait_idle(Duration::from_millis(300), Duration::from_secs(5));
    let delivered = server.events().len() as u64;
    let dropped = server.discarded("queue_overflow", "error");
    assert!(dropped > 0, "the final report arrived");
    assert_eq!(
        delivered + dropped,
        500,
        "{delivered} delivered, {dropped} dropped"
    );
}

#[test]
fn close_reports_rate_limited_drops() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([
        Behavior::Respond(
            Response::new(429).header("X-Sentry-Rate-Limits", "60:error:organization"),
        ),
        Behavior::ok(),
    ]));
    let client = client(&server.dsn(), ClientOptions::default());
    client.capture_event(message("first"), None);
    assert!(client.flush(Some(Duration::from_secs(5))));
    for i in 0..19 {
        client.capture_event(message(&format!("limited {i}")), None);
    }
    assert!(client.close(Some(Duration::from_secs(5))));
    assert_eq!(server.discarded("ratelimit_backoff", "error"), 19);
}

#[test]
fn reports_held_back_by_a_rate_limit_are_persisted_at_close() {
    let dir = temp_dir("reports-limited");
    let server = TestServer::start();
    // Every category, client reports included, for a minute.
    server.set_behavior(Behavior::rate_limited("60::organization"));
    let client = client(
        &server.dsn(),
        ClientOptions {
            cache_dir: Some(dir.clone()),
            ..Default::default()
        },
    );
    client.capture_event(message("first"), None);
    assert!(client.flush(Some(Duration::from_secs(5))));
    for i in 0..19 {
        client.capture_event(message(&format!("limited {i}")), None);
    }
    client.close(Some(Duration::from_secs(5)));
    assert_eq!(
        server.discarded_total(),
        0,
        "nothing goes out under the limit"
    );
    let next = next_client_sends(&dir);
    assert_eq!(next.discarded("ratelimit_backoff", "error"), 19);
    assert_eq!(next.discarded_total(), 19);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn reports_that_cannot_reach_the_server_are_persisted_at_close() {
    let dir = temp_dir("reports-refused");
    let mut options = drop_everything();
    options.cache_dir = Some(dir.clone());
    let client = client(&refused_dsn(), options);
    for i in 0..7 {
        client.capture_event(message(&format!("dropped {i}")), None);
    }
    let started = Instant::now();
    client.close(Some(Duration::from_secs(5)));
    assert!(started.elapsed() < Duration::from_secs(6));
    let next = next_client_sends(&dir);
    assert_eq!(next.discarded("before_send", "error"), 7);
    assert_eq!(next.discarded_total(), 7);
    // Sent once: a third client finds nothing.
    let third = next_client_sends(&dir);
    assert_eq!(third.discarded_total(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}
