//! A span as sent on its own (span streaming): the span v2 item.
//!
//! Spans are sent in `span` envelope items of up to 1,000 spans each, with the headers
//! `item_count` and `content_type: application/vnd.sentry.items.span.v2+json` and the payload
//! `{"version":2,"items":[…]}`. Attributes are typed as log attributes are
//! (`{"type":"string","value":"…"}`), with one more type: `array`, for a list of scalars of one
//! type. An attribute set as a map `{"value": <scalar>, "unit": "<unit>"}` is sent as that
//! value with its unit (measurements of a streamed segment are).

use std::time::SystemTime;

use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::Serialize;

use sentry_minimal::{Map, SpanId, TraceId, Value};

use super::log_attributes::LogValue;
use super::Ser;

/// The `content_type` header of a `span` item holding span v2 payloads.
pub const SPAN_V2_CONTENT_TYPE: &str = "application/vnd.sentry.items.span.v2+json";

/// The status of a streamed span: the span protocol knows only these two.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SpanV2Status {
    /// Ended normally (also the status of a span whose status was never set).
    #[default]
    Ok,
    /// Ended with an error.
    Error,
}

impl SpanV2Status {
    /// `"ok"` or `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanV2Status::Ok => "ok",
            SpanV2Status::Error => "error",
        }
    }

    /// The streamed status of a transaction-model status: `ok` for [`SpanStatus::Ok`]
    /// (and no status), `error` for every other.
    ///
    /// [`SpanStatus::Ok`]: super::SpanStatus::Ok
    ///
    /// ```
    /// use sentry_core::protocol::{SpanStatus, SpanV2Status};
    ///
    /// assert_eq!(SpanV2Status::from_status(None), SpanV2Status::Ok);
    /// assert_eq!(SpanV2Status::from_status(Some(SpanStatus::NotFound)), SpanV2Status::Error);
    /// ```
    pub fn from_status(status: Option<super::SpanStatus>) -> SpanV2Status {
        match status {
            None | Some(super::SpanStatus::Ok) => SpanV2Status::Ok,
            Some(_) => SpanV2Status::Error,
        }
    }
}

/// A link from a span to another span, of this trace or another
/// (`sentry.link.type`: `previous_trace`, `next_trace`, `child_of`, `follows_from`).
#[derive(Clone, Debug, PartialEq)]
pub struct SpanLink {
    /// The trace of the linked span.
    pub trace_id: TraceId,
    /// The linked span.
    pub span_id: SpanId,
    /// Whether the linked span was sampled, if known.
    pub sampled: Option<bool>,
    /// The link's attributes, such as `sentry.link.type`.
    pub attributes: Map,
}

impl SpanLink {
    /// A link to `span_id` of `trace_id` with no attributes.
    pub fn new(trace_id: TraceId, span_id: SpanId) -> SpanLink {
        SpanLink {
            trace_id,
            span_id,
            sampled: None,
            attributes: Map::new(),
        }
    }
}

/// A finished span as streamed, one entry of a span v2 item's `items`.
///
/// `before_send_span` gets it; it may change every field (the ids too, at its own risk).
/// Attributes whose value is `null` are not written.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sentry_core::protocol::{SpanV2, SpanV2Status};
///
/// let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// let mut span = SpanV2::new(
///     "771a43a4192642f0b136d5159a501700".parse().unwrap(),
///     "b0e6f15b45c36b12".parse().unwrap(),
///     "GET /users",
///     start,
///     start + Duration::from_millis(250),
/// );
/// span.is_segment = true;
/// span.attributes.insert("http.response.status_code".into(), 200.into());
/// span.attributes.insert("tags".into(), vec!["a", "b"].into());
/// let json = serde_json::to_value(&span).unwrap();
/// assert_eq!(json["status"], "ok");
/// assert_eq!(json["end_timestamp"], 1_700_000_000.25);
/// assert_eq!(
///     json["attributes"]["http.response.status_code"],
///     serde_json::json!({"type": "integer", "value": 200})
/// );
/// assert_eq!(
///     json["attributes"]["tags"],
///     serde_json::json!({"type": "array", "value": ["a", "b"]})
/// );
/// assert!(json.get("parent_span_id").is_none());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SpanV2 {
    /// The trace.
    pub trace_id: TraceId,
    /// The span's id.
    pub span_id: SpanId,
    /// The parent span, if any (a segment continuing a trace has its remote parent here).
    pub parent_span_id: Option<SpanId>,
    /// What the span did, low in cardinality.
    pub name: String,
    /// `ok` or `error`.
    pub status: SpanV2Status,
    /// `true` for the root span of this process's part of the trace (the segment).
    pub is_segment: bool,
    /// When the span started.
    pub start_timestamp: SystemTime,
    /// When the span ended (not before its start).
    pub end_timestamp: SystemTime,
    /// The attributes; written typed.
    pub attributes: Map,
    /// Links to other spans.
    pub links: Vec<SpanLink>,
}

impl SpanV2 {
    /// A span with no parent, no attributes and status `ok`.
    pub fn new(
        trace_id: TraceId,
        span_id: SpanId,
        name: impl Into<String>,
        start: SystemTime,
        end: SystemTime,
    ) -> SpanV2 {
        SpanV2 {
            trace_id,
            span_id,
            parent_span_id: None,
            name: name.into(),
            status: SpanV2Status::Ok,
            is_segment: false,
            start_timestamp: start,
            end_timestamp: end.max(start),
            attributes: Map::new(),
            links: Vec::new(),
        }
    }
}

/// About how many bytes a span's attributes take on the wire (for the span buffer's byte
/// bounds).
pub(crate) fn attributes_size(attributes: &Map) -> usize {
    attributes
        .iter()
        .map(|(k, v)| k.len() + 32 + value_size(v))
        .sum()
}

fn value_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::I64(_) | Value::U64(_) | Value::F64(_) => 20,
        Value::String(s) => s.len() + 2,
        Value::Array(items) => 2 + items.iter().map(|v| value_size(v) + 1).sum::<usize>(),
        Value::Map(map) => {
            2 + map
                .iter()
                .map(|(k, v)| k.len() + 4 + value_size(v))
                .sum::<usize>()
        }
        _ => 20,
    }
}

/// A payload of one `span` item: `{"version":2,"items":[…]}`.
#[derive(Serialize)]
pub(crate) struct SpanV2Payload<'a> {
    pub(crate) version: u8,
    pub(crate) items: &'a [SpanV2],
}

impl Serialize for SpanV2 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("trace_id", &Ser(&self.trace_id))?;
        map.serialize_entry("span_id", &Ser(&self.span_id))?;
        if let Some(parent) = &self.parent_span_id {
            map.serialize_entry("parent_span_id", &Ser(parent))?;
        }
        map.serialize_entry("name", &self.name)?;
        map.serialize_entry("status", self.status.as_str())?;
        map.serialize_entry("is_segment", &self.is_segment)?;
        map.serialize_entry(
            "start_timestamp",
            &crate::time::timestamp_f64(self.start_timestamp),
        )?;
        map.serialize_entry(
            "end_timestamp",
            &crate::time::timestamp_f64(self.end_timestamp.max(self.start_timestamp)),
        )?;
        map.serialize_entry("attributes", &Attributes(&self.attributes))?;
        if !self.links.is_empty() {
            map.serialize_entry("links", &Links(&self.links))?;
        }
        map.end()
    }
}

struct Links<'a>(&'a [SpanLink]);

impl Serialize for Links<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for link in self.0 {
            seq.serialize_element(&Link(link))?;
        }
        seq.end()
    }
}

struct Link<'a>(&'a SpanLink);

impl Serialize for Link<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let link = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("trace_id", &Ser(&link.trace_id))?;
        map.serialize_entry("span_id", &Ser(&link.span_id))?;
        if let Some(sampled) = link.sampled {
            map.serialize_entry("sampled", &sampled)?;
        }
        if !link.attributes.is_empty() {
            map.serialize_entry("attributes", &Attributes(&link.attributes))?;
        }
        map.end()
    }
}

/// Typed attributes; `null` values are left out.
struct Attributes<'a>(&'a Map);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (key, value) in self.0.iter() {
            if !matches!(value, Value::Null) {
                map.serialize_entry(key, &Typed(value))?;
            }
        }
        map.end()
    }
}

/// One attribute value with its type.
struct Typed<'a>(&'a Value);

/// The scalar type of a value, when it is a scalar the protocol can type.
fn scalar_type(value: &Value) -> Option<&'static str> {
    match value {
        Value::Bool(_) => Some("boolean"),
        Value::I64(_) => Some("integer"),
        Value::U64(n) if i64::try_from(*n).is_ok() => Some("integer"),
        Value::F64(n) if n.is_finite() => Some("double"),
        Value::String(_) => Some("string"),
        _ => None,
    }
}

impl Serialize for Typed<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self.0 {
            Value::Array(items) => {
                let first = items.first().map(scalar_type);
                let uniform = match first {
                    None => true,
                    Some(None) => false,
                    Some(Some(ty)) => items.iter().all(|v| scalar_type(v) == Some(ty)),
                };
                if uniform {
                    map.serialize_entry("type", "array")?;
                    map.serialize_entry("value", &ScalarArray(items))?;
                } else {
                    // Mixed or nested lists have no attribute type: their JSON text.
                    map.serialize_entry("type", "string")?;
                    map.serialize_entry("value", &self.0.to_string())?;
                }
            }
            Value::Map(object) => match with_unit(object) {
                // `{"value": 12.5, "unit": "millisecond"}`: a value with its unit.
                Some((value, unit)) => {
                    serialize_scalar(&mut map, value)?;
                    map.serialize_entry("unit", unit)?;
                }
                None => {
                    map.serialize_entry("type", "string")?;
                    map.serialize_entry("value", &self.0.to_string())?;
                }
            },
            scalar => serialize_scalar(&mut map, scalar)?,
        }
        map.end()
    }
}

/// A map that is a scalar with its unit, `{"value": <scalar>, "unit": "<unit>"}` (a `type`
/// key may be there too; the type is taken from the value).
fn with_unit(object: &Map) -> Option<(&Value, &str)> {
    let value = object.get("value").filter(|v| scalar_type(v).is_some())?;
    let unit = match object.get("unit") {
        Some(Value::String(unit)) if !unit.is_empty() => unit.as_str(),
        _ => return None,
    };
    let others = object
        .keys()
        .filter(|k| !matches!(k.as_str(), "value" | "unit" | "type"));
    if others.count() > 0 {
        return None;
    }
    Some((value, unit))
}

/// The `type` and `value` entries of a scalar attribute.
fn serialize_scalar<M: SerializeMap>(map: &mut M, scalar: &Value) -> Result<(), M::Error> {
    let value = LogValue::from_value(scalar.clone());
    map.serialize_entry("type", value.type_name())?;
    match &value {
        LogValue::String(v) => map.serialize_entry("value", v),
        LogValue::Bool(v) => map.serialize_entry("value", v),
        LogValue::I64(v) => map.serialize_entry("value", v),
        LogValue::F64(v) if v.is_finite() => map.serialize_entry("value", v),
        other => map.serialize_entry("value", &other.to_string()),
    }
}

struct ScalarArray<'a>(&'a [Value]);

impl Serialize for ScalarArray<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for item in self.0 {
            match item {
                Value::Bool(b) => seq.serialize_element(b)?,
                Value::I64(n) => seq.serialize_element(n)?,
                Value::U64(n) => seq.serialize_element(n)?,
                Value::F64(n) => seq.serialize_element(n)?,
                Value::String(v) => seq.serialize_element(v)?,
                // Not reached: arrays are written as arrays only when every item is a scalar.
                _ => seq.serialize_element(&())?,
            }
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use serde_json::json;

    #[test]
    fn every_field_is_written_with_its_type() {
        let start = UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_001);
        let mut span = SpanV2::new(
            TraceId::from_bytes([2; 16]),
            SpanId::from_bytes([1; 8]),
            "work",
            start,
            start + Duration::from_millis(5),
        );
        span.parent_span_id = Some(SpanId::from_bytes([3; 8]));
        span.status = SpanV2Status::Error;
        for (key, value) in [
            ("s", Value::from("x")),
            ("b", Value::from(true)),
            ("i", Value::from(-3)),
            ("u", Value::U64(u64::MAX)),
            ("d", Value::from(1.5)),
            ("nan", Value::F64(f64::NAN)),
            ("null", Value::Null),
            ("ints", Value::from(vec![1, 2])),
            (
                "mixed",
                Value::Array(vec![Value::from(1), Value::from("a")]),
            ),
            ("map", Value::Map(Map::new())),
            ("wait", with_unit_map(Value::from(2.5), "millisecond", None)),
            (
                "size",
                with_unit_map(Value::from(7), "byte", Some("double")),
            ),
            ("extra", with_unit_map(Value::from(7), "byte", Some("x"))),
            ("nested", with_unit_map(Value::from(vec![1]), "byte", None)),
        ] {
            span.attributes.insert(key.into(), value);
        }
        let mut link = SpanLink::new(TraceId::from_bytes([4; 16]), SpanId::from_bytes([5; 8]));
        link.sampled = Some(true);
        link.attributes
            .insert("sentry.link.type".into(), "previous_trace".into());
        span.links.push(link);
        let json = serde_json::to_value(&span).unwrap();
        assert_eq!(
            json,
            json!({
                "trace_id": "02020202020202020202020202020202",
                "span_id": "0101010101010101",
                "parent_span_id": "0303030303030303",
                "name": "work",
                "status": "error",
                "is_segment": false,
                "start_timestamp": 1_700_000_000.000_001,
                "end_timestamp": 1_700_000_000.005_001,
                "attributes": {
                    "s": {"type": "string", "value": "x"},
                    "b": {"type": "boolean", "value": true},
                    "i": {"type": "integer", "value": -3},
                    "u": {"type": "string", "value": "18446744073709551615"},
                    "d": {"type": "double", "value": 1.5},
                    "nan": {"type": "string", "value": "NaN"},
                    "ints": {"type": "array", "value": [1, 2]},
                    "mixed": {"type": "string", "value": "[1,\"a\"]"},
                    "map": {"type": "string", "value": "{}"},
                    "wait": {"type": "double", "value": 2.5, "unit": "millisecond"},
                    // The value's own type wins over a `type` given with it.
                    "size": {"type": "integer", "value": 7, "unit": "byte"},
                    // Other keys, or a value that is no scalar: a map, sent as its text.
                    "extra": {"type": "string", "value": "{\"other\":\"x\",\"unit\":\"byte\",\"value\":7}"},
                    "nested": {"type": "string", "value": "{\"unit\":\"byte\",\"value\":[1]}"},
                },
                "links": [{
                    "trace_id": "04040404040404040404040404040404",
                    "span_id": "0505050505050505",
                    "sampled": true,
                    "attributes": {"sentry.link.type": {"type": "string", "value": "previous_trace"}},
                }],
            })
        );
    }

    /// `{"value": value, "unit": unit}`, with `type` or (`Some("x")`) another key.
    fn with_unit_map(value: Value, unit: &str, extra: Option<&str>) -> Value {
        let mut map = Map::new();
        map.insert("value".into(), value);
        map.insert("unit".into(), unit.into());
        match extra {
            Some("x") => {
                map.insert("other".into(), "x".into());
            }
            Some(ty) => {
                map.insert("type".into(), ty.into());
            }
            None => {}
        }
        Value::Map(map)
    }

    #[test]
    fn an_end_before_the_start_is_written_as_the_start() {
        let start = UNIX_EPOCH + Duration::from_secs(10);
        let mut span = SpanV2::new(TraceId::default(), SpanId::default(), "x", start, start);
        span.end_timestamp = UNIX_EPOCH;
        let json = serde_json::to_value(&span).unwrap();
        assert_eq!(json["end_timestamp"], json["start_timestamp"]);
    }
}
