//! [`SentryLogger`]: the `log::Log` that feeds Sentry and forwards to another logger.

use std::fmt;
use std::sync::Arc;

use log::{LevelFilter, Log, Metadata, Record};
use sentry_core::hint::RecordHint;
use sentry_core::protocol::LogLevel;
use sentry_core::Hint;

use crate::capture::{Captured, Origin};
use crate::guard::{capture_allowed, BridgeGuard};
use crate::kv::{error_value, KvCollector};
use crate::protect::{count_dropped, count_dropped_unfiltered, protected};
use crate::setup::{Forwarding, InitError};
use crate::{Mapping, RecordMapping};

type Filter = dyn Fn(&Metadata<'_>) -> Mapping + Send + Sync;
type Mapper = dyn Fn(&Record<'_>, Mapping) -> Vec<RecordMapping> + Send + Sync;

/// The [`LogLevel`] of a `log` level.
pub fn log_level(level: log::Level) -> LogLevel {
    match level {
        log::Level::Error => LogLevel::Error,
        log::Level::Warn => LogLevel::Warn,
        log::Level::Info => LogLevel::Info,
        log::Level::Debug => LogLevel::Debug,
        log::Level::Trace => LogLevel::Trace,
    }
}

/// The default filter: [`Mapping::default_for`] the record's level.
pub fn default_filter(metadata: &Metadata<'_>) -> Mapping {
    Mapping::default_for(log_level(metadata.level()))
}

/// A destination that drops everything: the default when [`SentryLogger`] forwards nowhere.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoDestination;

impl Log for NoDestination {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        false
    }

    fn log(&self, _: &Record<'_>) {}

    fn flush(&self) {}
}

/// A `log::Log` that turns records into Sentry breadcrumbs, events and structured logs, and
/// passes every record on to a destination logger (`env_logger`, `fern`, …) unchanged.
///
/// What each record becomes is decided by a [filter](Self::filter) (by default
/// [`Mapping::default_for`] its level); a [mapper](Self::mapper) can take over the conversion.
/// Records are captured only while an SDK client is enabled, and never when they come from the
/// SDK itself: from its transport thread (the HTTP client's own logging, say), from inside an
/// SDK callback such as `before_send`, or from anything the bridge calls while it captures.
///
/// What is captured:
///
/// - **breadcrumb**: type `log`, category = target, message, level, key-values as data (typed);
/// - **event**: message, level, `logger` = target, key-values as extra, a `log` context with
///   the target, module, file and line; a key-value named `error` holding an error (`error:err
///   = e` in the `log` macros) becomes the exception, with its `source()` chain;
/// - **log**: body, level, key-values as typed attributes, plus `sentry.origin` =
///   `auto.log.log`, `logger.name`, `code.namespace`, `code.file.path`, `code.line.number`.
///
/// # Cost
///
/// [`install`](Self::install) sets `log`'s maximum level to [`max_level`](Self::max_level)
/// (default `Info`), so a filtered-out `log::debug!` is one comparison and never reaches this
/// logger. Raise it when the destination wants more.
///
/// # Examples
///
/// ```
/// use sentry_log::{Mapping, SentryLogger};
///
/// // Forward to another logger (any `log::Log`), and capture warnings as events too.
/// # #[derive(Debug)] struct Stderr;
/// # impl log::Log for Stderr {
/// #     fn enabled(&self, _: &log::Metadata<'_>) -> bool { true }
/// #     fn log(&self, r: &log::Record<'_>) { eprintln!("{}", r.args()) }
/// #     fn flush(&self) {}
/// # }
/// let logger = SentryLogger::with_dest(Stderr)
///     .max_level(log::LevelFilter::Debug)
///     .filter(|metadata| match metadata.level() {
///         log::Level::Error | log::Level::Warn => Mapping::EVENT | Mapping::LOG,
///         log::Level::Info => Mapping::BREADCRUMB,
///         _ => Mapping::IGNORE,
///     });
/// logger.install().expect("no other logger installed");
/// log::warn!(target: "db", retries = 3; "connection lost");
/// ```
pub struct SentryLogger<L = NoDestination> {
    dest: L,
    filter: Arc<Filter>,
    mapper: Option<Arc<Mapper>>,
    max_level: LevelFilter,
}

impl SentryLogger<NoDestination> {
    /// A logger that only feeds Sentry, with the default filter and `Info` as maximum level.
    pub fn new() -> Self {
        SentryLogger::with_dest(NoDestination)
    }
}

impl Default for SentryLogger<NoDestination> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: Log> SentryLogger<L> {
    /// A logger that feeds Sentry and forwards every record to `dest`.
    pub fn with_dest(dest: L) -> Self {
        SentryLogger {
            dest,
            filter: Arc::new(default_filter),
            mapper: None,
            max_level: LevelFilter::Info,
        }
    }

    /// Decides what each record becomes (see [`Mapping`]). It sees only records at or below
    /// [`max_level`](Self::max_level).
    #[must_use]
    pub fn filter(
        mut self,
        filter: impl Fn(&Metadata<'_>) -> Mapping + Send + Sync + 'static,
    ) -> Self {
        self.filter = Arc::new(filter);
        self
    }

    /// Replaces the built-in conversion: called with each record the filter did not ignore,
    /// and the filter's mapping; what it returns is captured as it is.
    ///
    /// ```
    /// use sentry_log::{RecordMapping, SentryLogger};
    /// use sentry_core::Breadcrumb;
    ///
    /// let logger = SentryLogger::new().mapper(|record, _mapping| {
    ///     vec![RecordMapping::Breadcrumb(
    ///         Breadcrumb::new(format!("[{}] {}", record.target(), record.args())),
    ///     )]
    /// });
    /// # drop(logger);
    /// ```
    #[must_use]
    pub fn mapper(
        mut self,
        mapper: impl Fn(&Record<'_>, Mapping) -> Vec<RecordMapping> + Send + Sync + 'static,
    ) -> Self {
        self.mapper = Some(Arc::new(mapper));
        self
    }

    /// The most verbose level that reaches this logger (and so the destination); set as
    /// `log`'s maximum level by [`install`](Self::install). Default `Info`.
    #[must_use]
    pub fn max_level(mut self, level: LevelFilter) -> Self {
        self.max_level = level;
        self
    }

    /// The destination logger.
    pub fn dest(&self) -> &L {
        &self.dest
    }
}

impl<L: Log + 'static> SentryLogger<L> {
    /// Installs this logger as `log`'s logger and sets `log`'s maximum level to
    /// [`max_level`](Self::max_level).
    ///
    /// # Errors
    ///
    /// If a logger is already installed (`log` allows one per process); the [`InitError`]
    /// says what to do when it is tracing-log's, installed by tracing-subscriber.
    pub fn install(self) -> Result<(), InitError> {
        let max_level = self.max_level;
        log::set_boxed_logger(Box::new(self)).map_err(InitError::new)?;
        log::set_max_level(max_level);
        Ok(())
    }
}

/// Installs a [`SentryLogger`] with the defaults and no destination.
///
/// # Errors
///
/// If a logger is already installed: see [`InitError`] (with tracing-subscriber's `init()`
/// and the Sentry `tracing` layer, `log` records already reach Sentry; this is not needed).
///
/// # Examples
///
/// ```
/// sentry_log::init().expect("no other logger");
/// log::info!("reaches Sentry as a breadcrumb and a log");
/// ```
pub fn init() -> Result<(), InitError> {
    SentryLogger::new().install()
}

impl<L: Log> SentryLogger<L> {
    fn capture(&self, record: &Record<'_>) {
        let Some(mapping) = protected("the log filter", || (self.filter)(record.metadata())) else {
            count_dropped_unfiltered(log_level(record.level()));
            return;
        };
        if mapping.is_ignore() {
            return;
        }
        let _guard = BridgeGuard::enter();
        if let Some(mapper) = &self.mapper {
            match protected("the log mapper", || mapper(record, mapping)) {
                Some(mapped) => {
                    let record = RecordHint::new("log", log_level(record.level()), record.target())
                        .with_location(record.module_path(), record.file(), record.line());
                    let hint = Hint::new().with_record(&record);
                    mapped.into_iter().for_each(|m| m.capture(&hint));
                }
                None => count_dropped(mapping),
            }
            return;
        }
        let kv = KvCollector::collect(record.key_values(), mapping.wants_event());
        // Kept alive for the capture: the hooks' hint borrows the error from it.
        let error = kv
            .has_error
            .then(|| error_value(record.key_values()))
            .flatten();
        let message = match record.args().as_str() {
            Some(text) => text.into(),
            None => record.args().to_string().into(),
        };
        Captured {
            origin: Origin::Log,
            level: log_level(record.level()),
            message,
            target: record.target(),
            // The macros' default target is the module path, a static string.
            static_target: record
                .module_path_static()
                .filter(|module| *module == record.target()),
            module_path: record.module_path(),
            file: record.file(),
            line: record.line(),
            fields: kv.fields,
            exception: kv.exception,
            error: error.as_ref().and_then(log::kv::Value::to_borrowed_error),
            contexts: Vec::new(),
        }
        .capture(mapping);
    }
}

/// Every call into the destination logger and the filter runs protected: a panic in one
/// returns to the caller as "not enabled" or "not logged by the destination", never as a
/// panic at the call site.
impl<L: Log> Log for SentryLogger<L> {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= self.max_level
            && (protected("the destination logger", || self.dest.enabled(metadata))
                .unwrap_or(false)
                || (capture_allowed()
                    && protected("the log filter", || (self.filter)(metadata))
                        .is_some_and(|mapping| !mapping.is_ignore())))
    }

    fn log(&self, record: &Record<'_>) {
        // A destination that panics misses this record; Sentry still gets it. A destination
        // that hands it to the Sentry `tracing` layer (tracing-log) does not capture it again.
        let forwarding = Forwarding::enter();
        let _ = protected("the destination logger", || self.dest.log(record));
        drop(forwarding);
        if record.level() <= self.max_level && capture_allowed() {
            self.capture(record);
        }
    }

    /// Flushes the destination, then the SDK (waiting at most the client's
    /// `shutdown_timeout`), except on the SDK's own threads.
    fn flush(&self) {
        let _ = protected("the destination logger", || self.dest.flush());
        if !sentry_core::integration::inside_sdk() {
            let _guard = BridgeGuard::enter();
            sentry_core::flush(None);
        }
    }
}

impl<L: fmt::Debug> fmt::Debug for SentryLogger<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentryLogger")
            .field("dest", &self.dest)
            .field("max_level", &self.max_level)
            .field("mapper", &self.mapper.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_one_to_one() {
        let pairs = [
            (log::Level::Error, LogLevel::Error),
            (log::Level::Warn, LogLevel::Warn),
            (log::Level::Info, LogLevel::Info),
            (log::Level::Debug, LogLevel::Debug),
            (log::Level::Trace, LogLevel::Trace),
        ];
        for (from, to) in pairs {
            assert_eq!(log_level(from), to);
        }
    }

    #[test]
    fn no_destination_is_silent_and_flushable() {
        let dest = NoDestination;
        let record = Record::builder().args(format_args!("x")).build();
        assert!(!dest.enabled(record.metadata()));
        dest.log(&record);
        dest.flush();
        let logger = SentryLogger::new();
        assert!(!logger.enabled(&Metadata::builder().level(log::Level::Debug).build()));
        assert!(format!("{logger:?}").contains("NoDestination"));
    }
}
