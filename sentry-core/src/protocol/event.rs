//! The event: an error or message event, or a transaction.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sentry_minimal::{Breadcrumb, EventId, Level, Map, SortedMap, User};
use serde::{Deserialize, Serialize};

use super::context::contexts;
use super::measurement::measurements;
use super::minimal_serde::{arc_opt, sorted_map, values, wire, wire_values};
use super::{
    ClientSdkInfo, Contexts, DebugMeta, EventType, Exception, Measurement, Request, Span,
    Stacktrace, Thread, TransactionInfo,
};

/// An event's tags: searchable string key/value pairs.
pub type Tags = SortedMap<Cow<'static, str>, Cow<'static, str>>;

/// The platform written by default. Sentry has no `rust` platform (Relay rejects it); `native`
/// is how native stack traces are symbolicated.
pub const DEFAULT_PLATFORM: &str = "native";

/// An error or message event, the payload of an `event` envelope item; or, with
/// [`ty`](Event::ty) set to [`EventType::Transaction`], a transaction, the payload of a
/// `transaction` item.
///
/// Every field is public; build an event with struct-update syntax over [`Event::default`],
/// which gives a fresh random `event_id`, the current time (to the microsecond),
/// [`Level::Error`] and the `native` platform. Empty fields are not written.
///
/// A transaction is an event so that scopes, event processors, integrations, `before_send`
/// and the limits apply to it as they are. Its own fields are
/// [`start_timestamp`](Event::start_timestamp), [`spans`](Event::spans),
/// [`measurements`](Event::measurements) and [`transaction_info`](Event::transaction_info);
/// [`timestamp`](Event::timestamp) is its end, [`transaction`](Event::transaction) its name,
/// and `contexts["trace"]` (a [`TraceContext`](super::TraceContext)) its root span, which
/// Relay requires.
///
/// Wire notes:
/// - `message` is written twice: as `"logentry": {"formatted": message}`, Sentry's field, and
///   as the top-level `"message"` string, which Relay reads as the same `logentry` (it
///   normalizes the pair with no error) and which local tools such as Spotlight require: its
///   sidecar skips an event with neither `message` nor `exception`. Reading accepts either, a
///   `logentry` with only `message`, and a `message` object.
/// - `exception`, `threads` and `breadcrumbs` are written as `{"values": [...]}`.
/// - `timestamp` and `start_timestamp` are written as float seconds; reading also accepts
///   RFC 3339 strings.
/// - `ty` is written as `"type":"transaction"` for a transaction and not at all otherwise.
/// - A measurement whose value is not finite is not written.
/// - Unknown keys are ignored when reading.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Event, Exception};
/// use sentry_core::Level;
///
/// let event = Event {
///     message: Some("disk almost full".into()),
///     level: Level::Warning,
///     exception: vec![Exception { ty: "IoError".into(), value: Some("ENOSPC".into()), ..Default::default() }],
///     ..Event::default()
/// };
/// let json = serde_json::to_value(&event).unwrap();
/// assert_eq!(json["logentry"]["formatted"], "disk almost full");
/// assert_eq!(json["message"], "disk almost full");
/// assert_eq!(json["level"], "warning");
/// assert_eq!(json["platform"], "native");
/// assert_eq!(json["exception"]["values"][0]["type"], "IoError");
/// assert!(json.get("tags").is_none());
///
/// let back: Event = serde_json::from_value(json).unwrap();
/// assert_eq!(back, event);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Event {
    /// The unique id of this event.
    #[serde(with = "wire")]
    pub event_id: EventId,
    /// What kind of event this is: [`EventType::Default`] for errors and messages (not
    /// written), [`EventType::Transaction`] for a transaction.
    #[serde(rename = "type", skip_serializing_if = "EventType::is_default")]
    pub ty: EventType,
    /// The severity.
    #[serde(with = "wire")]
    pub level: Level,
    /// The platform; `"native"` by default.
    pub platform: Cow<'static, str>,
    /// When the event happened; for a transaction, when it finished.
    #[serde(with = "crate::time::seconds")]
    pub timestamp: SystemTime,
    /// When a transaction started (not after [`timestamp`](Event::timestamp)); `None` for
    /// other events.
    #[serde(
        with = "crate::time::seconds_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub start_timestamp: Option<SystemTime>,
    /// The name of the logger that produced it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logger: Option<String>,
    /// The transaction (route, task) the event belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction: Option<String>,
    /// The host name (collected only with `send_default_pii`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<Cow<'static, str>>,
    /// The application release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<Cow<'static, str>>,
    /// The distribution of the release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dist: Option<Cow<'static, str>>,
    /// The environment, such as `"production"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<Cow<'static, str>>,
    /// The formatted message (wire: `logentry.formatted`, and the same text as the top-level
    /// `message` string).
    #[serde(flatten, with = "logentry", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Exceptions, oldest (root cause) first.
    #[serde(with = "values", skip_serializing_if = "Vec::is_empty")]
    pub exception: Vec<Exception>,
    /// Threads running when the event happened.
    #[serde(with = "values", skip_serializing_if = "Vec::is_empty")]
    pub threads: Vec<Thread>,
    /// A stack trace for an event without exceptions (such as a message with a backtrace).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stacktrace: Option<Stacktrace>,
    /// Breadcrumbs, oldest first.
    #[serde(with = "wire_values", skip_serializing_if = "Vec::is_empty")]
    pub breadcrumbs: Vec<Arc<Breadcrumb>>,
    /// Searchable tags.
    #[serde(with = "sorted_map", skip_serializing_if = "SortedMap::is_empty")]
    pub tags: Tags,
    /// Arbitrary extra data.
    #[serde(with = "wire", skip_serializing_if = "Map::is_empty")]
    pub extra: Map,
    /// Contexts, by name.
    #[serde(with = "contexts", skip_serializing_if = "SortedMap::is_empty")]
    pub contexts: Contexts,
    /// The affected user.
    #[serde(with = "wire", skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The HTTP request being handled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<Request>,
    /// A custom grouping fingerprint; `"{{ default }}"` stands for Sentry's own grouping.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fingerprint: Vec<Cow<'static, str>>,
    /// Loaded modules or packages and their versions.
    #[serde(with = "sorted_map", skip_serializing_if = "SortedMap::is_empty")]
    pub modules: SortedMap<String, String>,
    /// The SDK that sent the event.
    #[serde(with = "arc_opt", skip_serializing_if = "Option::is_none")]
    pub sdk: Option<Arc<ClientSdkInfo>>,
    /// Debug images for symbolication.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debug_meta: Option<DebugMeta>,
    /// A transaction's finished child spans (the root span is `contexts["trace"]`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<Span>,
    /// A transaction's measurements, by name. Measurements whose value is not finite are
    /// left out when writing (and removed by the limits).
    #[serde(with = "measurements", skip_serializing_if = "measurements::is_empty")]
    pub measurements: SortedMap<String, Measurement>,
    /// Where a transaction's name comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transaction_info: Option<TransactionInfo>,
}

impl Default for Event {
    fn default() -> Self {
        Event {
            event_id: super::new_event_id(),
            timestamp: now_micros(),
            ..Event::placeholder()
        }
    }
}

impl Event {
    /// An event with the nil id and the Unix epoch as its time: the value left in a slot an
    /// event was moved out of for a moment (no clock read, no random id).
    pub(crate) fn placeholder() -> Event {
        Event {
            event_id: EventId::nil(),
            ty: EventType::Default,
            level: Level::Error,
            platform: Cow::Borrowed(DEFAULT_PLATFORM),
            timestamp: UNIX_EPOCH,
            start_timestamp: None,
            logger: None,
            transaction: None,
            server_name: None,
            release: None,
            dist: None,
            environment: None,
            message: None,
            exception: Vec::new(),
            threads: Vec::new(),
            stacktrace: None,
            breadcrumbs: Vec::new(),
            tags: Tags::new(),
            extra: Map::new(),
            contexts: Contexts::new(),
            user: None,
            request: None,
            fingerprint: Vec::new(),
            modules: SortedMap::new(),
            sdk: None,
            debug_meta: None,
            spans: Vec::new(),
            measurements: SortedMap::new(),
            transaction_info: None,
        }
    }
}

/// The current time, truncated to whole microseconds (the precision written on the wire), so a
/// default event reads back exactly as it was written.
pub(super) fn now_micros() -> SystemTime {
    let now = SystemTime::now();
    match now.duration_since(UNIX_EPOCH) {
        Ok(d) => UNIX_EPOCH + Duration::new(d.as_secs(), d.subsec_micros() * 1000),
        Err(_) => now,
    }
}

impl Event {
    /// An event with a fresh id and the current time; the same as [`Event::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// `true` if this event is a transaction ([`ty`](Event::ty) is
    /// [`EventType::Transaction`]).
    ///
    /// ```
    /// use sentry_core::protocol::{Event, EventType};
    ///
    /// assert!(!Event::new().is_transaction());
    /// assert!(Event { ty: EventType::Transaction, ..Event::new() }.is_transaction());
    /// ```
    pub fn is_transaction(&self) -> bool {
        self.ty == EventType::Transaction
    }

    /// Every stack trace of the event: its exceptions', its threads', then its own.
    ///
    /// ```
    /// use sentry_core::protocol::{Event, Exception, Stacktrace};
    ///
    /// let mut event = Event::new();
    /// event.exception.push(Exception {
    ///     stacktrace: Some(Stacktrace::default()),
    ///     ..Default::default()
    /// });
    /// event.stacktrace = Some(Stacktrace::default());
    /// assert_eq!(event.stacktraces_mut().count(), 2);
    /// ```
    pub fn stacktraces_mut(&mut self) -> impl Iterator<Item = &mut Stacktrace> {
        let exceptions = self
            .exception
            .iter_mut()
            .filter_map(|e| e.stacktrace.as_mut());
        let threads = self
            .threads
            .iter_mut()
            .filter_map(|t| t.stacktrace.as_mut());
        exceptions.chain(threads).chain(self.stacktrace.as_mut())
    }
}

/// `message` ⇄ `logentry` and `message`: the field is flattened into the event, so it can
/// write two keys.
mod logentry {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct Out<'a> {
        logentry: Entry<'a>,
        message: &'a str,
    }

    #[derive(Serialize)]
    struct Entry<'a> {
        formatted: &'a str,
    }

    /// The keys the message may be read from; the event's other keys are ignored here.
    #[derive(Deserialize)]
    struct Keys {
        #[serde(default)]
        logentry: Option<In>,
        #[serde(default)]
        message: Option<In>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum In {
        Text(String),
        Entry {
            #[serde(default)]
            formatted: Option<String>,
            #[serde(default)]
            message: Option<String>,
        },
    }

    impl In {
        fn text(self) -> Option<String> {
            match self {
                In::Text(text) => Some(text),
                In::Entry { formatted, message } => formatted.or(message),
            }
        }
    }

    pub(super) fn serialize<S: Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(text) => Out {
                logentry: Entry { formatted: text },
                message: text,
            }
            .serialize(s),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let keys = Keys::deserialize(d)?;
        Ok(keys
            .logentry
            .and_then(In::text)
            .or_else(|| keys.message.and_then(In::text)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        Addr, ClientSdkPackage, Context, DebugImage, Frame, Mechanism, NativeDebugImage, OsContext,
        SpanStatus, TraceContext,
    };
    use sentry_minimal::{SpanId, TraceId, Value};
    use serde_json::json;

    fn full_event() -> Event {
        let mut crumb = Breadcrumb::new("starting")
            .category("app")
            .level(Level::Info)
            .data("n", 1);
        crumb.timestamp = UNIX_EPOCH + Duration::from_micros(1_714_564_799_000_001);
        let mut user = User {
            id: Some("42".into()),
            email: Some("ada@example.com".into()),
            username: Some("ada".into()),
            ip_address: Some("{{auto}}".into()),
            ..User::default()
        };
        user.other.insert("plan".into(), "pro".into());
        let frame = Frame {
            function: Some("my_app::main".into()),
            filename: Some("src/main.rs".into()),
            lineno: Some(10),
            in_app: Some(true),
            instruction_addr: Some(Addr(0x1234)),
            ..Frame::default()
        };
        let stacktrace = Stacktrace {
            frames: vec![frame],
            ..Stacktrace::default()
        };
        let mut event = Event {
            event_id: "fc6d8c0c43fc4630ad850ee518f1b9d0".parse().unwrap(),
            timestamp: UNIX_EPOCH + Duration::from_micros(1_714_564_800_123_456),
            level: Level::Fatal,
            platform: "native".into(),
            logger: Some("my_app::db".into()),
            transaction: Some("GET /items".into()),
            server_name: Some("web-1".into()),
            release: Some("my-app@1.0.0".into()),
            dist: Some("x86".into()),
            environment: Some("production".into()),
            message: Some("connection lost".into()),
            exception: vec![
                Exception {
                    ty: "IoError".into(),
                    value: Some("broken pipe".into()),
                    ..Exception::default()
                },
                Exception {
                    ty: "DbError".into(),
                    value: Some("connection lost".into()),
                    module: Some("my_app::db".into()),
                    stacktrace: Some(stacktrace.clone()),
                    mechanism: Some(Mechanism {
                        ty: "panic".into(),
                        handled: Some(false),
                        ..Mechanism::default()
                    }),
                    thread_id: Some(1.into()),
                },
            ],
            threads: vec![Thread {
                id: Some(1.into()),
                name: Some("main".into()),
                crashed: true,
                current: true,
                main: true,
                ..Thread::default()
            }],
            stacktrace: Some(stacktrace),
            breadcrumbs: vec![Arc::new(crumb)],
            tags: [("region".into(), "eu".into())].into_iter().collect(),
            extra: [("attempt".to_owned(), Value::I64(3))]
                .into_iter()
                .collect(),
            contexts: Contexts::new(),
            user: Some(user),
            request: Some(Request {
                method: Some("GET".into()),
                url: Some("https://example.com/items".into()),
                ..Request::default()
            }),
            fingerprint: vec!["{{ default }}".into(), "db".into()],
            modules: [("serde".to_owned(), "1.0.0".to_owned())]
                .into_iter()
                .collect(),
            sdk: Some(Arc::new(ClientSdkInfo {
                name: "sentry.rust".into(),
                version: "0.1.0".into(),
                integrations: vec!["panic".into()],
                packages: vec![ClientSdkPackage {
                    name: "cargo:sentry".into(),
                    version: "0.1.0".into(),
                }],
            })),
            debug_meta: Some(DebugMeta {
                images: vec![DebugImage::Elf(NativeDebugImage {
                    code_file: "/app".into(),
                    debug_id: "dfb8e43a-f242-3d73-a453-aeb6a777ef75".into(),
                    image_addr: Addr(0x1000),
                    image_size: 100,
                    ..NativeDebugImage::default()
                })],
            }),
            ..Event::default()
        };
        event.contexts.insert(
            "os".into(),
            Context::from(OsContext {
                name: Some("Linux".into()),
                ..OsContext::default()
            }),
        );
        event.contexts.insert(
            "trace".into(),
            Context::from(TraceContext {
                trace_id: TraceId::from_bytes([7; 16]),
                span_id: SpanId::from_bytes([8; 8]),
                status: Some(SpanStatus::Ok),
                ..TraceContext::default()
            }),
        );
        event
    }

    /// A fully populated event has the keys and shapes of the event payload spec.
    #[test]
    fn golden_full_event() {
        let event = full_event();
        let json = serde_json::to_value(&event).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut expected = vec![
            "event_id",
            "level",
            "platform",
            "timestamp",
            "logger",
            "transaction",
            "server_name",
            "release",
            "dist",
            "environment",
            "logentry",
            "message",
            "exception",
            "threads",
            "stacktrace",
            "breadcrumbs",
            "tags",
            "extra",
            "contexts",
            "user",
            "request",
            "fingerprint",
            "modules",
            "sdk",
            "debug_meta",
        ];
        expected.sort_unstable();
        let mut keys_sorted = keys.clone();
        keys_sorted.sort_unstable();
        assert_eq!(keys_sorted, expected);

        assert_eq!(json["event_id"], "fc6d8c0c43fc4630ad850ee518f1b9d0");
        assert_eq!(json["timestamp"], json!(1_714_564_800.123_456));
        assert_eq!(json["level"], "fatal");
        assert_eq!(json["platform"], "native");
        assert_eq!(json["logentry"], json!({"formatted": "connection lost"}));
        assert_eq!(json["message"], "connection lost");
        let exceptions = &json["exception"]["values"];
        assert_eq!(exceptions.as_array().map(Vec::len), Some(2));
        assert_eq!(
            exceptions[0],
            json!({"type": "IoError", "value": "broken pipe"})
        );
        assert_eq!(
            exceptions[1]["mechanism"],
            json!({"type": "panic", "handled": false})
        );
        assert_eq!(exceptions[1]["thread_id"], 1);
        assert_eq!(
            exceptions[1]["stacktrace"]["frames"][0],
            json!({"function": "my_app::main", "filename": "src/main.rs", "lineno": 10,
                   "in_app": true, "instruction_addr": "0x1234"})
        );
        assert_eq!(
            json["threads"],
            json!({"values": [{"id": 1, "name": "main", "crashed": true, "current": true,
                               "main": true}]})
        );
        assert_eq!(
            json["breadcrumbs"],
            json!({"values": [{"timestamp": 1_714_564_799.000_001,
                               "category": "app", "message": "starting", "data": {"n": 1}}]})
        );
        assert_eq!(json["tags"], json!({"region": "eu"}));
        assert_eq!(json["extra"], json!({"attempt": 3}));
        assert_eq!(json["contexts"]["os"], json!({"name": "Linux"}));
        assert_eq!(
            json["contexts"]["trace"],
            json!({"trace_id": "07070707070707070707070707070707",
                   "span_id": "0808080808080808", "status": "ok"})
        );
        assert_eq!(
            json["user"],
            json!({"id": "42", "email": "ada@example.com", "username": "ada",
                   "ip_address": "{{auto}}", "plan": "pro"})
        );
        assert_eq!(
            json["request"],
            json!({"method": "GET", "url": "https://example.com/items"})
        );
        assert_eq!(json["fingerprint"], json!(["{{ default }}", "db"]));
        assert_eq!(json["modules"], json!({"serde": "1.0.0"}));
        assert_eq!(json["sdk"]["name"], "sentry.rust");
        assert_eq!(json["sdk"]["packages"][0]["version"], "0.1.0");
        assert_eq!(json["debug_meta"]["images"][0]["type"], "elf");

        // And back.
        let text = serde_json::to_string(&event).unwrap();
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, event);
    }

    /// A transaction has the keys and shapes of the transaction payload spec (and what Relay
    /// requires: `type`, both timestamps as numbers, `contexts.trace`, complete spans).
    #[test]
    fn golden_transaction() {
        use crate::protocol::{
            EventType, Measurement, MeasurementUnit, Span, TransactionInfo, TransactionSource,
        };

        let trace_id = TraceId::from_bytes([7; 16]);
        let root = SpanId::from_bytes([8; 8]);
        let start = UNIX_EPOCH + Duration::from_micros(1_714_564_800_000_001);
        let end = UNIX_EPOCH + Duration::from_micros(1_714_564_800_250_002);
        let mut event = Event {
            event_id: "fc6d8c0c43fc4630ad850ee518f1b9d0".parse().unwrap(),
            ty: EventType::Transaction,
            level: Level::Info,
            transaction: Some("GET /items/{id}".into()),
            transaction_info: Some(TransactionInfo {
                source: TransactionSource::Route,
            }),
            start_timestamp: Some(start),
            timestamp: end,
            spans: vec![Span {
                span_id: SpanId::from_bytes([9; 8]),
                trace_id,
                parent_span_id: Some(root),
                op: Some("db.query".into()),
                start_timestamp: start,
                timestamp: end,
                ..Span::default()
            }],
            ..Event::default()
        };
        event.measurements.insert(
            "db.calls".into(),
            Measurement::with_unit(1.0, MeasurementUnit::None),
        );
        event
            .measurements
            .insert("bad".into(), Measurement::new(f64::INFINITY));
        event.contexts.insert(
            "trace".into(),
            Context::from(TraceContext {
                trace_id,
                span_id: root,
                op: Some("http.server".into()),
                status: Some(SpanStatus::Ok),
                ..TraceContext::default()
            }),
        );
        assert!(event.is_transaction());
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["type"], "transaction");
        assert_eq!(json["start_timestamp"], json!(1_714_564_800.000_001));
        assert_eq!(json["timestamp"], json!(1_714_564_800.250_002));
        assert_eq!(json["transaction"], "GET /items/{id}");
        assert_eq!(json["transaction_info"], json!({"source": "route"}));
        assert_eq!(
            json["measurements"],
            json!({"db.calls": {"value": 1.0, "unit": "none"}})
        );
        assert_eq!(
            json["contexts"]["trace"],
            json!({"trace_id": "07070707070707070707070707070707",
                   "span_id": "0808080808080808", "op": "http.server", "status": "ok"})
        );
        assert_eq!(
            json["spans"],
            json!([{"span_id": "0909090909090909",
                    "trace_id": "07070707070707070707070707070707",
                    "parent_span_id": "0808080808080808", "op": "db.query",
                    "start_timestamp": 1_714_564_800.000_001,
                    "timestamp": 1_714_564_800.250_002}])
        );
        let back: Event = serde_json::from_value(json).unwrap();
        event.measurements.remove("bad");
        assert_eq!(back, event);

        // Only non-finite measurements: no key at all.
        let mut only_bad = Event::default();
        only_bad
            .measurements
            .insert("nan".into(), Measurement::new(f64::NAN));
        let json = serde_json::to_value(&only_bad).unwrap();
        assert!(json.get("measurements").is_none());
        assert!(json.get("type").is_none());
    }

    #[test]
    fn default_event_is_minimal() {
        let event = Event::default();
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.platform, "native");
        assert!(!event.event_id.is_nil());
        assert_ne!(event.event_id, Event::new().event_id);
        let json = serde_json::to_value(&event).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["event_id", "level", "platform", "timestamp"]);
    }

    #[test]
    fn reads_lenient_input() {
        let event: Event = serde_json::from_value(json!({
            "event_id": "FC6D8C0C-43FC-4630-AD85-0EE518F1B9D0",
            "timestamp": "2024-05-01T12:00:00Z",
            "message": "legacy",
            "exception": [{"type": "E"}],
            "contexts": {"runtime": {"name": "rustc"}},
            "unknown_key": {"ignored": true},
        }))
        .unwrap();
        assert_eq!(
            event.event_id.to_string(),
            "fc6d8c0c43fc4630ad850ee518f1b9d0"
        );
        assert_eq!(
            event.timestamp,
            UNIX_EPOCH + Duration::from_secs(1_714_564_800)
        );
        assert_eq!(event.message.as_deref(), Some("legacy"));
        assert_eq!(event.exception[0].ty, "E");
        assert!(matches!(event.contexts["runtime"], Context::Runtime(_)));
        // Missing fields take the defaults.
        assert_eq!(event.level, Level::Error);
        assert_eq!(event.platform, "native");

        let entry: Event =
            serde_json::from_value(json!({"logentry": {"message": "tmpl %s", "params": ["x"]}}))
                .unwrap();
        assert_eq!(entry.message.as_deref(), Some("tmpl %s"));
        assert!(serde_json::from_value::<Event>(json!({"event_id": "nope"})).is_err());
        assert!(serde_json::from_value::<Event>(json!({"level": "loud"})).is_err());
    }
}
