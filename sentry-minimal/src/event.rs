//! Events a library builds through the facade.

use crate::{Level, Map, SortedMap, Value};

/// An event built by a library, for [`capture_event`](crate::capture_event).
///
/// This is the part of Sentry's event payload a library needs. The SDK fills in the rest
/// (identifier, timestamp, release, environment, scope data, SDK information) when it turns this
/// into the full event it sends.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{Event, Level};
///
/// let event = Event::new()
///     .message("disk almost full")
///     .level(Level::Warning)
///     .tag("mount", "/var")
///     .extra("free_bytes", 1024u64);
/// assert_eq!(event.tags["mount"], "/var");
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Event {
    /// The severity; the SDK uses [`Level::Error`] when unset.
    pub level: Option<Level>,
    /// The formatted message.
    pub message: Option<String>,
    /// The name of the logger or component that produced it.
    pub logger: Option<String>,
    /// Searchable string tags.
    pub tags: SortedMap<String, String>,
    /// Arbitrary extra data.
    pub extra: Map,
    /// Named structured contexts, such as `"order"` → `{ "id": 7 }`.
    pub contexts: SortedMap<String, Map>,
    /// A custom grouping fingerprint; `"{{ default }}"` stands for Sentry's own grouping.
    pub fingerprint: Vec<String>,
    /// The name of the transaction (route, task) the event belongs to.
    pub transaction: Option<String>,
    /// Exceptions, innermost cause first (the order Sentry expects).
    pub exceptions: Vec<Exception>,
}

impl Event {
    /// An empty event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the level.
    #[must_use]
    pub fn level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Sets the logger name.
    #[must_use]
    pub fn logger(mut self, logger: impl Into<String>) -> Self {
        self.logger = Some(logger.into());
        self
    }

    /// Adds a tag.
    #[must_use]
    pub fn tag(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.tags.insert(key.into(), value.into());
        self
    }

    /// Adds an extra value.
    #[must_use]
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }

    /// Adds an exception. Add the innermost cause first.
    #[must_use]
    pub fn exception(mut self, exception: Exception) -> Self {
        self.exceptions.push(exception);
        self
    }
}

/// One exception in an event: a type and a value (message).
///
/// # Examples
///
/// ```
/// use sentry_minimal::Exception;
///
/// let exc = Exception::new("ParseError", "unexpected end of input");
/// assert_eq!(exc.ty, "ParseError");
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
#[non_exhaustive]
pub struct Exception {
    /// The type, such as `"ParseError"`.
    pub ty: String,
    /// The message.
    pub value: Option<String>,
    /// The module the type lives in, such as `"my_lib::parser"`.
    pub module: Option<String>,
}

impl Exception {
    /// An exception with a type and a message.
    pub fn new(ty: impl Into<String>, value: impl Into<String>) -> Self {
        Exception {
            ty: ty.into(),
            value: Some(value.into()),
            module: None,
        }
    }
}
