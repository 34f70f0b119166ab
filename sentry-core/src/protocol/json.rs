//! Reading JSON by hand into protocol types, through the SDK's own [`Value`].
//!
//! The offline cache replays envelopes by reading only their framing: the header lines are
//! parsed into [`Value`] maps ([`from_slice`]) and the known fields picked out with these
//! helpers. Going through derived `Deserialize` impls instead would link a
//! `serde_json::de::Deserializer` instantiation per type, plus serde's content buffering for the
//! `#[serde(flatten)]` map of unknown headers, into every application that only sends; going
//! through `serde_json::Value` would link serde_json's own dynamic type (its map, decoder,
//! encoder and drop glue) next to ours.
//!
//! The helpers accept what the derived impls accept (a struct may also be written as an array
//! of its fields, in declaration order) and their errors read the same way (`invalid type: …,
//! expected …`, `missing field …`), prefixed with the field's name.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sentry_minimal::Value;
use serde::de::Unexpected;

use super::minimal_serde::De;
use crate::time;

/// Parses JSON text into a [`Value`]. The SDK's hand-written readers (envelope header lines, a
/// dropped transaction's span count) share this one decoder instantiation.
pub(crate) fn from_slice(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    serde_json::from_slice::<De<Value>>(bytes).map(|value| value.0)
}

/// The value as serde describes an unexpected input (`integer `7``, `a sequence`, ...), as it
/// would describe the JSON text the value was read from.
///
/// serde_json hands non-negative integers to visitors as `u64` and negative ones as `i64`,
/// while [`Value`] keeps every integer that fits an `i64` as [`Value::I64`]: a non-negative
/// `I64` is therefore described as unsigned.
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::I64(n) => u64::try_from(*n).map_or(Unexpected::Signed(*n), Unexpected::Unsigned),
        Value::U64(n) => Unexpected::Unsigned(*n),
        Value::F64(n) => Unexpected::Float(*n),
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Map(_) => Unexpected::Map,
        // `Value` is non-exhaustive; a future variant cannot come from JSON text.
        _ => Unexpected::Other("value"),
    }
}

/// `invalid type: {value}, expected {expected}`, as serde words it.
pub(crate) fn invalid_type(value: &Value, expected: &str) -> String {
    format!("invalid type: {}, expected {expected}", unexpected(value))
}

/// Prefixes an error with the name of the field it is about.
pub(crate) fn in_field(field: &str, error: String) -> String {
    format!("`{field}`: {error}")
}

/// A value that must be a string.
pub(crate) fn string(value: Value) -> Result<String, String> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(invalid_type(&other, "a string")),
    }
}

/// A required string field.
pub(crate) fn required_string(field: &str, value: Option<Value>) -> Result<String, String> {
    match value {
        Some(value) => string(value).map_err(|e| in_field(field, e)),
        None => Err(format!("missing field `{field}`")),
    }
}

/// An array field that defaults to empty when absent (`null` is an error, as for a derived
/// `#[serde(default)] Vec<T>`), each element read by `item`.
pub(crate) fn vec_or_empty<T>(
    field: &str,
    value: Option<Value>,
    item: impl Fn(Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .into_iter()
            .map(|element| item(element).map_err(|e| in_field(field, e)))
            .collect(),
        Some(other) => Err(in_field(field, invalid_type(&other, "a sequence"))),
    }
}

/// The fields `names` of a struct written as a JSON object (other keys are ignored) or as an
/// array of its fields in declaration order (missing trailing fields are absent). `None` is
/// an absent field; a `null` is kept as `Some(Value::Null)`.
pub(crate) fn struct_fields<const N: usize>(
    value: Value,
    names: [&str; N],
    expected: &str,
) -> Result<[Option<Value>; N], String> {
    match value {
        Value::Map(mut map) => Ok(names.map(|name| map.remove(name))),
        Value::Array(items) if items.len() <= N => {
            let mut items = items.into_iter();
            Ok(names.map(|_| items.next()))
        }
        Value::Array(items) => Err(format!(
            "invalid length {}, expected {expected} with {N} elements",
            items.len()
        )),
        other => Err(invalid_type(&other, expected)),
    }
}

/// Reads a timestamp from parsed JSON, accepting what the serde helpers of `time` accept (float
/// or integer seconds, or an RFC 3339 string) with the same errors, without linking a
/// deserializer instantiation.
pub(crate) fn timestamp(value: &Value) -> Result<SystemTime, String> {
    let out_of_range = |v: &dyn fmt::Display| format!("timestamp out of range: {v}");
    match value {
        // serde_json hands non-negative integers to visitors as `u64` (see `unexpected`).
        Value::I64(v) if *v < 0 => time::from_unix(*v, 0).ok_or_else(|| out_of_range(v)),
        Value::I64(v) => {
            let v = v.unsigned_abs();
            UNIX_EPOCH
                .checked_add(Duration::from_secs(v))
                .ok_or_else(|| out_of_range(&v))
        }
        Value::U64(v) => UNIX_EPOCH
            .checked_add(Duration::from_secs(*v))
            .ok_or_else(|| out_of_range(v)),
        Value::F64(v) => time::from_timestamp_f64(*v).ok_or_else(|| out_of_range(v)),
        Value::String(v) => {
            time::timestamp_from_str(v).ok_or_else(|| format!("invalid timestamp: {v:?}"))
        }
        other => Err(invalid_type(
            other,
            "a timestamp (seconds since the epoch, or an RFC 3339 string)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::value_from_json;
    use serde_json::json;

    /// The [`Value`] serde_json's text for `json` reads as.
    fn value(json: serde_json::Value) -> Value {
        value_from_json(json)
    }

    #[test]
    fn type_errors_read_like_serde_s() {
        for text in ["7", "0", "-7", "18446744073709551615", "-1.5", "1.0"] {
            // Read through `serde_json::Value`, serde's error carries no position.
            let json: serde_json::Value = serde_json::from_str(text).unwrap();
            let serde_error = serde_json::from_value::<String>(json)
                .err()
                .map(|e| e.to_string());
            let parsed = from_slice(text.as_bytes()).unwrap();
            assert_eq!(
                Some(invalid_type(&parsed, "a string")),
                serde_error,
                "{text}"
            );
        }
        assert_eq!(
            invalid_type(&value(json!(-1.5)), "a string"),
            "invalid type: floating point `-1.5`, expected a string"
        );
        assert_eq!(
            required_string("dsn", Some(value(json!([1])))).unwrap_err(),
            "`dsn`: invalid type: sequence, expected a string"
        );
        assert_eq!(
            required_string("name", None).unwrap_err(),
            "missing field `name`"
        );
    }

    #[test]
    fn reads_json_text() {
        assert_eq!(
            from_slice(br#"{"b":[1,-2,18446744073709551615,1.5],"a":null,"b":true}"#).unwrap(),
            value(json!({"a": null, "b": true}))
        );
        assert_eq!(
            from_slice(b"[1,-2,18446744073709551615,1.5]").unwrap(),
            Value::Array(vec![
                Value::I64(1),
                Value::I64(-2),
                Value::U64(u64::MAX),
                Value::F64(1.5)
            ])
        );
        assert!(from_slice(b"{").is_err());
        assert_eq!(Value::String("3".into()).as_u64(), None);
    }

    #[test]
    fn structs_from_objects_and_arrays() {
        let names = ["a", "b"];
        assert_eq!(
            struct_fields(value(json!({"b": 2, "c": 3})), names, "struct X").unwrap(),
            [None, Some(Value::I64(2))]
        );
        assert_eq!(
            struct_fields(value(json!([1])), names, "struct X").unwrap(),
            [Some(Value::I64(1)), None]
        );
        assert!(struct_fields(value(json!([1, 2, 3])), names, "struct X").is_err());
        assert!(struct_fields(value(json!("x")), names, "struct X").is_err());
        assert_eq!(
            vec_or_empty("v", Some(value(json!(["x", 1]))), string).unwrap_err(),
            "`v`: invalid type: integer `1`, expected a string"
        );
        assert_eq!(vec_or_empty("v", None, string), Ok(vec![]));
        assert!(vec_or_empty("v", Some(Value::Null), string).is_err());
    }

    /// JSON nested deeper than serde_json's limit (128) is an error, not a stack overflow.
    #[test]
    fn deep_input_is_an_error() {
        let text = format!("{}{}", "[".repeat(50_000), "]".repeat(50_000));
        let err = from_slice(text.as_bytes()).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("recursion limit")),
            "{err:?}"
        );
        let ok = format!("{}{}", "[".repeat(100), "]".repeat(100));
        assert!(from_slice(ok.as_bytes()).is_ok());
    }

    #[test]
    fn timestamps_agree_with_the_serde_helpers() {
        for input in [
            json!(1_714_564_800),
            json!(1_714_564_800.123_456),
            json!(0),
            json!(-1),
            json!(-0.5),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e300),
            json!("2024-05-01T12:00:00.123456Z"),
            json!(" 1714564800.5 "),
            json!("later"),
            json!(true),
            json!([1]),
            json!({}),
        ] {
            let serde = crate::time::rfc3339::deserialize(input.clone()).map_err(|e| e.to_string());
            let value = value_from_json(input.clone());
            assert_eq!(timestamp(&value), serde, "{input}");
        }
    }
}
