//! [`durable`]: a thread-local mode in which envelopes are finalized and written to the offline
//! cache on the calling thread, before `send_envelope` returns.

use std::cell::Cell;

thread_local! {
    /// Set by [`durable`]: envelopes sent from this thread go to the offline cache first.
    static DURABLE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` so that every envelope it hands to a [`TransportWorker`](super::TransportWorker)
/// with an offline cache is written to disk, complete, *before* `send_envelope` returns, on the
/// calling thread.
///
/// With an offline cache, errors, check-ins and feedback are always written on the calling
/// thread, but *raw*: the event finalizers (symbolication) run later on the worker, which then
/// replaces the file with the finished event; a kill in between leaves the raw event (with its
/// instruction addresses) on disk. High-volume items (transactions, logs, spans, sessions) are
/// written by the worker just before sending. A process that is about to die (a panic hook
/// under `panic = "abort"`, a fatal signal handler) cannot count on the worker getting that
/// far: under `durable`, every envelope is finalized and written on the calling thread, so it
/// survives even an abort right after, complete. Without an offline cache this changes
/// nothing.
///
/// ```
/// use sentry_core::transport::durable;
///
/// let id = durable(|| sentry_core::capture_message("about to abort", sentry_core::Level::Fatal));
/// # let _ = id;
/// ```
pub fn durable<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            DURABLE.with(|flag| flag.set(self.0));
        }
    }
    let _reset = Reset(DURABLE.with(|flag| flag.replace(true)));
    f()
}

/// Whether the calling thread is inside [`durable`].
pub(crate) fn is_active() -> bool {
    DURABLE.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use super::*;

    #[test]
    fn the_mode_holds_for_the_closure_only_nested_or_unwinding() {
        assert!(!is_active());
        let inner = durable(|| {
            assert!(is_active());
            durable(is_active);
            // Leaving a nested call keeps the outer one's mode.
            is_active()
        });
        assert!(inner);
        assert!(!is_active());
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            durable(|| panic!("inside durable (expected by this test)"))
        }));
        assert!(unwound.is_err());
        assert!(!is_active(), "reset while unwinding");
        // Other threads are not affected.
        durable(|| {
            let elsewhere = std::thread::spawn(is_active).join().expect("joined");
            assert!(!elsewhere);
        });
    }
}
