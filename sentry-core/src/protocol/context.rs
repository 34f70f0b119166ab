//! Contexts: structured data about the environment an event happened in.
//!
//! An event's `contexts` maps a name to a context object. Each object carries a `"type"` that
//! tells Sentry how to read it (`"os"`, `"runtime"`, `"device"`, `"app"`, `"trace"`); objects
//! without a known type are shown as plain key/value data.

use std::borrow::Cow;
use std::time::SystemTime;

use sentry_minimal::{Map, SortedMap, SpanId, TraceId};
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::minimal_serde::{value_from_json, wire, Ser};
use super::SpanStatus;

/// An event's contexts, by name (such as `"os"` or `"trace"`).
pub type Contexts = SortedMap<Cow<'static, str>, Context>;

/// One context of an event.
///
/// It is written as an object with a `"type"` key and the context's fields; [`Context::Other`]
/// is written as its map exactly. When reading, the `"type"` key decides the variant, and for
/// objects without one the context's name does (an `"os"` entry is an OS context). Objects of
/// a known type that do not fit its fields are kept as [`Context::Other`], so nothing is lost.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Context, OsContext};
///
/// let os = Context::from(OsContext { name: Some("Linux".into()), ..OsContext::default() });
/// assert_eq!(
///     serde_json::to_value(&os).unwrap(),
///     serde_json::json!({"type": "os", "name": "Linux"})
/// );
/// ```
#[derive(Debug, PartialEq)]
#[non_exhaustive]
pub enum Context {
    /// The operating system (`"type": "os"`).
    Os(Box<OsContext>),
    /// The language runtime (`"type": "runtime"`).
    Runtime(Box<RuntimeContext>),
    /// The device or machine (`"type": "device"`).
    Device(Box<DeviceContext>),
    /// The application (`"type": "app"`).
    App(Box<AppContext>),
    /// The trace the event belongs to (`"type": "trace"`).
    Trace(Box<TraceContext>),
    /// Any other data, written as is.
    Other(Map),
}

impl Context {
    /// The `"type"` written for this context; `None` for [`Context::Other`].
    pub fn type_name(&self) -> Option<&'static str> {
        match self {
            Context::Os(_) => Some("os"),
            Context::Runtime(_) => Some("runtime"),
            Context::Device(_) => Some("device"),
            Context::App(_) => Some("app"),
            Context::Trace(_) => Some("trace"),
            Context::Other(_) => None,
        }
    }

    /// Reads a context from a JSON object. `name` is its key in `contexts`, used as the type
    /// when the object has no `"type"` key.
    pub fn from_json(
        name: Option<&str>,
        object: serde_json::Map<String, serde_json::Value>,
    ) -> Self {
        let ty = match object.get("type") {
            Some(serde_json::Value::String(ty)) => Some(ty.as_str()),
            Some(_) => None,
            None => name,
        };
        fn typed<T: serde::de::DeserializeOwned>(
            object: &serde_json::Map<String, serde_json::Value>,
        ) -> Option<Box<T>> {
            let mut fields = object.clone();
            fields.remove("type");
            serde_json::from_value(serde_json::Value::Object(fields))
                .ok()
                .map(Box::new)
        }
        let parsed = match ty {
            Some("os") => typed(&object).map(Context::Os),
            Some("runtime") => typed(&object).map(Context::Runtime),
            Some("device") => typed(&object).map(Context::Device),
            Some("app") => typed(&object).map(Context::App),
            Some("trace") => typed(&object).map(Context::Trace),
            _ => None,
        };
        parsed.unwrap_or_else(|| {
            Context::Other(
                object
                    .into_iter()
                    .map(|(k, v)| (k, value_from_json(v)))
                    .collect(),
            )
        })
    }
}

impl Clone for Context {
    /// Kept out of line: contexts are copied from scopes and from the computed defaults into
    /// every event, and an inlined copy of this match (every field of every context type) at
    /// each of those places costs kilobytes of code apiece.
    #[inline(never)]
    fn clone(&self) -> Self {
        match self {
            Context::Os(c) => Context::Os(c.clone()),
            Context::Runtime(c) => Context::Runtime(c.clone()),
            Context::Device(c) => Context::Device(c.clone()),
            Context::App(c) => Context::App(c.clone()),
            Context::Trace(c) => Context::Trace(c.clone()),
            Context::Other(map) => Context::Other(map.clone()),
        }
    }
}

impl From<OsContext> for Context {
    fn from(c: OsContext) -> Self {
        Context::Os(Box::new(c))
    }
}

impl From<RuntimeContext> for Context {
    fn from(c: RuntimeContext) -> Self {
        Context::Runtime(Box::new(c))
    }
}

impl From<DeviceContext> for Context {
    fn from(c: DeviceContext) -> Self {
        Context::Device(Box::new(c))
    }
}

impl From<AppContext> for Context {
    fn from(c: AppContext) -> Self {
        Context::App(Box::new(c))
    }
}

impl From<TraceContext> for Context {
    fn from(c: TraceContext) -> Self {
        Context::Trace(Box::new(c))
    }
}

impl From<Map> for Context {
    fn from(map: Map) -> Self {
        Context::Other(map)
    }
}

/// A typed context with its `"type"` key in front.
#[derive(Serialize)]
struct Tagged<'a, T> {
    #[serde(rename = "type")]
    ty: &'static str,
    #[serde(flatten)]
    inner: &'a T,
}

impl Serialize for Context {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Context::Os(c) => Tagged {
                ty: "os",
                inner: &**c,
            }
            .serialize(s),
            Context::Runtime(c) => Tagged {
                ty: "runtime",
                inner: &**c,
            }
            .serialize(s),
            Context::Device(c) => Tagged {
                ty: "device",
                inner: &**c,
            }
            .serialize(s),
            Context::App(c) => Tagged {
                ty: "app",
                inner: &**c,
            }
            .serialize(s),
            Context::Trace(c) => Tagged {
                ty: "trace",
                inner: &**c,
            }
            .serialize(s),
            Context::Other(map) => Ser(map).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Context {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let object = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
        Ok(Context::from_json(None, object))
    }
}

/// `#[serde(with = "contexts")]` for [`Contexts`]: reading uses each entry's name as its type
/// when the entry has no `"type"` key, and skips entries that are not objects.
pub(crate) mod contexts {
    use super::*;

    /// A context under the name of its own type (`"os": {…}`) is written without its `"type"`
    /// key: Relay, like the reader below, takes the name as the type.
    pub(crate) fn serialize<S: Serializer>(v: &Contexts, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(v.len()))?;
        for (name, context) in v {
            if context.type_name() == Some(&**name) {
                map.serialize_entry(name, &Untyped(context))?;
            } else {
                map.serialize_entry(name, context)?;
            }
        }
        map.end()
    }

    /// A typed context's fields without the `"type"` key.
    struct Untyped<'a>(&'a Context);

    impl Serialize for Untyped<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0 {
                Context::Os(c) => c.serialize(s),
                Context::Runtime(c) => c.serialize(s),
                Context::Device(c) => c.serialize(s),
                Context::App(c) => c.serialize(s),
                Context::Trace(c) => c.serialize(s),
                Context::Other(map) => Ser(map).serialize(s),
            }
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Contexts, D::Error> {
        let raw = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)?;
        let mut out = Contexts::new();
        for (name, value) in raw.unwrap_or_default() {
            match value {
                serde_json::Value::Object(object) => {
                    let context = Context::from_json(Some(&name), object);
                    out.insert(Cow::Owned(name), context);
                }
                serde_json::Value::Null => {}
                other => {
                    return Err(de::Error::custom(format_args!(
                        "context {name:?} is not an object: {other}"
                    )))
                }
            }
        }
        Ok(out)
    }
}

/// `#[serde(flatten, with = "other_fields")]`: extra keys of a typed context. A `"type"` key is
/// never written (the context's own type wins).
mod other_fields {
    use super::*;

    pub(super) fn serialize<S: Serializer>(v: &Map, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(
            v.iter()
                .filter(|(k, _)| k.as_str() != "type")
                .map(|(k, v)| (k, Ser(v))),
        )
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        wire::deserialize(d)
    }
}

/// The operating system.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::OsContext;
///
/// let os = OsContext { name: Some("Linux".into()), kernel_version: Some("6.8.0".into()), ..OsContext::default() };
/// assert_eq!(
///     serde_json::to_value(&os).unwrap(),
///     serde_json::json!({"name": "Linux", "kernel_version": "6.8.0"})
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OsContext {
    /// The name, such as `"Linux"`, `"macOS"` or `"Windows"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The version, such as `"22.04"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The build number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// The kernel version, such as `"6.8.0-45-generic"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_version: Option<String>,
    /// The unparsed description (such as `uname -a` output), for Sentry to parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_description: Option<String>,
    /// Any other keys.
    #[serde(flatten, with = "other_fields")]
    pub other: Map,
}

/// The language runtime, such as `rustc 1.85.0`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeContext {
    /// The name, such as `"rustc"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The version, such as `"1.85.0"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The build.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// The unparsed description, for Sentry to parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_description: Option<String>,
    /// Any other keys.
    #[serde(flatten, with = "other_fields")]
    pub other: Map,
}

/// The device or machine.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceContext {
    /// The device name (often the host name; collected only with `send_default_pii`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The family, such as `"Desktop"` or `"iPhone"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<String>,
    /// The model name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// An internal model identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_id: Option<String>,
    /// The CPU architecture, such as `"x86_64"` or `"arm64"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The CPU model description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_description: Option<String>,
    /// The number of logical processors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_count: Option<u64>,
    /// The processor frequency in MHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processor_frequency: Option<u64>,
    /// Total memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_size: Option<u64>,
    /// Free memory in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub free_memory: Option<u64>,
    /// Memory usable by the application in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usable_memory: Option<u64>,
    /// When the system booted (written as an RFC 3339 string).
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub boot_time: Option<SystemTime>,
    /// Any other keys.
    #[serde(flatten, with = "other_fields")]
    pub other: Map,
}

/// The application.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppContext {
    /// When the application started (written as an RFC 3339 string).
    #[serde(
        default,
        with = "crate::time::rfc3339_opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub app_start_time: Option<SystemTime>,
    /// A hash identifying the device and application.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_app_hash: Option<String>,
    /// The build type, such as `"debug"` or `"release"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build_type: Option<String>,
    /// The application identifier (bundle id, package name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_identifier: Option<String>,
    /// The human-readable application name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_name: Option<String>,
    /// The human-readable version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    /// The internal build identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_build: Option<String>,
    /// Memory used by the application in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_memory: Option<u64>,
    /// Any other keys.
    #[serde(flatten, with = "other_fields")]
    pub other: Map,
}

/// The trace an event or transaction belongs to (`contexts.trace`).
///
/// `trace_id` and `span_id` are required on the wire; the `Default` (all-zero ids) is only a
/// starting point for struct-update syntax.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{SpanStatus, TraceContext};
///
/// let trace = TraceContext {
///     trace_id: "771a43a4192642f0b136d5159a501700".parse().unwrap(),
///     span_id: "b0e6f15b45c36b12".parse().unwrap(),
///     op: Some("http.server".into()),
///     status: Some(SpanStatus::Ok),
///     ..TraceContext::default()
/// };
/// let json = serde_json::to_value(&trace).unwrap();
/// assert_eq!(json["trace_id"], "771a43a4192642f0b136d5159a501700");
/// assert_eq!(json["status"], "ok");
/// assert!(json.get("parent_span_id").is_none());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TraceContext {
    /// The trace id.
    #[serde(with = "wire")]
    pub trace_id: TraceId,
    /// The id of the span (for a transaction, its root span).
    #[serde(with = "wire")]
    pub span_id: SpanId,
    /// The id of the parent span, for a trace continued from elsewhere.
    #[serde(default, with = "wire", skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    /// The operation, such as `"http.server"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
    /// The status.
    #[serde(default, with = "wire", skip_serializing_if = "Option::is_none")]
    pub status: Option<SpanStatus>,
    /// What created the span, such as `"manual"` or `"auto.http.ureq"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// Arbitrary data about the span.
    #[serde(default, with = "wire", skip_serializing_if = "Map::is_empty")]
    pub data: Map,
    /// Any other keys.
    #[serde(flatten, with = "other_fields")]
    pub other: Map,
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry_minimal::Value;
    use serde_json::json;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Holder {
        #[serde(with = "contexts", default)]
        contexts: Contexts,
    }

    fn full() -> Contexts {
        let mut contexts = Contexts::new();
        let mut os = OsContext {
            name: Some("Linux".into()),
            version: Some("22.04".into()),
            build: Some("b".into()),
            kernel_version: Some("6.8".into()),
            raw_description: Some("Linux 6.8".into()),
            other: Map::new(),
        };
        os.other.insert("rooted".into(), false.into());
        contexts.insert("os".into(), os.into());
        contexts.insert(
            "runtime".into(),
            RuntimeContext {
                name: Some("rustc".into()),
                version: Some("1.85.0".into()),
                ..RuntimeContext::default()
            }
            .into(),
        );
        contexts.insert(
            "device".into(),
            DeviceContext {
                arch: Some("x86_64".into()),
                family: Some("Desktop".into()),
                processor_count: Some(8),
                memory_size: Some(u64::MAX),
                boot_time: Some(SystemTime::UNIX_EPOCH),
                ..DeviceContext::default()
            }
            .into(),
        );
        contexts.insert(
            "app".into(),
            AppContext {
                app_name: Some("demo".into()),
                app_start_time: Some(SystemTime::UNIX_EPOCH),
                build_type: Some("debug".into()),
                ..AppContext::default()
            }
            .into(),
        );
        let mut trace = TraceContext {
            trace_id: TraceId::from_bytes([1; 16]),
            span_id: SpanId::from_bytes([2; 8]),
            parent_span_id: Some(SpanId::from_bytes([3; 8])),
            op: Some("task".into()),
            status: Some(SpanStatus::Ok),
            origin: Some("manual".into()),
            ..TraceContext::default()
        };
        trace.data.insert("thread.name".into(), "main".into());
        contexts.insert("trace".into(), trace.into());
        let mut order = Map::new();
        order.insert("id".into(), 7.into());
        order.insert("type".into(), "custom".into());
        contexts.insert("order".into(), Context::Other(order));
        contexts
    }

    /// Under their own type's name, typed contexts are written without the `type` key (Relay
    /// takes the name); under another name, with it.
    #[test]
    fn serializes_with_type_keys() {
        let mut contexts = full();
        let os = contexts["os"].clone();
        contexts.insert("host_os".into(), os);
        let json = serde_json::to_value(Holder { contexts }).unwrap();
        let c = &json["contexts"];
        assert_eq!(
            c["os"],
            json!({"name": "Linux", "version": "22.04", "build": "b",
                   "kernel_version": "6.8", "raw_description": "Linux 6.8", "rooted": false})
        );
        assert_eq!(c["host_os"]["type"], "os");
        assert_eq!(c["runtime"], json!({"name": "rustc", "version": "1.85.0"}));
        assert!(c["device"].get("type").is_none());
        assert_eq!(c["device"]["memory_size"], json!(u64::MAX));
        assert_eq!(c["device"]["boot_time"], "1970-01-01T00:00:00.000000Z");
        assert_eq!(c["app"]["app_start_time"], "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            c["trace"],
            json!({"trace_id": "01010101010101010101010101010101",
                   "span_id": "0202020202020202", "parent_span_id": "0303030303030303",
                   "op": "task", "status": "ok", "origin": "manual",
                   "data": {"thread.name": "main"}})
        );
        assert_eq!(c["order"], json!({"id": 7, "type": "custom"}));
    }

    #[test]
    fn round_trips() {
        let holder = Holder { contexts: full() };
        let text = serde_json::to_string(&holder).unwrap();
        let back: Holder = serde_json::from_str(&text).unwrap();
        assert_eq!(back, holder);
    }

    #[test]
    fn reading_infers_type_from_name_and_keeps_misfits() {
        let holder: Holder = serde_json::from_value(json!({"contexts": {
            "os": {"name": "Windows"},
            "browser": {"name": "Firefox"},
            "trace": {"type": "trace", "trace_id": "nope", "span_id": "x"},
            "gone": null,
        }}))
        .unwrap();
        let c = &holder.contexts;
        assert!(matches!(&c["os"], Context::Os(os) if os.name.as_deref() == Some("Windows")));
        assert!(matches!(&c["browser"], Context::Other(m) if m["name"] == Value::from("Firefox")));
        // A bad trace context is kept as data instead of failing the event.
        assert!(matches!(&c["trace"], Context::Other(m) if m["type"] == Value::from("trace")));
        assert!(!c.contains_key("gone"));
        assert!(serde_json::from_value::<Holder>(json!({"contexts": {"os": 1}})).is_err());
    }

    #[test]
    fn other_never_writes_a_second_type_key() {
        let mut os = OsContext::default();
        os.other.insert("type".into(), "device".into());
        let text = serde_json::to_string(&Context::from(os)).unwrap();
        assert_eq!(text, r#"{"type":"os"}"#);
    }
}
