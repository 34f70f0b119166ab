//! The typed attributes of a structured [`Log`](super::Log): [`LogValue`] and [`LogAttributes`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use sentry_minimal::Value;

use super::wire;
use crate::depth::dispose;

/// The value of a log attribute: one of the four types Sentry stores.
///
/// On the wire each value is written with its type, as `{"value":…,"type":…}`, with the types
/// `string`, `boolean`, `integer` (signed 64-bit) and `double`.
///
/// Conversions pick the type from the Rust type, so that one attribute key keeps one type (which
/// Sentry needs to query it):
///
/// | Rust | type |
/// |---|---|
/// | `&str`, `String`, `Cow<str>`, `char` | `string` |
/// | `bool` | `boolean` |
/// | `i8`–`i64`, `isize`, `u8`–`u32` | `integer` |
/// | `u64`, `usize`, `i128`, `u128` | `string` (half of their range does not fit a signed 64-bit integer) |
/// | `f32`, `f64` | `double` (NaN and infinities are written as the strings `NaN`, `inf`, `-inf`) |
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::LogValue;
///
/// assert_eq!(LogValue::from(3u8), LogValue::I64(3));
/// assert_eq!(LogValue::from(u64::MAX), LogValue::String("18446744073709551615".into()));
/// assert_eq!(
///     serde_json::to_string(&LogValue::from("pro")).unwrap(),
///     r#"{"value":"pro","type":"string"}"#
/// );
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum LogValue {
    /// A string (`"type":"string"`).
    String(Cow<'static, str>),
    /// A boolean (`"type":"boolean"`).
    Bool(bool),
    /// A signed 64-bit integer (`"type":"integer"`).
    I64(i64),
    /// A floating-point number (`"type":"double"`).
    F64(f64),
}

impl LogValue {
    /// The wire type name: `string`, `boolean`, `integer` or `double`.
    pub fn type_name(&self) -> &'static str {
        match self {
            LogValue::String(_) => "string",
            LogValue::Bool(_) => "boolean",
            LogValue::I64(_) => "integer",
            LogValue::F64(n) if n.is_finite() => "double",
            LogValue::F64(_) => "string",
        }
    }

    /// The same value as a generic [`Value`](sentry_minimal::Value) (a float that is not
    /// finite becomes its text, as on the wire).
    pub(crate) fn to_value(&self) -> sentry_minimal::Value {
        match self {
            LogValue::String(s) => sentry_minimal::Value::from(s.as_ref()),
            LogValue::Bool(b) => sentry_minimal::Value::from(*b),
            LogValue::I64(n) => sentry_minimal::Value::from(*n),
            LogValue::F64(n) if n.is_finite() => sentry_minimal::Value::from(*n),
            LogValue::F64(_) => sentry_minimal::Value::from(self.to_string()),
        }
    }

    /// The string, if this is a [`LogValue::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            LogValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// A structured [`Value`](crate::Value) as an attribute: scalars keep their type (an
    /// unsigned integer follows the table above), `null` becomes the string `null`, and arrays
    /// and maps become their compact JSON text.
    ///
    /// ```
    /// use sentry_core::{protocol::LogValue, Value};
    ///
    /// assert_eq!(LogValue::from_value(Value::I64(-1)), LogValue::I64(-1));
    /// assert_eq!(LogValue::from_value(Value::from(vec![1, 2])), LogValue::String("[1,2]".into()));
    /// ```
    pub fn from_value(value: Value) -> LogValue {
        match value {
            Value::Bool(b) => LogValue::Bool(b),
            Value::I64(n) => LogValue::I64(n),
            Value::U64(n) => LogValue::from(n),
            Value::F64(n) => LogValue::F64(n),
            Value::String(s) => LogValue::String(Cow::Owned(s)),
            other => {
                let text = other.to_string();
                // It may be nested deeper than a recursive drop could go.
                dispose(other);
                LogValue::String(Cow::Owned(text))
            }
        }
    }

    /// About how many bytes this value takes on the wire, with its `value`/`type` wrapper.
    pub(crate) fn estimated_size(&self) -> usize {
        // {"value":,"type":"integer"}
        const WRAPPER: usize = 28;
        WRAPPER
            + match self {
                LogValue::String(s) => s.len() + 2,
                LogValue::Bool(_) => 5,
                LogValue::I64(_) | LogValue::F64(_) => 20,
            }
    }
}

impl fmt::Display for LogValue {
    /// Writes the plain value (strings unquoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogValue::String(s) => f.write_str(s),
            LogValue::Bool(b) => write!(f, "{b}"),
            LogValue::I64(n) => write!(f, "{n}"),
            LogValue::F64(n) => write_f64(f, *n),
        }
    }
}

fn write_f64(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if n.is_nan() {
        f.write_str("NaN")
    } else if n.is_infinite() {
        f.write_str(if n > 0.0 { "inf" } else { "-inf" })
    } else {
        write!(f, "{n}")
    }
}

macro_rules! log_value_from {
    ($($variant:ident($target:ty): $($t:ty),*;)*) => {$($(
        impl From<$t> for LogValue {
            fn from(v: $t) -> Self {
                LogValue::$variant(<$target>::from(v))
            }
        }
    )*)*};
}
log_value_from! {
    I64(i64): i8, i16, i32, i64, u8, u16, u32;
    F64(f64): f32, f64;
    Bool(bool): bool;
}

macro_rules! log_value_as_string {
    ($($t:ty),*) => {$(
        impl From<$t> for LogValue {
            fn from(v: $t) -> Self {
                LogValue::String(Cow::Owned(v.to_string()))
            }
        }
    )*};
}
log_value_as_string!(u64, usize, i128, u128, char);

impl From<isize> for LogValue {
    fn from(v: isize) -> Self {
        // isize is at most 64 bits on every supported target.
        LogValue::I64(v as i64)
    }
}

impl From<&str> for LogValue {
    fn from(s: &str) -> Self {
        LogValue::String(Cow::Owned(s.to_owned()))
    }
}

impl From<String> for LogValue {
    fn from(s: String) -> Self {
        LogValue::String(Cow::Owned(s))
    }
}

impl From<Cow<'static, str>> for LogValue {
    fn from(s: Cow<'static, str>) -> Self {
        LogValue::String(s)
    }
}

impl Serialize for LogValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self {
            LogValue::String(v) => map.serialize_entry("value", v)?,
            LogValue::Bool(v) => map.serialize_entry("value", v)?,
            LogValue::I64(v) => map.serialize_entry("value", v)?,
            LogValue::F64(v) if v.is_finite() => map.serialize_entry("value", v)?,
            LogValue::F64(_) => map.serialize_entry("value", &self.to_string())?,
        }
        map.serialize_entry("type", self.type_name())?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for LogValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Typed {
            #[serde(with = "wire")]
            value: Value,
            #[serde(rename = "type")]
            ty: String,
            // Units are part of the attribute format; this SDK writes none and ignores them.
            #[serde(default)]
            #[allow(dead_code)]
            unit: de::IgnoredAny,
        }
        let typed = Typed::deserialize(d)?;
        let mismatch = || {
            // As JSON text; `Value`'s `Display` would write the float `1.0` as `1`.
            let shown = match &typed.value {
                Value::F64(n) => format!("{n:?}"),
                other => other.to_string(),
            };
            de::Error::custom(format_args!(
                "attribute value {shown} is not of type {:?}",
                typed.ty
            ))
        };
        Ok(match (typed.ty.as_str(), &typed.value) {
            ("string", Value::String(s)) => LogValue::String(Cow::Owned(s.clone())),
            ("boolean", Value::Bool(b)) => LogValue::Bool(*b),
            ("integer", Value::I64(n)) => LogValue::I64(*n),
            ("double", Value::I64(n)) => LogValue::F64(*n as f64),
            ("double", Value::U64(n)) => LogValue::F64(*n as f64),
            ("double", Value::F64(n)) => LogValue::F64(*n),
            ("string" | "boolean" | "integer" | "double", _) => return Err(mismatch()),
            (other, _) => {
                return Err(de::Error::custom(format_args!(
                    "unknown attribute type {other:?}, expected string, boolean, integer or double"
                )))
            }
        })
    }
}

/// The attributes of a [`Log`](super::Log): keys in insertion order, each with a typed [`LogValue`].
///
/// Inserting a key that is already there replaces its value in place.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{LogAttributes, LogValue};
///
/// let mut attributes = LogAttributes::new();
/// attributes.insert("plan", "pro");
/// attributes.insert("attempt", 3);
/// attributes.insert("plan", "free");
/// assert_eq!(attributes.len(), 2);
/// assert_eq!(attributes.get("plan").and_then(LogValue::as_str), Some("free"));
/// assert_eq!(
///     serde_json::to_string(&attributes).unwrap(),
///     r#"{"plan":{"value":"free","type":"string"},"attempt":{"value":3,"type":"integer"}}"#
/// );
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogAttributes {
    entries: Vec<(Cow<'static, str>, LogValue)>,
}

impl LogAttributes {
    /// No attributes.
    pub const fn new() -> Self {
        LogAttributes {
            entries: Vec::new(),
        }
    }

    /// No attributes, with room for `capacity` without reallocating.
    pub fn with_capacity(capacity: usize) -> Self {
        LogAttributes {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// How many attributes there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Sets `key` to `value`, returning the value it replaces.
    pub fn insert(
        &mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<LogValue>,
    ) -> Option<LogValue> {
        let key = key.into();
        let value = value.into();
        match self.position(&key) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    /// Copies every attribute of `other` whose key is not set here yet, except those in the
    /// SDK's own `sentry.` namespace.
    pub(crate) fn extend_absent(&mut self, other: &LogAttributes) {
        for (key, value) in &other.entries {
            if !key.starts_with("sentry.") && self.position(key).is_none() {
                self.entries.push((key.clone(), value.clone()));
            }
        }
    }

    /// Sets `key` only if it is not set yet (SDK defaults never override what the caller set).
    pub(crate) fn insert_if_absent(&mut self, key: &'static str, value: impl FnOnce() -> LogValue) {
        if self.position(key).is_none() {
            self.entries.push((Cow::Borrowed(key), value()));
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&LogValue> {
        self.position(key).map(|i| &self.entries[i].1)
    }

    /// `true` if `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<LogValue> {
        self.position(key).map(|i| self.entries.remove(i).1)
    }

    /// The attributes in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &LogValue)> + '_ {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// The values, for cutting them to the limits.
    pub(crate) fn values_mut(&mut self) -> impl Iterator<Item = &mut LogValue> + '_ {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k == key)
    }

    pub(super) fn estimated_size(&self) -> usize {
        // "attributes":{} plus, per entry, the quoted key, a colon and a comma.
        16 + self
            .entries
            .iter()
            .map(|(k, v)| k.len() + 4 + v.estimated_size())
            .sum::<usize>()
    }
}

impl<K: Into<Cow<'static, str>>, V: Into<LogValue>> FromIterator<(K, V)> for LogAttributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut attributes = LogAttributes::new();
        attributes.extend(iter);
        attributes
    }
}

impl<K: Into<Cow<'static, str>>, V: Into<LogValue>> Extend<(K, V)> for LogAttributes {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl Serialize for LogAttributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.entries.iter().map(|(k, v)| (k, v)))
    }
}

impl<'de> Deserialize<'de> for LogAttributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct AttributesVisitor;

        impl<'de> Visitor<'de> for AttributesVisitor {
            type Value = LogAttributes;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of typed attribute values")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogAttributes, A::Error> {
                let mut attributes = LogAttributes::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((key, value)) = map.next_entry::<String, LogValue>()? {
                    if attributes.insert(key.clone(), value).is_some() {
                        return Err(de::Error::custom(format_args!(
                            "duplicate attribute {key:?}"
                        )));
                    }
                }
                Ok(attributes)
            }
        }

        d.deserialize_map(AttributesVisitor)
    }
}
