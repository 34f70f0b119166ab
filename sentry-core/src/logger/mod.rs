//! Structured logs: `logger::info!("User {} logged in", user_id; "plan" => "pro")`.
//!
//! Sentry stores logs as searchable records with typed attributes, linked to the trace of the
//! request they belong to. Turn them on with
//! [`ClientOptions::enable_logs`](crate::ClientOptions::enable_logs); filter or change them with
//! [`before_send_log`](crate::ClientOptions::before_send_log).
//!
//! # Macros
//!
//! One per level: [`trace!`], [`debug!`], [`info!`], [`warn!`], [`error!`], [`fatal!`]. The
//! template is a string literal with one `{}` per parameter (`{{` and `}}` for literal braces;
//! the count is checked at compile time); attributes follow a `;` as `key => value` pairs.
//!
//! ```
//! use sentry_core::{logger, test::with_captured_logs, ClientOptions};
//!
//! let logs = with_captured_logs(ClientOptions::default(), || {
//!     let user_id = 42;
//!     logger::info!("User {} logged in", user_id; "plan" => "pro", "attempt" => 3);
//!     logger::warn!("Disk almost full"; "free_mb" => 120);
//!     logger::debug!("Cache {} of {}", "hit", 7);
//! });
//! let log = &logs[0];
//! assert_eq!(log.body, "User 42 logged in");
//! let attr = |key: &str| log.attributes.get(key).map(ToString::to_string);
//! assert_eq!(attr("sentry.message.template").as_deref(), Some("User {} logged in"));
//! assert_eq!(attr("sentry.message.parameter.0").as_deref(), Some("42"));
//! assert_eq!(attr("plan").as_deref(), Some("pro"));
//! // No parameters, no template attribute.
//! assert!(!logs[1].attributes.contains_key("sentry.message.template"));
//! assert_eq!(logs.len(), 3);
//! ```
//!
//! A parameter or attribute value keeps its type when it has one Sentry stores (strings,
//! booleans, integers, floats; see [`LogValue`](crate::protocol::LogValue) for the exact mapping) and is otherwise
//! recorded as the text of its `Display` implementation. Each argument expression is evaluated
//! once, and only when logs are enabled.
//!
//! # Functions
//!
//! The same without macros, for templates known only at run time or code that avoids macros:
//! [`trace()`], [`debug()`], [`info()`], [`warn()`], [`error()`], [`fatal()`] and [`log()`] take the template,
//! the parameters and the attributes as slices of [`LogParam`] references (wrap a value that
//! only implements `Display` in [`DisplayParam`]). A run-time template is filled as far as it
//! goes: a `{}` without a parameter stays `{}`, and extra parameters are only attributes.
//!
//! ```
//! use sentry_core::logger::{self, DisplayParam};
//!
//! let addr: std::net::SocketAddr = "10.0.0.7:5432".parse().unwrap();
//! logger::error(
//!     "Connection to {} lost after {} retries",
//!     &[&DisplayParam(&addr), &3],
//!     &[("db.system", &"postgresql")],
//! );
//! ```
//!
//! # Cost
//!
//! Every macro and function first loads one atomic (relaxed) that says whether any client has
//! logs enabled. While it is off, nothing is evaluated (macros), formatted or allocated, and
//! no lock or thread-local is touched. When it is on, the calling thread builds the record
//! (formatting the body, converting the attributes), applies the scope and `before_send_log`
//! and appends it to the client's buffer; serialization and sending happen on the transport's
//! thread, in batches of up to 100 logs at most 5 seconds apart.
//!
//! # What a log carries
//!
//! - `body`, `level`, `severity_number`, `timestamp`;
//! - `trace_id`: the current scope's trace, the one its events carry;
//! - `sentry.message.template` and `sentry.message.parameter.<i>`, only when there are
//!   parameters;
//! - `sentry.environment`, `sentry.release`, `sentry.sdk.name`, `sentry.sdk.version`;
//! - with [`send_default_pii`](crate::ClientOptions::send_default_pii) only: `server.address`
//!   (the configured server name) and the scope's user as `user.id`, `user.email`, `user.name`;
//! - `sentry.origin` when an integration (such as the `log` and `tracing` bridges) made it.
//!
//! Attributes you pass win over the defaults of the same name.

mod macros;
// The macros' plumbing in these is re-exported, hidden, from `crate::__private`.
pub(crate) mod param;
pub(crate) mod record;
pub(crate) mod template;

use crate::protocol::LogLevel;

use record::capture;

pub use param::{DebugParam, DisplayParam, LogParam};

/// `true` while at least one enabled client has logs on: one relaxed atomic load.
///
/// The functions and macros of this module check it before doing anything else. Integrations
/// that turn other logging systems into Sentry logs (the `log` and `tracing` bridges) check it
/// before building a [`Log`](crate::protocol::Log) for [`capture_log`](crate::capture_log).
///
/// # Examples
///
/// ```
/// // No client with `enable_logs` exists in this example.
/// assert!(!sentry_core::logger::enabled());
/// ```
#[inline(always)]
pub fn enabled() -> bool {
    crate::gate::logs_on()
}

/// Logs at [`LogLevel::Trace`]: `trace!("template {}", param; "key" => value)`.
///
/// See the [module documentation](self) for the syntax.
#[doc(inline)]
pub use crate::__sentry_logger_trace as trace;

/// Logs at [`LogLevel::Debug`]: `debug!("template {}", param; "key" => value)`.
///
/// See the [module documentation](self) for the syntax.
#[doc(inline)]
pub use crate::__sentry_logger_debug as debug;

/// Logs at [`LogLevel::Info`]: `info!("template {}", param; "key" => value)`.
///
/// See the [module documentation](self) for the syntax.
#[doc(inline)]
pub use crate::__sentry_logger_info as info;

/// Logs at [`LogLevel::Warn`]: `warn!("template {}", param; "key" => value)`.
///
/// See the [module documentation](self) for the syntax.
#[doc(inline)]
pub use crate::__sentry_logger_warn as warn;

/// Logs at [`LogLevel::Error`]: `error!("template {}", param; "key" => value)`.
///
/// See the [module documentation](self) for the syntax.
#[doc(inline)]
pub use crate::__sentry_logger_error as error;

/// Logs at [`LogLevel::Fatal`]: `fatal!("template {}", param; "key" => value)`.
///
/// See the [module documentation](self) for the syntax.
#[doc(inline)]
pub use crate::__sentry_logger_fatal as fatal;

/// An attribute: a static key and a value.
pub type Attribute<'a> = (&'static str, &'a dyn LogParam);

/// Captures a structured log at `level`; the other functions of this module call it.
///
/// `template` has one `{}` per parameter (see the [module documentation](self)).
///
/// # Examples
///
/// ```
/// use sentry_core::{logger, protocol::LogLevel};
///
/// let level = if 3 > 2 { LogLevel::Warn } else { LogLevel::Info };
/// logger::log(level, "Queue at {}%", &[&93], &[("queue", &"emails")]);
/// ```
#[inline]
pub fn log(
    level: LogLevel,
    template: &str,
    params: &[&dyn LogParam],
    attributes: &[Attribute<'_>],
) {
    if enabled() {
        capture(level, template, params, attributes);
    }
}

macro_rules! level_fns {
    ($($(#[$doc:meta])* $name:ident => $level:ident;)*) => {$(
        $(#[$doc])*
        #[inline]
        pub fn $name(template: &str, params: &[&dyn LogParam], attributes: &[Attribute<'_>]) {
            log(LogLevel::$level, template, params, attributes);
        }
    )*};
}

level_fns! {
    /// Captures a structured log at [`LogLevel::Trace`]; see [`log`].
    ///
    /// ```
    /// sentry_core::logger::trace("Polling {}", &[&"inbox"], &[]);
    /// ```
    trace => Trace;
    /// Captures a structured log at [`LogLevel::Debug`]; see [`log`].
    ///
    /// ```
    /// sentry_core::logger::debug("Cache miss for {}", &[&"user:42"], &[("cache", &"redis")]);
    /// ```
    debug => Debug;
    /// Captures a structured log at [`LogLevel::Info`]; see [`log`].
    ///
    /// ```
    /// sentry_core::logger::info("User {} logged in", &[&42], &[("plan", &"pro")]);
    /// ```
    info => Info;
    /// Captures a structured log at [`LogLevel::Warn`]; see [`log`].
    ///
    /// ```
    /// sentry_core::logger::warn("Retrying in {} s", &[&2.5], &[]);
    /// ```
    warn => Warn;
    /// Captures a structured log at [`LogLevel::Error`]; see [`log`].
    ///
    /// ```
    /// sentry_core::logger::error("Payment failed", &[], &[("order", &1234)]);
    /// ```
    error => Error;
    /// Captures a structured log at [`LogLevel::Fatal`]; see [`log`].
    ///
    /// ```
    /// sentry_core::logger::fatal("Out of memory", &[], &[]);
    /// ```
    fatal => Fatal;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::ClientOptions;
    use crate::protocol::LogValue;
    use crate::test::with_captured_logs;

    #[test]
    fn macros_record_template_parameters_and_attributes() {
        struct Shown;
        impl std::fmt::Display for Shown {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("shown")
            }
        }
        let mut evaluated = 0;
        let logs = with_captured_logs(ClientOptions::default(), || {
            crate::logger::info!("a {} b {} c {}", 1u8, { evaluated += 1; "two" }, Shown; "k" => 2.5, "big" => u64::MAX);
            crate::logger::error!("braces {{}} {}", true,);
            crate::logger::fatal!("only attributes"; "n" => -1,);
            crate::logger::trace!("plain");
        });
        assert_eq!(evaluated, 1);
        assert_eq!(logs.len(), 4);
        let a = &logs[0];
        assert_eq!(a.level, LogLevel::Info);
        assert_eq!(a.body, "a 1 b two c shown");
        let get = |key: &str| a.attributes.get(key).cloned();
        assert_eq!(
            get("sentry.message.template"),
            Some(LogValue::from("a {} b {} c {}"))
        );
        assert_eq!(get("sentry.message.parameter.0"), Some(LogValue::I64(1)));
        assert_eq!(
            get("sentry.message.parameter.1"),
            Some(LogValue::from("two"))
        );
        assert_eq!(
            get("sentry.message.parameter.2"),
            Some(LogValue::from("shown"))
        );
        assert_eq!(get("k"), Some(LogValue::F64(2.5)));
        assert_eq!(get("big"), Some(LogValue::from(u64::MAX)));
        assert_eq!(logs[1].body, "braces {} true");
        assert_eq!(logs[2].attributes.get("n"), Some(&LogValue::I64(-1)));
        assert!(!logs[2].attributes.contains_key("sentry.message.template"));
        assert_eq!(logs[3].level, LogLevel::Trace);
    }

    #[test]
    fn functions_fill_run_time_templates() {
        let template = String::from("{} of {} done, {} left");
        let logs = with_captured_logs(ClientOptions::default(), || {
            info(&template, &[&3, &DisplayParam(&'x')], &[("job", &"sync")]);
            log(LogLevel::Warn, "{}", &[&1, &2], &[]);
        });
        assert_eq!(logs[0].body, "3 of x done, {} left");
        assert_eq!(
            logs[0].attributes.get("sentry.message.parameter.1"),
            Some(&LogValue::from("x"))
        );
        assert_eq!(logs[1].body, "1");
        assert_eq!(
            logs[1].attributes.get("sentry.message.parameter.1"),
            Some(&LogValue::I64(2))
        );
    }
}
