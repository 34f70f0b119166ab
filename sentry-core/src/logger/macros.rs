//! The logger macros: `sentry_core::logger::{trace, debug, info, warn, error, fatal}!`.
//!
//! They are exported under hidden names and re-exported from [`logger`](crate::logger), so a
//! glob import of this crate (or of `sentry`) never shadows the `log` crate's macros.

/// Captures a structured log at `$level` (a [`LogLevel`](crate::protocol::LogLevel) variant
/// name). The documented entry points are the per-level macros in [`logger`](crate::logger).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_log {
    ($level:ident, $template:literal $(, $arg:expr)* $(,)? $(; $($key:expr => $value:expr),+ $(,)?)?) => {{
        const {
            ::core::assert!(
                $crate::__private::placeholders_match(
                    $template,
                    <[&str]>::len(&[$(::core::stringify!($arg)),*]),
                ),
                "a log template needs exactly one `{{}}` per parameter (write literal braces as `{{{{` and `}}}}`)"
            );
        }
        if $crate::logger::enabled() {
            #[allow(unused_imports)]
            use $crate::__private::{ViaDisplay as _, ViaParam as _};
            $crate::__private::capture(
                $crate::protocol::LogLevel::$level,
                $template,
                &[$(
                    &(&$crate::__private::Wrap(&$arg)).__sentry_param()
                        as &dyn $crate::logger::LogParam
                ),*],
                &[$($((
                    $key,
                    &(&$crate::__private::Wrap(&$value)).__sentry_param()
                        as &dyn $crate::logger::LogParam,
                )),+)?],
            );
        }
    }};
}

/// See [`logger::trace!`](macro@crate::logger::trace).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_logger_trace {
    ($($args:tt)+) => { $crate::__sentry_log!(Trace, $($args)+) };
}

/// See [`logger::debug!`](macro@crate::logger::debug).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_logger_debug {
    ($($args:tt)+) => { $crate::__sentry_log!(Debug, $($args)+) };
}

/// See [`logger::info!`](macro@crate::logger::info).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_logger_info {
    ($($args:tt)+) => { $crate::__sentry_log!(Info, $($args)+) };
}

/// See [`logger::warn!`](macro@crate::logger::warn).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_logger_warn {
    ($($args:tt)+) => { $crate::__sentry_log!(Warn, $($args)+) };
}

/// See [`logger::error!`](macro@crate::logger::error).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_logger_error {
    ($($args:tt)+) => { $crate::__sentry_log!(Error, $($args)+) };
}

/// See [`logger::fatal!`](macro@crate::logger::fatal).
#[doc(hidden)]
#[macro_export]
macro_rules! __sentry_logger_fatal {
    ($($args:tt)+) => { $crate::__sentry_log!(Fatal, $($args)+) };
}
