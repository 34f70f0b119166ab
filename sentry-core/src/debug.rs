//! SDK diagnostics: messages about the SDK itself, printed to stderr when the `debug` option is
//! on.
//!
//! Diagnostics never go through the SDK's own capture path, so they cannot loop.

use std::sync::atomic::{AtomicBool, Ordering};

static DEBUG: AtomicBool = AtomicBool::new(false);

/// Turns SDK diagnostics on or off for the whole process. `init` with `debug: true` turns them on.
pub fn set_debug(enabled: bool) {
    DEBUG.store(enabled, Ordering::Relaxed);
}

/// `true` while SDK diagnostics are on.
#[doc(hidden)]
#[inline]
pub fn debug_enabled() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

#[doc(hidden)]
#[cold]
pub fn debug_print(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    // A failed write to stderr is not worth reporting anywhere.
    let _ = writeln!(std::io::stderr().lock(), "[sentry] {args}");
}

/// Prints an SDK diagnostic to stderr when the `debug` option is on.
///
/// The arguments are not evaluated when diagnostics are off.
///
/// ```
/// sentry_core::sentry_debug!("queue is {}% full", 80);
/// ```
#[macro_export]
macro_rules! sentry_debug {
    ($($arg:tt)*) => {
        if $crate::__debug_enabled() {
            $crate::__debug_print(format_args!($($arg)*));
        }
    };
}
