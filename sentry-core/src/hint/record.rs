//! [`RecordHint`]: the log record or `tracing` event an item was made from.

use std::borrow::Cow;

use crate::protocol::LogLevel;
use sentry_minimal::Value;

/// The `log` record or `tracing` event a breadcrumb or an event was made from, as the bridges
/// of `sentry-log` hand it to the hooks (see [`Hint::record`](crate::Hint::record)). Everything
/// is borrowed from the record for the duration of the capture.
///
/// What a bridge moves into the item is not repeated here: for a breadcrumb the message and the
/// fields become the breadcrumb's `message` and `data`, so [`message`](Self::message) is `None`
/// and [`fields`](Self::fields) empty; for an event both are here (the event holds copies).
/// Captures of a custom mapper get the level, target and location only.
///
/// # Examples
///
/// ```
/// use sentry_core::hint::RecordHint;
/// use sentry_core::protocol::LogLevel;
/// use sentry_core::Value;
///
/// let fields = [("retries".into(), Value::from(3))];
/// let record = RecordHint::new("log", LogLevel::Warn, "app::db")
///     .with_message("connection lost")
///     .with_location(Some("app::db"), Some("src/db.rs"), Some(42))
///     .with_fields(&fields);
/// assert_eq!(record.target(), "app::db");
/// assert_eq!(record.field("retries"), Some(&Value::from(3)));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RecordHint<'a> {
    source: &'static str,
    level: LogLevel,
    target: &'a str,
    message: Option<&'a str>,
    module_path: Option<&'a str>,
    file: Option<&'a str>,
    line: Option<u32>,
    fields: &'a [(Cow<'static, str>, Value)],
}

impl<'a> RecordHint<'a> {
    /// A record from `source` (`"log"` or `"tracing"` for the bridges of `sentry-log`), with
    /// its level and target.
    pub fn new(source: &'static str, level: LogLevel, target: &'a str) -> Self {
        RecordHint {
            source,
            level,
            target,
            message: None,
            module_path: None,
            file: None,
            line: None,
            fields: &[],
        }
    }

    /// This record with its message.
    #[must_use]
    pub fn with_message(mut self, message: &'a str) -> Self {
        self.message = Some(message);
        self
    }

    /// This record with where it was logged: module path, file and line.
    #[must_use]
    pub fn with_location(
        mut self,
        module_path: Option<&'a str>,
        file: Option<&'a str>,
        line: Option<u32>,
    ) -> Self {
        self.module_path = module_path;
        self.file = file;
        self.line = line;
        self
    }

    /// This record with its key-values or fields, in order, with their types.
    #[must_use]
    pub fn with_fields(mut self, fields: &'a [(Cow<'static, str>, Value)]) -> Self {
        self.fields = fields;
        self
    }

    /// Which logging facade the record came through: `"log"` or `"tracing"` for the bridges of
    /// `sentry-log`.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// The record's level.
    pub fn level(&self) -> LogLevel {
        self.level
    }

    /// The record's target (by default its module path).
    pub fn target(&self) -> &'a str {
        self.target
    }

    /// The record's message, when the item does not hold it already (see above).
    pub fn message(&self) -> Option<&'a str> {
        self.message
    }

    /// The module the record was logged from.
    pub fn module_path(&self) -> Option<&'a str> {
        self.module_path
    }

    /// The file the record was logged from.
    pub fn file(&self) -> Option<&'a str> {
        self.file
    }

    /// The line the record was logged from.
    pub fn line(&self) -> Option<u32> {
        self.line
    }

    /// The key-values (`log`) or fields (`tracing`), in order, with their types; empty when the
    /// item holds them already (see above).
    pub fn fields(&self) -> &'a [(Cow<'static, str>, Value)] {
        self.fields
    }

    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&'a Value> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }
}
