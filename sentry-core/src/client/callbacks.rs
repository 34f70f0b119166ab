//! Running user callbacks safely: under `catch_unwind`, and never capturing from inside them.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

thread_local! {
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
    /// Whether this thread is the transport worker: unknown until first asked (a thread's name
    /// never changes, so the answer is kept).
    static ON_WORKER: Cell<Option<bool>> = const { Cell::new(None) };
}

/// `true` when the calling thread is running SDK code that must not be reported on: the
/// transport's worker thread (named
/// [`WORKER_THREAD_NAME`](crate::transport::WORKER_THREAD_NAME)), or a user callback the SDK is
/// running (`before_send`, `before_send_log`, an event processor, …).
///
/// Integrations that turn what happens in the program into captures (a `log` or `tracing`
/// bridge, for instance) check it and let such records pass uncaptured, so that the SDK never
/// reports on itself in a loop: the HTTP client logging on the worker thread, or a callback
/// that logs, would otherwise feed the SDK from inside the SDK. The SDK's own capture functions
/// check it too.
///
/// # Examples
///
/// ```
/// assert!(!sentry_core::inside_sdk());
/// let worker = std::thread::Builder::new()
///     .name(sentry_core::transport::WORKER_THREAD_NAME.into())
///     .spawn(sentry_core::inside_sdk)
///     .unwrap();
/// assert!(worker.join().unwrap());
/// ```
pub fn inside_sdk() -> bool {
    in_callback() || on_worker_thread()
}

fn on_worker_thread() -> bool {
    ON_WORKER
        .try_with(|cell| match cell.get() {
            Some(on) => on,
            None => {
                let on =
                    std::thread::current().name() == Some(crate::transport::WORKER_THREAD_NAME);
                cell.set(Some(on));
                on
            }
        })
        // During thread teardown: say yes, capturing is not worth the risk then.
        .unwrap_or(true)
}

/// `true` while this thread runs an SDK callback (`before_send`, an event processor, …).
/// Anything such a callback captures is dropped, so the SDK never reports on itself in a loop,
/// and the panic hook does not report a panic raised inside one (the callback's item is
/// dropped and counted instead, and the callback is not run again).
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

    #[test]
    fn knows_the_worker_thread_and_callbacks() {
        assert!(!inside_sdk());
        assert_eq!(run_callback("test", inside_sdk), Some(true));
        let on_worker = std::thread::Builder::new()
            .name(crate::transport::WORKER_THREAD_NAME.to_owned())
            .spawn(|| (inside_sdk(), inside_sdk()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(on_worker, (true, true));
    }
}
