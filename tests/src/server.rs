//! A loopback HTTP/1.1 server that stands in for Sentry's ingest.
//!
//! [`TestServer`] listens on `127.0.0.1`, accepts envelope `POST`s (plain, `gzip` or `deflate`
//! bodies, `Content-Length` or chunked, several requests per keep-alive connection) and records
//! every request together with the [`Envelope`] parsed from its body. On command it misbehaves —
//! error statuses with rate-limit headers, hanging, closing the connection, answering slowly or a
//! scripted sequence of these — so transports can be tested against every failure a real server
//! can produce.
//!
//! It uses only threads from `std`: one accepting thread and one thread per open connection.
//! Dropping the server stops all of them promptly, hung connections included, and every blocking
//! operation is bounded by a timeout, so a forgotten client can never keep a test alive.
//!
//! ```no_run
//! use std::time::Duration;
//! use sentry_tests::server::{Behavior, TestServer};
//!
//! let server = TestServer::start();
//! let dsn = server.dsn(); // point the SDK here
//! server.set_behavior(Behavior::rate_limited("60:error:organization"));
//! // ... send something ...
//! let envelopes = server.wait_for_envelopes(1, Duration::from_secs(5));
//! assert_eq!(envelopes.len(), 1);
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime};

use sentry_core::envelope::{Envelope, EnvelopeError, EnvelopeItem};
use sentry_core::protocol::{ClientReport, Event, Map};

/// How long a connection may sit idle between requests before the server closes it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest request head (request line and headers) the server accepts.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// The largest request body, before and after decoding, the server accepts.
pub const MAX_BODY_BYTES: usize = 256 * 1024 * 1024;

/// The public key in the DSN returned by [`TestServer::dsn`].
pub const PUBLIC_KEY: &str = "public";
/// The project id in the DSN returned by [`TestServer::dsn`].
pub const PROJECT_ID: &str = "1";

// ---------------------------------------------------------------------------------------------
// Behaviour
// ---------------------------------------------------------------------------------------------

/// An HTTP response the server sends: a status, extra headers and a body.
///
/// `Content-Length` and `Connection` are added by the server; do not set them here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code, e.g. `200` or `429`.
    pub status: u16,
    /// Extra headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with `status`, no extra headers and an empty JSON object as body.
    pub fn new(status: u16) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: b"{}".to_vec(),
        }
    }

    /// `200 OK` with `{}` as body, what Sentry answers to an accepted envelope.
    pub fn ok() -> Self {
        Response::new(200)
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }
}

/// What the server does with each request it receives. Switch it at any time with
/// [`TestServer::set_behavior`]; it applies to the next request that arrives.
///
/// Whatever the behaviour, the server first reads the whole request and records it, so a test can
/// see what a client sent even when the client never got an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// Answer with this response (the default is [`Response::ok`]).
    Respond(Response),
    /// Never answer: keep the connection open until the server is dropped.
    Hang,
    /// Close the connection without answering; the client sees the connection end before any
    /// response byte.
    Reset,
    /// Wait `delay`, then behave as `then`. Dropping the server cuts the wait short.
    Slow {
        /// How long to wait before acting.
        delay: Duration,
        /// What to do after the wait.
        then: Box<Behavior>,
    },
    /// A script: each request consumes the next behaviour of the list, in order. Once the list is
    /// used up, the server answers `200 OK` again.
    Sequence(Vec<Behavior>),
}

impl Default for Behavior {
    fn default() -> Self {
        Behavior::ok()
    }
}

impl Behavior {
    /// Answer `200 OK`.
    pub fn ok() -> Self {
        Behavior::Respond(Response::ok())
    }

    /// Answer with `status` and an empty JSON object.
    pub fn status(status: u16) -> Self {
        Behavior::Respond(Response::new(status))
    }

    /// Answer `429 Too Many Requests` with `X-Sentry-Rate-Limits: <limits>`, e.g.
    /// `"60:error;transaction:organization"`.
    pub fn rate_limited(limits: &str) -> Self {
        Behavior::Respond(Response::new(429).header("X-Sentry-Rate-Limits", limits))
    }

    /// Answer `429 Too Many Requests` with `Retry-After: <seconds>` and no Sentry header.
    pub fn retry_after(seconds: u64) -> Self {
        Behavior::Respond(Response::new(429).header("Retry-After", seconds.to_string()))
    }

    /// Wait `delay`, then behave as `then`.
    pub fn slow(delay: Duration, then: Behavior) -> Self {
        Behavior::Slow {
            delay,
            then: Box::new(then),
        }
    }

    /// A script of behaviours, one per request, then `200 OK`.
    pub fn sequence(steps: impl IntoIterator<Item = Behavior>) -> Self {
        Behavior::Sequence(steps.into_iter().collect())
    }
}

// ---------------------------------------------------------------------------------------------
// Recorded requests
// ---------------------------------------------------------------------------------------------

/// One HTTP request the server received, as it arrived and as it decodes.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The request target: path and query, e.g. `/api/1/envelope/?sentry_key=public`.
    pub path: String,
    /// The HTTP version from the request line, e.g. `HTTP/1.1`.
    pub version: String,
    /// The headers in the order they arrived, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body bytes as they came over the wire (after removing chunked framing).
    pub raw_body: Vec<u8>,
    /// The body after undoing `Content-Encoding`; equal to `raw_body` if there was none or it
    /// could not be undone.
    pub body: Vec<u8>,
    /// Why `Content-Encoding` could not be undone, if it could not.
    pub decode_error: Option<String>,
    /// The envelope parsed from `body`, or why it did not parse.
    pub envelope: Result<Envelope, EnvelopeError>,
    /// Which connection carried the request: requests with the same number shared one
    /// keep-alive connection. Connections are numbered from 0 in the order they were accepted.
    pub connection: u64,
    /// When the request was fully read.
    pub received_at: SystemTime,
}

impl Request {
    /// The items of the body exactly as they were sent: each item header (as JSON) with its
    /// payload bytes. A payload spans `length` bytes when the header has one, otherwise it runs
    /// to the next newline. Reading stops at the first malformed item.
    pub fn raw_items(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        let body = &self.body[..];
        let mut items = Vec::new();
        let Some(mut pos) = body.iter().position(|&b| b == b'\n').map(|i| i + 1) else {
            return items;
        };
        while pos < body.len() {
            let line_end = body[pos..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(body.len(), |i| pos + i);
            let header_line = &body[pos..line_end];
            pos = (line_end + 1).min(body.len());
            if header_line.is_empty() {
                continue;
            }
            let Ok(header) = serde_json::from_slice::<serde_json::Value>(header_line) else {
                break;
            };
            let end = match header["length"].as_u64() {
                Some(len) => pos.saturating_add(len as usize),
                None => body[pos..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(body.len(), |i| pos + i),
            };
            let Some(payload) = body.get(pos..end) else {
                break;
            };
            items.push((header, payload.to_vec()));
            pos = end + 1;
        }
        items
    }

    /// The value of the first header called `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The `Content-Encoding` the body was sent with, such as `gzip`; `None` for a plain body.
    /// [`Request::body`] holds the decoded bytes either way.
    pub fn content_encoding(&self) -> Option<&str> {
        self.header("Content-Encoding")
    }

    /// How many body bytes came over the wire, before undoing `Content-Encoding`.
    pub fn compressed_len(&self) -> usize {
        self.raw_body.len()
    }

    /// The parsed envelope, if the body parsed.
    pub fn parsed_envelope(&self) -> Option<&Envelope> {
        self.envelope.as_ref().ok()
    }

    /// The path without the query string.
    pub fn path_only(&self) -> &str {
        self.path.split('?').next().unwrap_or("")
    }
}

/// The JSON payloads of every `event` item in `requests`, exactly as they were sent (for
/// Relay's normalizer, which must judge the bytes the SDK wrote, not a re-encoding).
///
/// # Panics
///
/// If an event payload is not JSON (a test helper: that is a test failure).
pub fn raw_event_payloads(requests: &[Request]) -> Vec<serde_json::Value> {
    requests
        .iter()
        .flat_map(Request::raw_items)
        .filter(|(header, _)| header["type"] == "event")
        .map(|(_, payload)| serde_json::from_slice(&payload).expect("event payload is JSON"))
        .collect()
}

/// The JSON payloads of every `transaction` item in `requests`, exactly as they were sent.
///
/// # Panics
///
/// If a transaction payload is not JSON (a test helper: that is a test failure).
pub fn raw_transaction_payloads(requests: &[Request]) -> Vec<serde_json::Value> {
    requests
        .iter()
        .flat_map(Request::raw_items)
        .filter(|(header, _)| header["type"] == "transaction")
        .map(|(_, payload)| serde_json::from_slice(&payload).expect("transaction payload is JSON"))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

struct Shared {
    state: Mutex<State>,
    /// Signalled whenever a request is recorded and when the server stops.
    changed: Condvar,
    stopping: AtomicBool,
}

#[derive(Default)]
struct State {
    behavior: Behavior,
    script: VecDeque<Behavior>,
    requests: Vec<Request>,
    open: Vec<(u64, TcpStream)>,
    workers: Vec<JoinHandle<()>>,
    accepted: u64,
    stopping: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Sleeps for `delay` or until the server stops, whichever comes first.
    fn sleep(&self, delay: Duration) {
        let deadline = Instant::now() + delay;
        let mut state = self.lock();
        while !state.stopping {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Waits until the server stops.
    fn hang(&self) {
        let mut state = self.lock();
        while !state.stopping {
            state = self
                .changed
                .wait_timeout(state, Duration::from_secs(1))
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// The loopback Sentry stand-in. See the [module documentation](self).
///
/// Dropping it stops the server and joins all its threads.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server on a free port of `127.0.0.1`.
    ///
    /// # Panics
    ///
    /// If no port can be bound; this is a test helper.
    pub fn start() -> TestServer {
        match TestServer::bind("127.0.0.1:0") {
            Ok(server) => server,
            Err(e) => panic!("cannot start the test server on 127.0.0.1: {e}"),
        }
    }

    /// Starts a server on `addr`, e.g. `"127.0.0.1:8969"`.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TestServer> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("test-server-accept".into())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(TestServer {
            addr,
            shared,
            acceptor: Some(acceptor),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The server's base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A DSN pointing at this server, e.g. `http://public@127.0.0.1:40123/1`.
    pub fn dsn(&self) -> String {
        format!("http://{PUBLIC_KEY}@{}/{PROJECT_ID}", self.addr)
    }

    /// The URL an SDK posts envelopes to for [`TestServer::dsn`].
    pub fn envelope_url(&self) -> String {
        format!("http://{}/api/{PROJECT_ID}/envelope/", self.addr)
    }

    /// Changes what the server does with the next requests.
    pub fn set_behavior(&self, behavior: Behavior) {
        let mut state = self.shared.lock();
        match behavior {
            Behavior::Sequence(steps) => {
                state.script = steps.into();
                state.behavior = Behavior::ok();
            }
            other => {
                state.script.clear();
                state.behavior = other;
            }
        }
    }

    /// Forgets every recorded request.
    pub fn clear(&self) {
        self.shared.lock().requests.clear();
    }

    /// How many connections the server has accepted so far.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.lock().accepted
    }

    /// How many requests the server has recorded.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<Request> {
        self.shared.lock().requests.clone()
    }

    /// Removes and returns every request recorded so far, so the next call returns only newer
    /// ones. Counts such as [`TestServer::request_count`] restart from zero.
    pub fn take_requests(&self) -> Vec<Request> {
        std::mem::take(&mut self.shared.lock().requests)
    }

    /// The requests received from position `start` on (0-based, arrival order).
    pub fn requests_since(&self, start: usize) -> Vec<Request> {
        let state = self.shared.lock();
        state
            .requests
            .get(start..)
            .map(<[Request]>::to_vec)
            .unwrap_or_default()
    }

    /// Waits until at least `n` requests have arrived or `timeout` has passed, and returns how
    /// many have arrived.
    pub fn wait_for_request_count(&self, n: usize, timeout: Duration) -> usize {
        self.wait_until(timeout, |state| state.requests.len() >= n);
        self.request_count()
    }

    /// Waits until at least `n` requests have arrived or `timeout` has passed, and returns all
    /// requests received (fewer than `n` on timeout: assert on the length).
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<Request> {
        self.wait_until(timeout, |state| state.requests.len() >= n);
        self.requests()
    }

    /// Waits until at least `n` envelopes that parsed have arrived or `timeout` has passed, and
    /// returns all of them (fewer than `n` on timeout: assert on the length).
    pub fn wait_for_envelopes(&self, n: usize, timeout: Duration) -> Vec<Envelope> {
        self.wait_until(timeout, |state| {
            state.requests.iter().filter(|r| r.envelope.is_ok()).count() >= n
        });
        self.envelopes()
    }

    /// Waits until no request has arrived for `quiet`, but at most `max`. Useful after a program
    /// exits, to let requests already on their way land.
    pub fn wait_idle(&self, quiet: Duration, max: Duration) {
        let deadline = Instant::now() + max;
        let mut seen = self.request_count();
        loop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let step = quiet.min(deadline - now);
            let count = self.wait_for_request_count(seen + 1, step);
            if count == seen {
                return;
            }
            seen = count;
        }
    }

    fn wait_until(&self, timeout: Duration, mut done: impl FnMut(&State) -> bool) {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while !done(&state) && !state.stopping {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Every envelope received so far that parsed, in arrival order. Requests whose body did not
    /// parse are left out; see [`TestServer::requests`] for those.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.requests()
            .into_iter()
            .filter_map(|r| r.envelope.ok())
            .collect()
    }

    /// The parse errors of requests whose body was not a valid envelope.
    pub fn envelope_errors(&self) -> Vec<String> {
        let state = self.shared.lock();
        state
            .requests
            .iter()
            .filter_map(|r| r.envelope.as_ref().err().map(|e| e.to_string()))
            .collect()
    }

    /// Every event item of every envelope received so far, in arrival order.
    pub fn events(&self) -> Vec<Event> {
        let state = self.shared.lock();
        let mut events = Vec::new();
        for envelope in state.requests.iter().filter_map(Request::parsed_envelope) {
            for item in envelope.items() {
                if let EnvelopeItem::Event(event) = item {
                    events.push((**event).clone());
                }
            }
        }
        events
    }

    /// Every transaction item of every envelope received so far, in arrival order, each with
    /// its envelope's `trace` header (the dynamic sampling context), if it had one.
    pub fn transactions(&self) -> Vec<(Event, Option<Map>)> {
        let state = self.shared.lock();
        let mut transactions = Vec::new();
        for envelope in state.requests.iter().filter_map(Request::parsed_envelope) {
            for item in envelope.items() {
                if let EnvelopeItem::Transaction(transaction) = item {
                    transactions.push((
                        (**transaction).clone(),
                        envelope.headers().trace.as_deref().cloned(),
                    ));
                }
            }
        }
        transactions
    }

    /// Every client report item of every envelope received so far, in arrival order.
    pub fn client_reports(&self) -> Vec<ClientReport> {
        let state = self.shared.lock();
        let mut reports = Vec::new();
        for envelope in state.requests.iter().filter_map(Request::parsed_envelope) {
            for item in envelope.items() {
                if let EnvelopeItem::ClientReport(report) = item {
                    reports.push(report.clone());
                }
            }
        }
        reports
    }

    /// The sum of `quantity` over every `discarded_events` entry of every client report.
    pub fn discarded_total(&self) -> u64 {
        self.client_reports().iter().map(ClientReport::total).sum()
    }

    /// The sum of `quantity` over the `discarded_events` entries with this `reason` and
    /// `category` (their wire names, e.g. `"ratelimit_backoff"` and `"error"`).
    pub fn discarded(&self, reason: &str, category: &str) -> u64 {
        self.client_reports()
            .iter()
            .flat_map(|r| r.discarded_events.iter())
            .filter(|d| d.reason.as_str() == reason && d.category.as_str() == category)
            .map(|d| d.quantity)
            .sum()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let open = {
            let mut state = self.shared.lock();
            state.stopping = true;
            self.shared.stopping.store(true, Ordering::Release);
            std::mem::take(&mut state.open)
        };
        self.shared.changed.notify_all();
        for (_, stream) in &open {
            let _ = stream.shutdown(Shutdown::Both);
        }
        // Wake the accepting thread, which checks the flag after every accept.
        let mut wake_addr = self.addr;
        if wake_addr.ip().is_unspecified() {
            wake_addr.set_ip(match wake_addr {
                SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
            });
        }
        let woke = TcpStream::connect_timeout(&wake_addr, Duration::from_secs(1)).is_ok();
        if let Some(acceptor) = self.acceptor.take() {
            if woke {
                let _ = acceptor.join();
            }
        }
        let workers = std::mem::take(&mut self.shared.lock().workers);
        for worker in workers {
            let _ = worker.join();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------------------------

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.is_stopping() {
            return;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or an aborted handshake: back off briefly and go on.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut state = shared.lock();
        if state.stopping {
            return;
        }
        state.workers.retain(|w| !w.is_finished());
        let id = state.accepted;
        state.accepted += 1;
        let Ok(tracked) = stream.try_clone() else {
            continue;
        };
        state.open.push((id, tracked));
        let worker_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("test-server-conn-{id}"))
            .spawn(move || {
                serve_connection(&worker_shared, stream, id);
                worker_shared
                    .lock()
                    .open
                    .retain(|(open_id, _)| *open_id != id);
            });
        match spawned {
            Ok(handle) => state.workers.push(handle),
            Err(_) => state.open.retain(|(open_id, _)| *open_id != id),
        }
    }
}

/// The request line and headers of one request.
pub(crate) struct Head {
    pub(crate) method: String,
    /// The request target as sent: a path, an absolute URL (proxies) or `host:port` (CONNECT).
    pub(crate) path: String,
    pub(crate) version: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    fn keep_alive(&self) -> bool {
        if self.version.eq_ignore_ascii_case("HTTP/1.0") {
            self.has_token("Connection", "keep-alive")
        } else {
            !self.has_token("Connection", "close")
        }
    }
}

/// Why a connection ends without another request.
pub(crate) enum ReadError {
    /// The client closed the connection, or it failed or timed out.
    Closed,
    /// The request was malformed or too large; answer with this status and close.
    Bad(u16, &'static str),
}

impl From<io::Error> for ReadError {
    fn from(_: io::Error) -> Self {
        ReadError::Closed
    }
}

fn serve_connection(shared: &Shared, stream: TcpStream, id: u64) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IDLE_TIMEOUT));
    let _ = stream.set_nodelay(true);
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = stream;
    while !shared.is_stopping() {
        let head = match read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) | Err(ReadError::Closed) => return,
            Err(ReadError::Bad(status, reason)) => {
                let _ = write_response(&mut writer, &Response::new(status).body(reason), false);
                return;
            }
        };
        if head.has_token("Expect", "100-continue")
            && writer.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").is_err()
        {
            return;
        }
        let raw_body = match read_body(&mut reader, &head) {
            Ok(body) => body,
            Err(ReadError::Closed) => return,
            Err(ReadError::Bad(status, reason)) => {
                let _ = write_response(&mut writer, &Response::new(status).body(reason), false);
                return;
            }
        };
        let keep_alive = head.keep_alive();
        let request = build_request(head, raw_body, id);
        let behavior = {
            let mut state = shared.lock();
            state.requests.push(request);
            let next = state.script.pop_front();
            next.unwrap_or_else(|| state.behavior.clone())
        };
        shared.changed.notify_all();
        if !act(shared, &mut writer, behavior, keep_alive, 0) {
            return;
        }
    }
}

/// Carries out `behavior` for one request. Returns whether the connection stays open.
fn act(
    shared: &Shared,
    writer: &mut TcpStream,
    behavior: Behavior,
    keep_alive: bool,
    depth: u32,
) -> bool {
    match behavior {
        Behavior::Respond(response) => {
            write_response(writer, &response, keep_alive).is_ok() && keep_alive
        }
        Behavior::Hang => {
            shared.hang();
            false
        }
        Behavior::Reset => {
            let _ = writer.shutdown(Shutdown::Both);
            false
        }
        Behavior::Slow { delay, then } => {
            shared.sleep(delay);
            !shared.is_stopping() && depth < 16 && act(shared, writer, *then, keep_alive, depth + 1)
        }
        // A sequence nested inside a behaviour acts as its first step.
        Behavior::Sequence(steps) => match steps.into_iter().next() {
            Some(first) if depth < 16 => act(shared, writer, first, keep_alive, depth + 1),
            _ => write_response(writer, &Response::ok(), keep_alive).is_ok() && keep_alive,
        },
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Unknown",
    }
}

fn write_response(writer: &mut TcpStream, response: &Response, keep_alive: bool) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n"
    } else {
        "Connection: close\r\n"
    });
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&response.body);
    writer.write_all(&bytes)?;
    writer.flush()
}

/// Reads one line ending in `\n` (the `\r\n` or `\n` removed), counting against `budget`.
/// Returns `None` at a clean end of stream before any byte.
fn read_line(reader: &mut impl BufRead, budget: &mut usize) -> Result<Option<String>, ReadError> {
    let mut line = Vec::new();
    let limit = u64::try_from(*budget).unwrap_or(u64::MAX).saturating_add(1);
    let n = reader.by_ref().take(limit).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if n > *budget {
        return Err(ReadError::Bad(431, "request head too large"));
    }
    *budget -= n;
    if line.last() != Some(&b'\n') {
        // The stream ended in the middle of a line.
        return Err(ReadError::Closed);
    }
    line.pop();
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| ReadError::Bad(400, "request head is not UTF-8"))
}

/// Reads a request line and headers. `None` means the client closed the connection between
/// requests.
pub(crate) fn read_head(reader: &mut impl BufRead) -> Result<Option<Head>, ReadError> {
    let mut budget = MAX_HEAD_BYTES;
    // Tolerate empty lines before the request line (RFC 9112 §2.2).
    let request_line = loop {
        match read_line(reader, &mut budget)? {
            None => return Ok(None),
            Some(line) if line.is_empty() => continue,
            Some(line) => break line,
        }
    };
    let mut parts = request_line.split_whitespace();
    let (Some(method), Some(path), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Bad(400, "malformed request line"));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Bad(400, "unsupported HTTP version"));
    }
    let mut headers = Vec::new();
    loop {
        let Some(line) = read_line(reader, &mut budget)? else {
            return Err(ReadError::Closed);
        };
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(ReadError::Bad(400, "malformed header line"));
        };
        if name.is_empty() || name.ends_with(char::is_whitespace) {
            return Err(ReadError::Bad(400, "malformed header name"));
        }
        headers.push((name.to_owned(), value.trim().to_owned()));
    }
    Ok(Some(Head {
        method: method.to_owned(),
        path: path.to_owned(),
        version: version.to_owned(),
        headers,
    }))
}

fn read_body(reader: &mut impl BufRead, head: &Head) -> Result<Vec<u8>, ReadError> {
    if head.has_token("Transfer-Encoding", "chunked") {
        return read_chunked(reader);
    }
    if head.header("Transfer-Encoding").is_some() {
        return Err(ReadError::Bad(501, "unsupported transfer-encoding"));
    }
    let Some(length) = head.header("Content-Length") else {
        return Ok(Vec::new());
    };
    let length: usize = length
        .parse()
        .map_err(|_| ReadError::Bad(400, "bad content-length"))?;
    if length > MAX_BODY_BYTES {
        return Err(ReadError::Bad(413, "body too large"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(body)
}

fn read_chunked(reader: &mut impl BufRead) -> Result<Vec<u8>, ReadError> {
    let mut body = Vec::new();
    loop {
        let mut budget = 4096;
        let Some(line) = read_line(reader, &mut budget)? else {
            return Err(ReadError::Closed);
        };
        let size = line.split(';').next().unwrap_or("").trim();
        let size =
            usize::from_str_radix(size, 16).map_err(|_| ReadError::Bad(400, "bad chunk size"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            let mut budget = MAX_HEAD_BYTES;
            loop {
                match read_line(reader, &mut budget)? {
                    None => return Err(ReadError::Closed),
                    Some(line) if line.is_empty() => return Ok(body),
                    Some(_) => {}
                }
            }
        }
        if body.len().saturating_add(size) > MAX_BODY_BYTES {
            return Err(ReadError::Bad(413, "body too large"));
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        reader.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(ReadError::Bad(400, "chunk not followed by CRLF"));
        }
    }
}

/// Undoes `Content-Encoding`. Returns the decoded body, or why it could not be decoded.
fn decode_body(encoding: Option<&str>, raw: &[u8]) -> Result<Vec<u8>, String> {
    let Some(encoding) = encoding else {
        return Ok(raw.to_vec());
    };
    let mut data = raw.to_vec();
    // Codings are listed in the order they were applied; undo them in reverse.
    for coding in encoding.split(',').map(str::trim).rev() {
        let limit = u64::try_from(MAX_BODY_BYTES).unwrap_or(u64::MAX) + 1;
        let mut out = Vec::new();
        let result = match coding.to_ascii_lowercase().as_str() {
            "" | "identity" => continue,
            "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(&data[..])
                .take(limit)
                .read_to_end(&mut out),
            "deflate" => flate2::read::ZlibDecoder::new(&data[..])
                .take(limit)
                .read_to_end(&mut out),
            "br" => brotli::Decompressor::new(&data[..], 4096)
                .take(limit)
                .read_to_end(&mut out),
            other => return Err(format!("unsupported content-encoding {other:?}")),
        };
        match result {
            Ok(_) if out.len() > MAX_BODY_BYTES => {
                return Err(format!(
                    "{coding} body decodes to more than {MAX_BODY_BYTES} bytes"
                ))
            }
            Ok(_) => data = out,
            Err(e) => return Err(format!("cannot decode {coding} body: {e}")),
        }
    }
    Ok(data)
}

fn build_request(head: Head, raw_body: Vec<u8>, connection: u64) -> Request {
    let (body, decode_error) = match decode_body(head.header("Content-Encoding"), &raw_body) {
        Ok(body) => (body, None),
        Err(e) => (raw_body.clone(), Some(e)),
    };
    let envelope = Envelope::from_bytes(&body);
    Request {
        method: head.method,
        path: head.path,
        version: head.version,
        headers: head.headers,
        raw_body,
        body,
        decode_error,
        envelope,
        connection,
        received_at: SystemTime::now(),
    }
}
