//! What kind of event an [`Event`](super::Event) is: an error/message event or a transaction.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The kind of an [`Event`](super::Event) (wire: its `"type"` key).
///
/// Error and message events are [`EventType::Default`], which is not written: Sentry infers
/// `error` or `default` from the event's contents. A transaction is [`EventType::Transaction`],
/// written as `"type":"transaction"` (Relay requires it on a transaction payload).
///
/// Reading: `"transaction"` gives [`EventType::Transaction`]; any other name (`"error"`,
/// `"default"`, a type this SDK does not send), `null` or a missing key gives
/// [`EventType::Default`].
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{Event, EventType};
///
/// let transaction = Event { ty: EventType::Transaction, ..Event::default() };
/// let json = serde_json::to_value(&transaction).unwrap();
/// assert_eq!(json["type"], "transaction");
///
/// let error = serde_json::to_value(Event::default()).unwrap();
/// assert!(error.get("type").is_none());
///
/// let read: Event = serde_json::from_value(serde_json::json!({"type": "error"})).unwrap();
/// assert_eq!(read.ty, EventType::Default);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// An error or message event; the `type` key is not written.
    #[default]
    Default,
    /// A transaction: `"type":"transaction"`.
    Transaction,
}

impl EventType {
    /// The wire name: `"default"` or `"transaction"` (only the latter is ever written).
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Default => "default",
            EventType::Transaction => "transaction",
        }
    }

    /// `true` for [`EventType::Default`], which is left out of the payload.
    pub fn is_default(&self) -> bool {
        *self == EventType::Default
    }

    /// The type read from a wire name: `"transaction"` or else [`EventType::Default`].
    pub fn from_name(name: &str) -> EventType {
        match name {
            "transaction" => EventType::Transaction,
            _ => EventType::Default,
        }
    }
}

impl Serialize for EventType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<Cow<'de, str>>::deserialize(d)?
            .map_or(EventType::Default, |name| EventType::from_name(&name)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_transaction_and_everything_else_as_default() {
        let read = |json: &str| serde_json::from_str::<EventType>(json).unwrap();
        assert_eq!(read(r#""transaction""#), EventType::Transaction);
        for other in [r#""error""#, r#""default""#, r#""csp""#, "null", r#""""#] {
            assert_eq!(read(other), EventType::Default, "{other}");
        }
        assert!(serde_json::from_str::<EventType>("1").is_err());
        assert_eq!(
            serde_json::to_string(&EventType::Transaction).unwrap(),
            r#""transaction""#
        );
        assert!(EventType::Default.is_default());
        assert!(!EventType::Transaction.is_default());
    }
}
