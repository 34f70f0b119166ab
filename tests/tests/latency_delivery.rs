//! Delivery at internet latency: the HTTP transport against the loopback server with a delay
//! injected before every answer (`Behavior::slow`), where one request at a time could deliver
//! only one envelope per round trip.
//!
//! Each test builds its own [`Client`], so they run in parallel; together they take about as
//! long as the slowest (the sustained 10 s one).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use sentry::protocol::{CheckIn, CheckInStatus, Event};
use sentry::{Client, ClientOptions};
use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_tests::fixtures::typical_event;
use sentry_tests::server::{Behavior, TestServer};
use sentry_transport_http::HttpTransportFactory;

fn client(server: &TestServer, options: ClientOptions) -> Client {
    Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        ..options
    })
}

fn slow(ms: u64) -> Behavior {
    Behavior::slow(Duration::from_millis(ms), Behavior::ok())
}

fn message(text: String) -> Event {
    Event {
        message: Some(text),
        ..Event::default()
    }
}

#[test]
fn a_thousand_queued_errors_are_delivered_within_15_s_at_100_ms() {
    let server = TestServer::start();
    server.set_behavior(slow(100));
    let client = client(&server, ClientOptions::default());
    let start = Instant::now();
    for i in 0..1000 {
        assert!(!client.capture_event(typical_event(i), None).is_nil());
    }
    assert!(
        client.flush(Some(Duration::from_secs(15))),
        "not delivered within 15 s"
    );
    let elapsed = start.elapsed();
    assert_eq!(server.events().len(), 1000);
    assert_eq!(server.discarded_total(), 0, "nothing dropped");
    assert!(
        client.client_reports().is_empty(),
        "nothing dropped on the client"
    );
    // Sequential sending would have needed 100 s.
    assert!(elapsed < Duration::from_secs(15), "{elapsed:?}");
    // A thousand requests on at most 16 keep-alive connections (17 if the first request,
    // sent before the backlog formed, opened one that a helper's request found busy).
    let connections = server.connections_accepted();
    assert!(connections <= 17, "{connections} connections");
    assert!(client.close(Some(Duration::from_secs(5))));
}

#[test]
fn sustained_200_transactions_per_second_at_50_ms_for_10_s_drop_nothing() {
    let server = TestServer::start();
    server.set_behavior(slow(50));
    let client = client(&server, ClientOptions::default());
    let start = Instant::now();
    let total = 2000u32;
    for i in 0..total {
        // Paced on a fixed schedule: 200 per second.
        let due = start + Duration::from_millis(u64::from(i) * 5);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let mut transaction = message(format!("transaction {i}"));
        transaction.transaction = Some(format!("GET /orders/{i}"));
        transaction.start_timestamp = Some(SystemTime::now());
        transaction.timestamp = SystemTime::now();
        client.send_envelope(Envelope::from_transaction(transaction));
    }
    // Keeping up: once the last one is queued, what is left drains within a few round trips.
    assert!(client.flush(Some(Duration::from_secs(3))), "fell behind");
    assert_eq!(server.transactions().len(), total as usize);
    assert!(client.client_reports().is_empty(), "nothing dropped");
    assert!(client.close(Some(Duration::from_secs(5))));
    assert_eq!(server.discarded_total(), 0, "nothing dropped");
}

#[test]
fn a_429_stops_the_other_connections_from_starting_requests_in_its_categories() {
    let server = TestServer::start();
    // The second request is answered 429 for errors after 750 ms; the first after 100 ms (it
    // may be sent before the backlog forms), every other one after 300 ms. With 8 requests at
    // a time, the other connections start new requests until the 429 comes, and none after.
    let mut script = vec![
        slow(100),
        Behavior::slow(
            Duration::from_millis(750),
            Behavior::rate_limited("60:error:organization"),
        ),
    ];
    script.extend((0..100).map(|_| slow(300)));
    server.set_behavior(Behavior::sequence(script));
    let client = client(
        &server,
        ClientOptions {
            max_concurrent_requests: 8,
            ..Default::default()
        },
    );
    let total = 60;
    for i in 0..total {
        client.capture_event(message(format!("error {i}")), None);
    }
    assert!(client.flush(Some(Duration::from_secs(10))));
    let requests = server.requests();
    let with_errors: Vec<_> = requests
        .iter()
        .filter(|request| {
            request.parsed_envelope().is_some_and(|envelope| {
                envelope
                    .items()
                    .any(|item| matches!(item, EnvelopeItem::Event(_)))
            })
        })
        .collect();
    // The server takes its script in the order it records requests: the second got the 429.
    let first = requests[1].received_at;
    let answered_429 = first + Duration::from_millis(750);
    let before_429 = with_errors
        .iter()
        .filter(|request| request.received_at < answered_429)
        .count();
    assert!(
        before_429 > 8,
        "other connections kept sending while the 429 was on its way: {before_429}"
    );
    let latest = with_errors
        .iter()
        .map(|request| request.received_at)
        .max()
        .expect("requests");
    assert!(
        latest < first + Duration::from_millis(825),
        "an error request started {:?} after the rate-limited one, after its 429 at 750 ms",
        latest.duration_since(first)
    );
    // Every error is accounted for: delivered, refused by the 429 (not counted, per the
    // spec), or held back by the limit and counted.
    assert!(client.close(Some(Duration::from_secs(5))));
    let held_back = server.discarded("ratelimit_backoff", "error");
    assert!(held_back > 0, "the limit held errors back");
    assert_eq!(with_errors.len() as u64 + held_back, total);
}

#[test]
fn flush_and_close_are_bounded_with_requests_hanging_on_several_connections() {
    let server = TestServer::start();
    server.set_behavior(slow(200));
    let client = client(
        &server,
        ClientOptions {
            max_concurrent_requests: 4,
            ..Default::default()
        },
    );
    for i in 0..20 {
        client.capture_event(message(format!("error {i}")), None);
    }
    // The server stops answering once the first request is in: whatever it answered before,
    // the four connections end up hanging.
    assert!(server.wait_for_request_count(1, Duration::from_secs(5)) >= 1);
    let hang_from = SystemTime::now();
    server.set_behavior(Behavior::Hang);
    let start = Instant::now();
    assert!(
        !client.flush(Some(Duration::from_secs(2))),
        "nothing answered"
    );
    let flushed_in = start.elapsed();
    assert!(
        (Duration::from_secs(2)..Duration::from_millis(2600)).contains(&flushed_in),
        "{flushed_in:?}"
    );
    let hanging = server
        .requests()
        .iter()
        .filter(|request| request.received_at >= hang_from)
        .count();
    assert_eq!(hanging, 4, "four requests hang at once, no more");
    let start = Instant::now();
    assert!(!client.close(Some(Duration::from_secs(1))));
    let closed_in = start.elapsed();
    assert!(closed_in < Duration::from_millis(1600), "{closed_in:?}");
}

#[test]
fn order_is_kept_where_the_server_relies_on_it() {
    let server = TestServer::start();
    server.set_behavior(slow(50));
    let concurrency = 4;
    let client = client(
        &server,
        ClientOptions {
            max_concurrent_requests: concurrency,
            ..Default::default()
        },
    );
    // Errors with a monitor's check-ins among them: the check-ins (in_progress, then ok, of
    // one check-in after another) must arrive in order; errors may overtake each other by
    // less than the number of requests under way.
    let mut check_in = CheckIn::new("nightly", CheckInStatus::Ok);
    for i in 0..40u32 {
        client.capture_event(message(format!("error {i}")), None);
        if i % 4 == 0 {
            let mut next = if check_in.status == CheckInStatus::InProgress {
                check_in.with_status(CheckInStatus::Ok)
            } else {
                CheckIn::new("nightly", CheckInStatus::InProgress)
            };
            next.duration = Some(f64::from(i));
            client.send_envelope(Envelope::from_check_in(next.clone()));
            check_in = next;
        }
    }
    assert!(client.flush(Some(Duration::from_secs(10))));
    let mut errors = Vec::new();
    let mut check_ins = Vec::new();
    for request in server.requests() {
        let Some(envelope) = request.parsed_envelope() else {
            continue;
        };
        for item in envelope.items() {
            if let Some(check_in) = item.as_check_in() {
                check_ins.push(check_in.clone());
            } else if let Some(event) = item.as_event() {
                errors.push(event.message.clone().unwrap_or_default());
            }
        }
    }
    let order: Vec<f64> = check_ins.iter().filter_map(|c| c.duration).collect();
    let expected: Vec<f64> = (0..40u32).step_by(4).map(f64::from).collect();
    assert_eq!(order, expected, "check-ins in the order they were sent");
    // Each in_progress is followed by the ok of the same check-in.
    for pair in check_ins.chunks(2) {
        if let [started, finished] = pair {
            assert_eq!(started.status, CheckInStatus::InProgress);
            assert_eq!(finished.status, CheckInStatus::Ok);
            assert_eq!(started.check_in_id, finished.check_in_id);
        }
    }
    assert_eq!(errors.len(), 40);
    let position: HashMap<&str, usize> = errors
        .iter()
        .enumerate()
        .map(|(at, text)| (text.as_str(), at))
        .collect();
    for i in 0..40usize {
        let at = position[format!("error {i}").as_str()];
        assert!(
            at.abs_diff(i) < concurrency,
            "error {i} arrived {at}th: reordered beyond the requests under way"
        );
    }
    assert!(client.close(Some(Duration::from_secs(5))));
}
