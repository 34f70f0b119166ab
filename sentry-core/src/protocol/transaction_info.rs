//! `transaction_info`: how a transaction's name was chosen.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a transaction's name comes from (wire: `transaction_info.source`), which tells Sentry
/// whether the name is low-cardinality (a route) or may hold ids (a raw URL) and must be
/// scrubbed before grouping. Dynamic sampling needs it.
///
/// Reading: the six names an SDK may send; any other name (`"unknown"`, which only Relay
/// sets, or one added later) reads as [`TransactionSource::Custom`], the source of a name the
/// SDK cannot vouch for.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::TransactionSource;
///
/// assert_eq!(TransactionSource::Route.as_str(), "route");
/// assert_eq!(TransactionSource::from_name("url"), TransactionSource::Url);
/// assert_eq!(TransactionSource::from_name("unknown"), TransactionSource::Custom);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransactionSource {
    /// A name the user set (the default).
    #[default]
    Custom,
    /// A raw URL path, possibly holding identifiers.
    Url,
    /// A parametrized route, such as `/users/{id}`.
    Route,
    /// The name of a view or handler.
    View,
    /// The name of a UI component.
    Component,
    /// A background task or job.
    Task,
}

impl TransactionSource {
    /// The wire name, such as `"route"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TransactionSource::Custom => "custom",
            TransactionSource::Url => "url",
            TransactionSource::Route => "route",
            TransactionSource::View => "view",
            TransactionSource::Component => "component",
            TransactionSource::Task => "task",
        }
    }

    /// The source with this wire name; [`TransactionSource::Custom`] for any other name.
    pub fn from_name(name: &str) -> TransactionSource {
        match name {
            "url" => TransactionSource::Url,
            "route" => TransactionSource::Route,
            "view" => TransactionSource::View,
            "component" => TransactionSource::Component,
            "task" => TransactionSource::Task,
            _ => TransactionSource::Custom,
        }
    }
}

impl fmt::Display for TransactionSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TransactionSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for TransactionSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = Cow::<'de, str>::deserialize(d)?;
        Ok(TransactionSource::from_name(&name))
    }
}

/// Information about a transaction's name (wire: `transaction_info`).
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{TransactionInfo, TransactionSource};
///
/// let info = TransactionInfo { source: TransactionSource::Route };
/// assert_eq!(serde_json::to_string(&info).unwrap(), r#"{"source":"route"}"#);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TransactionInfo {
    /// Where the transaction's name comes from.
    #[serde(default)]
    pub source: TransactionSource,
}

impl From<TransactionSource> for TransactionInfo {
    fn from(source: TransactionSource) -> Self {
        TransactionInfo { source }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_round_trip() {
        for source in [
            TransactionSource::Custom,
            TransactionSource::Url,
            TransactionSource::Route,
            TransactionSource::View,
            TransactionSource::Component,
            TransactionSource::Task,
        ] {
            let info = TransactionInfo::from(source);
            let json = serde_json::to_string(&info).unwrap();
            assert_eq!(json, format!(r#"{{"source":"{source}"}}"#));
            assert_eq!(
                serde_json::from_str::<TransactionInfo>(&json).unwrap(),
                info
            );
        }
        for other in ["unknown", "sanitized", ""] {
            assert_eq!(
                TransactionSource::from_name(other),
                TransactionSource::Custom
            );
        }
        let read: TransactionInfo = serde_json::from_str(r#"{"source":"unknown","x":1}"#).unwrap();
        assert_eq!(read.source, TransactionSource::Custom);
        let empty: TransactionInfo = serde_json::from_str("{}").unwrap();
        assert_eq!(empty.source, TransactionSource::Custom);
    }
}
