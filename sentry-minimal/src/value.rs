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
#[derive(Clone, Debug, PartialEq, Default)]
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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::I64(n) => write!(f, "{n}"),
            Value::U64(n) => write!(f, "{n}"),
            Value::F64(n) if n.is_finite() => write!(f, "{n}"),
            Value::F64(_) => f.write_str("null"),
            Value::String(s) => write_json_str(f, s),
            Value::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_json_str(f, k)?;
                    write!(f, ":{v}")?;
                }
                f.write_str("}")
            }
        }
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
}
