//! Memory addresses, written as `"0x…"` hex strings.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A memory address in a stack frame or a debug image, written as a `"0x…"` hex string.
///
/// Reading also accepts plain integers and decimal strings.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Addr;
///
/// let addr = Addr(0x7f00_1234);
/// assert_eq!(addr.to_string(), "0x7f001234");
/// assert_eq!("0x7F001234".parse::<Addr>(), Ok(addr));
/// assert_eq!(serde_json::to_string(&addr).unwrap(), r#""0x7f001234""#);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr(pub u64);

impl Addr {
    /// The address as a number.
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// `true` for address zero.
    pub const fn is_null(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Debug for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Addr({:#x})", self.0)
    }
}

impl From<u64> for Addr {
    fn from(addr: u64) -> Self {
        Addr(addr)
    }
}

impl From<usize> for Addr {
    fn from(addr: usize) -> Self {
        // usize is at most 64 bits on every supported target.
        Addr(addr as u64)
    }
}

impl From<Addr> for u64 {
    fn from(addr: Addr) -> Self {
        addr.0
    }
}

/// The error returned when a string is not an address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseAddrError(());

impl fmt::Display for ParseAddrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected an address: \"0x\" followed by hex digits, or a decimal number")
    }
}

impl std::error::Error for ParseAddrError {}

impl FromStr for Addr {
    type Err = ParseAddrError;

    /// Parses `0x`-prefixed hex (either case) or a decimal number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => s.parse(),
        };
        // `from_str_radix` accepts a leading `+`; addresses never have one.
        if s.contains('+') {
            return Err(ParseAddrError(()));
        }
        parsed.map(Addr).map_err(|_| ParseAddrError(()))
    }
}

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

struct AddrVisitor;

impl Visitor<'_> for AddrVisitor {
    type Value = Addr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an address (\"0x…\" string or integer)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Addr, E> {
        Ok(Addr(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Addr, E> {
        u64::try_from(v)
            .map(Addr)
            .map_err(|_| E::custom(format_args!("negative address {v}")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Addr, E> {
        v.parse()
            .map_err(|_| E::custom(format_args!("invalid address {v:?}")))
    }
}

impl<'de> Deserialize<'de> for Addr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AddrVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(Addr(0).to_string(), "0x0");
        assert_eq!(Addr(u64::MAX).to_string(), "0xffffffffffffffff");
        assert_eq!("0xffffffffffffffff".parse(), Ok(Addr(u64::MAX)));
        assert_eq!("4096".parse(), Ok(Addr(4096)));
        assert!("0x".parse::<Addr>().is_err());
        assert!("0x+1".parse::<Addr>().is_err());
        assert!("0x10000000000000000".parse::<Addr>().is_err());
        assert!("zz".parse::<Addr>().is_err());
        assert_eq!(format!("{:?}", Addr(16)), "Addr(0x10)");
    }

    #[test]
    fn serde_forms() {
        assert_eq!(serde_json::to_string(&Addr(255)).unwrap(), r#""0xff""#);
        assert_eq!(
            serde_json::from_str::<Addr>(r#""0xff""#).unwrap(),
            Addr(255)
        );
        assert_eq!(serde_json::from_str::<Addr>("255").unwrap(), Addr(255));
        assert!(serde_json::from_str::<Addr>("-1").is_err());
        assert!(serde_json::from_str::<Addr>("1.5").is_err());
    }
}
