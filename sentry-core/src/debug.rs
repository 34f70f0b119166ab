//! SDK diagnostics: messages about the SDK itself, printed to stderr when the `debug` option is
//! on.
//!
//! Diagnostics never go through the SDK's own capture path, so they cannot loop.

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Turns SDK diagnostics on for the whole process: a client created with `debug: true` calls
/// it.
pub(crate) fn set_debug(enabled: bool) {
    DEBUG.store(enabled, Ordering::Relaxed);
}

/// `true` while SDK diagnostics are on.
#[inline]
pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// Prints one diagnostic line to stderr, whether diagnostics are on or not.
#[cold]
pub fn debug_print(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    // A failed write to stderr is not worth reporting anywhere.
    let _ = writeln!(std::io::stderr().lock(), "[sentry] {args}");
}

/// Prints an SDK diagnostic to stderr when the `debug` option is on.
///
/// The arguments are not evaluated when diagnostics are off. For the SDK's own crates, like
/// [`__private`](crate::__private): not a public API.
///
/// ```
/// sentry_core::sentry_debug!("queue is {}% full", 80);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! sentry_debug {
    ($($arg:tt)*) => {
        if $crate::__private::debug_enabled() {
            $crate::__private::debug_print(format_args!($($arg)*));
        }
    };
}
