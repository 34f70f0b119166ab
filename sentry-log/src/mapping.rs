//! [`Mapping`]: what a record becomes in Sentry.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use sentry_core::protocol::{Breadcrumb, Event, Log, LogLevel};
use sentry_core::Hint;

/// What a log record or `tracing` event becomes in Sentry. Combine them with `|`.
///
/// | mapping | what is captured |
/// |---|---|
/// | [`IGNORE`](Self::IGNORE) | nothing |
/// | [`BREADCRUMB`](Self::BREADCRUMB) | a breadcrumb (type `log`, category = target, data = key-values / fields) |
/// | [`EVENT`](Self::EVENT) | an event with the message (logger = target, extra = key-values / fields); when the record carries an error value, its exception chain too |
/// | [`EXCEPTION`](Self::EXCEPTION) | like `EVENT`, but always an exception: without an error value, one exception of type = target and value = message |
/// | [`LOG`](Self::LOG) | a [structured log](sentry_core::logger) (attributes = key-values / fields), when the client has `enable_logs` on |
///
/// The default ([`Mapping::default_for`]): errors become events and logs, warnings and infos
/// breadcrumbs and logs, debug and trace records are ignored.
///
/// # Examples
///
/// ```
/// use sentry_log::Mapping;
/// use sentry_core::protocol::LogLevel;
///
/// let mapping = Mapping::BREADCRUMB | Mapping::LOG;
/// assert!(mapping.contains(Mapping::LOG));
/// assert!(!mapping.contains(Mapping::EVENT));
/// assert_eq!(Mapping::default_for(LogLevel::Warn), mapping);
/// assert!(Mapping::default_for(LogLevel::Debug).is_ignore());
/// assert_eq!(format!("{mapping:?}"), "BREADCRUMB | LOG");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Mapping(u8);

impl Mapping {
    /// Capture nothing.
    pub const IGNORE: Mapping = Mapping(0);
    /// A breadcrumb.
    pub const BREADCRUMB: Mapping = Mapping(1);
    /// An event.
    pub const EVENT: Mapping = Mapping(1 << 1);
    /// An exception event.
    pub const EXCEPTION: Mapping = Mapping(1 << 2);
    /// A structured log.
    pub const LOG: Mapping = Mapping(1 << 3);

    const NAMES: [(Mapping, &'static str); 4] = [
        (Mapping::BREADCRUMB, "BREADCRUMB"),
        (Mapping::EVENT, "EVENT"),
        (Mapping::EXCEPTION, "EXCEPTION"),
        (Mapping::LOG, "LOG"),
    ];

    /// The default for a level: `error` and `fatal` → `EVENT | LOG`; `warn` and `info` →
    /// `BREADCRUMB | LOG`; `debug` and `trace` → `IGNORE`.
    pub const fn default_for(level: LogLevel) -> Mapping {
        match level {
            LogLevel::Error | LogLevel::Fatal => Mapping::EVENT.union(Mapping::LOG),
            LogLevel::Warn | LogLevel::Info => Mapping::BREADCRUMB.union(Mapping::LOG),
            LogLevel::Debug | LogLevel::Trace => Mapping::IGNORE,
        }
    }

    /// Both mappings.
    pub const fn union(self, other: Mapping) -> Mapping {
        Mapping(self.0 | other.0)
    }

    /// `true` if every part of `other` is in `self`.
    pub const fn contains(self, other: Mapping) -> bool {
        self.0 & other.0 == other.0
    }

    /// `true` for [`Mapping::IGNORE`].
    pub const fn is_ignore(self) -> bool {
        self.0 == 0
    }

    /// `true` if an event (plain or exception) is wanted.
    pub(crate) const fn wants_event(self) -> bool {
        self.0 & (Mapping::EVENT.0 | Mapping::EXCEPTION.0) != 0
    }
}

impl BitOr for Mapping {
    type Output = Mapping;

    fn bitor(self, rhs: Mapping) -> Mapping {
        self.union(rhs)
    }
}

impl BitOrAssign for Mapping {
    fn bitor_assign(&mut self, rhs: Mapping) {
        *self = self.union(rhs);
    }
}

impl fmt::Debug for Mapping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ignore() {
            return f.write_str("IGNORE");
        }
        let mut first = true;
        for (flag, name) in Mapping::NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str(" | ")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

/// What a custom mapper turns a record into; each is captured as it is. The hooks
/// (`before_send`, `before_breadcrumb`) get the record's level, target and location in the
/// [`Hint`].
///
/// # Examples
///
/// ```
/// use sentry_log::RecordMapping;
/// use sentry_core::Breadcrumb;
///
/// let mapped = RecordMapping::Breadcrumb(Breadcrumb::new("custom").category("audit"));
/// assert!(matches!(mapped, RecordMapping::Breadcrumb(_)));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum RecordMapping {
    /// Recorded with [`sentry_core::add_breadcrumb`].
    Breadcrumb(Breadcrumb),
    /// Captured with [`sentry_core::capture_event`].
    Event(Box<Event>),
    /// Captured with [`sentry_core::capture_log`].
    Log(Log),
}

impl RecordMapping {
    pub(crate) fn capture(self, hint: &Hint<'_>) {
        match self {
            RecordMapping::Breadcrumb(crumb) => sentry_core::add_breadcrumb_with_hint(crumb, hint),
            RecordMapping::Event(event) => {
                sentry_core::capture_event_with_hint(*event, hint);
            }
            RecordMapping::Log(log) => sentry_core::capture_log(log),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_per_level() {
        let table = [
            (LogLevel::Fatal, Mapping::EVENT | Mapping::LOG),
            (LogLevel::Error, Mapping::EVENT | Mapping::LOG),
            (LogLevel::Warn, Mapping::BREADCRUMB | Mapping::LOG),
            (LogLevel::Info, Mapping::BREADCRUMB | Mapping::LOG),
            (LogLevel::Debug, Mapping::IGNORE),
            (LogLevel::Trace, Mapping::IGNORE),
        ];
        for (level, mapping) in table {
            assert_eq!(Mapping::default_for(level), mapping, "{level}");
        }
    }

    #[test]
    fn combines_and_prints() {
        let mut m = Mapping::IGNORE;
        assert_eq!(format!("{m:?}"), "IGNORE");
        m |= Mapping::EXCEPTION;
        assert!(m.wants_event());
        assert!(!Mapping::LOG.wants_event());
        assert_eq!(
            format!("{:?}", m | Mapping::BREADCRUMB),
            "BREADCRUMB | EXCEPTION"
        );
        assert!(Mapping::default().is_ignore());
    }
}
