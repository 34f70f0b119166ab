//! The HTTP transport against the loopback test server: what goes over the wire, and how every
//! kind of server answer (or silence) is handled and counted.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{DataCategory, DiscardReason, Event};
use sentry_core::transport::{Transport, TransportOptions};
use sentry_tests::server::{Behavior, TestServer};
use sentry_transport_http::HttpTransport;

const WAIT: Duration = Duration::from_secs(5);

fn options_for(dsn: &str) -> TransportOptions {
    let dsn = dsn.parse().expect("the test server's DSN parses");
    TransportOptions::new(dsn, Arc::new(ClientReports::new()))
}

fn error_envelope(message: &str) -> Envelope {
    Envelope::from_event(Event {
        message: Some(message.into()),
        ..Event::default()
    })
}

#[test]
fn delivers_with_path_auth_content_type_and_sent_at() {
    let server = TestServer::start();
    let options = options_for(&server.dsn());
    let transport = HttpTransport::new(&options).expect("transport");
    transport.send_envelope(error_envelope("hello"));
    assert!(transport.flush(WAIT));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path_only(), "/api/1/envelope/");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-sentry-envelope")
    );
    assert_eq!(
        request.header("user-agent"),
        Some(options.user_agent.as_str())
    );
    assert_eq!(
        request.header("x-sentry-auth"),
        Some(options.dsn.auth_header(&options.user_agent).as_str())
    );
    let auth = request.header("x-sentry-auth").unwrap_or_default();
    assert!(auth.starts_with("Sentry sentry_version=7, sentry_client=sentry.rust/"));
    assert!(auth.contains("sentry_key=public"));

    let envelope = request.parsed_envelope().expect("a valid envelope");
    let sent_at = envelope.headers().sent_at.expect("sent_at is stamped");
    let age = sent_at.elapsed().unwrap_or_default();
    assert!(age < Duration::from_secs(60), "sent_at is {age:?} old");
    let event = envelope.event().expect("the event arrived");
    assert_eq!(event.message.as_deref(), Some("hello"));
    assert!(transport.shutdown(WAIT));
    assert!(server.envelope_errors().is_empty());
}

#[test]
fn keeps_the_connection_alive() {
    let server = TestServer::start();
    // One request at a time: one connection. (Concurrent requests reuse theirs too:
    // `latency_delivery.rs`.)
    let mut options = options_for(&server.dsn());
    options.max_concurrent_requests = 1;
    let transport = HttpTransport::new(&options).expect("transport");
    for i in 0..20 {
        transport.send_envelope(error_envelope(&format!("message {i}")));
    }
    assert!(transport.flush(WAIT));
    assert_eq!(server.events().len(), 20);
    assert_eq!(server.connections_accepted(), 1);
    assert!(transport.shutdown(WAIT));
}

#[test]
fn rate_limited_errors_are_counted_in_a_later_client_report() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([Behavior::rate_limited(
        "60:error:organization",
    )]));
    let options = options_for(&server.dsn());
    let transport = HttpTransport::new(&options).expect("transport");
    transport.send_envelope(error_envelope("limited by the server"));
    assert!(transport.flush(WAIT));
    assert_eq!(server.request_count(), 1);

    for i in 0..3 {
        transport.send_envelope(error_envelope(&format!("backed off {i}")));
    }
    // The errors are filtered on the worker; the flush sends their count on its own.
    assert!(transport.flush(WAIT));
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "no error envelope goes out while limited"
    );
    let last = requests[1].parsed_envelope().expect("a valid envelope");
    assert!(last
        .items()
        .all(|item| matches!(item, EnvelopeItem::ClientReport(_))));
    assert_eq!(server.discarded("ratelimit_backoff", "error"), 3);
    // A 429 itself is never counted.
    assert_eq!(server.discarded("send_error", "error"), 0);
    assert_eq!(server.discarded_total(), 3);
    assert!(transport.shutdown(WAIT));
}

#[test]
fn server_error_is_counted_as_send_error() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([Behavior::status(500)]));
    let transport = HttpTransport::new(&options_for(&server.dsn())).expect("transport");
    transport.send_envelope(error_envelope("lost to a 500"));
    assert!(transport.flush(WAIT));
    assert_eq!(server.request_count(), 2, "the envelope, then the report");
    assert_eq!(server.discarded("send_error", "error"), 1);
    assert!(transport.shutdown(WAIT));
}

#[test]
fn too_large_is_counted_as_send_error() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([Behavior::status(413)]));
    let transport = HttpTransport::new(&options_for(&server.dsn())).expect("transport");
    transport.send_envelope(error_envelope("too large"));
    transport.send_envelope(error_envelope("fine"));
    assert!(transport.flush(WAIT));
    assert_eq!(
        server.events().len(),
        2,
        "the server saw both, answered 413 then 200"
    );
    assert_eq!(server.discarded("send_error", "error"), 1);
    assert!(transport.shutdown(WAIT));
}

#[test]
fn connection_reset_is_counted_as_network_error() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([Behavior::Reset]));
    let transport = HttpTransport::new(&options_for(&server.dsn())).expect("transport");
    transport.send_envelope(error_envelope("reset"));
    assert!(transport.flush(WAIT));
    assert_eq!(server.discarded("network_error", "error"), 1);
    assert!(transport.shutdown(WAIT));
}

#[test]
fn refused_connection_is_counted_as_network_error() {
    // A port that was free a moment ago: nothing listens there.
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let options = options_for(&format!("http://public@127.0.0.1:{port}/1"));
    let transport = HttpTransport::new(&options).expect("transport");
    transport.send_envelope(error_envelope("nowhere to go"));
    let start = Instant::now();
    assert!(transport.flush(WAIT));
    assert!(start.elapsed() < Duration::from_secs(2));
    assert!(transport.shutdown(WAIT));
    // The report could not be delivered either, so the count is still pending.
    let report = options.client_reports.take().expect("the loss is counted");
    let entry = report.discarded_events.first().expect("one entry");
    assert_eq!(report.discarded_events.len(), 1);
    assert_eq!(entry.reason, DiscardReason::NetworkError);
    assert_eq!(entry.category, DataCategory::Error);
    assert_eq!(entry.quantity, 1);
}

#[test]
fn hanging_server_flush_and_shutdown_return_in_time() {
    let server = TestServer::start();
    server.set_behavior(Behavior::Hang);
    let transport = HttpTransport::new(&options_for(&server.dsn())).expect("transport");
    transport.send_envelope(error_envelope("into the void"));
    assert_eq!(server.wait_for_request_count(1, WAIT), 1);

    let start = Instant::now();
    assert!(!transport.flush(Duration::from_secs(1)));
    let flush_time = start.elapsed();

    let start = Instant::now();
    assert!(!transport.shutdown(Duration::from_secs(1)));
    let shutdown_time = start.elapsed();

    eprintln!("hanging server: flush(1s) took {flush_time:?}, shutdown(1s) took {shutdown_time:?}");
    assert!(
        flush_time < Duration::from_millis(1500),
        "flush took {flush_time:?}"
    );
    assert!(
        shutdown_time < Duration::from_millis(1500),
        "shutdown took {shutdown_time:?}"
    );

    let start = Instant::now();
    drop(transport);
    assert!(
        start.elapsed() < Duration::from_millis(100),
        "drop after shutdown waits no more"
    );
}

#[test]
fn request_timeout_bounds_a_hanging_request() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([Behavior::Hang]));
    let mut options = options_for(&server.dsn());
    options.timeout = Duration::from_millis(500);
    let transport = HttpTransport::new(&options).expect("transport");
    transport.send_envelope(error_envelope("timed out"));

    let start = Instant::now();
    assert!(
        transport.flush(WAIT),
        "the request timed out, then the report went out"
    );
    let elapsed = start.elapsed();
    eprintln!("request timeout 500ms: flush returned after {elapsed:?}");
    assert!(
        elapsed >= Duration::from_millis(450),
        "flush took {elapsed:?}"
    );
    assert!(elapsed < Duration::from_secs(3), "flush took {elapsed:?}");
    assert_eq!(server.discarded("network_error", "error"), 1);
    assert!(transport.shutdown(WAIT));
}
