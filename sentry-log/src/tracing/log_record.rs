//! `log` records that arrive as `tracing` events, through tracing-log's `LogTracer` (which
//! tracing-subscriber's `init()` installs with its default `tracing-log` feature).
//!
//! tracing-log gives every such event the target `log` and no location, and puts the record's
//! own in fields (`log.target`, `log.module_path`, `log.file`, `log.line`). They are read back
//! here, so the record is captured with its own target and location, and those fields are not
//! repeated as data.

use std::borrow::Cow;

use sentry_core::Value;
use tracing_core::Metadata;

/// The fields tracing-log adds to every event, in place of the metadata a `log` record cannot
/// give a `tracing` event.
const TARGET: &str = "log.target";
const MODULE_PATH: &str = "log.module_path";
const FILE: &str = "log.file";
const LINE: &str = "log.line";

/// Whether the event is a `log` record turned into a `tracing` event by tracing-log.
pub(super) fn is_log_record(metadata: &Metadata<'_>) -> bool {
    metadata.target() == "log" && metadata.fields().field(TARGET).is_some()
}

/// The location of a `log` record, read from tracing-log's fields.
#[derive(Debug, Default)]
pub(super) struct LogLocation {
    pub(super) target: Option<String>,
    pub(super) module_path: Option<String>,
    pub(super) file: Option<String>,
    pub(super) line: Option<u32>,
}

impl LogLocation {
    /// Takes tracing-log's fields out of an event's fields.
    pub(super) fn take_from(fields: &mut Vec<(Cow<'static, str>, Value)>) -> LogLocation {
        let mut location = LogLocation::default();
        fields.retain_mut(|(name, value)| {
            match &**name {
                TARGET => location.target = take_text(value),
                MODULE_PATH => location.module_path = take_text(value),
                FILE => location.file = take_text(value),
                LINE => {
                    location.line = match value {
                        Value::U64(n) => u32::try_from(*n).ok(),
                        Value::I64(n) => u32::try_from(*n).ok(),
                        _ => None,
                    }
                }
                _ => return true,
            }
            false
        });
        location
    }
}

fn take_text(value: &mut Value) -> Option<String> {
    match std::mem::replace(value, Value::Null) {
        Value::String(s) => Some(s),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_fields_are_taken_out() {
        let mut fields = vec![
            (
                Cow::Borrowed("log.target"),
                Value::String("db::pool".into()),
            ),
            (Cow::Borrowed("user"), Value::I64(7)),
            (
                Cow::Borrowed("log.module_path"),
                Value::String("db::pool".into()),
            ),
            (
                Cow::Borrowed("log.file"),
                Value::String("src/pool.rs".into()),
            ),
            (Cow::Borrowed("log.line"), Value::U64(42)),
        ];
        let location = LogLocation::take_from(&mut fields);
        assert_eq!(location.target.as_deref(), Some("db::pool"));
        assert_eq!(location.module_path.as_deref(), Some("db::pool"));
        assert_eq!(location.file.as_deref(), Some("src/pool.rs"));
        assert_eq!(location.line, Some(42));
        assert_eq!(fields, [(Cow::Borrowed("user"), Value::I64(7))]);
    }
}
