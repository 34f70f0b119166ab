//! Test utilities (feature `test`): a transport that records envelopes, and helpers that
//! capture what a piece of code sends.
//!
//! The helpers bind a recording client to the **global** scope, so events captured on any
//! thread are recorded. They hold a process-wide lock while they run, so tests using them in
//! parallel do not see each other's events.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::envelope::{Envelope, EnvelopeItem};
use sentry_minimal::Breadcrumb;

use crate::client::Client;
use crate::options::ClientOptions;
use crate::protocol::{Addr, Event, Exception, Frame, Log, Stacktrace};
use crate::scope::{global_slot, set_global_client};
use crate::transport::{Transport, TransportFactory};

/// A transport that keeps every envelope in memory and counts flushes and shutdowns.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{test::TestTransport, Client, ClientOptions, Level};
///
/// let transport = TestTransport::new();
/// let client = Client::new(ClientOptions {
///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
///     transport: Some(transport.factory()),
///     ..Default::default()
/// });
/// client.capture_event(sentry_core::protocol::Event::default(), None);
/// assert!(client.close(None));
/// assert_eq!(transport.envelopes().len(), 1);
/// assert_eq!(transport.shutdown_count(), 1);
/// ```
#[derive(Debug, Default)]
pub struct TestTransport {
    envelopes: Mutex<Vec<Envelope>>,
    flushes: AtomicUsize,
    shutdowns: AtomicUsize,
}

impl TestTransport {
    /// A new, empty transport.
    pub fn new() -> Arc<TestTransport> {
        Arc::default()
    }

    /// A factory that hands out this transport, for [`ClientOptions::transport`].
    pub fn factory(self: &Arc<Self>) -> Arc<dyn TransportFactory> {
        let transport: Arc<dyn Transport> = Arc::clone(self) as Arc<dyn Transport>;
        Arc::new(transport)
    }

    /// The envelopes received so far.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Takes the envelopes received so far.
    pub fn fetch_and_clear_envelopes(&self) -> Vec<Envelope> {
        std::mem::take(
            &mut *self
                .envelopes
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// How many times `flush` was called.
    pub fn flush_count(&self) -> usize {
        self.flushes.load(Ordering::SeqCst)
    }

    /// How many times `shutdown` was called.
    pub fn shutdown_count(&self) -> usize {
        self.shutdowns.load(Ordering::SeqCst)
    }
}

impl Transport for TestTransport {
    fn send_envelope(&self, mut envelope: Envelope) {
        // What the real worker does before serializing, so tests see finished events.
        crate::finalize::finalize_envelope(&mut envelope);
        self.envelopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(envelope);
    }

    fn flush(&self, _timeout: Duration) -> bool {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        true
    }

    fn shutdown(&self, _timeout: Duration) -> bool {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
        true
    }
}

static CAPTURE_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` with a recording client built from `options` bound to the global scope, and returns
/// the envelopes it sent. The DSN and transport of `options` are replaced.
///
/// # Examples
///
/// ```
/// use sentry_core::{test::with_captured_envelopes_options, ClientOptions, Level};
///
/// let envelopes = with_captured_envelopes_options(
///     ClientOptions { release: Some("app@1".into()), ..Default::default() },
///     || {
///         std::thread::spawn(|| sentry_core::capture_message("from a thread", Level::Info))
///             .join()
///             .unwrap();
///     },
/// );
/// assert_eq!(envelopes.len(), 1);
/// ```
pub fn with_captured_envelopes_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Envelope> {
    let _lock = CAPTURE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        ..options
    }));
    let previous = global_slot()
        .update(|scope| set_global_client(scope, Some(Arc::clone(&client))))
        .flatten();
    // Restore the previous client even if `f` panics.
    struct Restore(Option<Option<Arc<Client>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                global_slot().update(|scope| set_global_client(scope, previous));
            }
        }
    }
    let restore = Restore(Some(previous));
    f();
    client.close(None);
    drop(restore);
    transport.fetch_and_clear_envelopes()
}

/// [`with_captured_envelopes_options`] with default options.
pub fn with_captured_envelopes(f: impl FnOnce()) -> Vec<Envelope> {
    with_captured_envelopes_options(ClientOptions::default(), f)
}

/// Runs `f` and returns the events it captured (from any thread).
pub fn with_captured_events(f: impl FnOnce()) -> Vec<Event> {
    with_captured_events_options(ClientOptions::default(), f)
}

/// Runs `f` with `options` and returns the events it captured (from any thread).
pub fn with_captured_events_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Event> {
    with_captured_envelopes_options(options, f)
        .into_iter()
        .flat_map(|envelope| {
            envelope
                .items()
                .filter_map(|item| match item {
                    EnvelopeItem::Event(event) => Some((**event).clone()),
                    _ => None,
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs `f` with `options` and [`enable_logs`](ClientOptions::enable_logs) on, and returns the
/// structured logs it captured (from any thread), in order.
///
/// # Examples
///
/// ```
/// use sentry_core::{logger, test::with_captured_logs, ClientOptions};
///
/// let logs = with_captured_logs(ClientOptions::default(), || {
///     logger::info!("hello {}", "world");
/// });
/// assert_eq!(logs[0].body, "hello world");
/// ```
pub fn with_captured_logs(options: ClientOptions, f: impl FnOnce()) -> Vec<Log> {
    let options = ClientOptions {
        enable_logs: true,
        ..options
    };
    with_captured_envelopes_options(options, f)
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::Logs(logs) => Some(logs.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Checks one `log` envelope item, exactly as it was sent, field by field against Sentry's log
/// protocol, and lists every problem (empty when it conforms). `header` is the item header as
/// JSON; `payload` the payload bytes.
///
/// Relay's normalizer in the Python package the conformance tests use validates events only,
/// so log items are checked here instead:
///
/// - header: `type` is `log`, `length` is the payload's length, `item_count` is the number of
///   items (1–100), `content_type` is `application/vnd.sentry.items.log+json`, nothing else;
/// - payload: an object with `items` only;
/// - each item has exactly `timestamp` (positive seconds), `trace_id` (32 lowercase hex digits,
///   not all zero), optionally `span_id` (16 lowercase hex digits), `level` (`trace`, `debug`,
///   `info`, `warn`, `error` or `fatal`), `severity_number` (1, 5, 9, 13, 17 or 21 to match the
///   level), `body` (a string) and optionally `attributes`;
/// - each attribute is `{"value":…,"type":…}` with a type of `string`, `boolean`, `integer`
///   (a signed 64-bit integer) or `double` (a finite number) that matches the value.
///
/// # Examples
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::protocol::{Log, LogLevel};
/// use sentry_core::test::log_item_problems;
///
/// let mut log = Log::new(LogLevel::Info, "hello");
/// log.trace_id = sentry_core::protocol::new_trace_id();
/// log.attributes.insert("n", 1);
/// let envelope: Envelope = std::iter::once(vec![log]).collect();
/// let bytes = envelope.to_vec(None);
/// let mut lines = bytes.split(|&b| b == b'\n').skip(1);
/// let header = serde_json::from_slice(lines.next().unwrap()).unwrap();
/// assert_eq!(log_item_problems(&header, lines.next().unwrap()), Vec::<String>::new());
/// ```
pub fn log_item_problems(header: &serde_json::Value, payload: &[u8]) -> Vec<String> {
    use serde_json::Value as Json;

    let mut problems = Vec::new();
    let mut problem = |text: String| problems.push(text);
    match header.as_object() {
        None => problem(format!("item header is not an object: {header}")),
        Some(h) => {
            if h.get("type") != Some(&Json::from("log")) {
                problem(format!("header type is {:?}, not \"log\"", h.get("type")));
            }
            if h.get("length").and_then(Json::as_u64) != Some(payload.len() as u64) {
                problem(format!(
                    "header length {:?} is not the payload length {}",
                    h.get("length"),
                    payload.len()
                ));
            }
            if h.get("content_type") != Some(&Json::from(crate::protocol::LOG_CONTENT_TYPE)) {
                problem(format!(
                    "header content_type is {:?}",
                    h.get("content_type")
                ));
            }
            for key in h.keys() {
                if !["type", "length", "item_count", "content_type"].contains(&key.as_str()) {
                    problem(format!("unexpected item header {key:?}"));
                }
            }
        }
    }
    let payload: Json = match serde_json::from_slice(payload) {
        Ok(json) => json,
        Err(e) => {
            problem(format!("payload is not JSON: {e}"));
            return problems;
        }
    };
    let Some(items) = payload.get("items").and_then(Json::as_array) else {
        problem(format!("payload has no items array: {payload}"));
        return problems;
    };
    if payload.as_object().is_some_and(|p| p.len() != 1) {
        problem("payload has keys other than items".to_owned());
    }
    if header.get("item_count").and_then(Json::as_u64) != Some(items.len() as u64) {
        problem(format!(
            "item_count {:?} is not the number of items {}",
            header.get("item_count"),
            items.len()
        ));
    }
    if items.is_empty() || items.len() > 100 {
        problem(format!("{} items; 1 to 100 allowed", items.len()));
    }
    let hex = |v: Option<&Json>, len: usize| {
        v.and_then(Json::as_str).is_some_and(|s| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
                && s.bytes().any(|b| b != b'0')
        })
    };
    for (i, item) in items.iter().enumerate() {
        let Some(fields) = item.as_object() else {
            problem(format!("item {i} is not an object"));
            continue;
        };
        for key in fields.keys() {
            if ![
                "timestamp",
                "trace_id",
                "span_id",
                "level",
                "severity_number",
                "body",
                "attributes",
            ]
            .contains(&key.as_str())
            {
                problem(format!("item {i}: unexpected field {key:?}"));
            }
        }
        if !fields
            .get("timestamp")
            .and_then(Json::as_f64)
            .is_some_and(|t| t > 0.0)
        {
            problem(format!(
                "item {i}: bad timestamp {:?}",
                fields.get("timestamp")
            ));
        }
        if !hex(fields.get("trace_id"), 32) {
            problem(format!(
                "item {i}: bad trace_id {:?}",
                fields.get("trace_id")
            ));
        }
        if fields.contains_key("span_id") && !hex(fields.get("span_id"), 16) {
            problem(format!("item {i}: bad span_id {:?}", fields.get("span_id")));
        }
        let level = fields.get("level").and_then(Json::as_str);
        let expected_severity = match level {
            Some("trace") => Some(1),
            Some("debug") => Some(5),
            Some("info") => Some(9),
            Some("warn") => Some(13),
            Some("error") => Some(17),
            Some("fatal") => Some(21),
            _ => None,
        };
        match expected_severity {
            None => problem(format!("item {i}: bad level {:?}", fields.get("level"))),
            Some(n) => {
                if fields.get("severity_number").and_then(Json::as_u64) != Some(n) {
                    problem(format!(
                        "item {i}: severity_number {:?} does not match level {level:?}",
                        fields.get("severity_number")
                    ));
                }
            }
        }
        if !fields.get("body").is_some_and(Json::is_string) {
            problem(format!("item {i}: body is not a string"));
        }
        let attributes = match fields.get("attributes") {
            None => continue,
            Some(Json::Object(attributes)) => attributes,
            Some(other) => {
                problem(format!("item {i}: attributes is not an object: {other}"));
                continue;
            }
        };
        for (key, attribute) in attributes {
            let ok = attribute.as_object().is_some_and(|a| {
                a.len() == 2
                    && match (a.get("type").and_then(Json::as_str), a.get("value")) {
                        (Some("string"), Some(v)) => v.is_string(),
                        (Some("boolean"), Some(v)) => v.is_boolean(),
                        (Some("integer"), Some(v)) => v.is_i64(),
                        (Some("double"), Some(v)) => v.as_f64().is_some_and(f64::is_finite),
                        _ => false,
                    }
            });
            if !ok {
                problem(format!(
                    "item {i}: attribute {key:?} is malformed: {attribute}"
                ));
            }
        }
    }
    problems
}

/// A typical error event of about 10 KB once serialized: a 24-frame stack trace, 20
/// breadcrumbs, tags and modules, all different per `i` so that compression sees realistic
/// text rather than repetition. Shared by the delivery tests, the gzip tests and the
/// throughput benchmark, so that they all measure the same kind of event.
///
/// ```
/// let event = sentry_core::test::typical_event(7);
/// let bytes = sentry_core::envelope::Envelope::from_event(event).to_vec(None);
/// assert!((8_000..14_000).contains(&bytes.len()), "{}", bytes.len());
/// ```
pub fn typical_event(i: usize) -> Event {
    let frames = (0..24u64)
        .map(|f| Frame {
            function: Some(format!("my_app::handlers::orders::process_order_step_{f}")),
            module: Some("my_app::handlers::orders".into()),
            filename: Some(format!("src/handlers/orders_{}.rs", f % 7)),
            abs_path: Some(format!("/srv/my-app/src/handlers/orders_{}.rs", f % 7)),
            lineno: Some(100 + f * 7),
            in_app: Some(f < 8),
            instruction_addr: Some(Addr(0x5555_5555_0000 + f * 0x1a3)),
            ..Frame::default()
        })
        .collect();
    let mut event = Event {
        message: Some(format!("order {i} failed")),
        exception: vec![Exception {
            ty: "PaymentError".into(),
            value: Some(format!("gateway timeout for order {i}")),
            stacktrace: Some(Stacktrace {
                frames,
                ..Stacktrace::default()
            }),
            ..Exception::default()
        }],
        breadcrumbs: (0..20)
            .map(|b| {
                Arc::new(
                    Breadcrumb::new(format!("GET /api/v1/items/{b}?page={i} -> 200"))
                        .category("http")
                        .data("status_code", 200),
                )
            })
            .collect(),
        release: Some("my-app@1.4.2".into()),
        ..Event::default()
    };
    for t in 0..8 {
        event
            .tags
            .insert(format!("tag{t}").into(), format!("value-{t}-{i}").into());
    }
    for m in 0..30 {
        event
            .modules
            .insert(format!("crate-{m}"), format!("1.{m}.{}", m * 3));
    }
    event
}
