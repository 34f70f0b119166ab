//! The loopback test server itself, driven by a raw `TcpStream` client (no SDK involved).

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use sentry_tests::server::{Behavior, Response, TestServer};

const EVENT_ID: &str = "9ec79c33ec9942ab8353589fcb2e04dc";

/// An envelope with one event item.
fn event_envelope(message: &str) -> Vec<u8> {
    let payload = format!(r#"{{"event_id":"{EVENT_ID}","message":"{message}","level":"error"}}"#);
    format!(
        "{{\"event_id\":\"{EVENT_ID}\"}}\n{{\"type\":\"event\",\"length\":{}}}\n{payload}\n",
        payload.len()
    )
    .into_bytes()
}

/// An envelope with one client report item.
fn client_report_envelope(quantity: u32) -> Vec<u8> {
    let payload = format!(
        r#"{{"timestamp":"2024-01-01T00:00:00Z","discarded_events":[{{"reason":"queue_overflow","category":"error","quantity":{quantity}}},{{"reason":"ratelimit_backoff","category":"transaction","quantity":1}}]}}"#
    );
    format!(
        "{{}}\n{{\"type\":\"client_report\",\"length\":{}}}\n{payload}\n",
        payload.len()
    )
    .into_bytes()
}

struct Client {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Client {
    fn connect(server: &TestServer) -> Client {
        let stream = TcpStream::connect(server.addr()).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Client {
            reader: BufReader::new(stream.try_clone().expect("clone")),
            writer: stream,
        }
    }

    fn send_raw(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).expect("write");
    }

    fn post(&mut self, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut head = format!("POST {path} HTTP/1.1\r\nHost: localhost\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        self.send_raw(&bytes);
    }

    /// Reads one response; `Err` carries the I/O error kind, or `UnexpectedEof` when the
    /// connection ended before a full response.
    fn read_reply(&mut self) -> Result<Reply, ErrorKind> {
        let mut line = String::new();
        let n = self.reader.read_line(&mut line).map_err(|e| e.kind())?;
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof);
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            self.reader.read_line(&mut line).map_err(|e| e.kind())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header");
            headers.push((name.to_owned(), value.trim().to_owned()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().expect("length"));
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).map_err(|e| e.kind())?;
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}

#[test]
fn records_requests_and_answers_ok() {
    let server = TestServer::start();
    assert!(server.dsn().starts_with("http://public@127.0.0.1:"));
    assert!(server.dsn().ends_with("/1"));
    let mut client = Client::connect(&server);
    let body = event_envelope("hello");
    client.post(
        "/api/1/envelope/",
        &[
            ("Content-Type", "application/x-sentry-envelope"),
            ("X-Sentry-Auth", "Sentry sentry_key=public"),
        ],
        &body,
    );
    let reply = client.read_reply().expect("reply");
    assert_eq!(reply.status, 200);

    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/api/1/envelope/");
    assert_eq!(request.path_only(), "/api/1/envelope/");
    assert_eq!(
        request.header("x-sentry-auth"),
        Some("Sentry sentry_key=public")
    );
    assert_eq!(request.raw_body, body);
    assert_eq!(request.body, body);
    assert!(request.decode_error.is_none());
    assert!(request.envelope.is_ok(), "{:?}", request.envelope);

    let events = server.events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].message.as_deref(), Some("hello"));
    assert_eq!(server.envelopes().len(), 1);
}

#[test]
fn serves_several_requests_per_connection() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    for i in 0..3 {
        client.post("/api/1/envelope/", &[], &event_envelope(&format!("m{i}")));
        assert_eq!(client.read_reply().expect("reply").status, 200);
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests
        .iter()
        .all(|r| r.connection == requests[0].connection));
    assert_eq!(server.connections_accepted(), 1);
    let messages: Vec<_> = server
        .events()
        .into_iter()
        .filter_map(|e| e.message)
        .collect();
    assert_eq!(messages, ["m0", "m1", "m2"]);
}

#[test]
fn closes_when_asked() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    client.post(
        "/api/1/envelope/",
        &[("Connection", "close")],
        &event_envelope("x"),
    );
    let reply = client.read_reply().expect("reply");
    assert_eq!(reply.header("connection"), Some("close"));
    assert_eq!(client.read_reply().unwrap_err(), ErrorKind::UnexpectedEof);
}

#[test]
fn decodes_gzip_bodies() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    let body = event_envelope("compressed");
    let compressed = gzip(&body);
    client.post(
        "/api/1/envelope/",
        &[("Content-Encoding", "gzip")],
        &compressed,
    );
    assert_eq!(client.read_reply().expect("reply").status, 200);
    let request = &server.requests()[0];
    assert_eq!(request.raw_body, compressed);
    assert_eq!(request.body, body);
    assert!(request.decode_error.is_none());
    assert_eq!(server.events()[0].message.as_deref(), Some("compressed"));
}

#[test]
fn reports_undecodable_bodies() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    client.post(
        "/api/1/envelope/",
        &[("Content-Encoding", "gzip")],
        b"not gzip at all",
    );
    assert_eq!(client.read_reply().expect("reply").status, 200);
    client.post(
        "/api/1/envelope/",
        &[("Content-Encoding", "br")],
        b"whatever",
    );
    assert_eq!(client.read_reply().expect("reply").status, 200);
    let requests = server.requests();
    assert!(requests[0]
        .decode_error
        .as_deref()
        .unwrap_or("")
        .contains("gzip"));
    assert!(requests[1]
        .decode_error
        .as_deref()
        .unwrap_or("")
        .contains("br"));
    assert!(requests.iter().all(|r| r.envelope.is_err()));
    assert!(server.envelopes().is_empty());
    assert_eq!(server.envelope_errors().len(), 2);
}

#[test]
fn reads_chunked_bodies_and_expect_continue() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    let body = event_envelope("chunked");
    let (a, b) = body.split_at(10);
    let mut bytes = b"POST /api/1/envelope/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n".to_vec();
    client.send_raw(&bytes);
    assert_eq!(client.read_reply().expect("100").status, 100);
    bytes.clear();
    for chunk in [a, b] {
        bytes.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
        bytes.extend_from_slice(chunk);
        bytes.extend_from_slice(b"\r\n");
    }
    bytes.extend_from_slice(b"0\r\nTrailer: yes\r\n\r\n");
    client.send_raw(&bytes);
    assert_eq!(client.read_reply().expect("reply").status, 200);
    assert_eq!(server.requests()[0].body, body);
}

#[test]
fn answers_malformed_requests_with_400() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    client.send_raw(b"THIS IS NOT HTTP\r\n\r\n");
    assert_eq!(client.read_reply().expect("reply").status, 400);
    assert_eq!(server.request_count(), 0);
}

#[test]
fn answers_with_any_status_and_headers() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);

    server.set_behavior(Behavior::rate_limited("60:error:organization"));
    client.post("/api/1/envelope/", &[], &event_envelope("a"));
    let reply = client.read_reply().expect("reply");
    assert_eq!(reply.status, 429);
    assert_eq!(
        reply.header("X-Sentry-Rate-Limits"),
        Some("60:error:organization")
    );

    server.set_behavior(Behavior::retry_after(30));
    client.post("/api/1/envelope/", &[], &event_envelope("b"));
    let reply = client.read_reply().expect("reply");
    assert_eq!(reply.status, 429);
    assert_eq!(reply.header("retry-after"), Some("30"));

    for status in [413, 500] {
        server.set_behavior(Behavior::status(status));
        client.post("/api/1/envelope/", &[], &event_envelope("c"));
        assert_eq!(client.read_reply().expect("reply").status, status);
    }

    server.set_behavior(Behavior::Respond(
        Response::new(503).header("X-Custom", "yes").body("down"),
    ));
    client.post("/api/1/envelope/", &[], &event_envelope("d"));
    let reply = client.read_reply().expect("reply");
    assert_eq!((reply.status, reply.header("x-custom")), (503, Some("yes")));
    assert_eq!(reply.body, b"down");

    server.set_behavior(Behavior::ok());
    client.post("/api/1/envelope/", &[], &event_envelope("e"));
    assert_eq!(client.read_reply().expect("reply").status, 200);
    // Every request is recorded whatever the answer.
    assert_eq!(server.events().len(), 6);
}

#[test]
fn follows_a_script_then_answers_ok() {
    let server = TestServer::start();
    server.set_behavior(Behavior::sequence([
        Behavior::status(500),
        Behavior::rate_limited("1:error:key"),
        Behavior::slow(Duration::from_millis(50), Behavior::status(413)),
    ]));
    let mut client = Client::connect(&server);
    let mut statuses = Vec::new();
    for _ in 0..5 {
        client.post("/api/1/envelope/", &[], &event_envelope("s"));
        statuses.push(client.read_reply().expect("reply").status);
    }
    assert_eq!(statuses, [500, 429, 413, 200, 200]);
}

#[test]
fn answers_slowly() {
    let server = TestServer::start();
    server.set_behavior(Behavior::slow(Duration::from_millis(300), Behavior::ok()));
    let mut client = Client::connect(&server);
    let started = Instant::now();
    client.post("/api/1/envelope/", &[], &event_envelope("slow"));
    assert_eq!(client.read_reply().expect("reply").status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[test]
fn closes_without_answering() {
    let server = TestServer::start();
    server.set_behavior(Behavior::Reset);
    let mut client = Client::connect(&server);
    client.post("/api/1/envelope/", &[], &event_envelope("reset"));
    let err = client.read_reply().unwrap_err();
    assert!(
        matches!(err, ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset),
        "unexpected {err:?}"
    );
    // The request was still read and recorded.
    assert_eq!(server.request_count(), 1);
}

#[test]
fn hangs_until_dropped_and_drops_promptly() {
    let server = TestServer::start();
    server.set_behavior(Behavior::Hang);
    let mut hung = Client::connect(&server);
    hung.writer
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    hung.post("/api/1/envelope/", &[], &event_envelope("hang"));
    let err = hung.read_reply().unwrap_err();
    assert!(
        matches!(err, ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "unexpected {err:?}"
    );
    assert_eq!(server.wait_for_requests(1, Duration::from_secs(5)).len(), 1);

    // Another connection sits idle in keep-alive, a third is slow.
    let mut idle = Client::connect(&server);
    server.set_behavior(Behavior::ok());
    idle.post("/api/1/envelope/", &[], &event_envelope("idle"));
    assert_eq!(idle.read_reply().expect("reply").status, 200);
    server.set_behavior(Behavior::slow(Duration::from_secs(60), Behavior::ok()));
    let mut slow = Client::connect(&server);
    slow.post("/api/1/envelope/", &[], &event_envelope("slow"));
    server.wait_for_requests(3, Duration::from_secs(5));

    let started = Instant::now();
    drop(server);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "drop took {:?}",
        started.elapsed()
    );

    // All connections are closed, none answered.
    hung.writer
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    assert_eq!(hung.read_reply().unwrap_err(), ErrorKind::UnexpectedEof);
    assert_eq!(idle.read_reply().unwrap_err(), ErrorKind::UnexpectedEof);
    assert_eq!(slow.read_reply().unwrap_err(), ErrorKind::UnexpectedEof);
}

#[test]
fn waiting_is_bounded() {
    let server = TestServer::start();
    let started = Instant::now();
    assert!(server
        .wait_for_envelopes(1, Duration::from_millis(200))
        .is_empty());
    assert!(server
        .wait_for_requests(1, Duration::from_millis(200))
        .is_empty());
    server.wait_idle(Duration::from_millis(100), Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn waits_for_envelopes_from_other_threads() {
    let server = TestServer::start();
    let addr = server.addr();
    let sender = std::thread::spawn(move || {
        for i in 0..3 {
            std::thread::sleep(Duration::from_millis(20));
            let mut stream = TcpStream::connect(addr).expect("connect");
            let body = event_envelope(&format!("t{i}"));
            let head = format!(
                "POST /api/1/envelope/ HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).expect("write");
            stream.write_all(&body).expect("write");
            let mut reply = Vec::new();
            let _ = stream.read_to_end(&mut reply);
        }
    });
    let envelopes = server.wait_for_envelopes(3, Duration::from_secs(10));
    assert_eq!(envelopes.len(), 3);
    sender.join().expect("sender");
    assert_eq!(server.connections_accepted(), 3);
}

#[test]
fn sums_client_reports() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    client.post("/api/1/envelope/", &[], &client_report_envelope(3));
    assert_eq!(client.read_reply().expect("reply").status, 200);
    client.post("/api/1/envelope/", &[], &client_report_envelope(4));
    assert_eq!(client.read_reply().expect("reply").status, 200);
    assert_eq!(server.client_reports().len(), 2);
    assert_eq!(server.discarded_total(), 3 + 4 + 2);
    assert_eq!(server.discarded("queue_overflow", "error"), 7);
    assert_eq!(server.discarded("ratelimit_backoff", "transaction"), 2);
    assert_eq!(server.discarded("ratelimit_backoff", "error"), 0);
}

#[test]
fn keeps_parse_errors_and_can_be_cleared() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    client.post("/api/1/envelope/", &[], b"{\"unterminated\n{}");
    assert_eq!(client.read_reply().expect("reply").status, 200);
    assert_eq!(server.request_count(), 1);
    assert!(server.requests()[0].envelope.is_err());
    assert!(server.envelopes().is_empty());
    assert_eq!(server.take_requests().len(), 1);
    assert_eq!(server.request_count(), 0);
    client.post("/api/1/envelope/", &[], &event_envelope("after"));
    assert_eq!(client.read_reply().expect("reply").status, 200);
    server.clear();
    assert!(server.requests().is_empty());
}

#[test]
fn raw_items_honour_length_framing() {
    let server = TestServer::start();
    let mut client = Client::connect(&server);
    // The attachment's payload contains a newline; only `length` tells where it ends. The
    // event after it has no length and runs to the end of the body.
    let body = b"{}\n{\"type\":\"attachment\",\"length\":7}\nab\ncdef\n{\"type\":\"event\"}\n{\"message\":\"m\"}";
    client.post("/api/1/envelope/", &[], body);
    assert_eq!(client.read_reply().expect("reply").status, 200);
    let requests = server.requests();
    let items = requests[0].raw_items();
    let types: Vec<_> = items
        .iter()
        .map(|(h, _)| h["type"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(types, ["attachment", "event"]);
    assert_eq!(items[0].1, b"ab\ncdef");
    assert_eq!(items[1].1, b"{\"message\":\"m\"}");
    assert_eq!(
        sentry_tests::server::raw_event_payloads(&requests),
        [serde_json::json!({"message": "m"})]
    );
}
