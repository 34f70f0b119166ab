//! Severity levels shared by events and breadcrumbs.

use std::fmt;
use std::str::FromStr;

/// The severity of an event or a breadcrumb.
///
/// Levels are ordered: `Debug < Info < Warning < Error < Fatal`.
///
/// # Examples
///
/// ```
/// use sentry_minimal::Level;
///
/// assert!(Level::Warning < Level::Error);
/// assert_eq!(Level::Warning.as_str(), "warning");
/// assert_eq!("warn".parse::<Level>(), Ok(Level::Warning));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Level {
    /// Diagnostic detail, usually filtered out in production.
    Debug,
    /// Informational; the default for breadcrumbs and messages.
    #[default]
    Info,
    /// Something unexpected that the program recovered from.
    Warning,
    /// An error; the default for captured errors and events.
    Error,
    /// A failure the program cannot recover from, such as a panic.
    Fatal,
}

impl Level {
    /// The name Sentry uses on the wire (`"debug"`, `"info"`, `"warning"`, `"error"`, `"fatal"`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error returned when a string names no [`Level`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseLevelError(());

impl fmt::Display for ParseLevelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("expected one of: debug, info, warning, warn, error, fatal, critical")
    }
}

impl std::error::Error for ParseLevelError {}

impl FromStr for Level {
    type Err = ParseLevelError;

    /// Parses a level name, ignoring ASCII case. `warn` and `critical` are accepted as aliases of
    /// `warning` and `fatal`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let eq = |name: &str| s.eq_ignore_ascii_case(name);
        if eq("debug") || eq("trace") {
            Ok(Level::Debug)
        } else if eq("info") || eq("log") {
            Ok(Level::Info)
        } else if eq("warning") || eq("warn") {
            Ok(Level::Warning)
        } else if eq("error") {
            Ok(Level::Error)
        } else if eq("fatal") || eq("critical") {
            Ok(Level::Fatal)
        } else {
            Err(ParseLevelError(()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_strings() {
        for level in [
            Level::Debug,
            Level::Info,
            Level::Warning,
            Level::Error,
            Level::Fatal,
        ] {
            assert_eq!(level.as_str().parse::<Level>(), Ok(level));
            assert_eq!(level.to_string(), level.as_str());
        }
        assert_eq!("WARN".parse::<Level>(), Ok(Level::Warning));
        assert!("loud".parse::<Level>().is_err());
    }
}
