//! Running one piece of work on a helper thread and waiting for its result with a time limit.
//!
//! Integrations need this where a call may block for longer than the SDK can afford to wait
//! (a DNS lookup, a capture from a panic hook while another thread may hold a lock): the work
//! runs on a thread of its own, and the caller stops waiting at the deadline, leaving the
//! thread to finish on its own. The result travels through a mutex-guarded slot and the SDK's
//! one-shot notice (`signal.rs`) rather than a channel, which keeps this small in every
//! application.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::signal::{notice, NotNotified};

/// Why [`run_off_thread`] returned no result.
#[derive(Debug)]
pub enum OffThreadError {
    /// No thread could be started; the work did not run.
    Spawn(std::io::Error),
    /// The work did not finish within the time limit. It goes on running on its thread, and
    /// its result is dropped when it finishes.
    TimedOut,
    /// The work panicked.
    Panicked,
}

impl fmt::Display for OffThreadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OffThreadError::Spawn(error) => write!(f, "could not start a thread: {error}"),
            OffThreadError::TimedOut => f.write_str("the work did not finish in time"),
            OffThreadError::Panicked => f.write_str("the work panicked"),
        }
    }
}

impl std::error::Error for OffThreadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OffThreadError::Spawn(error) => Some(error),
            _ => None,
        }
    }
}

/// Runs `work` on a new thread named `name` and waits at most `timeout` for its result.
///
/// On time, the thread is joined before returning. After the time limit it is left running
/// (detached); whatever it returns is dropped. A `timeout` too large to represent waits without
/// a limit.
///
/// # Errors
///
/// [`OffThreadError::Spawn`] if no thread could be started (the work did not run),
/// [`OffThreadError::TimedOut`] after the time limit, [`OffThreadError::Panicked`] if the work
/// panicked.
pub fn run_off_thread<T, F>(name: &str, timeout: Duration, work: F) -> Result<T, OffThreadError>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let slot = Arc::new(Mutex::new(None));
    let job: Box<dyn FnOnce() + Send> = Box::new({
        let slot = Arc::clone(&slot);
        move || {
            let result = work();
            *slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        }
    });
    run_boxed(name, timeout, job)?;
    let result = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
    result.ok_or(OffThreadError::Panicked)
}

/// The part of [`run_off_thread`] that does not depend on the result type, compiled once.
fn run_boxed(
    name: &str,
    timeout: Duration,
    job: Box<dyn FnOnce() + Send>,
) -> Result<(), OffThreadError> {
    let (done, finished) = notice();
    let handle = spawn_named(
        name,
        Box::new(move || {
            job();
            // Not reached when `job` panics: the notifier is dropped unnotified.
            done.notify();
        }),
    )
    .map_err(OffThreadError::Spawn)?;
    match finished.wait_until(Instant::now().checked_add(timeout)) {
        Ok(()) => {
            let _ = handle.join();
            Ok(())
        }
        Err(NotNotified::Dropped) => {
            let _ = handle.join();
            Err(OffThreadError::Panicked)
        }
        Err(NotNotified::TimedOut) => Err(OffThreadError::TimedOut),
    }
}

/// Starts a thread named `name` running `job`, for work that runs on its own and is not
/// waited for (use [`run_off_thread`] to wait for a result with a time limit).
///
/// Every closure type handed to `std::thread::Builder::spawn` links its own copy of the
/// thread start-up code (a few KB); the SDK's threads all start through this one boxed
/// closure type instead.
///
/// # Errors
///
/// The operating system's error if no thread can be started.
pub fn spawn_named(
    name: &str,
    job: Box<dyn FnOnce() + Send>,
) -> std::io::Result<thread::JoinHandle<()>> {
    thread::Builder::new().name(name.to_owned()).spawn(job)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_result_and_names_the_thread() {
        let name = run_off_thread("sentry-test-name", Duration::from_secs(5), || {
            thread::current().name().map(str::to_owned)
        });
        assert_eq!(name.unwrap().as_deref(), Some("sentry-test-name"));
    }

    #[test]
    fn a_panic_is_reported_not_propagated() {
        let result = run_off_thread("sentry-test-panic", Duration::from_secs(5), || {
            if thread::current().name().is_some() {
                panic!("inside the helper");
            }
            1
        });
        assert!(
            matches!(result, Err(OffThreadError::Panicked)),
            "{result:?}"
        );
    }

    #[test]
    fn gives_up_at_the_deadline_and_leaves_the_thread_running() {
        let (tx, rx) = std::sync::mpsc::channel();
        let result = run_off_thread("sentry-test-slow", Duration::from_millis(50), move || {
            thread::sleep(Duration::from_millis(300));
            let _ = tx.send("finished anyway");
        });
        assert!(matches!(result, Err(OffThreadError::TimedOut)));
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(5)).unwrap(),
            "finished anyway"
        );
    }

    #[test]
    fn an_unrepresentable_timeout_waits_for_the_result() {
        let result = run_off_thread("sentry-test-max", Duration::MAX, || "done");
        assert_eq!(result.unwrap(), "done");
    }

    #[test]
    fn errors_read_clearly() {
        assert_eq!(
            OffThreadError::TimedOut.to_string(),
            "the work did not finish in time"
        );
        let spawn = OffThreadError::Spawn(std::io::Error::other("no threads left"));
        assert!(spawn.to_string().contains("no threads left"));
        assert!(std::error::Error::source(&spawn).is_some());
    }

    /// The worked examples of this module's functions.
    #[test]
    fn documented_examples() {
        {
            use crate::off_thread::{run_off_thread, OffThreadError};
            use std::time::Duration;

            let sum = run_off_thread("adder", Duration::from_secs(5), || 2 + 2);
            assert_eq!(sum.unwrap(), 4);

            let slow = run_off_thread("sleeper", Duration::from_millis(10), || {
                std::thread::sleep(Duration::from_millis(200));
            });
            assert!(matches!(slow, Err(OffThreadError::TimedOut)));
        }
        {
            let handle = crate::off_thread::spawn_named(
                "sentry-example",
                Box::new(|| {
                    assert_eq!(std::thread::current().name(), Some("sentry-example"));
                }),
            )
            .expect("a thread");
            handle.join().unwrap();
        }
    }
}
