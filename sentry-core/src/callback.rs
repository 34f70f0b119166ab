//! Running callbacks the SDK did not write (`before_send`, event processors, finalizers, an
//! integration's filter): under `catch_unwind`, and marked as SDK code while they run.
//!
//! The mark means two things. Anything such a callback captures is dropped, so the SDK never
//! reports on itself in a loop. And the panic hook does not report a panic raised inside one:
//! the callback's item is dropped and counted instead, and the callback is not run again for it.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

/// `true` while this thread runs an SDK callback (`before_send`, an event processor, …).
pub(crate) fn in_callback() -> bool {
    IN_CALLBACK.try_with(Cell::get).unwrap_or(true)
}

/// Runs `f` marked as a callback. Returns `None` if it panicked (the panic hook has printed
/// the panic and, seeing the mark, not reported it).
pub(crate) fn run_callback<R>(what: &str, f: impl FnOnce() -> R) -> Option<R> {
    let was = IN_CALLBACK.try_with(|c| c.replace(true)).unwrap_or(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    let _ = IN_CALLBACK.try_with(|c| c.set(was));
    match result {
        Ok(value) => Some(value),
        Err(_) => {
            crate::sentry_debug!("{what} panicked; the item it was processing is dropped");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_thread_and_catches_panics() {
        assert!(!in_callback());
        assert_eq!(run_callback("test", in_callback), Some(true));
        assert_eq!(run_callback("test", || -> u8 { panic!("boom") }), None);
        assert!(!in_callback());
    }
}
