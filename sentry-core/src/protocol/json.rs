//! Reading already-parsed JSON (`serde_json::Value`) into protocol types by hand.
//!
//! The offline cache replays envelopes by reading only their framing: the header lines are
//! parsed into `serde_json::Value` maps (serde_json's own, small, parser) and the known fields
//! picked out with these helpers. Going through derived `Deserialize` impls instead would link a
//! `serde_json::de::Deserializer` instantiation per type, plus serde's content buffering for the
//! `#[serde(flatten)]` map of unknown headers, into every application that only sends.
//!
//! The helpers accept what the derived impls accept (a struct may also be written as an array
//! of its fields, in declaration order) and their errors read the same way (`invalid type: …,
//! expected …`, `missing field …`), prefixed with the field's name.

use serde::de::Unexpected;
use serde_json::Value;

/// The value as serde describes an unexpected input (`integer `7``, `a sequence`, ...).
fn unexpected(value: &Value) -> Unexpected<'_> {
    match value {
        Value::Null => Unexpected::Unit,
        Value::Bool(b) => Unexpected::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Unexpected::Unsigned(u)
            } else if let Some(i) = n.as_i64() {
                Unexpected::Signed(i)
            } else {
                Unexpected::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => Unexpected::Str(s),
        Value::Array(_) => Unexpected::Seq,
        Value::Object(_) => Unexpected::Map,
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
        Value::Object(mut map) => Ok(names.map(|name| map.remove(name))),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn type_errors_read_like_serde_s() {
        let serde_error = serde_json::from_value::<String>(json!(7))
            .err()
            .map(|e| e.to_string());
        assert_eq!(Some(invalid_type(&json!(7), "a string")), serde_error);
        assert_eq!(
            invalid_type(&json!(-1.5), "a string"),
            "invalid type: floating point `-1.5`, expected a string"
        );
        assert_eq!(
            required_string("dsn", Some(json!([1]))).unwrap_err(),
            "`dsn`: invalid type: sequence, expected a string"
        );
        assert_eq!(
            required_string("name", None).unwrap_err(),
            "missing field `name`"
        );
    }

    #[test]
    fn structs_from_objects_and_arrays() {
        let names = ["a", "b"];
        assert_eq!(
            struct_fields(json!({"b": 2, "c": 3}), names, "struct X").unwrap(),
            [None, Some(json!(2))]
        );
        assert_eq!(
            struct_fields(json!([1]), names, "struct X").unwrap(),
            [Some(json!(1)), None]
        );
        assert!(struct_fields(json!([1, 2, 3]), names, "struct X").is_err());
        assert!(struct_fields(json!("x"), names, "struct X").is_err());
        assert_eq!(
            vec_or_empty("v", Some(json!(["x", 1])), string).unwrap_err(),
            "`v`: invalid type: integer `1`, expected a string"
        );
        assert_eq!(vec_or_empty("v", None, string), Ok(vec![]));
        assert!(vec_or_empty("v", Some(Value::Null), string).is_err());
    }
}
