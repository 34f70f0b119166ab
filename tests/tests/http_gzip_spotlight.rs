//! The HTTP transport's request bodies (gzip above the threshold) and its Spotlight mirror, against
//! loopback servers: one standing in for Sentry, a second one for the Spotlight sidecar.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::Envelope;
use sentry_core::protocol::Event;
use sentry_core::transport::{Compression, Transport, TransportOptions};
use sentry_core::{Client, ClientOptions};
use sentry_tests::fixtures::typical_event as large_event;
use sentry_tests::server::{raw_event_payloads, Behavior, TestServer};
use sentry_transport_http::{HttpTransport, HttpTransportFactory, GZIP_THRESHOLD};

const WAIT: Duration = Duration::from_secs(10);

fn no_env(_: &str) -> Option<String> {
    None
}

fn options_for(dsn: &str) -> TransportOptions {
    let dsn = dsn.parse().expect("a valid DSN");
    TransportOptions::new(dsn, Arc::new(ClientReports::new()))
}

fn spotlight_url(spotlight: &TestServer) -> String {
    format!("{}/stream", spotlight.url())
}

fn small_event(message: &str) -> Event {
    Event {
        message: Some(message.into()),
        ..Event::default()
    }
}

#[test]
fn large_envelopes_arrive_gzip_compressed() {
    let server = TestServer::start();
    let options = options_for(&server.dsn());
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    let sent = large_event(1);
    transport.send_envelope(Envelope::from_event(sent.clone()));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.content_encoding(), Some("gzip"));
    assert_eq!(request.decode_error, None);
    assert!(request.body.len() > 8_000, "{} bytes", request.body.len());
    assert!(
        request.compressed_len() < request.body.len() / 4,
        "{} bytes compressed to {}",
        request.body.len(),
        request.compressed_len()
    );
    assert_eq!(
        request.header("content-length"),
        Some(request.compressed_len().to_string().as_str())
    );
    let event = request
        .parsed_envelope()
        .and_then(Envelope::event)
        .expect("the event arrived");
    assert_eq!(event.message, sent.message);
    assert_eq!(event.exception, sent.exception);
    assert_eq!(event.modules, sent.modules);
}

/// `Compression::Brotli` end to end: the body goes as `br`, decodes to the same envelope,
/// and Relay's normalizer accepts the event in it.
#[test]
fn brotli_bodies_arrive_and_pass_relay() {
    let server = TestServer::start();
    let mut options = options_for(&server.dsn());
    options.compression = Compression::Brotli;
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    let sent = large_event(2);
    transport.send_envelope(Envelope::from_event(sent.clone()));
    assert!(transport.shutdown(WAIT));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.content_encoding(), Some("br"));
    assert_eq!(request.decode_error, None);
    let gzip = sentry_transport_http::BodyEncoder::new(Compression::Gzip)
        .encode(&request.body)
        .expect("gzip");
    assert!(
        request.compressed_len() < gzip.body.len(),
        "brotli {} bytes, gzip {}",
        request.compressed_len(),
        gzip.body.len()
    );
    let event = request
        .parsed_envelope()
        .and_then(Envelope::event)
        .expect("the event arrived");
    assert_eq!(event.exception, sent.exception);
    sentry_tests::relay::assert_conformant(&raw_event_payloads(&requests));
}

/// `Compression::None`: large bodies go as they are.
#[test]
fn compression_none_sends_plain_bodies() {
    let server = TestServer::start();
    let mut options = options_for(&server.dsn());
    options.compression = Compression::None;
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    transport.send_envelope(Envelope::from_event(large_event(3)));
    assert!(transport.shutdown(WAIT));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].content_encoding(), None);
    assert!(requests[0].body.len() > GZIP_THRESHOLD);
}

#[test]
fn small_envelopes_are_sent_uncompressed() {
    let server = TestServer::start();
    let options = options_for(&server.dsn());
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    transport.send_envelope(Envelope::from_event(small_event("tiny")));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].body.len() < GZIP_THRESHOLD);
    assert_eq!(requests[0].content_encoding(), None);
    assert_eq!(requests[0].raw_body, requests[0].body);
    assert_eq!(server.events()[0].message.as_deref(), Some("tiny"));
}

#[test]
fn events_reach_both_sentry_and_spotlight() {
    let server = TestServer::start();
    let spotlight = TestServer::start();
    let mut options = options_for(&server.dsn());
    options.spotlight = Some(spotlight_url(&spotlight));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    transport.send_envelope(Envelope::from_event(small_event("small")));
    transport.send_envelope(Envelope::from_event(large_event(2)));
    assert!(transport.flush(WAIT));
    assert!(transport.shutdown(WAIT));

    let messages = |server: &TestServer| -> Vec<String> {
        server
            .events()
            .into_iter()
            .filter_map(|event| event.message)
            .collect()
    };
    assert_eq!(messages(&server), ["small", "order 2 failed"]);
    assert_eq!(messages(&spotlight), ["small", "order 2 failed"]);

    let mirrored = spotlight.requests();
    for request in &mirrored {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/stream");
        assert_eq!(
            request.header("content-type"),
            Some("application/x-sentry-envelope")
        );
        assert_eq!(
            request.content_encoding(),
            None,
            "Spotlight gets plain bodies"
        );
        assert_eq!(
            request.header("user-agent"),
            Some(options.user_agent.as_str())
        );
    }
    // The large envelope went compressed to Sentry, as is to Spotlight: the same event.
    let sentry_side = server.requests();
    assert_eq!(sentry_side[1].content_encoding(), Some("gzip"));
    assert!(mirrored[1].body.len() > GZIP_THRESHOLD);
    let id =
        |request: &sentry_tests::Request| request.parsed_envelope().and_then(Envelope::event_id);
    assert!(id(&sentry_side[1]).is_some());
    assert_eq!(id(&sentry_side[1]), id(&mirrored[1]));
}

#[test]
fn spotlight_still_gets_events_while_sentry_rate_limits() {
    let server = TestServer::start();
    server.set_behavior(Behavior::rate_limited("60::organization"));
    let spotlight = TestServer::start();
    let mut options = options_for(&server.dsn());
    options.spotlight = Some(spotlight_url(&spotlight));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    for i in 0..5 {
        transport.send_envelope(Envelope::from_event(small_event(&format!("event {i}"))));
        assert!(transport.flush(WAIT));
    }
    assert!(transport.shutdown(WAIT));

    // Sentry saw the first event only: its 429 limited every category for a minute.
    assert_eq!(server.events().len(), 1);
    assert_eq!(server.request_count(), 1);
    // Spotlight saw all five.
    let messages: Vec<_> = spotlight
        .events()
        .into_iter()
        .filter_map(|event| event.message)
        .collect();
    assert_eq!(
        messages,
        ["event 0", "event 1", "event 2", "event 3", "event 4"]
    );
}

#[test]
fn a_dead_spotlight_does_not_hold_back_delivery() {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let server = TestServer::start();
    let mut options = options_for(&server.dsn());
    options.spotlight = Some(format!("http://127.0.0.1:{port}/stream"));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    let started = Instant::now();
    for i in 0..20 {
        transport.send_envelope(Envelope::from_event(small_event(&format!("event {i}"))));
    }
    assert!(transport.flush(WAIT));
    let elapsed = started.elapsed();
    assert!(transport.shutdown(WAIT));

    assert_eq!(server.events().len(), 20);
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    assert!(
        options.client_reports.is_empty(),
        "Spotlight losses are never counted"
    );
}

#[test]
fn a_hanging_spotlight_costs_at_most_its_timeout() {
    let server = TestServer::start();
    let spotlight = TestServer::start();
    spotlight.set_behavior(Behavior::Hang);
    let mut options = options_for(&server.dsn());
    options.spotlight = Some(spotlight_url(&spotlight));
    let transport = HttpTransport::with_env(&options, no_env).expect("transport");
    let started = Instant::now();
    for i in 0..20 {
        transport.send_envelope(Envelope::from_event(small_event(&format!("event {i}"))));
    }
    assert!(transport.flush(WAIT));
    let elapsed = started.elapsed();
    assert!(transport.shutdown(WAIT));

    assert_eq!(server.events().len(), 20);
    // One request waits out Spotlight's 2-second timeout; the rest skip it during the pause.
    assert_eq!(spotlight.request_count(), 1);
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert!(options.client_reports.is_empty());
}

/// A client sending `count` ~10 KB events through the HTTP transport to `dsn`, with room for
/// the whole burst in the queue (this measures sending, not the queue's limits). Returns the
/// events per second from the first capture until the flush completed.
fn measure_throughput(dsn: &str, count: usize) -> f64 {
    let client = Client::new(ClientOptions {
        dsn: Some(dsn.parse().expect("a valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        queue_capacity: count,
        queue_max_bytes: 512 * 1024 * 1024,
        ..ClientOptions::default()
    });
    let events: Vec<Event> = (0..count).map(large_event).collect();
    let size = Envelope::from_event(events[0].clone()).to_vec(None).len();
    assert!((8_000..14_000).contains(&size), "{size} bytes per event");
    let started = Instant::now();
    for event in events {
        client.capture_event(event, None);
    }
    assert!(client.flush(Some(Duration::from_secs(120))));
    let elapsed = started.elapsed();
    assert!(client.close(Some(WAIT)));
    let rate = count as f64 / elapsed.as_secs_f64();
    eprintln!("{count} events of {size} bytes in {elapsed:?}: {rate:.0} events/s");
    rate
}

/// A loopback server that reads each request and answers `200 OK` without parsing it, so that
/// a throughput figure is the SDK's own. It counts requests and gzip bodies.
struct AckServer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    gzip_bodies: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    acceptor: Option<thread::JoinHandle<()>>,
}

impl AckServer {
    fn start() -> AckServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("an address");
        let requests = Arc::new(AtomicUsize::new(0));
        let gzip_bodies = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let acceptor = {
            let (requests, gzip_bodies, stop) = (
                Arc::clone(&requests),
                Arc::clone(&gzip_bodies),
                Arc::clone(&stop),
            );
            thread::spawn(move || {
                let mut connections = Vec::new();
                for stream in listener.incoming() {
                    if stop.load(Ordering::Acquire) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let (requests, gzip_bodies) = (Arc::clone(&requests), Arc::clone(&gzip_bodies));
                    connections.push(thread::spawn(move || {
                        ack_requests(stream, &requests, &gzip_bodies)
                    }));
                }
                for connection in connections {
                    let _ = connection.join();
                }
            })
        };
        AckServer {
            addr,
            requests,
            gzip_bodies,
            stop,
            acceptor: Some(acceptor),
        }
    }

    fn dsn(&self) -> String {
        format!("http://public@{}/1", self.addr)
    }
}

impl Drop for AckServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// Serves one keep-alive connection until the client closes it.
fn ack_requests(stream: TcpStream, requests: &AtomicUsize, gzip_bodies: &AtomicUsize) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(WAIT));
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    loop {
        let mut length = 0;
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        if body.starts_with(&[0x1f, 0x8b]) {
            gzip_bodies.fetch_add(1, Ordering::Relaxed);
        }
        requests.fetch_add(1, Ordering::Relaxed);
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
            .is_err()
        {
            return;
        }
    }
}

/// The SDK's sending capacity for ~10 KB events (serialization, gzip, HTTP) to a loopback
/// server that does no work of its own. In an optimized build (`cargo test --release`) it must
/// sustain 3,000 events per second; an unoptimized build only checks that everything arrives.
#[test]
fn sustains_thousands_of_10kb_events_per_second() {
    let optimized = !cfg!(debug_assertions);
    let count = if optimized { 6_000 } else { 300 };
    let server = AckServer::start();
    let rate = measure_throughput(&server.dsn(), count);
    assert_eq!(server.requests.load(Ordering::Relaxed), count);
    assert_eq!(server.gzip_bodies.load(Ordering::Relaxed), count);
    if optimized {
        assert!(rate >= 3_000.0, "{rate:.0} events/s");
    }
}

/// The same burst to the full test server, which decompresses, parses and records every
/// envelope before answering (so it is slower than the SDK): all of them arrive intact.
#[test]
fn a_burst_of_10kb_events_arrives_intact() {
    let count = if cfg!(debug_assertions) { 300 } else { 3_000 };
    let server = TestServer::start();
    measure_throughput(&server.dsn(), count);
    let requests = server.requests();
    assert_eq!(requests.len(), count);
    assert!(requests
        .iter()
        .all(|r| r.content_encoding() == Some("gzip") && r.envelope.is_ok()));
    let wire: usize = requests.iter().map(|r| r.compressed_len()).sum();
    let raw: usize = requests.iter().map(|r| r.body.len()).sum();
    assert!(wire * 5 < raw, "{wire} bytes on the wire for {raw}");
}
