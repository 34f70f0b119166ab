//! A span of a transaction, as sent in the transaction's `spans` array.

use std::time::SystemTime;

use sentry_minimal::{Map, SortedMap, SpanId, TraceId};
use serde::{Deserialize, Serialize};

use super::minimal_serde::{sorted_map, wire};
use super::{SpanStatus, SpanText};

/// A finished span inside a transaction (the `spans` array of a transaction event).
///
/// Relay requires `span_id`, `trace_id`, `start_timestamp` and `timestamp` (the end, not
/// before the start) on every span, so both timestamps are plain times: the SDK sends only
/// finished spans. Both are written as float seconds with microsecond precision (reading also
/// accepts RFC 3339 strings). Empty optional fields are not written. The operation,
/// description and origin are [`SpanText`]s: a `&'static str` or a short text costs no
/// allocation, and each is written as a plain string.
///
/// [`Span::default`] gives a fresh random `span_id`, the current time (to the microsecond) as
/// both timestamps and an all-zero `trace_id`, which the caller replaces with the
/// transaction's.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use sentry_core::protocol::{Span, SpanStatus};
///
/// let start = UNIX_EPOCH + Duration::from_micros(1_714_564_800_000_250);
/// let span = Span {
///     trace_id: "771a43a4192642f0b136d5159a501700".parse().unwrap(),
///     span_id: "b0e6f15b45c36b12".parse().unwrap(),
///     parent_span_id: Some("a0e6f15b45c36b12".parse().unwrap()),
///     op: Some("db.query".into()),
///     description: Some("SELECT 1".into()),
///     start_timestamp: start,
///     timestamp: start + Duration::from_millis(3),
///     status: Some(SpanStatus::Ok),
///     ..Span::default()
/// };
/// let json = serde_json::to_value(&span).unwrap();
/// assert_eq!(json["start_timestamp"], 1_714_564_800.000_25);
/// assert_eq!(json["timestamp"], 1_714_564_800.003_25);
/// assert_eq!(json["parent_span_id"], "a0e6f15b45c36b12");
/// assert!(json.get("tags").is_none());
/// let back: Span = serde_json::from_value(json).unwrap();
/// assert_eq!(back, span);
/// assert_eq!(back.op.as_deref(), Some("db.query"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// The span's id (16 hex digits on the wire).
    #[serde(with = "wire")]
    pub span_id: SpanId,
    /// The trace the span belongs to (32 hex digits on the wire).
    #[serde(with = "wire")]
    pub trace_id: TraceId,
    /// The parent span: another span of the transaction, or its root span
    /// (`contexts.trace.span_id`).
    #[serde(default, with = "wire", skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<SpanId>,
    /// The operation, such as `"db.query"` (lower snake case, low cardinality).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub op: Option<SpanText>,
    /// What the span did, such as the query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<SpanText>,
    /// When the span started.
    #[serde(with = "crate::time::seconds")]
    pub start_timestamp: SystemTime,
    /// When the span finished.
    #[serde(with = "crate::time::seconds")]
    pub timestamp: SystemTime,
    /// How the span ended.
    #[serde(default, with = "wire", skip_serializing_if = "Option::is_none")]
    pub status: Option<SpanStatus>,
    /// Searchable tags (short string values).
    #[serde(
        default,
        with = "sorted_map",
        skip_serializing_if = "SortedMap::is_empty"
    )]
    pub tags: SortedMap<String, String>,
    /// Arbitrary data, following Sentry's span data conventions (`db.system`, …).
    #[serde(default, with = "wire", skip_serializing_if = "Map::is_empty")]
    pub data: Map,
    /// What created the span, such as `"manual"` or `"auto.db.sqlx"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<SpanText>,
}

impl Default for Span {
    fn default() -> Self {
        let now = super::event::now_micros();
        Span {
            span_id: super::new_span_id(),
            trace_id: TraceId::default(),
            parent_span_id: None,
            op: None,
            description: None,
            start_timestamp: now,
            timestamp: now,
            status: None,
            tags: SortedMap::new(),
            data: Map::new(),
            origin: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use sentry_minimal::Value;
    use serde_json::json;

    #[test]
    fn full_span_round_trips_with_the_spec_keys() {
        let mut span = Span {
            span_id: SpanId::from_bytes([1; 8]),
            trace_id: TraceId::from_bytes([2; 16]),
            parent_span_id: Some(SpanId::from_bytes([3; 8])),
            op: Some("http.client".into()),
            description: Some("GET https://example.com".into()),
            start_timestamp: UNIX_EPOCH + Duration::from_micros(1_700_000_000_000_001),
            timestamp: UNIX_EPOCH + Duration::from_micros(1_700_000_000_500_001),
            status: Some(SpanStatus::NotFound),
            tags: SortedMap::new(),
            data: Map::new(),
            origin: Some("auto.http.ureq".into()),
        };
        span.tags.insert("cache".into(), "miss".into());
        span.data
            .insert("http.response.status_code".into(), 404.into());
        span.data
            .insert("nested".into(), Value::from(vec![Value::from("a")]));
        let json = serde_json::to_value(&span).unwrap();
        assert_eq!(
            json,
            json!({
                "span_id": "0101010101010101",
                "trace_id": "02020202020202020202020202020202",
                "parent_span_id": "0303030303030303",
                "op": "http.client",
                "description": "GET https://example.com",
                "start_timestamp": 1_700_000_000.000_001,
                "timestamp": 1_700_000_000.500_001,
                "status": "not_found",
                "tags": {"cache": "miss"},
                "data": {"http.response.status_code": 404, "nested": ["a"]},
                "origin": "auto.http.ureq",
            })
        );
        let text = serde_json::to_string(&span).unwrap();
        assert_eq!(serde_json::from_str::<Span>(&text).unwrap(), span);
    }

    #[test]
    fn minimal_span_writes_only_the_required_keys() {
        let span = Span {
            trace_id: TraceId::from_bytes([2; 16]),
            ..Span::default()
        };
        assert_eq!(span.start_timestamp, span.timestamp);
        assert_ne!(span.span_id, Span::default().span_id);
        let json = serde_json::to_value(&span).unwrap();
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(
            keys,
            ["span_id", "start_timestamp", "timestamp", "trace_id"]
        );
        assert_eq!(serde_json::from_value::<Span>(json).unwrap(), span);
        // Required keys are required when reading, and RFC 3339 is accepted.
        assert!(serde_json::from_value::<Span>(json!({"span_id": "0101010101010101"})).is_err());
        let read: Span = serde_json::from_value(json!({
            "span_id": "0101010101010101",
            "trace_id": "02020202020202020202020202020202",
            "start_timestamp": "2024-05-01T12:00:00Z",
            "timestamp": 1_714_564_801,
            "unknown": true,
        }))
        .unwrap();
        assert_eq!(
            read.timestamp,
            UNIX_EPOCH + Duration::from_secs(1_714_564_801)
        );
    }
}
