//! A small structured value type, so the facade needs no serialization crate.

use std::fmt;

use crate::SortedMap;

/// A map of string keys to [`Value`]s, as used for `extra`, contexts and breadcrumb data.
pub type Map = SortedMap<String, Value>;

/// Structured data attached to events, breadcrumbs and scopes.
///
/// It mirrors the JSON data model. Integers keep their signedness: Sentry's wire format is JSON,
/// and the SDK writes `U64` values above `i64::MAX` exactly.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{Map, Value};
///
/// let mut data = Map::new();
/// data.insert("attempt".into(), 3.into());
/// data.insert("path".into(), "/index".into());
/// data.insert("cached".into(), false.into());
/// assert_eq!(data["attempt"], Value::I64(3));
/// assert_eq!(data["path"].as_str(), Some("/index"));
/// ```
#[derive(Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Value {
    /// No value (`null`).
    #[default]
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A floating-point number. Non-finite numbers are written as `null`.
    F64(f64),
    /// A string.
    String(String),
    /// An ordered list of values.
    Array(Vec<Value>),
    /// A map of string keys to values.
    Map(Map),
}

impl Value {
    /// The string inside a [`Value::String`], if that is what this is.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a `u64`, if it is a non-negative integer (of either integer variant).
    ///
    /// ```
    /// use sentry_minimal::Value;
    ///
    /// assert_eq!(Value::I64(3).as_u64(), Some(3));
    /// assert_eq!(Value::U64(u64::MAX).as_u64(), Some(u64::MAX));
    /// assert_eq!(Value::I64(-3).as_u64(), None);
    /// assert_eq!(Value::F64(3.0).as_u64(), None);
    /// ```
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::I64(n) => u64::try_from(*n).ok(),
            Value::U64(n) => Some(*n),
            _ => None,
        }
    }

    /// `true` for [`Value::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    /// Writes the value as compact JSON.
    ///
    /// The writer keeps its own stack instead of recursing, so a value nested to any depth is
    /// written in full without exhausting the thread's stack.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// A container being written: the rest of its items, and whether one was written.
        enum Open<'a> {
            Array(std::slice::Iter<'a, Value>, bool),
            Map(crate::map::Iter<'a, String, Value>, bool),
        }
        let mut stack: Vec<Open<'_>> = Vec::new();
        let mut next = Some(self);
        loop {
            match next.take() {
                Some(Value::Array(items)) => {
                    f.write_str("[")?;
                    stack.push(Open::Array(items.iter(), false));
                }
                Some(Value::Map(map)) => {
                    f.write_str("{")?;
                    stack.push(Open::Map(map.iter(), false));
                }
                Some(scalar) => write_scalar(f, scalar)?,
                None => {}
            }
            // Continue the innermost open container, or close it.
            match stack.last_mut() {
                None => return Ok(()),
                Some(Open::Array(items, started)) => match items.next() {
                    Some(item) => {
                        if std::mem::replace(started, true) {
                            f.write_str(",")?;
                        }
                        next = Some(item);
                    }
                    None => {
                        f.write_str("]")?;
                        stack.pop();
                    }
                },
                Some(Open::Map(entries, started)) => match entries.next() {
                    Some((key, value)) => {
                        if std::mem::replace(started, true) {
                            f.write_str(",")?;
                        }
                        write_json_str(f, key)?;
                        f.write_str(":")?;
                        next = Some(value);
                    }
                    None => {
                        f.write_str("}")?;
                        stack.pop();
                    }
                },
            }
        }
    }
}

/// Writes a value that is neither an array nor a map.
fn write_scalar(f: &mut fmt::Formatter<'_>, value: &Value) -> fmt::Result {
    match value {
        Value::Null => f.write_str("null"),
        Value::Bool(b) => write!(f, "{b}"),
        Value::I64(n) => write!(f, "{n}"),
        Value::U64(n) => write!(f, "{n}"),
        Value::F64(n) if n.is_finite() => write!(f, "{n}"),
        Value::F64(_) => f.write_str("null"),
        Value::String(s) => write_json_str(f, s),
        // Containers are written by the caller.
        Value::Array(_) | Value::Map(_) => Ok(()),
    }
}

/// How deep [`Value`]'s `Debug` output goes; deeper maps and arrays are shown as `..`, so that
/// formatting a deeply nested value cannot exhaust the thread's stack.
const DEBUG_DEPTH: usize = 128;

impl fmt::Debug for Value {
    /// The variant and its content, such as `Map({"attempt": I64(3)})`. Maps and arrays nested
    /// more than 128 levels deep are shown as `..`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&Nested(self, 0), f)
    }
}

/// A value at `.1` levels of maps and arrays below the one being formatted.
struct Nested<'a>(&'a Value, usize);

impl fmt::Debug for Nested<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Nested(value, depth) = *self;
        match value {
            Value::Array(_) | Value::Map(_) if depth >= DEBUG_DEPTH => f.write_str(".."),
            Value::Array(items) => f
                .debug_tuple("Array")
                .field(&DebugList(items, depth + 1))
                .finish(),
            Value::Map(map) => f
                .debug_tuple("Map")
                .field(&DebugMap(map, depth + 1))
                .finish(),
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            Value::I64(n) => f.debug_tuple("I64").field(n).finish(),
            Value::U64(n) => f.debug_tuple("U64").field(n).finish(),
            Value::F64(n) => f.debug_tuple("F64").field(n).finish(),
            Value::String(s) => f.debug_tuple("String").field(s).finish(),
        }
    }
}

struct DebugList<'a>(&'a [Value], usize);

impl fmt::Debug for DebugList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|item| Nested(item, self.1)))
            .finish()
    }
}

struct DebugMap<'a>(&'a Map, usize);

impl fmt::Debug for DebugMap<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| (k, Nested(v, self.1))))
            .finish()
    }
}

fn write_json_str(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\r' => f.write_str("\\r")?,
            '\t' => f.write_str("\\t")?,
            c if (c as u32) < 0x20 => write!(f, "\\u{:04x}", c as u32)?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

macro_rules! from_int {
    ($variant:ident as $target:ty: $($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(n: $t) -> Self {
                Value::$variant(<$target>::from(n))
            }
        }
    )*};
}
from_int!(I64 as i64: i8, i16, i32, i64);
from_int!(U64 as u64: u8, u16, u32, u64);

impl From<isize> for Value {
    fn from(n: isize) -> Self {
        // isize is at most 64 bits on every supported target.
        Value::I64(n as i64)
    }
}

impl From<usize> for Value {
    fn from(n: usize) -> Self {
        Value::U64(n as u64)
    }
}

impl From<f32> for Value {
    fn from(n: f32) -> Self {
        Value::F64(f64::from(n))
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::F64(n)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<char> for Value {
    fn from(c: char) -> Self {
        Value::String(c.to_string())
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Self {
        Value::Map(m)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Self {
        Value::Array(items.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> FromIterator<T> for Value {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Value::Array(iter.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_as_json() {
        let mut map = Map::new();
        map.insert("a\"b".into(), Value::from(vec![1, 2]));
        map.insert("n".into(), Value::Null);
        map.insert("f".into(), f64::NAN.into());
        map.insert("s".into(), "line\nbreak\u{1}".into());
        assert_eq!(
            Value::Map(map).to_string(),
            r#"{"a\"b":[1,2],"f":null,"n":null,"s":"line\nbreak\u0001"}"#
        );
        assert_eq!(Value::from(u64::MAX).to_string(), "18446744073709551615");
    }

    #[test]
    fn conversions_keep_signedness() {
        assert_eq!(Value::from(-1i32), Value::I64(-1));
        assert_eq!(Value::from(1u8), Value::U64(1));
        assert_eq!(Value::from(None::<i32>), Value::Null);
        assert_eq!(Value::from(Some("x")), Value::String("x".into()));
    }

    /// `depth` maps (or arrays) nested in each other around `"leaf"`, built without recursion.
    /// The test leaks it: dropping it recurses, which is the caller's business, not `Display`'s.
    fn nested(depth: usize, arrays: bool) -> Value {
        let mut value = Value::from("leaf");
        for _ in 0..depth {
            value = if arrays {
                Value::Array(vec![value])
            } else {
                Value::Map(Map::from([("k".to_owned(), value)]))
            };
        }
        value
    }

    /// Runs `f` on a thread with `stack` bytes of stack.
    fn on_stack<T: Send + 'static>(stack: usize, f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::Builder::new()
            .stack_size(stack)
            .spawn(f)
            .unwrap()
            .join()
            .unwrap()
    }

    #[test]
    fn displays_deep_values_on_a_small_stack() {
        // 64 KiB of stack: a recursive writer would need far more for 20,000 levels.
        let (maps, arrays) = on_stack(64 * 1024, || {
            let (maps, arrays) = (nested(20_000, false), nested(20_000, true));
            let text = (maps.to_string(), arrays.to_string());
            std::mem::forget((maps, arrays));
            text
        });
        let expected = format!(
            "{}\"leaf\"{}",
            r#"{"k":"#.repeat(20_000),
            "}".repeat(20_000)
        );
        assert_eq!(maps, expected);
        let expected = format!("{}\"leaf\"{}", "[".repeat(20_000), "]".repeat(20_000));
        assert_eq!(arrays, expected);
    }

    #[test]
    fn debug_stops_at_its_depth() {
        let debug = on_stack(2 * 1024 * 1024, || {
            let deep = nested(20_000, false);
            let debug = format!("{deep:?}");
            std::mem::forget(deep);
            debug
        });
        assert_eq!(debug.matches("Map(").count(), DEBUG_DEPTH);
        assert!(debug.contains(r#"{"k": ..}"#));
    }

    #[test]
    fn debug_shows_variants() {
        let mut map = Map::new();
        map.insert("a".into(), Value::from(vec![1u8]));
        map.insert("b".into(), Value::Null);
        assert_eq!(
            format!("{:?}", Value::Map(map)),
            r#"Map({"a": Array([U64(1)]), "b": Null})"#
        );
        assert_eq!(format!("{:?}", Value::from("x")), r#"String("x")"#);
        assert_eq!(format!("{:?}", Value::from(1.5)), "F64(1.5)");
    }
}
