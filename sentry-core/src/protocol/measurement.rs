//! Transaction measurements: named numbers with a unit (`measurements` of a transaction).

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! units {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// The unit of a [`Measurement`], written as its name (`"millisecond"`, `"byte"`, …).
        ///
        /// Sentry's units: durations (`nanosecond` to `week`), information (`bit`, `byte`, and
        /// the decimal and binary multiples up to `exabyte`/`exbibyte`), fractions (`ratio`,
        /// `percent`), and `none` for a plain number. Any other name is a
        /// [`MeasurementUnit::Custom`] unit, written as it is.
        ///
        /// # Examples
        ///
        /// ```
        /// use sentry_core::protocol::MeasurementUnit;
        ///
        /// assert_eq!(MeasurementUnit::Millisecond.as_str(), "millisecond");
        /// assert_eq!(MeasurementUnit::from_name("kibibyte"), MeasurementUnit::Kibibyte);
        /// assert_eq!(
        ///     MeasurementUnit::from_name("frames"),
        ///     MeasurementUnit::Custom("frames".into())
        /// );
        /// ```
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum MeasurementUnit {
            $($(#[$doc])* $variant,)*
            /// Any other unit, by its name.
            Custom(String),
        }

        impl MeasurementUnit {
            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $(MeasurementUnit::$variant => $name,)*
                    MeasurementUnit::Custom(name) => name,
                }
            }

            /// The unit with this name; [`MeasurementUnit::Custom`] for names Sentry does not
            /// define.
            pub fn from_name(name: &str) -> MeasurementUnit {
                match name {
                    $($name => MeasurementUnit::$variant,)*
                    other => MeasurementUnit::Custom(other.to_owned()),
                }
            }
        }
    };
}

units! {
    /// 10^-9 seconds.
    Nanosecond => "nanosecond",
    /// 10^-6 seconds.
    Microsecond => "microsecond",
    /// 10^-3 seconds.
    Millisecond => "millisecond",
    /// A second.
    Second => "second",
    /// 60 seconds.
    Minute => "minute",
    /// 3,600 seconds.
    Hour => "hour",
    /// 86,400 seconds.
    Day => "day",
    /// 604,800 seconds.
    Week => "week",
    /// An eighth of a byte.
    Bit => "bit",
    /// A byte.
    Byte => "byte",
    /// 10^3 bytes.
    Kilobyte => "kilobyte",
    /// 2^10 bytes.
    Kibibyte => "kibibyte",
    /// 10^6 bytes.
    Megabyte => "megabyte",
    /// 2^20 bytes.
    Mebibyte => "mebibyte",
    /// 10^9 bytes.
    Gigabyte => "gigabyte",
    /// 2^30 bytes.
    Gibibyte => "gibibyte",
    /// 10^12 bytes.
    Terabyte => "terabyte",
    /// 2^40 bytes.
    Tebibyte => "tebibyte",
    /// 10^15 bytes.
    Petabyte => "petabyte",
    /// 2^50 bytes.
    Pebibyte => "pebibyte",
    /// 10^18 bytes.
    Exabyte => "exabyte",
    /// 2^60 bytes.
    Exbibyte => "exbibyte",
    /// A fraction, 0 to 1.
    Ratio => "ratio",
    /// A fraction, 0 to 100.
    Percent => "percent",
    /// A plain number without a unit.
    None => "none",
}

impl fmt::Display for MeasurementUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for MeasurementUnit {
    fn from(name: &str) -> Self {
        MeasurementUnit::from_name(name)
    }
}

impl Serialize for MeasurementUnit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MeasurementUnit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        Ok(MeasurementUnit::from_name(&name))
    }
}

/// One measurement of a transaction: `{"value": 12.5, "unit": "millisecond"}`.
///
/// A value that is not finite (NaN, ±infinity) has no JSON form: such a measurement is never
/// written (the event's `measurements` map leaves it out), and the event limits remove it
/// from the event before it is queued.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Event, EventType, Measurement, MeasurementUnit};
///
/// let mut transaction = Event { ty: EventType::Transaction, ..Event::default() };
/// transaction.measurements.insert(
///     "db.calls".into(),
///     Measurement { value: 3.0, unit: Some(MeasurementUnit::None) },
/// );
/// transaction.measurements.insert("broken".into(), Measurement::new(f64::NAN));
/// let json = serde_json::to_value(&transaction).unwrap();
/// assert_eq!(json["measurements"], serde_json::json!({"db.calls": {"value": 3.0, "unit": "none"}}));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Measurement {
    /// The value.
    pub value: f64,
    /// The unit; Sentry assumes none when it is missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<MeasurementUnit>,
}

impl Measurement {
    /// A measurement without a unit.
    pub fn new(value: f64) -> Self {
        Measurement { value, unit: None }
    }

    /// A measurement in `unit`.
    pub fn with_unit(value: f64, unit: MeasurementUnit) -> Self {
        Measurement {
            value,
            unit: Some(unit),
        }
    }

    /// `true` if the value can be written (it is neither NaN nor infinite).
    pub fn is_finite(&self) -> bool {
        self.value.is_finite()
    }
}

/// `#[serde(with = "measurements")]` for an event's measurements: a JSON object in key order
/// that leaves out measurements whose value is not finite.
pub(crate) mod measurements {
    use sentry_minimal::SortedMap;
    use serde::{Deserializer, Serializer};

    use super::Measurement;

    pub(crate) fn serialize<S: Serializer>(
        map: &SortedMap<String, Measurement>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(map.iter().filter(|(_, m)| m.is_finite()))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<SortedMap<String, Measurement>, D::Error> {
        crate::protocol::minimal_serde::sorted_map::deserialize(d)
    }

    /// `true` when nothing would be written: skip the key.
    pub(crate) fn is_empty(map: &SortedMap<String, Measurement>) -> bool {
        !map.values().any(Measurement::is_finite)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_round_trips() {
        let names = [
            "nanosecond",
            "microsecond",
            "millisecond",
            "second",
            "minute",
            "hour",
            "day",
            "week",
            "bit",
            "byte",
            "kilobyte",
            "kibibyte",
            "megabyte",
            "mebibyte",
            "gigabyte",
            "gibibyte",
            "terabyte",
            "tebibyte",
            "petabyte",
            "pebibyte",
            "exabyte",
            "exbibyte",
            "ratio",
            "percent",
            "none",
        ];
        for name in names {
            let unit = MeasurementUnit::from_name(name);
            assert!(!matches!(unit, MeasurementUnit::Custom(_)), "{name}");
            assert_eq!(unit.as_str(), name);
            let json = serde_json::to_string(&unit).unwrap();
            assert_eq!(json, format!("\"{name}\""));
            assert_eq!(
                serde_json::from_str::<MeasurementUnit>(&json).unwrap(),
                unit
            );
        }
        let custom = MeasurementUnit::from("frame");
        assert_eq!(custom, MeasurementUnit::Custom("frame".into()));
        assert_eq!(serde_json::to_string(&custom).unwrap(), r#""frame""#);
    }

    #[test]
    fn measurements_read_and_write() {
        let m = Measurement::with_unit(1.5, MeasurementUnit::Second);
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"value":1.5,"unit":"second"}"#);
        assert_eq!(serde_json::from_str::<Measurement>(&json).unwrap(), m);
        let bare: Measurement = serde_json::from_str(r#"{"value":2}"#).unwrap();
        assert_eq!(bare, Measurement::new(2.0));
        assert!(!Measurement::new(f64::INFINITY).is_finite());
    }
}
