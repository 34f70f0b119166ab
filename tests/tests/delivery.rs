//! Delivery guarantees of the HTTP transport under load and under rate limits, end to end:
//! a client with the real HTTP transport, the loopback server, and the client reports the
//! server received as the proof of what was dropped.
//!
//! Each test builds its own [`Client`] (no process-wide `init`), so they run in parallel.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sentry::protocol::Event;
use sentry::{Client, ClientOptions};
use sentry_core::envelope::{Envelope, ItemType, RawItem};
use sentry_tests::fixtures::typical_event;
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, Behavior, Response, TestServer};
use sentry_transport_http::HttpTransportFactory;

fn client(server: &TestServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        ..options
    })
}

#[test]
fn a_burst_of_1000_typical_events_is_delivered_in_full_with_default_options() {
    let server = TestServer::start();
    let client = client(&server, ClientOptions::default());
    for i in 0..1000 {
        assert!(!client.capture_event(typical_event(i), None).is_nil());
    }
    assert!(client.flush(Some(Duration::from_secs(60))));
    let events = server.events();
    assert_eq!(events.len(), 1000);
    assert_eq!(server.discarded_total(), 0, "nothing dropped");
    let body_sizes: Vec<usize> = server.requests().iter().map(|r| r.body.len()).collect();
    assert!(
        body_sizes.iter().any(|&len| len > 9_000),
        "events are ~10 KB"
    );
    assert!(client.close(Some(Duration::from_secs(5))));
}

#[test]
fn a_burst_of_10000_with_a_small_queue_is_accounted_for_exactly() {
    let server = TestServer::start();
    // A slow server makes the queue overflow for sure.
    server.set_behavior(Behavior::slow(Duration::from_millis(2), Behavior::ok()));
    let client = client(
        &server,
        ClientOptions {
            queue_capacity: 20,
            ..Default::default()
        },
    );
    for i in 0..10_000 {
        client.capture_event(
            Event {
                message: Some(format!("event {i}")),
                ..Event::default()
            },
            None,
        );
    }
    assert!(client.flush(Some(Duration::from_secs(30))));
    let delivered = server.events().len() as u64;
    let dropped = server.discarded("queue_overflow", "error");
    assert!(dropped > 0, "the queue overflowed");
    assert!(delivered >= 20, "delivered {delivered}");
    assert_eq!(
        delivered + dropped,
        10_000,
        "delivered {delivered} + dropped {dropped}"
    );
    assert_eq!(server.discarded_total(), dropped, "no other reason");
    assert!(client.close(Some(Duration::from_secs(5))));
}

fn raw_envelope(ty: ItemType, payload: &str) -> Envelope {
    let mut envelope = Envelope::new();
    envelope.add_item(RawItem::new(ty, payload.as_bytes().to_vec()));
    envelope
}

fn session_envelope() -> Envelope {
    raw_envelope(
        ItemType::Session,
        r#"{"sid":"c7a1c3f0e3a14e7d9c0b3d8e8f0a1b2c","status":"ok","started":"2026-01-01T00:00:00Z","attrs":{"release":"r@1"}}"#,
    )
}

fn transaction_envelope() -> Envelope {
    raw_envelope(ItemType::Transaction, r#"{"type":"transaction"}"#)
}

#[test]
fn an_error_limit_leaves_transactions_and_sessions_flowing() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([
        Behavior::rate_limited("60:error:organization"),
        Behavior::ok(),
    ]));
    let client = client(&server, ClientOptions::default());
    client.capture_message_for_test("limited by the answer to this one");
    assert!(client.flush(Some(Duration::from_secs(5))));
    client.capture_message_for_test("dropped before sending");
    client.send_envelope(transaction_envelope());
    client.send_envelope(session_envelope());
    assert!(client.flush(Some(Duration::from_secs(5))));

    let requests = server.requests();
    let types: Vec<String> = requests
        .iter()
        .flat_map(|request| request.raw_items())
        .filter_map(|(header, _)| header["type"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        types.iter().filter(|t| *t == "event").count(),
        1,
        "{types:?}"
    );
    assert!(types.contains(&"transaction".to_owned()), "{types:?}");
    assert!(types.contains(&"session".to_owned()), "{types:?}");
    // The 429 itself is not counted; the error filtered afterwards is.
    assert_eq!(server.discarded("ratelimit_backoff", "error"), 1);
    assert_eq!(server.discarded_total(), 1);
    assert!(client.close(Some(Duration::from_secs(5))));
}

/// Formats a time as an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn http_date(time: SystemTime) -> String {
    let secs = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let days = secs / 86_400;
    let (h, m, s) = ((secs % 86_400) / 3600, (secs % 3600) / 60, secs % 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let month_name = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(month - 1) as usize];
    format!("{weekday}, {day:02} {month_name} {year} {h:02}:{m:02}:{s:02} GMT")
}

#[test]
fn retry_after_in_each_form_and_a_bare_429_limit_everything() {
    let in_a_minute = http_date(SystemTime::now() + Duration::from_secs(60));
    let answers = [
        Response::new(429).header("Retry-After", "60"),
        Response::new(429).header("Retry-After", in_a_minute),
        Response::new(429),
    ];
    for answer in answers {
        let server = TestServer::start();
        server.set_behavior(Behavior::Respond(answer.clone()));
        let client = client(&server, ClientOptions::default());
        client.capture_message_for_test("answered with 429");
        assert!(client.flush(Some(Duration::from_secs(5))));
        let before = server.request_count();
        client.capture_message_for_test("dropped under the limit");
        client.send_envelope(transaction_envelope());
        assert!(client.flush(Some(Duration::from_secs(5))));
        assert_eq!(
            server.request_count(),
            before,
            "nothing sent under {answer:?}"
        );
        // Kept until it can go: the counts wait in the client.
        let pending = client.client_reports().take().expect("counted");
        let backoff: u64 = pending
            .discarded_events
            .iter()
            .filter(|d| d.reason.as_str() == "ratelimit_backoff")
            .map(|d| d.quantity)
            .sum();
        assert_eq!(
            backoff, 3,
            "error + transaction + its span, under {answer:?}"
        );
        client.close(Some(Duration::from_secs(1)));
    }
}

#[test]
fn flush_and_close_return_in_time_while_the_server_hangs() {
    let server = TestServer::start();
    server.set_behavior(Behavior::Hang);
    let client = client(&server, ClientOptions::default());
    for i in 0..5 {
        client.capture_event(typical_event(i), None);
    }
    let started = Instant::now();
    assert!(!client.flush(Some(Duration::from_secs(2))));
    let flush = started.elapsed();
    let started = Instant::now();
    assert!(!client.close(Some(Duration::from_secs(2))));
    let close = started.elapsed();
    assert!(flush < Duration::from_millis(2500), "flush took {flush:?}");
    assert!(close < Duration::from_millis(2500), "close took {close:?}");
}

#[test]
fn everything_the_server_received_passes_relay() {
    let server = TestServer::start();
    let client = client(&server, ClientOptions::default());
    for i in 0..3 {
        client.capture_event(typical_event(i), None);
    }
    assert!(client.flush(Some(Duration::from_secs(10))));
    let payloads = raw_event_payloads(&server.requests());
    assert_eq!(payloads.len(), 3);
    relay::assert_conformant(&payloads);
    assert!(client.close(Some(Duration::from_secs(5))));
}

/// A message event through the client pipeline.
trait CaptureForTest {
    fn capture_message_for_test(&self, message: &str);
}

impl CaptureForTest for Client {
    fn capture_message_for_test(&self, message: &str) {
        self.capture_event(
            Event {
                message: Some(message.to_owned()),
                ..Event::default()
            },
            None,
        );
    }
}
