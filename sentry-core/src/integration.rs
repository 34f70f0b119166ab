//! Integrations: pluggable pieces that hook into the SDK (panic hook, log bridge, contexts, …),
//! and what their authors need besides the [`Integration`] trait: [`inside_sdk`], to never
//! capture what the SDK itself does, and [`run_user_callback`], to run the application's
//! callbacks the way the SDK runs its own.
//!
//! An integration that defers work to the transport's thread registers an event finalizer
//! ([`finalize`](crate::finalize)); one that counts what it drops records it in the client
//! reports ([`client_reports`](crate::client_reports)).

use std::cell::Cell;
use std::sync::{Mutex, PoisonError};

use sentry_minimal::SortedMap;

use crate::hint::Hint;
use crate::options::ClientOptions;
use crate::protocol::{Event, SpanV2};
use crate::transport::WORKER_THREAD_NAME;

/// A pluggable piece of the SDK.
///
/// The client calls [`setup_once`](Integration::setup_once) the first time an integration of
/// this name is used in the process (install a hook here), [`setup`](Integration::setup) for each
/// client it is part of, and [`process_event`](Integration::process_event) for each event, with
/// the [`Hint`] of what the event was made from, after the scopes' event processors and before
/// `before_send`.
///
/// # For implementors
///
/// Methods must not panic (a panic in `process_event` drops the event) and must not capture
/// events themselves.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{ClientOptions, Hint, Integration, protocol::Event};
///
/// struct AddServiceTag;
///
/// impl Integration for AddServiceTag {
///     fn name(&self) -> &'static str {
///         "add-service-tag"
///     }
///     fn process_event(&self, mut event: Event, _: &Hint<'_>, _: &ClientOptions) -> Option<Event> {
///         event.tags.insert("service".into(), "billing".into());
///         Some(event)
///     }
/// }
///
/// let options = ClientOptions { integrations: vec![Arc::new(AddServiceTag)], ..Default::default() };
/// # let _ = options;
/// ```
pub trait Integration: Send + Sync + 'static {
    /// A unique, stable name, such as `"panic"`. Sent in the SDK information of every event.
    fn name(&self) -> &'static str;

    /// Called once per process for each integration name, before the first `setup`.
    fn setup_once(&self) {}

    /// Called when a client using this integration is created.
    fn setup(&self, options: &ClientOptions) {
        let _ = options;
    }

    /// Changes or drops an event; `hint` is what the event was made from. The default keeps it
    /// unchanged.
    ///
    /// An integration implements this or [`process_event_in_place`], which the client calls
    /// (its default calls this one).
    ///
    /// [`process_event_in_place`]: Self::process_event_in_place
    fn process_event(
        &self,
        event: Event,
        hint: &Hint<'_>,
        options: &ClientOptions,
    ) -> Option<Event> {
        let _ = (hint, options);
        Some(event)
    }

    /// [`process_event`](Self::process_event) on an event the client keeps where it is:
    /// change `event` and return `true` to keep it, `false` to drop it.
    ///
    /// An event is about 900 bytes; passing it by value copies it in and out of every
    /// integration. The SDK's own integrations implement this method and write their
    /// `process_event` as a call to it; the default moves the event through
    /// [`process_event`](Self::process_event), so implementing either is enough.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::{ClientOptions, Hint, Integration, protocol::Event};
    ///
    /// struct DropHealthChecks;
    ///
    /// impl Integration for DropHealthChecks {
    ///     fn name(&self) -> &'static str {
    ///         "drop-health-checks"
    ///     }
    ///
    ///     fn process_event_in_place(&self, event: &mut Event, _: &Hint<'_>, _: &ClientOptions) -> bool {
    ///         event.transaction.as_deref() != Some("GET /health")
    ///     }
    ///
    ///     fn process_event(&self, mut event: Event, hint: &Hint<'_>, options: &ClientOptions) -> Option<Event> {
    ///         self.process_event_in_place(&mut event, hint, options).then_some(event)
    ///     }
    /// }
    /// ```
    fn process_event_in_place(
        &self,
        event: &mut Event,
        hint: &Hint<'_>,
        options: &ClientOptions,
    ) -> bool {
        // The placeholder is never seen: it is overwritten, or the event is dropped.
        let taken = std::mem::replace(event, Event::placeholder());
        match self.process_event(taken, hint, options) {
            Some(processed) => {
                *event = processed;
                true
            }
            None => false,
        }
    }

    /// Changes a streamed span (`trace_lifecycle = Stream`) before `before_send_span`: the
    /// span-first counterpart of [`process_event`](Self::process_event), which spans do not
    /// go through. It runs on the transport worker after the common attributes are set, and
    /// cannot drop the span. A panic is logged and the span is sent as the hook left it. The
    /// default does nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::SpanV2;
    /// use sentry_core::Integration;
    ///
    /// struct Region;
    ///
    /// impl Integration for Region {
    ///     fn name(&self) -> &'static str {
    ///         "region"
    ///     }
    ///
    ///     fn process_span(&self, span: &mut SpanV2) {
    ///         if span.is_segment {
    ///             span.attributes.insert("cloud.region".into(), "eu-west-1".into());
    ///         }
    ///     }
    /// }
    /// ```
    fn process_span(&self, span: &mut SpanV2) {
        let _ = span;
    }
}

static SET_UP: Mutex<SortedMap<&'static str, ()>> = Mutex::new(SortedMap::new());

/// Runs `setup_once` for integrations whose name has not been set up in this process yet.
pub(crate) fn setup_once(integration: &dyn Integration) {
    let name = integration.name();
    let first = {
        let mut set = SET_UP.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(name, ()).is_none()
    };
    if first {
        integration.setup_once();
    }
}

thread_local! {
    /// Whether this thread is the transport worker: unknown until first asked (a thread's name
    /// never changes, so the answer is kept).
    static ON_WORKER: Cell<Option<bool>> = const { Cell::new(None) };
}

/// `true` when the calling thread is running SDK code that must not be reported on: the
/// transport's worker thread (named [`WORKER_THREAD_NAME`]), or a user callback the SDK is
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
/// use sentry_core::integration::inside_sdk;
///
/// assert!(!inside_sdk());
/// let worker = std::thread::Builder::new()
///     .name(sentry_core::transport::WORKER_THREAD_NAME.into())
///     .spawn(inside_sdk)
///     .unwrap();
/// assert!(worker.join().unwrap());
/// ```
pub fn inside_sdk() -> bool {
    crate::callback::in_callback() || on_worker_thread()
}

fn on_worker_thread() -> bool {
    ON_WORKER
        .try_with(|cell| match cell.get() {
            Some(on) => on,
            None => {
                let on = std::thread::current().name() == Some(WORKER_THREAD_NAME);
                cell.set(Some(on));
                on
            }
        })
        // During thread teardown: say yes, capturing is not worth the risk then.
        .unwrap_or(true)
}

/// Runs a callback the application gave to an integration (a filter, a mapper, a formatter)
/// the way the SDK runs its own `before_send`: under `catch_unwind`, and marked as SDK code
/// while it runs. Returns `None` if it panicked.
///
/// The mark means that anything the callback captures is dropped (the SDK never reports on
/// itself in a loop, see [`inside_sdk`]), and that the panic hook does not
/// report a panic raised inside it as an application panic: the panic message is printed as
/// usual, and the integration drops only the item the callback was working on (counting it in
/// a client report where it has a category) and does not call the callback again for it.
///
/// # Examples
///
/// ```
/// use sentry_core::integration::run_user_callback;
///
/// let parse = |text: &str| -> u16 { text.parse().expect("a port number") };
/// assert_eq!(run_user_callback("port parser", || parse("8080")), Some(8080));
/// assert_eq!(run_user_callback("port parser", || parse("eighty")), None);
/// ```
pub fn run_user_callback<R>(what: &str, callback: impl FnOnce() -> R) -> Option<R> {
    crate::callback::run_callback(what, callback)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(&'static AtomicUsize);
    impl Integration for Counting {
        fn name(&self) -> &'static str {
            "counting-test-integration"
        }
        fn setup_once(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn setup_once_runs_once_per_name() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        setup_once(&Counting(&COUNT));
        setup_once(&Counting(&COUNT));
        assert_eq!(COUNT.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn knows_the_worker_thread_and_callbacks() {
        assert!(!inside_sdk());
        assert_eq!(run_user_callback("test", inside_sdk), Some(true));
        let on_worker = std::thread::Builder::new()
            .name(WORKER_THREAD_NAME.to_owned())
            .spawn(|| (inside_sdk(), inside_sdk()))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(on_worker, (true, true));
    }
}
