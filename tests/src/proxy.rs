//! A loopback HTTP proxy that records what went through it.
//!
//! [`TestProxy`] listens on `127.0.0.1` and handles the two ways clients use an HTTP proxy:
//!
//! - **`CONNECT host:port`** tunnelling: it connects to the target, answers
//!   `200 Connection established` and then copies bytes both ways until either side closes
//!   (what ureq does for every proxied request, and what every client does for `https://`).
//! - **Absolute-form forwarding**: `POST http://127.0.0.1:4000/api/1/envelope/ HTTP/1.1` is sent
//!   on to the origin as `POST /api/1/envelope/ HTTP/1.1` (without the `Proxy-*` headers and
//!   with `Connection: close`), and the origin's answer is copied back. One request per
//!   connection.
//!
//! It can require credentials ([`TestProxy::start_with_credentials`]): requests without the
//! matching `Proxy-Authorization: Basic …` are answered `407` and not forwarded.
//!
//! Every request is recorded as a [`ProxiedRequest`] before it is forwarded, so a test can prove
//! that traffic really went through the proxy (and where it was headed). Like the
//! [`TestServer`](crate::server::TestServer), it uses only `std` threads, and dropping it closes
//! every connection and joins every thread.
//!
//! ```no_run
//! use std::time::Duration;
//! use sentry_tests::proxy::TestProxy;
//! use sentry_tests::server::TestServer;
//!
//! let server = TestServer::start();
//! let proxy = TestProxy::start();
//! // Point the SDK at `server.dsn()` with `proxy.url()` as its proxy, send something, then:
//! let requests = proxy.wait_for_requests(1, Duration::from_secs(5));
//! assert_eq!(requests[0].connect_target(), Some(server.addr().to_string().as_str()));
//! ```

use std::fmt;
use std::io::{self, BufReader, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::server::{read_head, Head};

/// How long the proxy waits for a request head, or for an origin to accept a connection.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request head the proxy accepts.
/// The largest body the proxy forwards in absolute-form mode.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What a [`ProxiedRequest`] asked the proxy to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxiedKind {
    /// `CONNECT target`: open a tunnel to `target` (`host:port`).
    Connect {
        /// The `host:port` from the request line.
        target: String,
    },
    /// An absolute-form request, forwarded to the origin.
    Forward {
        /// The method, such as `POST`.
        method: String,
        /// The absolute URI from the request line, such as `http://127.0.0.1:4000/api/1/envelope/`.
        uri: String,
    },
}

/// One request the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxiedRequest {
    /// What was asked.
    pub kind: ProxiedKind,
    /// The `Proxy-Authorization` header, if any.
    pub proxy_authorization: Option<String>,
    /// The status the proxy itself answered: `200` for an established tunnel, `407` for missing
    /// credentials, `502` when the origin could not be reached; for forwarded requests `200`
    /// means "forwarded" (the origin's own answer is passed through unread).
    pub status: u16,
    /// Which client connection carried it, numbered from 0 in the order of acceptance.
    pub connection: u64,
}

impl ProxiedRequest {
    /// The `host:port` of a `CONNECT` request.
    pub fn connect_target(&self) -> Option<&str> {
        match &self.kind {
            ProxiedKind::Connect { target } => Some(target),
            ProxiedKind::Forward { .. } => None,
        }
    }
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    stopping: AtomicBool,
    /// The `Proxy-Authorization` value required, if any.
    required_auth: Option<String>,
}

#[derive(Default)]
struct State {
    requests: Vec<ProxiedRequest>,
    /// Every socket still open (client and origin sides), to be shut down on drop.
    open: Vec<(u64, TcpStream)>,
    workers: Vec<JoinHandle<()>>,
    accepted: u64,
    next_socket: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, request: ProxiedRequest) {
        self.lock().requests.push(request);
        self.changed.notify_all();
    }

    /// Tracks a socket for shutdown on drop; returns its key for [`Shared::untrack`].
    fn track(&self, stream: &TcpStream) -> Option<u64> {
        let clone = stream.try_clone().ok()?;
        let mut state = self.lock();
        let key = state.next_socket;
        state.next_socket += 1;
        state.open.push((key, clone));
        drop(state);
        // A socket opened while the proxy stops would be missed by the drop: close it here.
        if self.stopping.load(Ordering::Acquire) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        Some(key)
    }

    fn untrack(&self, key: Option<u64>) {
        if let Some(key) = key {
            self.lock().open.retain(|(k, _)| *k != key);
        }
    }
}

/// The recording proxy. See the [module documentation](self).
pub struct TestProxy {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl fmt::Debug for TestProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestProxy")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl TestProxy {
    /// Starts a proxy on a free port of `127.0.0.1` that lets everyone through.
    ///
    /// # Panics
    ///
    /// If no port can be bound; this is a test helper.
    pub fn start() -> TestProxy {
        TestProxy::spawn(None)
    }

    /// Starts a proxy that requires `Proxy-Authorization: Basic base64(user:password)`.
    ///
    /// # Panics
    ///
    /// If no port can be bound; this is a test helper.
    pub fn start_with_credentials(user: &str, password: &str) -> TestProxy {
        let token = base64(format!("{user}:{password}").as_bytes());
        TestProxy::spawn(Some(format!("Basic {token}")))
    }

    fn spawn(required_auth: Option<String>) -> TestProxy {
        let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, 0)) {
            Ok(listener) => listener,
            Err(e) => panic!("cannot start the test proxy on 127.0.0.1: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(addr) => addr,
            Err(e) => panic!("the test proxy has no address: {e}"),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            stopping: AtomicBool::new(false),
            required_auth,
        });
        let acceptor = {
            let shared = Arc::clone(&shared);
            thread::Builder::new()
                .name("test-proxy-accept".into())
                .spawn(move || accept_loop(&listener, &shared))
        };
        let acceptor = match acceptor {
            Ok(handle) => handle,
            Err(e) => panic!("cannot spawn the test proxy's thread: {e}"),
        };
        TestProxy {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The address the proxy listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The proxy URL with credentials, e.g. `http://user:secret@127.0.0.1:40123`.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.shared.lock().requests.clone()
    }

    /// How many requests have been received.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// The targets of every `CONNECT` request, in arrival order.
    pub fn connect_targets(&self) -> Vec<String> {
        self.requests()
            .iter()
            .filter_map(|r| r.connect_target().map(str::to_owned))
            .collect()
    }

    /// How many absolute-form requests were forwarded.
    pub fn forwarded_count(&self) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| matches!(r.kind, ProxiedKind::Forward { .. }) && r.status == 200)
            .count()
    }

    /// How many client connections the proxy has accepted.
    pub fn connections_accepted(&self) -> u64 {
        self.shared.lock().accepted
    }

    /// Waits until at least `n` requests have arrived or `timeout` has passed, and returns all
    /// of them (fewer than `n` on timeout: assert on the length).
    pub fn wait_for_requests(&self, n: usize, timeout: Duration) -> Vec<ProxiedRequest> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.requests.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            state = self
                .shared
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        state.requests.clone()
    }
}

impl Drop for TestProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::Release);
        let open = std::mem::take(&mut self.shared.lock().open);
        for (_, stream) in &open {
            let _ = stream.shutdown(Shutdown::Both);
        }
        self.shared.changed.notify_all();
        // Wake the accepting thread, which checks the flag after every accept.
        let woke = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)).is_ok();
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

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    loop {
        let accepted = listener.accept();
        if shared.stopping.load(Ordering::Acquire) {
            return;
        }
        let Ok((stream, _)) = accepted else {
            thread::sleep(Duration::from_millis(10));
            continue;
        };
        let mut state = shared.lock();
        state.workers.retain(|w| !w.is_finished());
        let id = state.accepted;
        state.accepted += 1;
        drop(state);
        let worker_shared = Arc::clone(shared);
        let spawned = thread::Builder::new()
            .name(format!("test-proxy-conn-{id}"))
            .spawn(move || {
                let key = worker_shared.track(&stream);
                serve(&worker_shared, stream, id);
                worker_shared.untrack(key);
            });
        if let Ok(handle) = spawned {
            shared.lock().workers.push(handle);
        }
    }
}

fn answer(stream: &mut TcpStream, status: u16, reason: &str, extra: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = stream.flush();
}

fn connect_to(target: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in target.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

fn serve(shared: &Shared, client: TcpStream, connection: u64) {
    let _ = client.set_read_timeout(Some(TIMEOUT));
    let _ = client.set_nodelay(true);
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut writer = client;
    // The same request-head parser as the test server's.
    let head = match read_head(&mut reader) {
        Ok(Some(head)) => head,
        Ok(None) => return,
        Err(_) => {
            answer(&mut writer, 400, "Bad Request", "");
            return;
        }
    };
    let proxy_authorization = head.header("Proxy-Authorization").map(str::to_owned);
    let mut request = ProxiedRequest {
        kind: if head.method.eq_ignore_ascii_case("CONNECT") {
            ProxiedKind::Connect {
                target: head.path.clone(),
            }
        } else {
            ProxiedKind::Forward {
                method: head.method.clone(),
                uri: head.path.clone(),
            }
        },
        proxy_authorization,
        status: 200,
        connection,
    };
    if let Some(required) = &shared.required_auth {
        let given = request.proxy_authorization.as_deref().unwrap_or("");
        let matches = given.split_once(' ').is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("basic")
                && Some(token.trim()) == required.split_once(' ').map(|(_, t)| t)
        });
        if !matches {
            request.status = 407;
            shared.record(request);
            answer(
                &mut writer,
                407,
                "Proxy Authentication Required",
                "Proxy-Authenticate: Basic realm=\"test\"\r\n",
            );
            return;
        }
    }
    match request.kind.clone() {
        ProxiedKind::Connect { target } => tunnel(shared, request, &target, reader, writer),
        ProxiedKind::Forward { .. } => forward(shared, request, &head, reader, writer),
    }
}

fn tunnel(
    shared: &Shared,
    mut request: ProxiedRequest,
    target: &str,
    reader: BufReader<TcpStream>,
    mut client: TcpStream,
) {
    let upstream = match connect_to(target) {
        Ok(upstream) => upstream,
        Err(_) => {
            request.status = 502;
            shared.record(request);
            answer(&mut client, 502, "Bad Gateway", "");
            return;
        }
    };
    shared.record(request);
    if client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .is_err()
    {
        return;
    }
    let key = shared.track(&upstream);
    // The tunnel lives as long as the client keeps it: no read timeout from here on.
    let _ = client.set_read_timeout(None);
    let _ = upstream.set_nodelay(true);
    pump_both_ways(reader, client, upstream);
    shared.untrack(key);
}

/// Copies client → upstream on this thread and upstream → client on another, until both
/// directions have ended.
fn pump_both_ways(mut reader: BufReader<TcpStream>, client: TcpStream, upstream: TcpStream) {
    let (Ok(mut upstream_reader), Ok(mut client_writer)) =
        (upstream.try_clone(), client.try_clone())
    else {
        return;
    };
    let back = thread::Builder::new()
        .name("test-proxy-tunnel".into())
        .spawn(move || {
            let _ = io::copy(&mut upstream_reader, &mut client_writer);
            let _ = client_writer.shutdown(Shutdown::Write);
        });
    let mut upstream_writer = upstream;
    // Bytes the client sent right after the head are already in the reader's buffer.
    let _ = io::copy(&mut reader, &mut upstream_writer);
    let _ = upstream_writer.shutdown(Shutdown::Write);
    if let Ok(back) = back {
        let _ = back.join();
    }
    let _ = client.shutdown(Shutdown::Both);
}

fn forward(
    shared: &Shared,
    mut request: ProxiedRequest,
    head: &Head,
    mut reader: BufReader<TcpStream>,
    mut client: TcpStream,
) {
    // `http://authority/path?query`
    let Some(rest) = head.path.strip_prefix("http://") else {
        request.status = 400;
        shared.record(request);
        answer(&mut client, 400, "Bad Request", "");
        return;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let origin = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    if head.header("Transfer-Encoding").is_some() {
        request.status = 501;
        shared.record(request);
        answer(&mut client, 501, "Not Implemented", "");
        return;
    }
    let length: usize = head
        .header("Content-Length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        request.status = 413;
        shared.record(request);
        answer(&mut client, 413, "Content Too Large", "");
        return;
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let mut upstream = match connect_to(&origin) {
        Ok(upstream) => upstream,
        Err(_) => {
            request.status = 502;
            shared.record(request);
            answer(&mut client, 502, "Bad Gateway", "");
            return;
        }
    };
    shared.record(request);
    let key = shared.track(&upstream);
    let mut out = format!("{} {path} {}\r\n", head.method, head.version);
    for (name, value) in &head.headers {
        let lower = name.to_ascii_lowercase();
        if lower.starts_with("proxy-") || lower == "connection" || lower == "keep-alive" {
            continue;
        }
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&body);
    if upstream.write_all(&bytes).is_ok() {
        let _ = upstream.set_read_timeout(Some(TIMEOUT));
        let _ = io::copy(&mut upstream, &mut client);
    }
    let _ = client.shutdown(Shutdown::Both);
    shared.untrack(key);
}

/// Standard base64 with padding (RFC 4648), for the expected `Proxy-Authorization` value.
fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
            ("user:secret", "dXNlcjpzZWNyZXQ="),
        ] {
            assert_eq!(base64(input.as_bytes()), output, "{input}");
        }
    }
}
