//! Identifiers: [`EventId`], [`TraceId`] and [`SpanId`].
//!
//! Each is a fixed number of random bytes written as lowercase hex without dashes, which is the
//! form Sentry's wire format expects. The facade only parses and prints them; the SDK backend
//! generates them.

use std::fmt;
use std::str::FromStr;

/// The error returned when a string is not a valid identifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseIdError {
    expected_hex_digits: usize,
}

impl fmt::Display for ParseIdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "expected {} hexadecimal digits (dashes allowed)",
            self.expected_hex_digits
        )
    }
}

impl std::error::Error for ParseIdError {}

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    let err = ParseIdError {
        expected_hex_digits: N * 2,
    };
    let mut out = [0u8; N];
    let mut nibbles = s.bytes().filter(|&b| b != b'-');
    for byte in &mut out {
        let hi = nibbles
            .next()
            .and_then(hex_val)
            .ok_or_else(|| err.clone())?;
        let lo = nibbles
            .next()
            .and_then(hex_val)
            .ok_or_else(|| err.clone())?;
        *byte = (hi << 4) | lo;
    }
    if nibbles.next().is_some() {
        return Err(err);
    }
    Ok(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut buf = [0u8; 32];
    for (i, b) in bytes.iter().enumerate() {
        buf[i * 2] = DIGITS[(b >> 4) as usize];
        buf[i * 2 + 1] = DIGITS[(b & 0xf) as usize];
    }
    // Only ASCII hex digits were written.
    f.write_str(std::str::from_utf8(&buf[..bytes.len() * 2]).unwrap_or_default())
}

macro_rules! define_id {
    ($(#[$meta:meta])* $name:ident, $len:literal, $example:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The all-zero identifier, which Sentry treats as "none".
            pub const fn nil() -> Self {
                Self([0; $len])
            }

            /// An identifier from raw bytes.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// `true` if every byte is zero.
            pub fn is_nil(&self) -> bool {
                self.0 == [0; $len]
            }
        }

        impl fmt::Display for $name {
            /// Lowercase hex, no dashes.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = ParseIdError;

            /// Parses hex digits in either case; dashes (as in UUIDs) are ignored.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex::<$len>(s).map(Self)
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl From<$name> for [u8; $len] {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        const _: () = {
            // Keeps the doc example's literal honest about the length.
            assert!($example.len() == $len * 2);
        };
    };
}

define_id!(
    /// The identifier of an event: 16 bytes, written as 32 lowercase hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_minimal::EventId;
    ///
    /// let id: EventId = "fc6d8c0c43fc4630ad850ee518f1b9d0".parse().unwrap();
    /// assert_eq!(id.to_string(), "fc6d8c0c43fc4630ad850ee518f1b9d0");
    /// // UUID spelling is accepted too.
    /// assert_eq!("FC6D8C0C-43FC-4630-AD85-0EE518F1B9D0".parse::<EventId>(), Ok(id));
    /// assert!(EventId::nil().is_nil());
    /// ```
    EventId,
    16,
    "fc6d8c0c43fc4630ad850ee518f1b9d0"
);

impl EventId {
    /// The id in the hyphenated UUID form (`8-4-4-4-12` lowercase hex digits), as a `Uuid`
    /// prints; [`Display`](fmt::Display) writes the 32 digits without dashes, Sentry's form.
    /// Both forms parse back.
    ///
    /// A `uuid::Uuid` and an `EventId` convert through their bytes:
    /// `EventId::from(*uuid.as_bytes())` and `Uuid::from_bytes(event_id.into())`.
    ///
    /// ```
    /// use sentry_minimal::EventId;
    ///
    /// let id = EventId::from_bytes([0xfc, 0x6d, 0x8c, 0x0c, 0x43, 0xfc, 0x46, 0x30, 0xad, 0x85, 0x0e, 0xe5, 0x18, 0xf1, 0xb9, 0xd0]);
    /// assert_eq!(id.to_uuid_string(), "fc6d8c0c-43fc-4630-ad85-0ee518f1b9d0");
    /// assert_eq!(id.to_uuid_string().parse::<EventId>(), Ok(id));
    /// let bytes: [u8; 16] = id.into();
    /// assert_eq!(EventId::from(bytes), id);
    /// ```
    pub fn to_uuid_string(&self) -> String {
        let hex = self.to_string();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..]
        )
    }
}

define_id!(
    /// The identifier of a trace: 16 bytes, written as 32 lowercase hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_minimal::TraceId;
    ///
    /// let id: TraceId = "771a43a4192642f0b136d5159a501700".parse().unwrap();
    /// assert_eq!(id.to_string(), "771a43a4192642f0b136d5159a501700");
    /// ```
    TraceId,
    16,
    "771a43a4192642f0b136d5159a501700"
);

define_id!(
    /// The identifier of a span: 8 bytes, written as 16 lowercase hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_minimal::SpanId;
    ///
    /// let id: SpanId = "b0e6f15b45c36b12".parse().unwrap();
    /// assert_eq!(id.to_string(), "b0e6f15b45c36b12");
    /// ```
    SpanId,
    8,
    "b0e6f15b45c36b12"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_ids() {
        assert!("".parse::<EventId>().is_err());
        assert!("fc6d8c0c43fc4630ad850ee518f1b9d"
            .parse::<EventId>()
            .is_err());
        assert!("fc6d8c0c43fc4630ad850ee518f1b9d00"
            .parse::<EventId>()
            .is_err());
        assert!("zc6d8c0c43fc4630ad850ee518f1b9d0"
            .parse::<EventId>()
            .is_err());
        assert!("b0e6f15b45c36b1".parse::<SpanId>().is_err());
    }

    #[test]
    fn prints_lowercase_hex() {
        let id = SpanId::from_bytes([0xab, 0, 1, 2, 3, 4, 5, 0xff]);
        assert_eq!(id.to_string(), "ab000102030405ff");
        assert_eq!(format!("{id:?}"), "SpanId(ab000102030405ff)");
    }
}
