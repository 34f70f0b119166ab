//! Structured logs: the [`Log`] record, its [`LogLevel`] and its typed [`LogAttributes`].
//!
//! On the wire a batch of logs is one envelope item of type `log` whose payload is
//! `{"items":[…]}`; each record is:
//!
//! ```json
//! {"timestamp":1714564800.25,"trace_id":"…32 hex…","level":"info","severity_number":9,
//!  "body":"User 42 logged in",
//!  "attributes":{"plan":{"value":"pro","type":"string"},"attempt":{"value":3,"type":"integer"}}}
//! ```

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use sentry_minimal::{SpanId, TraceId};

use super::log_attributes::LogAttributes;
use super::{wire, Ser};

/// The `content_type` header of a `log` envelope item.
pub const LOG_CONTENT_TYPE: &str = "application/vnd.sentry.items.log+json";

/// The severity of a [`Log`].
///
/// Each level has the OpenTelemetry severity number at the start of its range, which is what
/// Sentry stores: trace 1, debug 5, info 9, warn 13, error 17, fatal 21.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::LogLevel;
///
/// assert_eq!(LogLevel::Warn.as_str(), "warn");
/// assert_eq!(LogLevel::Warn.severity_number(), 13);
/// assert_eq!("warning".parse::<LogLevel>(), Ok(LogLevel::Warn));
/// assert!(LogLevel::Debug < LogLevel::Error);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Very fine-grained diagnostics.
    Trace,
    /// Diagnostics for developers.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that the program handled.
    Warn,
    /// An operation failed.
    Error,
    /// The program cannot go on.
    Fatal,
}

impl LogLevel {
    /// Every level, from the least to the most severe.
    pub const ALL: [LogLevel; 6] = [
        LogLevel::Trace,
        LogLevel::Debug,
        LogLevel::Info,
        LogLevel::Warn,
        LogLevel::Error,
        LogLevel::Fatal,
    ];

    /// The wire name: `trace`, `debug`, `info`, `warn`, `error` or `fatal`.
    pub const fn as_str(self) -> &'static str {
        match self {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
            LogLevel::Fatal => "fatal",
        }
    }

    /// The severity number: the lowest number of the level's OpenTelemetry range.
    pub const fn severity_number(self) -> u8 {
        match self {
            LogLevel::Trace => 1,
            LogLevel::Debug => 5,
            LogLevel::Info => 9,
            LogLevel::Warn => 13,
            LogLevel::Error => 17,
            LogLevel::Fatal => 21,
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`LogLevel`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLogLevelError(());

impl fmt::Display for ParseLogLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected one of: trace, debug, info, warn, warning, error, fatal")
    }
}

impl std::error::Error for ParseLogLevelError {}

impl FromStr for LogLevel {
    type Err = ParseLogLevelError;

    /// Parses a level name, ignoring ASCII case; `warning` is accepted for `warn`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        LogLevel::ALL
            .into_iter()
            .find(|level| s.eq_ignore_ascii_case(level.as_str()))
            .or_else(|| s.eq_ignore_ascii_case("warning").then_some(LogLevel::Warn))
            .ok_or(ParseLogLevelError(()))
    }
}

impl Serialize for LogLevel {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LogLevel {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        name.parse()
            .map_err(|e| de::Error::custom(format_args!("invalid log level {name:?}: {e}")))
    }
}

/// One structured log record.
///
/// Build one with [`Log::new`] and hand it to [`capture_log`](crate::capture_log), or use the
/// [`logger`](crate::logger) functions and macros, which build it for you. The SDK fills in what
/// is missing when it captures the record: the trace id (from the scope's propagation context
/// when it is nil) and the default attributes (environment, release, SDK; with
/// `send_default_pii`, the server address and the scope's user).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Log, LogLevel};
///
/// let mut log = Log::new(LogLevel::Info, "cache warmed");
/// log.attributes.insert("entries", 1200);
/// let json = serde_json::to_value(&log).unwrap();
/// assert_eq!(json["level"], "info");
/// assert_eq!(json["severity_number"], 9);
/// assert_eq!(json["attributes"]["entries"]["type"], "integer");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Log {
    /// When it happened (written as float seconds since the epoch).
    pub timestamp: SystemTime,
    /// The trace it belongs to. Nil means "the current trace": the SDK sets it at capture.
    pub trace_id: TraceId,
    /// The active span, if any.
    pub span_id: Option<SpanId>,
    /// The severity; `severity_number` is derived from it.
    pub level: LogLevel,
    /// The message.
    pub body: String,
    /// Typed attributes.
    pub attributes: LogAttributes,
}

impl Log {
    /// A record with this level and body, stamped now, with no attributes.
    pub fn new(level: LogLevel, body: impl Into<String>) -> Self {
        Log {
            timestamp: SystemTime::now(),
            trace_id: TraceId::nil(),
            span_id: None,
            level,
            body: body.into(),
            attributes: LogAttributes::new(),
        }
    }

    /// About how many bytes this record takes on the wire: what client reports count as
    /// `log_byte` when it is dropped.
    pub fn estimated_size(&self) -> usize {
        // {"timestamp":1714564800.123456,"trace_id":"<32>","level":"error",
        //  "severity_number":17,"body":""}
        const FIXED: usize = 110;
        FIXED
            + self.body.len()
            + if self.span_id.is_some() { 28 } else { 0 }
            + if self.attributes.is_empty() {
                0
            } else {
                self.attributes.estimated_size()
            }
    }
}

impl Serialize for Log {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("timestamp", &crate::time::timestamp_f64(self.timestamp))?;
        map.serialize_entry("trace_id", &Ser(&self.trace_id))?;
        if let Some(span_id) = &self.span_id {
            map.serialize_entry("span_id", &Ser(span_id))?;
        }
        map.serialize_entry("level", &self.level)?;
        map.serialize_entry("severity_number", &self.level.severity_number())?;
        map.serialize_entry("body", &self.body)?;
        if !self.attributes.is_empty() {
            map.serialize_entry("attributes", &self.attributes)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Log {
    /// Reads a record strictly: unknown fields, a `severity_number` that does not match the
    /// level, and malformed attributes are errors.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct LogIn {
            #[serde(with = "crate::time::seconds")]
            timestamp: SystemTime,
            #[serde(with = "wire")]
            trace_id: TraceId,
            #[serde(default, with = "wire")]
            span_id: Option<SpanId>,
            level: LogLevel,
            #[serde(default)]
            severity_number: Option<u8>,
            body: String,
            #[serde(default)]
            attributes: LogAttributes,
        }
        let log = LogIn::deserialize(d)?;
        if let Some(n) = log.severity_number {
            if n != log.level.severity_number() {
                return Err(de::Error::custom(format_args!(
                    "severity_number {n} does not match level {}",
                    log.level
                )));
            }
        }
        Ok(Log {
            timestamp: log.timestamp,
            trace_id: log.trace_id,
            span_id: log.span_id,
            level: log.level,
            body: log.body,
            attributes: log.attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::super::log_attributes::LogValue;
    use super::*;
    use sentry_minimal::Value;

    /// A deeply nested value becomes its JSON text without exhausting the stack.
    #[test]
    fn deep_values_become_their_json_text() {
        let text = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut value = Value::from("leaf");
                for _ in 0..100_000 {
                    value = Value::Array(vec![value]);
                }
                match LogValue::from_value(value) {
                    LogValue::String(text) => text.into_owned(),
                    other => panic!("not a string: {other:?}"),
                }
            })
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(text.len(), 200_006);
        assert_eq!(
            text,
            format!("{}\"leaf\"{}", "[".repeat(100_000), "]".repeat(100_000))
        );
    }

    #[test]
    fn levels_and_severity_numbers() {
        let expected = [
            ("trace", 1),
            ("debug", 5),
            ("info", 9),
            ("warn", 13),
            ("error", 17),
            ("fatal", 21),
        ];
        for (level, (name, number)) in LogLevel::ALL.into_iter().zip(expected) {
            assert_eq!(level.as_str(), name);
            assert_eq!(level.severity_number(), number);
            assert_eq!(name.parse::<LogLevel>(), Ok(level));
            assert_eq!(name.to_uppercase().parse::<LogLevel>(), Ok(level));
            assert_eq!(serde_json::to_value(level).unwrap(), json!(name));
        }
        assert!("verbose".parse::<LogLevel>().is_err());
        assert!(!ParseLogLevelError(()).to_string().is_empty());
    }

    #[test]
    fn values_are_typed() {
        let cases = [
            (LogValue::from("s"), json!({"value": "s", "type": "string"})),
            (
                LogValue::from(true),
                json!({"value": true, "type": "boolean"}),
            ),
            (
                LogValue::from(-5i32),
                json!({"value": -5, "type": "integer"}),
            ),
            (LogValue::from(7u32), json!({"value": 7, "type": "integer"})),
            (
                LogValue::from(i64::MIN),
                json!({"value": i64::MIN, "type": "integer"}),
            ),
            (
                LogValue::from(7u64),
                json!({"value": "7", "type": "string"}),
            ),
            (
                LogValue::from(7usize),
                json!({"value": "7", "type": "string"}),
            ),
            (
                LogValue::from(1.5f64),
                json!({"value": 1.5, "type": "double"}),
            ),
            (
                LogValue::from(f64::NAN),
                json!({"value": "NaN", "type": "string"}),
            ),
            (
                LogValue::from(f64::NEG_INFINITY),
                json!({"value": "-inf", "type": "string"}),
            ),
            (LogValue::from('x'), json!({"value": "x", "type": "string"})),
        ];
        for (value, expected) in cases {
            let json = serde_json::to_value(&value).unwrap();
            assert_eq!(json, expected, "{value:?}");
            if !matches!(value, LogValue::F64(n) if !n.is_finite()) {
                assert_eq!(serde_json::from_value::<LogValue>(json).unwrap(), value);
            }
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        for bad in [
            json!({"value": 1, "type": "string"}),
            json!({"value": "1", "type": "integer"}),
            json!({"value": 1.5, "type": "integer"}),
            json!({"value": [1], "type": "array"}),
            json!({"value": 1}),
            json!({"value": 1, "type": "integer", "extra": 1}),
        ] {
            assert!(
                serde_json::from_value::<LogValue>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let error = |bad: serde_json::Value| {
            serde_json::from_value::<LogValue>(bad)
                .err()
                .map(|e| e.to_string())
        };
        assert_eq!(
            error(json!({"value": 1.0, "type": "integer"})).as_deref(),
            Some(r#"attribute value 1.0 is not of type "integer""#)
        );
        assert_eq!(
            error(json!({"value": [1, "a"], "type": "string"})).as_deref(),
            Some(r#"attribute value [1,"a"] is not of type "string""#)
        );
        assert_eq!(
            serde_json::from_value::<LogValue>(json!({"value": 2, "type": "double"})).unwrap(),
            LogValue::F64(2.0)
        );
        let unit = json!({"value": 1, "type": "integer", "unit": "millisecond"});
        assert_eq!(
            serde_json::from_value::<LogValue>(unit).unwrap(),
            LogValue::I64(1)
        );
    }

    #[test]
    fn log_round_trips_field_by_field() {
        let mut log = Log::new(LogLevel::Error, "disk \"full\"\n");
        log.timestamp = UNIX_EPOCH + Duration::from_micros(1_714_564_800_250_000);
        log.trace_id = TraceId::from_bytes([0xab; 16]);
        log.span_id = Some(SpanId::from_bytes([0xcd; 8]));
        log.attributes.insert("free", 0);
        log.attributes.insert("path", "/var");
        let json = serde_json::to_value(&log).unwrap();
        assert_eq!(
            json,
            json!({
                "timestamp": 1_714_564_800.25,
                "trace_id": "abababababababababababababababab",
                "span_id": "cdcdcdcdcdcdcdcd",
                "level": "error",
                "severity_number": 17,
                "body": "disk \"full\"\n",
                "attributes": {
                    "free": {"value": 0, "type": "integer"},
                    "path": {"value": "/var", "type": "string"},
                },
            })
        );
        assert_eq!(serde_json::from_value::<Log>(json).unwrap(), log);
        let size = serde_json::to_vec(&log).unwrap().len();
        let estimate = log.estimated_size();
        assert!(
            estimate >= size / 2 && estimate <= size * 2,
            "{estimate} vs {size}"
        );
    }

    #[test]
    fn log_without_span_or_attributes() {
        let log = Log::new(LogLevel::Info, "hi");
        let json = serde_json::to_value(&log).unwrap();
        assert!(json.get("span_id").is_none());
        assert!(json.get("attributes").is_none());
    }

    #[test]
    fn strict_log_reading() {
        let good = json!({"timestamp": 1.0, "trace_id": "abababababababababababababababab",
                          "level": "info", "body": "x"});
        assert!(serde_json::from_value::<Log>(good.clone()).is_ok());
        let mut mismatch = good.clone();
        mismatch["severity_number"] = json!(13);
        let mut unknown = good.clone();
        unknown["message"] = json!("x");
        let mut bad_level = good;
        bad_level["level"] = json!("verbose");
        for bad in [mismatch, unknown, bad_level] {
            assert!(serde_json::from_value::<Log>(bad.clone()).is_err(), "{bad}");
        }
        let dup = r#"{"a":{"value":1,"type":"integer"},"a":{"value":2,"type":"integer"}}"#;
        assert!(serde_json::from_str::<LogAttributes>(dup).is_err());
    }

    #[test]
    fn attributes_keep_order_and_replace() {
        let mut attributes: LogAttributes = [("b", 1), ("a", 2)].into_iter().collect();
        attributes.insert_if_absent("b", || LogValue::I64(9));
        attributes.insert_if_absent("c", || LogValue::I64(3));
        assert_eq!(attributes.insert("a", 5), Some(LogValue::I64(2)));
        let keys: Vec<_> = attributes.iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(attributes.remove("b"), Some(LogValue::I64(1)));
        assert!(!attributes.contains_key("b"));
        assert_eq!(
            LogValue::from_value(Value::U64(u64::MAX)),
            LogValue::String("18446744073709551615".into())
        );
        assert_eq!(
            LogValue::from_value(Value::Null),
            LogValue::String("null".into())
        );
    }
}
