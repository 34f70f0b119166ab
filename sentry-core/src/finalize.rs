//! Event finalizers: work an integration defers from the capturing thread to the transport
//! worker.
//!
//! Some of what makes an event useful is expensive and not needed by the pipeline: symbolizing
//! a stack trace, reading source lines, listing loaded images. An integration can leave the
//! event with raw data (such as instruction addresses) and register a finalizer; the
//! [`TransportWorker`](crate::transport::TransportWorker) calls every finalizer on each event
//! right before it serializes it, on its own thread, after rate limiting (so events that are
//! dropped cost nothing).
//!
//! Finalizers are process-wide and identified by name; registering a name again replaces its
//! function. Each runs under `catch_unwind`: a panicking finalizer leaves the event as it was.
//!
//! Transports that do not use the worker must call [`finalize_envelope`] themselves before
//! serializing, or events reach Sentry unfinished.
//!
//! # Examples
//!
//! ```
//! use sentry_core::finalize::{finalize_event, set_event_finalizer};
//! use sentry_core::protocol::Event;
//!
//! fn tag_finalized(event: &mut Event) {
//!     event.tags.insert("finalized".into(), "yes".into());
//! }
//!
//! set_event_finalizer("doc-example", tag_finalized);
//! let mut event = Event::default();
//! finalize_event(&mut event);
//! assert_eq!(event.tags["finalized"], "yes");
//! ```

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{PoisonError, RwLock};

use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::Event;

/// A function completing an event right before it is serialized.
pub type EventFinalizer = fn(&mut Event);

static FINALIZERS: RwLock<Vec<(&'static str, EventFinalizer)>> = RwLock::new(Vec::new());
/// Set once any finalizer is registered; until then finalizing costs one atomic load.
static ANY: AtomicBool = AtomicBool::new(false);

/// Registers `finalizer` under `name` (replacing a finalizer registered under that name).
pub fn set_event_finalizer(name: &'static str, finalizer: EventFinalizer) {
    let mut all = FINALIZERS.write().unwrap_or_else(PoisonError::into_inner);
    match all.iter_mut().find(|(n, _)| *n == name) {
        Some(slot) => slot.1 = finalizer,
        None => all.push((name, finalizer)),
    }
    ANY.store(true, Ordering::Release);
}

/// `true` once a finalizer is registered.
pub fn has_event_finalizers() -> bool {
    ANY.load(Ordering::Acquire)
}

/// Runs every registered finalizer on `event`, in registration order.
pub fn finalize_event(event: &mut Event) {
    if !has_event_finalizers() {
        return;
    }
    let all = FINALIZERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for (name, finalizer) in all {
        if catch_unwind(AssertUnwindSafe(|| finalizer(event))).is_err() {
            crate::sentry_debug!("the event finalizer {name} panicked");
        }
    }
}

/// Runs [`finalize_event`] on every event of the envelope.
pub fn finalize_envelope(envelope: &mut Envelope) {
    if !has_event_finalizers() {
        return;
    }
    for item in envelope.items_mut() {
        if let EnvelopeItem::Event(event) = item {
            finalize_event(event);
        }
    }
}
