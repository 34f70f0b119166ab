//! The part both bridges share: a record in the SDK's terms, and how each [`Mapping`] turns it
//! into a breadcrumb, an event or a structured log.

use std::borrow::Cow;
use std::error::Error;

use sentry_core::hint::RecordHint;
use sentry_core::protocol::{Context, Event, Exception, Log, LogLevel, LogValue, Mechanism};
use sentry_core::{Breadcrumb, Hint, Level, Map, Value};

use crate::Mapping;

/// Which bridge a record came through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Log,
    #[cfg_attr(not(feature = "tracing"), allow(dead_code))]
    Tracing,
}

impl Origin {
    /// The [`RecordHint::source`] of records from this bridge.
    pub(crate) fn source(self) -> &'static str {
        match self {
            Origin::Log => "log",
            Origin::Tracing => "tracing",
        }
    }

    /// The `origin` of breadcrumbs and the `sentry.origin` attribute of logs.
    fn origin(self) -> &'static str {
        match self {
            Origin::Log => "auto.log.log",
            Origin::Tracing => "auto.log.tracing",
        }
    }

    /// The exception mechanism type.
    fn mechanism(self) -> &'static str {
        match self {
            Origin::Log => "log",
            Origin::Tracing => "tracing",
        }
    }

    /// The name of the context with the record's location.
    fn context(self) -> &'static str {
        match self {
            Origin::Log => "log",
            Origin::Tracing => "tracing",
        }
    }
}

/// A `log` record or a `tracing` event, in the SDK's terms.
pub(crate) struct Captured<'a> {
    pub(crate) origin: Origin,
    pub(crate) level: LogLevel,
    pub(crate) message: Cow<'static, str>,
    pub(crate) target: &'a str,
    /// The target again, when it is known to live forever (saves a copy per breadcrumb).
    pub(crate) static_target: Option<&'static str>,
    pub(crate) module_path: Option<&'a str>,
    pub(crate) file: Option<&'a str>,
    pub(crate) line: Option<u32>,
    /// Key-values or fields, in order, with their types.
    pub(crate) fields: Vec<(Cow<'static, str>, Value)>,
    /// The exception chain of an error value, when one was present and an event is wanted.
    pub(crate) exception: Option<Vec<Exception>>,
    /// The error value itself, for the hooks' [`Hint`], when the bridge can lend it (`log` can;
    /// `tracing` lends field values only while they are visited).
    pub(crate) error: Option<&'a (dyn Error + 'static)>,
    /// Extra contexts for events (the fields of enclosing `tracing` spans).
    pub(crate) contexts: Vec<(String, Map)>,
}

impl<'a> Captured<'a> {
    /// Captures what `mapping` asks for. Only called when capturing is allowed.
    ///
    /// The hooks get the record in the [`Hint`], borrowed: the event's hint has the message and
    /// the fields too (the event holds copies), the breadcrumb's does not (they are moved into
    /// the breadcrumb).
    pub(crate) fn capture(mut self, mapping: Mapping) {
        if mapping.contains(Mapping::LOG) && sentry_core::logger::enabled() {
            sentry_core::capture_log(self.to_log());
        }
        if mapping.wants_event() {
            let event = self.take_event(mapping);
            let record = self
                .record_hint()
                .with_message(&self.message)
                .with_fields(&self.fields);
            sentry_core::capture_event_with_hint(event, &hint(self.error, &record));
        }
        if mapping.contains(Mapping::BREADCRUMB) {
            let (record, error) = (self.record_hint(), self.error);
            sentry_core::add_breadcrumb_with_hint(self.into_breadcrumb(), &hint(error, &record));
        }
    }

    /// The record's level, target and location, for a [`Hint`].
    fn record_hint(&self) -> RecordHint<'a> {
        RecordHint::new(self.origin.source(), self.level, self.target).with_location(
            self.module_path,
            self.file,
            self.line,
        )
    }

    pub(crate) fn to_log(&self) -> Log {
        let mut log = Log::new(self.level, self.message.clone().into_owned());
        let attributes = &mut log.attributes;
        attributes.insert("sentry.origin", Cow::Borrowed(self.origin.origin()));
        attributes.insert("logger.name", self.target);
        if let Some(module) = self.module_path {
            attributes.insert("code.namespace", module);
        }
        if let Some(file) = self.file {
            attributes.insert("code.file.path", file);
        }
        if let Some(line) = self.line {
            attributes.insert("code.line.number", line);
        }
        for (key, value) in &self.fields {
            attributes.insert(key.clone(), LogValue::from_value(value.clone()));
        }
        log
    }

    /// The event; takes the exception chain (events are built at most once).
    pub(crate) fn take_event(&mut self, mapping: Mapping) -> Event {
        let mut exception = self.exception.take().unwrap_or_default();
        if exception.is_empty() && mapping.contains(Mapping::EXCEPTION) {
            exception.push(Exception {
                ty: self.target.to_owned(),
                value: Some(self.message.clone().into_owned()),
                ..Exception::default()
            });
        }
        if let Some(outermost) = exception.last_mut() {
            let mechanism = outermost.mechanism.get_or_insert_with(Mechanism::default);
            mechanism.ty = self.origin.mechanism().to_owned();
            mechanism.handled = Some(true);
        }
        let mut event = Event::new();
        event.level = sentry_level(self.level);
        event.message = Some(self.message.clone().into_owned());
        event.logger = Some(self.target.to_owned());
        event.exception = exception;
        event.extra = self
            .fields
            .iter()
            .map(|(k, v)| (k.clone().into_owned(), v.clone()))
            .collect();
        let mut location = Map::new();
        location.insert("target".into(), self.target.into());
        if let Some(module) = self.module_path {
            location.insert("module_path".into(), module.into());
        }
        if let Some(file) = self.file {
            location.insert("file".into(), file.into());
        }
        if let Some(line) = self.line {
            location.insert("line".into(), line.into());
        }
        event.contexts.insert(
            Cow::Borrowed(self.origin.context()),
            Context::from(location),
        );
        for (name, fields) in std::mem::take(&mut self.contexts) {
            event
                .contexts
                .insert(Cow::Owned(name), Context::from(fields));
        }
        event
    }

    pub(crate) fn into_breadcrumb(self) -> Breadcrumb {
        let category = match self.static_target {
            Some(target) => Cow::Borrowed(target),
            None => Cow::Owned(self.target.to_owned()),
        };
        let mut crumb = Breadcrumb::new(self.message)
            .ty("log")
            .category(category)
            .level(sentry_level(self.level))
            .origin(self.origin.origin());
        crumb.data = self
            .fields
            .into_iter()
            .map(|(k, v)| (k.into_owned(), v))
            .collect();
        crumb
    }
}

/// The hint of a record, with its error value when there is one.
fn hint<'h>(error: Option<&'h (dyn Error + 'static)>, record: &'h RecordHint<'h>) -> Hint<'h> {
    let hint = Hint::new().with_record(record);
    match error {
        Some(error) => hint.with_error(error),
        None => hint,
    }
}

/// The event and breadcrumb level of a log level.
pub(crate) fn sentry_level(level: LogLevel) -> Level {
    match level {
        LogLevel::Trace | LogLevel::Debug => Level::Debug,
        LogLevel::Info => Level::Info,
        LogLevel::Warn => Level::Warning,
        LogLevel::Error => Level::Error,
        LogLevel::Fatal => Level::Fatal,
    }
}

/// The exception chain of an error value, root cause first.
pub(crate) fn exception_chain(error: &(dyn Error + 'static)) -> Vec<Exception> {
    sentry_core::event_from_error(error).exception
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured() -> Captured<'static> {
        Captured {
            origin: Origin::Log,
            level: LogLevel::Warn,
            message: "disk low".into(),
            target: "app::disk",
            static_target: None,
            module_path: Some("app::disk"),
            file: Some("src/disk.rs"),
            line: Some(7),
            fields: vec![
                ("free".into(), Value::U64(3)),
                ("ok".into(), Value::Bool(false)),
            ],
            exception: None,
            error: None,
            contexts: vec![("span:check".into(), Map::new())],
        }
    }

    #[test]
    fn breadcrumb_keeps_types() {
        let crumb = captured().into_breadcrumb();
        assert_eq!(crumb.ty, "log");
        assert_eq!(crumb.category.as_deref(), Some("app::disk"));
        assert_eq!(crumb.level, Level::Warning);
        assert_eq!(crumb.data["free"], Value::U64(3));
        assert_eq!(crumb.origin.as_deref(), Some("auto.log.log"));
    }

    #[test]
    fn event_and_synthetic_exception() {
        let mut record = captured();
        let event = record.take_event(Mapping::EVENT);
        assert!(event.exception.is_empty());
        assert_eq!(event.logger.as_deref(), Some("app::disk"));
        assert_eq!(event.extra["ok"], Value::Bool(false));
        assert!(event.contexts.contains_key("log"));
        assert!(event.contexts.contains_key("span:check"));
        let event = captured().take_event(Mapping::EXCEPTION);
        assert_eq!(event.exception[0].ty, "app::disk");
        assert_eq!(event.exception[0].mechanism.as_ref().unwrap().ty, "log");
    }

    #[test]
    fn log_attributes() {
        let log = captured().to_log();
        assert_eq!(log.level, LogLevel::Warn);
        let get = |k: &str| log.attributes.get(k).cloned();
        assert_eq!(get("sentry.origin"), Some(LogValue::from("auto.log.log")));
        assert_eq!(get("free"), Some(LogValue::from(3u64)));
        assert_eq!(get("code.line.number"), Some(LogValue::I64(7)));
    }
}
