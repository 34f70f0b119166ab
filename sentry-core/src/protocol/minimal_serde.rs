//! Serde support for the types `sentry-minimal` defines.
//!
//! `sentry-minimal` has no dependencies, so its types ([`Level`], [`SpanStatus`], [`Value`],
//! [`Map`], the ids, [`Breadcrumb`], [`User`]) do not implement `Serialize`/`Deserialize`, and
//! the orphan rule keeps this crate from adding the impls. Instead, two crate-private traits, [`ToWire`] and
//! [`FromWire`], describe their wire form, and the [`wire`] module plugs them into derived code:
//!
//! ```text
//! #[serde(with = "wire", default, skip_serializing_if = "Option::is_none")]
//! user: Option<User>,
//! ```
//!
//! The traits are implemented for the minimal types and for `Option`, `Vec`, `Arc` and
//! `SortedMap<String, _>` of them, so one `with = "wire"` covers every field shape. Maps of
//! plain serde types (`SortedMap<Cow<str>, Cow<str>>` for tags) use [`sorted_map`].
//!
//! Wire forms:
//! - [`Level`]: `"debug" | "info" | "warning" | "error" | "fatal"` (reading also accepts the
//!   aliases [`Level`]'s `FromStr` knows, such as `"warn"`);
//! - [`SpanStatus`]: its name, such as `"ok"` or `"not_found"`; reading accepts any string,
//!   names Sentry does not know becoming [`SpanStatus::Unknown`];
//! - ids: lowercase hex strings;
//! - [`Value`]/[`Map`]: plain JSON; non-finite floats are written as `null`, `U64` exactly.
//!   Integers are read back as `I64` when they fit and as `U64` otherwise;
//! - [`Breadcrumb`]: `{timestamp (float seconds), type, category, message, data, level, origin}`,
//!   `type` and `level` left out at their defaults (`default`, `info`), which Relay fills in;
//! - [`User`]: `{id, email, username, ip_address, ...other}` with the `other` keys inline.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use sentry_minimal::{
    Breadcrumb, EventId, Level, Map, SortedMap, SpanId, SpanStatus, TraceId, User, Value,
};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::depth::{DEPTH_MARKER, MAX_DEPTH};

/// A type that can write itself in Sentry's wire format.
pub(crate) trait ToWire {
    /// Serializes `self`.
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error>;
}

/// A type that can read itself from Sentry's wire format.
pub(crate) trait FromWire: Sized {
    /// Deserializes a value.
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Borrows a [`ToWire`] value as something `Serialize`.
pub(crate) struct Ser<'a, T: ?Sized>(pub(crate) &'a T);

impl<T: ToWire + ?Sized> Serialize for Ser<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.to_wire(s)
    }
}

/// Wraps a [`FromWire`] value as something `Deserialize`.
pub(crate) struct De<T>(pub(crate) T);

impl<'de, T: FromWire> Deserialize<'de> for De<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::from_wire(d).map(De)
    }
}

/// `#[serde(with = "wire")]` for any field whose type implements [`ToWire`] and [`FromWire`].
pub(crate) mod wire {
    use super::{FromWire, ToWire};

    pub(crate) fn serialize<T: ToWire, S: serde::Serializer>(
        v: &T,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.to_wire(s)
    }

    pub(crate) fn deserialize<'de, T: FromWire, D: serde::Deserializer<'de>>(
        d: D,
    ) -> Result<T, D::Error> {
        T::from_wire(d)
    }
}

// ---- containers ----

impl<T: ToWire> ToWire for Option<T> {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => s.serialize_some(&Ser(v)),
            None => s.serialize_none(),
        }
    }
}

impl<T: FromWire> FromWire for Option<T> {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<De<T>>::deserialize(d)?.map(|v| v.0))
    }
}

impl<T: ToWire> ToWire for Vec<T> {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter().map(Ser))
    }
}

impl<T: FromWire> FromWire for Vec<T> {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<De<T>>::deserialize(d)?
            .into_iter()
            .map(|v| v.0)
            .collect())
    }
}

impl<T: ToWire> ToWire for Arc<T> {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).to_wire(s)
    }
}

impl<T: FromWire> FromWire for Arc<T> {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::from_wire(d).map(Arc::new)
    }
}

impl<V: ToWire> ToWire for SortedMap<String, V> {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter().map(|(k, v)| (k, Ser(v))))
    }
}

impl<V: FromWire> FromWire for SortedMap<String, V> {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let map: SortedMap<String, De<V>> = sorted_map::deserialize(d)?;
        Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}

/// `#[serde(with = "sorted_map")]` for a [`SortedMap`] of serde types: written as a JSON
/// object in key order; when reading, a repeated key keeps its last value.
pub(crate) mod sorted_map {
    use std::fmt;
    use std::marker::PhantomData;

    use sentry_minimal::SortedMap;
    use serde::de::{MapAccess, Visitor};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &SortedMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(map)
    }

    pub(crate) fn deserialize<'de, K, V, D>(d: D) -> Result<SortedMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        d.deserialize_map(MapVisitor(PhantomData))
    }

    struct MapVisitor<K, V>(PhantomData<(K, V)>);

    impl<'de, K: Deserialize<'de> + Ord, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
        type Value = SortedMap<K, V>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = SortedMap::with_capacity(access.size_hint().unwrap_or(0).min(256));
            while let Some((key, value)) = access.next_entry()? {
                map.insert(key, value);
            }
            Ok(map)
        }
    }
}

// ---- Level ----

impl ToWire for Level {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromWire for Level {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        name.parse().map_err(|_| {
            de::Error::custom(format_args!(
                "unknown level {name:?}, expected one of debug, info, warning, error, fatal"
            ))
        })
    }
}

// ---- SpanStatus ----

impl ToWire for SpanStatus {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromWire for SpanStatus {
    /// Any string is accepted: names Sentry does not know read as [`SpanStatus::Unknown`].
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        Ok(SpanStatus::from(name.as_ref()))
    }
}

// ---- ids ----

macro_rules! id_wire {
    ($($ty:ty),*) => {$(
        impl ToWire for $ty {
            fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl FromWire for $ty {
            fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = Cow::<'de, str>::deserialize(d)?;
                text.parse().map_err(|e| {
                    de::Error::custom(format_args!(
                        concat!("invalid ", stringify!($ty), " {:?}: {}"),
                        text, e
                    ))
                })
            }
        }
    )*};
}
id_wire!(EventId, TraceId, SpanId);

// ---- Value ----

impl ToWire for Value {
    /// Writes the value as JSON. A map or array [`MAX_DEPTH`] levels
    /// down is written as [`DEPTH_MARKER`] instead of being
    /// entered: the pipeline cuts deeper data before it gets here, and this keeps data that
    /// skipped it (an envelope built by hand) from exhausting the writer's stack.
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        Nested(self, 0).serialize(s)
    }
}

/// A value below `.1` levels of maps and arrays of the value being written.
struct Nested<'a>(&'a Value, usize);

impl Serialize for Nested<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let Nested(value, depth) = *self;
        match value {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::I64(n) => s.serialize_i64(*n),
            Value::U64(n) => s.serialize_u64(*n),
            Value::F64(n) if n.is_finite() => s.serialize_f64(*n),
            Value::F64(_) => s.serialize_unit(),
            Value::String(v) => s.serialize_str(v),
            Value::Array(_) | Value::Map(_) if depth >= MAX_DEPTH => s.serialize_str(DEPTH_MARKER),
            Value::Array(items) => s.collect_seq(items.iter().map(|item| Nested(item, depth + 1))),
            Value::Map(map) => s.collect_map(map.iter().map(|(k, v)| (k, Nested(v, depth + 1)))),
            // `Value` is non-exhaustive; a future variant is written as its JSON text.
            #[allow(unreachable_patterns)]
            other => s.collect_str(other),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::I64(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::U64(v), Value::I64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::F64(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::from_wire(d)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(256));
        while let Some(De(item)) = seq.next_element::<De<Value>>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some((key, De(value))) = access.next_entry::<String, De<Value>>()? {
            map.insert(key, value);
        }
        Ok(Value::Map(map))
    }
}

impl FromWire for Value {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

/// Converts a [`Value`] to a `serde_json::Value` (non-finite floats become `null`).
pub fn value_to_json(value: &Value) -> serde_json::Value {
    serde_json::to_value(Ser(value)).unwrap_or(serde_json::Value::Null)
}

/// Converts a `serde_json::Value` to a [`Value`].
///
/// Maps and arrays nested more than 128 levels deep (deeper than serde_json reads from text)
/// become [`DEPTH_MARKER`]; what lies below is freed without
/// recursion, so a value of any depth is converted without exhausting the stack.
pub fn value_from_json(value: serde_json::Value) -> Value {
    from_json_at(value, 0)
}

/// How deep [`value_from_json`] converts: serde_json's own nesting limit when reading text.
const FROM_JSON_DEPTH: usize = 128;

fn from_json_at(value: serde_json::Value, depth: usize) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::I64(i)
            } else if let Some(u) = n.as_u64() {
                Value::U64(u)
            } else {
                n.as_f64().map_or(Value::Null, Value::F64)
            }
        }
        serde_json::Value::String(s) => Value::String(s),
        deep @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))
            if depth >= FROM_JSON_DEPTH =>
        {
            dispose_json(deep);
            Value::String(DEPTH_MARKER.to_owned())
        }
        serde_json::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|item| from_json_at(item, depth + 1))
                .collect(),
        ),
        serde_json::Value::Object(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| (k, from_json_at(v, depth + 1)))
                .collect(),
        ),
    }
}

/// Frees a `serde_json::Value` without recursing (see [`dispose`]).
fn dispose_json(value: serde_json::Value) {
    let mut pending = vec![value];
    while let Some(mut value) = pending.pop() {
        match &mut value {
            serde_json::Value::Array(items) => pending.append(items),
            serde_json::Value::Object(map) => {
                pending.extend(std::mem::take(map).into_iter().map(|(_, v)| v));
            }
            _ => {}
        }
    }
}

// ---- Breadcrumb ----

impl ToWire for Breadcrumb {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("timestamp", &crate::time::timestamp_f64(self.timestamp))?;
        // `type` and `level` are left out at their defaults (`default`, `info`), which Relay
        // fills in: every breadcrumb of an event used to repeat them.
        if self.ty != "default" {
            map.serialize_entry("type", &self.ty)?;
        }
        if let Some(category) = &self.category {
            map.serialize_entry("category", category)?;
        }
        if let Some(message) = &self.message {
            map.serialize_entry("message", message)?;
        }
        if !self.data.is_empty() {
            map.serialize_entry("data", &Ser(&self.data))?;
        }
        if self.level != Level::Info {
            map.serialize_entry("level", self.level.as_str())?;
        }
        if let Some(origin) = &self.origin {
            map.serialize_entry("origin", origin)?;
        }
        map.end()
    }
}

/// The wire shape of a breadcrumb, for reading.
#[derive(Deserialize)]
struct BreadcrumbIn {
    #[serde(with = "crate::time::seconds_opt", default)]
    timestamp: Option<SystemTime>,
    #[serde(rename = "type", default)]
    ty: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(with = "wire", default)]
    data: Option<Map>,
    #[serde(with = "wire", default)]
    level: Option<Level>,
    #[serde(default)]
    origin: Option<String>,
}

impl FromWire for Breadcrumb {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = BreadcrumbIn::deserialize(d)?;
        // `Breadcrumb` is non-exhaustive: start from the default and fill in.
        let mut crumb = Breadcrumb::default();
        if let Some(timestamp) = wire.timestamp {
            crumb.timestamp = timestamp;
        }
        if let Some(ty) = wire.ty {
            crumb.ty = Cow::Owned(ty);
        }
        crumb.category = wire.category.map(Cow::Owned);
        crumb.message = wire.message.map(Cow::Owned);
        crumb.data = wire.data.unwrap_or_default();
        if let Some(level) = wire.level {
            crumb.level = level;
        }
        crumb.origin = wire.origin.map(Cow::Owned);
        Ok(crumb)
    }
}

// ---- User ----

const USER_KEYS: [&str; 4] = ["id", "email", "username", "ip_address"];

impl ToWire for User {
    fn to_wire<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        for (key, value) in
            USER_KEYS
                .iter()
                .zip([&self.id, &self.email, &self.username, &self.ip_address])
        {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        for (key, value) in &self.other {
            // A key that names a known field would produce a duplicate key; the field wins.
            if !USER_KEYS.contains(&key.as_str()) {
                map.serialize_entry(key, &Ser(value))?;
            }
        }
        map.end()
    }
}

/// The wire shape of a user, for reading.
#[derive(Deserialize)]
struct UserIn {
    #[serde(default)]
    id: Option<UserId>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    ip_address: Option<String>,
    #[serde(flatten, with = "wire")]
    other: Map,
}

/// User ids may arrive as numbers; they are kept as strings.
#[derive(Deserialize)]
#[serde(untagged)]
enum UserId {
    String(String),
    I64(i64),
    U64(u64),
}

impl FromWire for User {
    fn from_wire<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = UserIn::deserialize(d)?;
        Ok(User {
            id: wire.id.map(|id| match id {
                UserId::String(s) => s,
                UserId::I64(n) => n.to_string(),
                UserId::U64(n) => n.to_string(),
            }),
            email: wire.email,
            username: wire.username,
            ip_address: wire.ip_address,
            other: wire.other,
        })
    }
}

/// `#[serde(with = "values")]`: a `Vec` written as `{"values": [...]}` (the shape of
/// `exception`, `threads` and `breadcrumbs`). Reading also accepts a bare array.
pub(crate) mod values {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize)]
    struct ValuesOut<'a, T> {
        values: &'a [T],
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum ValuesIn<T> {
        Wrapped {
            #[serde(default = "Vec::new")]
            values: Vec<T>,
        },
        Bare(Vec<T>),
    }

    pub(crate) fn serialize<T: Serialize, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        ValuesOut { values: v }.serialize(s)
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        Ok(match Option::<ValuesIn<T>>::deserialize(d)? {
            Some(ValuesIn::Wrapped { values } | ValuesIn::Bare(values)) => values,
            None => Vec::new(),
        })
    }
}

/// Like [`values`], for a `Vec` of [`ToWire`] items (breadcrumbs).
pub(crate) mod wire_values {
    use super::{De, FromWire, Ser, ToWire};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    pub(crate) fn serialize<T: ToWire, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry("values", &SerSlice(v))?;
        map.end()
    }

    struct SerSlice<'a, T>(&'a [T]);

    impl<T: ToWire> serde::Serialize for SerSlice<'_, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(self.0.iter().map(Ser))
        }
    }

    pub(crate) fn deserialize<'de, T: FromWire, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Vec<T>, D::Error> {
        let values: Vec<De<T>> = super::values::deserialize(d)?;
        Ok(values.into_iter().map(|v| v.0).collect())
    }
}

/// `#[serde(with = "arc_opt")]` for `Option<Arc<T>>` (serde's own `Arc` support needs the `rc`
/// feature, which this crate does not enable).
pub(crate) mod arc_opt {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Arc<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.as_deref().serialize(s)
    }

    pub(crate) fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Arc<T>>, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map(Arc::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn to_json<T: ToWire>(v: &T) -> serde_json::Value {
        serde_json::to_value(Ser(v)).unwrap()
    }

    fn from_json<T: FromWire>(v: serde_json::Value) -> Result<T, serde_json::Error> {
        serde_json::from_value::<De<T>>(v).map(|v| v.0)
    }

    #[test]
    fn levels() {
        for level in [
            Level::Debug,
            Level::Info,
            Level::Warning,
            Level::Error,
            Level::Fatal,
        ] {
            assert_eq!(to_json(&level), json!(level.as_str()));
            assert_eq!(from_json::<Level>(json!(level.as_str())).unwrap(), level);
        }
        assert_eq!(from_json::<Level>(json!("warn")).unwrap(), Level::Warning);
        assert!(from_json::<Level>(json!("loud")).is_err());
        assert!(from_json::<Level>(json!(3)).is_err());
    }

    #[test]
    fn span_statuses() {
        for status in [
            SpanStatus::Ok,
            SpanStatus::Cancelled,
            SpanStatus::Unknown,
            SpanStatus::InvalidArgument,
            SpanStatus::DeadlineExceeded,
            SpanStatus::NotFound,
            SpanStatus::AlreadyExists,
            SpanStatus::PermissionDenied,
            SpanStatus::ResourceExhausted,
            SpanStatus::FailedPrecondition,
            SpanStatus::Aborted,
            SpanStatus::OutOfRange,
            SpanStatus::Unimplemented,
            SpanStatus::InternalError,
            SpanStatus::Unavailable,
            SpanStatus::DataLoss,
            SpanStatus::Unauthenticated,
        ] {
            assert_eq!(to_json(&status), json!(status.as_str()));
            assert_eq!(from_json::<SpanStatus>(to_json(&status)).unwrap(), status);
            let text = serde_json::to_string(&Ser(&status)).unwrap();
            assert_eq!(text, format!("\"{}\"", status.as_str()));
        }
        assert_eq!(
            from_json::<SpanStatus>(json!("weird")).unwrap(),
            SpanStatus::Unknown
        );
        assert!(from_json::<SpanStatus>(json!(2)).is_err());
        assert_eq!(to_json(&Some(SpanStatus::NotFound)), json!("not_found"));
    }

    #[test]
    fn ids_are_lowercase_hex() {
        let id = EventId::from_bytes([0xAB; 16]);
        assert_eq!(to_json(&id), json!("abababababababababababababababab"));
        assert_eq!(from_json::<EventId>(to_json(&id)).unwrap(), id);
        let span = SpanId::from_bytes([1, 2, 3, 4, 5, 6, 7, 0xff]);
        assert_eq!(to_json(&span), json!("01020304050607ff"));
        assert!(from_json::<SpanId>(json!("xyz")).is_err());
        assert!(from_json::<TraceId>(json!(12)).is_err());
    }

    /// Maps and arrays below the depth limit are written as the marker, however deep the value
    /// goes: writing it takes a bounded stack.
    #[test]
    fn deep_values_are_written_with_a_marker() {
        let json = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(|| {
                let mut value = Value::from("leaf");
                for _ in 0..100_000 {
                    value = Value::Array(vec![value]);
                }
                let json = serde_json::to_string(&Ser(&value)).unwrap();
                crate::depth::dispose(value);
                json
            })
            .unwrap()
            .join()
            .unwrap();
        let depth = MAX_DEPTH;
        assert_eq!(
            json,
            format!(
                "{}\"{}\"{}",
                "[".repeat(depth),
                DEPTH_MARKER,
                "]".repeat(depth)
            )
        );
    }

    #[test]
    fn values_as_json() {
        let mut map = Map::new();
        map.insert("big".into(), Value::U64(u64::MAX));
        map.insert("neg".into(), Value::I64(-5));
        map.insert("nan".into(), Value::F64(f64::NAN));
        map.insert("inf".into(), Value::F64(f64::INFINITY));
        map.insert("f".into(), Value::F64(1.5));
        map.insert("s".into(), "x".into());
        map.insert("list".into(), Value::Array(vec![Value::Null, true.into()]));
        let value = Value::Map(map);
        let json = to_json(&value);
        assert_eq!(
            json,
            json!({"big": u64::MAX, "neg": -5, "nan": null, "inf": null, "f": 1.5, "s": "x",
                   "list": [null, true]})
        );
        assert_eq!(
            serde_json::to_string(&Ser(&Value::U64(u64::MAX))).unwrap(),
            "18446744073709551615"
        );
        let back: Value = from_json(json.clone()).unwrap();
        let Value::Map(back) = back else {
            panic!("not a map")
        };
        assert_eq!(back["big"], Value::U64(u64::MAX));
        assert_eq!(back["neg"], Value::I64(-5));
        assert_eq!(back["nan"], Value::Null);
        assert_eq!(back["f"], Value::F64(1.5));
        // Small unsigned numbers come back as I64.
        assert_eq!(from_json::<Value>(json!(3)).unwrap(), Value::I64(3));
        // The serde_json conversions agree with the serde path.
        assert_eq!(value_to_json(&Value::Map(back.clone())), json);
        assert_eq!(value_from_json(json), Value::Map(back));
    }

    #[test]
    fn breadcrumbs() {
        let mut crumb = Breadcrumb::new("clicked")
            .category("ui.click")
            .level(Level::Warning)
            .data("x", 1)
            .origin("auto.ui");
        crumb.timestamp = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1500);
        let json = to_json(&crumb);
        assert_eq!(
            json,
            json!({"timestamp": 1.5, "category": "ui.click",
                   "message": "clicked", "data": {"x": 1}, "level": "warning",
                   "origin": "auto.ui"})
        );
        assert_eq!(from_json::<Breadcrumb>(json).unwrap(), crumb);
        // The defaults Relay fills in are left out; others are written.
        let mut plain = Breadcrumb::new("step").ty("navigation");
        plain.timestamp = SystemTime::UNIX_EPOCH;
        assert_eq!(
            to_json(&plain),
            json!({"timestamp": 0.0, "type": "navigation", "message": "step"})
        );
        // Minimal input: defaults fill the rest.
        let minimal: Breadcrumb = from_json(json!({"timestamp": "1970-01-01T00:00:01Z"})).unwrap();
        assert_eq!(minimal.ty, "default");
        assert_eq!(minimal.level, Level::Info);
        assert_eq!(
            minimal.timestamp,
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1)
        );
    }

    #[test]
    fn users() {
        let mut user = User {
            id: Some("42".into()),
            ip_address: Some("{{auto}}".into()),
            ..User::default()
        };
        user.other.insert("plan".into(), "pro".into());
        user.other.insert("id".into(), "shadowed".into());
        let json = to_json(&user);
        assert_eq!(
            json,
            json!({"id": "42", "ip_address": "{{auto}}", "plan": "pro"})
        );
        user.other.remove("id");
        assert_eq!(from_json::<User>(json).unwrap(), user);
        let numeric: User = from_json(json!({"id": 7, "geo": {"city": "Vienna"}})).unwrap();
        assert_eq!(numeric.id.as_deref(), Some("7"));
        assert!(numeric.other.contains_key("geo"));
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Holder {
        #[serde(with = "values", default)]
        list: Vec<u32>,
        #[serde(with = "wire_values", default)]
        crumbs: Vec<Arc<Breadcrumb>>,
        #[serde(with = "arc_opt", default)]
        shared: Option<Arc<String>>,
    }

    #[test]
    fn values_wrappers() {
        let holder = Holder {
            list: vec![1, 2],
            crumbs: vec![Arc::new({
                let mut crumb = Breadcrumb::new("a");
                crumb.timestamp = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(7);
                crumb
            })],
            shared: Some(Arc::new("s".into())),
        };
        let json = serde_json::to_value(&holder).unwrap();
        assert_eq!(json["list"], json!({"values": [1, 2]}));
        assert_eq!(json["crumbs"]["values"][0]["message"], json!("a"));
        assert_eq!(json["shared"], json!("s"));
        let back: Holder = serde_json::from_value(json).unwrap();
        assert_eq!(back, holder);
        let bare: Holder = serde_json::from_value(json!({"list": [3], "crumbs": {}})).unwrap();
        assert_eq!(bare.list, vec![3]);
        assert!(bare.crumbs.is_empty());
        let null: Holder = serde_json::from_value(json!({"list": null})).unwrap();
        assert!(null.list.is_empty());
    }
}
