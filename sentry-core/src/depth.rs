//! How deep values nest: the depth limit every value is held to, the marker that stands in for
//! what lies deeper, and freeing a value of any depth without recursion.
//!
//! The serializer of [`Value`] (`protocol`) and the cuts of `limits` share these, so a value is
//! written the way the limits would have cut it even when it skipped them (an envelope built by
//! hand).

use sentry_minimal::Value;

/// How many levels of maps and arrays a value keeps. A deeper map or array is replaced by
/// [`DEPTH_MARKER`].
///
/// ```
/// use sentry_core::limits::{DEPTH_MARKER, MAX_DEPTH};
/// use sentry_core::protocol::{Event, Value};
///
/// let mut deep = Value::from("leaf");
/// for _ in 0..MAX_DEPTH + 1 {
///     deep = Value::Array(vec![deep]);
/// }
/// let event = Event { extra: [("deep".to_owned(), deep)].into_iter().collect(), ..Event::new() };
/// let json = serde_json::to_value(&event).unwrap();
/// // Five levels of arrays are written; the sixth is the marker.
/// assert_eq!(json["extra"]["deep"][0][0][0][0][0], DEPTH_MARKER);
/// ```
pub const MAX_DEPTH: usize = 5;

/// What a map or array nested deeper than [`MAX_DEPTH`] is replaced by.
pub const DEPTH_MARKER: &str = "[truncated: depth limit]";

/// Frees a value without recursing, however deeply it is nested.
///
/// Dropping a `Value` the ordinary way recurses once per level of nesting; at a few thousand
/// levels that exhausts a thread's stack. Here every map and array is emptied into a work list
/// before it is dropped, so each drop is shallow.
pub(crate) fn dispose(value: Value) {
    if !is_container(&value) {
        return;
    }
    let mut pending = vec![value];
    while let Some(mut value) = pending.pop() {
        match &mut value {
            Value::Array(items) => pending.extend(items.drain(..).filter(is_container)),
            Value::Map(map) => {
                while let Some((_, child)) = map.pop_last() {
                    if is_container(&child) {
                        pending.push(child);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `true` for a map or array that holds something (what [`dispose`] must take apart).
pub(crate) fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(items) if !items.is_empty())
        || matches!(value, Value::Map(map) if !map.is_empty())
}

/// A value `depth` arrays deep around a string, for the tests of the cuts and of freeing.
#[cfg(test)]
pub(crate) fn nested(depth: usize) -> Value {
    let mut value = Value::from("leaf");
    for _ in 0..depth {
        value = Value::Array(vec![value]);
    }
    value
}

#[cfg(test)]
mod tests {
    use sentry_minimal::Map;

    use super::*;

    #[test]
    fn disposes_deep_values_on_a_small_stack() {
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(|| {
                dispose(nested(200_000));
                let mut map = Value::from("leaf");
                for _ in 0..200_000 {
                    map = Value::Map(Map::from([("k".to_owned(), map)]));
                }
                dispose(map);
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
