//! Application metrics: the [`Metric`] record (a counter increment, a gauge reading or one
//! value of a distribution), its [`MetricType`] and [`MetricValue`].
//!
//! On the wire a batch of metrics is one envelope item of type `trace_metric` whose payload is
//! `{"items":[…]}`, with the item headers `item_count` and `content_type`
//! ([`TRACE_METRIC_CONTENT_TYPE`]); each record is:
//!
//! ```json
//! {"timestamp":1714564800.25,"trace_id":"…32 hex…","span_id":"…16 hex…",
//!  "name":"http.request.duration","type":"distribution","value":245.3,"unit":"millisecond",
//!  "attributes":{"route":{"value":"/users","type":"string"}}}
//! ```
//!
//! Attributes are typed exactly as those of structured logs ([`LogAttributes`]).

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use sentry_minimal::{SpanId, TraceId, Value};

use super::log_attributes::LogAttributes;
use super::{wire, Ser};

/// The `content_type` header of a `trace_metric` envelope item.
///
/// The envelope-item catalogue once spelled it with an underscore (`trace_metric+json`); the
/// metrics specification, its example envelope and the SDKs that ship metrics use the hyphen.
pub const TRACE_METRIC_CONTENT_TYPE: &str = "application/vnd.sentry.items.trace-metric+json";

/// What a [`Metric`]'s value means.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::MetricType;
///
/// assert_eq!(MetricType::Counter.as_str(), "counter");
/// assert_eq!("gauge".parse::<MetricType>(), Ok(MetricType::Gauge));
/// assert!("set".parse::<MetricType>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricType {
    /// How many times something happened: the value is the increment (usually 1).
    Counter,
    /// A value that goes up and down (queue depth, memory in use): the value is the reading.
    Gauge,
    /// One measured value of a distribution (a latency, a size): Sentry computes percentiles,
    /// averages and the like over them.
    Distribution,
}

impl MetricType {
    /// Every type.
    pub const ALL: [MetricType; 3] = [
        MetricType::Counter,
        MetricType::Gauge,
        MetricType::Distribution,
    ];

    /// The wire name: `counter`, `gauge` or `distribution`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Distribution => "distribution",
        }
    }
}

impl fmt::Display for MetricType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`MetricType`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseMetricTypeError(());

impl fmt::Display for ParseMetricTypeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected one of: counter, gauge, distribution")
    }
}

impl std::error::Error for ParseMetricTypeError {}

impl FromStr for MetricType {
    type Err = ParseMetricTypeError;

    /// Parses the exact wire name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MetricType::ALL
            .into_iter()
            .find(|ty| ty.as_str() == s)
            .ok_or(ParseMetricTypeError(()))
    }
}

impl Serialize for MetricType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MetricType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        name.parse()
            .map_err(|e| de::Error::custom(format_args!("invalid metric type {name:?}: {e}")))
    }
}

/// The number a [`Metric`] carries: a signed 64-bit integer or a 64-bit float, written as a
/// JSON integer or float.
///
/// Signed integers up to 64 bits and unsigned ones up to 32 bits convert to [`I64`](Self::I64);
/// `u64` and `usize` too when they fit, and to [`F64`](Self::F64) above `i64::MAX`. Floats
/// convert to [`F64`](Self::F64). A metric whose value is NaN or infinite is not sent (JSON has
/// no such numbers): the client drops it and counts it as `invalid`.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::MetricValue;
///
/// assert_eq!(MetricValue::from(3u8), MetricValue::I64(3));
/// assert_eq!(MetricValue::from(u64::MAX), MetricValue::F64(u64::MAX as f64));
/// assert_eq!(MetricValue::from(0.5), MetricValue::F64(0.5));
/// assert_eq!(MetricValue::I64(7).as_f64(), 7.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MetricValue {
    /// An integer.
    I64(i64),
    /// A float.
    F64(f64),
}

impl MetricValue {
    /// The value as a float.
    pub fn as_f64(self) -> f64 {
        match self {
            MetricValue::I64(n) => n as f64,
            MetricValue::F64(n) => n,
        }
    }

    /// `false` for NaN and the infinities, which cannot be sent.
    pub fn is_finite(self) -> bool {
        match self {
            MetricValue::I64(_) => true,
            MetricValue::F64(n) => n.is_finite(),
        }
    }
}

impl fmt::Display for MetricValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricValue::I64(n) => write!(f, "{n}"),
            MetricValue::F64(n) => write!(f, "{n}"),
        }
    }
}

macro_rules! metric_value_from {
    ($($variant:ident($target:ty): $($t:ty),*;)*) => {$($(
        impl From<$t> for MetricValue {
            fn from(v: $t) -> Self {
                MetricValue::$variant(<$target>::from(v))
            }
        }
    )*)*};
}
metric_value_from! {
    I64(i64): i8, i16, i32, i64, u8, u16, u32;
    F64(f64): f32, f64;
}

impl From<isize> for MetricValue {
    fn from(v: isize) -> Self {
        // isize is at most 64 bits on every supported target.
        MetricValue::I64(v as i64)
    }
}

impl From<u64> for MetricValue {
    fn from(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(n) => MetricValue::I64(n),
            Err(_) => MetricValue::F64(v as f64),
        }
    }
}

impl From<usize> for MetricValue {
    fn from(v: usize) -> Self {
        MetricValue::from(v as u64)
    }
}

impl Serialize for MetricValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            MetricValue::I64(n) => s.serialize_i64(n),
            MetricValue::F64(n) => s.serialize_f64(n),
        }
    }
}

/// One metric record: a counter increment, a gauge reading or a distribution value, with a
/// name, an optional unit and typed attributes.
///
/// The [`metrics`](crate::metrics) functions build and capture records for you; build one
/// yourself to set the timestamp, the trace or the span. The SDK fills in what is missing when
/// it captures the record: the trace id (from the current span, or the scope's trace when no
/// span is current) and the default attributes (environment, release, SDK; with
/// `send_default_pii`, the server address and the scope's user).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Metric, MetricType};
///
/// let mut metric = Metric::new(MetricType::Distribution, "db.query", 12.5);
/// metric.unit = Some("millisecond".into());
/// metric.attributes.insert("table", "users");
/// let json = serde_json::to_value(&metric).unwrap();
/// assert_eq!(json["type"], "distribution");
/// assert_eq!(json["value"], 12.5);
/// assert_eq!(json["unit"], "millisecond");
/// assert_eq!(json["attributes"]["table"]["type"], "string");
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Metric {
    /// When it was recorded (written as float seconds since the epoch).
    pub timestamp: SystemTime,
    /// The trace it belongs to. Nil means "the current trace": the SDK sets it at capture.
    pub trace_id: TraceId,
    /// The span that was current when it was recorded, if any.
    pub span_id: Option<SpanId>,
    /// The name, dot-separated by convention (`http.request.duration`).
    pub name: Cow<'static, str>,
    /// What the value means.
    pub ty: MetricType,
    /// The value.
    pub value: MetricValue,
    /// The unit (`millisecond`, `byte`, …; see [`metrics::unit`](crate::metrics::unit)), any
    /// string Sentry accepts.
    pub unit: Option<Cow<'static, str>>,
    /// Typed attributes.
    pub attributes: LogAttributes,
}

impl Metric {
    /// A record of this type, name and value, stamped now, without unit or attributes.
    pub fn new(
        ty: MetricType,
        name: impl Into<Cow<'static, str>>,
        value: impl Into<MetricValue>,
    ) -> Self {
        Metric {
            timestamp: SystemTime::now(),
            trace_id: TraceId::nil(),
            span_id: None,
            name: name.into(),
            ty,
            value: value.into(),
            unit: None,
            attributes: LogAttributes::new(),
        }
    }

    /// About how many bytes this record takes on the wire.
    pub fn estimated_size(&self) -> usize {
        // {"timestamp":1714564800.123456,"trace_id":"<32>","name":"","type":"distribution",
        //  "value":-1234567.891234}
        const FIXED: usize = 120;
        FIXED
            + self.name.len()
            + if self.span_id.is_some() { 28 } else { 0 }
            + self.unit.as_ref().map_or(0, |unit| unit.len() + 10)
            + if self.attributes.is_empty() {
                0
            } else {
                self.attributes.estimated_size()
            }
    }
}

impl Serialize for Metric {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("timestamp", &crate::time::timestamp_f64(self.timestamp))?;
        map.serialize_entry("trace_id", &Ser(&self.trace_id))?;
        if let Some(span_id) = &self.span_id {
            map.serialize_entry("span_id", &Ser(span_id))?;
        }
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("type", &self.ty)?;
        map.serialize_entry("value", &self.value)?;
        if let Some(unit) = &self.unit {
            map.serialize_entry("unit", unit)?;
        }
        if !self.attributes.is_empty() {
            map.serialize_entry("attributes", &self.attributes)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Metric {
    /// Reads a record strictly: unknown fields, a value that is not a number and malformed
    /// attributes are errors.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct MetricIn {
            #[serde(with = "crate::time::seconds")]
            timestamp: SystemTime,
            #[serde(with = "wire")]
            trace_id: TraceId,
            #[serde(default, with = "wire")]
            span_id: Option<SpanId>,
            name: String,
            #[serde(rename = "type")]
            ty: MetricType,
            #[serde(with = "wire")]
            value: Value,
            #[serde(default)]
            unit: Option<String>,
            #[serde(default)]
            attributes: LogAttributes,
        }
        let metric = MetricIn::deserialize(d)?;
        let value = match metric.value {
            Value::I64(n) => MetricValue::I64(n),
            Value::U64(n) => MetricValue::from(n),
            Value::F64(n) => MetricValue::F64(n),
            other => {
                return Err(de::Error::custom(format_args!(
                    "metric value {other} is not a number"
                )))
            }
        };
        Ok(Metric {
            timestamp: metric.timestamp,
            trace_id: metric.trace_id,
            span_id: metric.span_id,
            name: Cow::Owned(metric.name),
            ty: metric.ty,
            value,
            unit: metric.unit.map(Cow::Owned),
            attributes: metric.attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use serde_json::json;

    use super::*;

    #[test]
    fn types_by_name() {
        for (ty, name) in MetricType::ALL
            .into_iter()
            .zip(["counter", "gauge", "distribution"])
        {
            assert_eq!(ty.as_str(), name);
            assert_eq!(ty.to_string(), name);
            assert_eq!(name.parse::<MetricType>(), Ok(ty));
            assert_eq!(serde_json::to_value(ty).unwrap(), json!(name));
        }
        assert!("Counter".parse::<MetricType>().is_err());
        assert!(!ParseMetricTypeError(()).to_string().is_empty());
    }

    #[test]
    fn values_keep_integers_integral() {
        assert_eq!(serde_json::to_string(&MetricValue::from(1)).unwrap(), "1");
        assert_eq!(
            serde_json::to_string(&MetricValue::from(-3i64)).unwrap(),
            "-3"
        );
        assert_eq!(
            serde_json::to_string(&MetricValue::from(2.5)).unwrap(),
            "2.5"
        );
        assert_eq!(MetricValue::from(7usize), MetricValue::I64(7));
        assert_eq!(MetricValue::from(-7isize), MetricValue::I64(-7));
        assert!(!MetricValue::F64(f64::NAN).is_finite());
        assert!(MetricValue::I64(i64::MIN).is_finite());
        assert_eq!(MetricValue::F64(1.5).to_string(), "1.5");
    }

    #[test]
    fn metric_round_trips_field_by_field() {
        let mut metric = Metric::new(MetricType::Gauge, "queue.depth", 42);
        metric.timestamp = UNIX_EPOCH + Duration::from_micros(1_714_564_800_250_000);
        metric.trace_id = TraceId::from_bytes([0xab; 16]);
        metric.span_id = Some(SpanId::from_bytes([0xcd; 8]));
        metric.unit = Some("item".into());
        metric.attributes.insert("queue", "emails");
        metric.attributes.insert("shard", 3);
        let json = serde_json::to_value(&metric).unwrap();
        assert_eq!(
            json,
            json!({
                "timestamp": 1_714_564_800.25,
                "trace_id": "abababababababababababababababab",
                "span_id": "cdcdcdcdcdcdcdcd",
                "name": "queue.depth",
                "type": "gauge",
                "value": 42,
                "unit": "item",
                "attributes": {
                    "queue": {"value": "emails", "type": "string"},
                    "shard": {"value": 3, "type": "integer"},
                },
            })
        );
        assert_eq!(serde_json::from_value::<Metric>(json).unwrap(), metric);
        let size = serde_json::to_vec(&metric).unwrap().len();
        let estimate = metric.estimated_size();
        assert!(
            estimate >= size / 2 && estimate <= size * 2,
            "{estimate} vs {size}"
        );
    }

    #[test]
    fn optional_fields_are_left_out() {
        let metric = Metric::new(MetricType::Counter, "orders", 1);
        let json = serde_json::to_value(&metric).unwrap();
        for absent in ["span_id", "unit", "attributes"] {
            assert!(json.get(absent).is_none(), "{absent}");
        }
        assert_eq!(json["value"], 1);
    }

    #[test]
    fn strict_metric_reading() {
        let good = json!({"timestamp": 1.0, "trace_id": "abababababababababababababababab",
                          "name": "x", "type": "counter", "value": 1});
        assert!(serde_json::from_value::<Metric>(good.clone()).is_ok());
        let mut unknown = good.clone();
        unknown["tags"] = json!({});
        let mut bad_type = good.clone();
        bad_type["type"] = json!("set");
        let mut not_a_number = good.clone();
        not_a_number["value"] = json!("1");
        let mut missing = good;
        missing.as_object_mut().unwrap().remove("value");
        for bad in [unknown, bad_type, not_a_number, missing] {
            assert!(
                serde_json::from_value::<Metric>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }
}
