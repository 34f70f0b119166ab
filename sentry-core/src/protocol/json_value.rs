//! Conversions between `serde_json` and the SDK's own [`Value`]: [`JsonValueExt::into_value`],
//! [`ValueJsonExt::to_json`], [`to_value`] for anything `Serialize`, and a JSON object as a
//! context.
//!
//! `Value` is defined in `sentry-minimal`, which has no dependencies, so Rust's orphan rule
//! forbids `impl From<serde_json::Value> for Value` in this crate: these traits are the
//! spelling that works instead. Bring them in with `use sentry_core::protocol::JsonValueExt;`.

use sentry_minimal::{Map, Value};
use serde::Serialize;

use super::context::Context;
use super::minimal_serde::{value_from_json, value_to_json};

/// Converts a `serde_json::Value` into the SDK's [`Value`], for [`set_extra`](crate::set_extra),
/// breadcrumb data, span and log attributes.
///
/// Maps and arrays nested more than 128 levels deep become the depth marker (see
/// [`value_from_json`]).
///
/// ```
/// use sentry_core::protocol::JsonValueExt;
/// use sentry_core::Value;
/// use serde_json::json;
///
/// let value = json!({"order": 42, "items": ["a", "b"]}).into_value();
/// let Value::Map(map) = &value else { panic!("a map") };
/// assert_eq!(map["order"], Value::from(42));
///
/// let events = sentry_core::test::with_captured_events(|| {
///     sentry_core::set_extra("request", json!({"path": "/checkout"}).into_value());
///     sentry_core::capture_message("checkout failed", sentry_core::Level::Error);
/// });
/// assert_eq!(events[0].extra["request"].to_string(), r#"{"path":"/checkout"}"#);
/// ```
pub trait JsonValueExt {
    /// The same data as a [`Value`].
    fn into_value(self) -> Value;
}

impl JsonValueExt for serde_json::Value {
    fn into_value(self) -> Value {
        value_from_json(self)
    }
}

impl JsonValueExt for &serde_json::Value {
    fn into_value(self) -> Value {
        value_from_json(self.clone())
    }
}

/// Converts the SDK's [`Value`] into a `serde_json::Value` (non-finite floats become `null`).
///
/// ```
/// use sentry_core::protocol::ValueJsonExt;
/// use sentry_core::Value;
///
/// let value = Value::from(vec![1, 2]);
/// assert_eq!(value.to_json(), serde_json::json!([1, 2]));
/// ```
pub trait ValueJsonExt {
    /// The same data as a `serde_json::Value`.
    fn to_json(&self) -> serde_json::Value;
}

impl ValueJsonExt for Value {
    fn to_json(&self) -> serde_json::Value {
        value_to_json(self)
    }
}

/// Any `Serialize` value as a [`Value`]: a struct becomes a map of its fields.
///
/// # Errors
///
/// What `serde_json` says when the value cannot be represented as JSON (a map whose keys are
/// not strings, a failing `Serialize` impl).
///
/// ```
/// use sentry_core::Value;
///
/// #[derive(serde::Serialize)]
/// struct Order { id: u32, paid: bool }
///
/// let value = sentry_core::protocol::to_value(&Order { id: 7, paid: false }).unwrap();
/// assert_eq!(value.to_string(), r#"{"id":7,"paid":false}"#);
/// ```
pub fn to_value<T: Serialize + ?Sized>(value: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_value(value).map(value_from_json)
}

impl From<serde_json::Value> for Context {
    /// A JSON object is a context of its keys; any other JSON value becomes a context with
    /// that value under `"value"`.
    ///
    /// ```
    /// use sentry_core::protocol::Context;
    /// use serde_json::json;
    ///
    /// let events = sentry_core::test::with_captured_events(|| {
    ///     sentry_core::set_context("order", json!({"id": 7, "total": "12.50"}));
    ///     sentry_core::capture_message("checkout failed", sentry_core::Level::Error);
    /// });
    /// let Context::Other(order) = &events[0].contexts["order"] else { panic!("a map") };
    /// assert_eq!(order["id"], sentry_core::Value::from(7));
    /// ```
    fn from(json: serde_json::Value) -> Self {
        match value_from_json(json) {
            Value::Map(map) => Context::Other(map),
            other => {
                let mut map = Map::new();
                map.insert("value".to_owned(), other);
                Context::Other(map)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_through_json() {
        let json = json!({"a": [1, -2, 2.5, true, null, "s"], "b": {"c": u64::MAX}});
        assert_eq!((&json).into_value().to_json(), json);
        assert_eq!(json.clone().into_value().to_json(), json);
    }

    #[test]
    fn non_objects_become_a_value_context() {
        let Context::Other(map) = Context::from(json!([1, 2])) else {
            panic!("not a map context")
        };
        assert_eq!(map["value"], Value::from(vec![1, 2]));
    }

    #[test]
    fn to_value_reports_unrepresentable_data() {
        let mut bad = std::collections::HashMap::new();
        bad.insert(vec![1u8], 1);
        assert!(to_value(&bad).is_err());
        assert_eq!(to_value("x").ok(), Some(Value::from("x")));
    }
}
