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
//! function. Each runs as an SDK callback (under `catch_unwind`, marked so the panic hook does
//! not report it): a panicking finalizer leaves the event as it was, and the event goes on.
//!
//! # Deadlines
//!
//! Finalizing can be slow (the first symbolication of a large debug build parses hundreds of
//! MB of DWARF), and someone may be waiting for the event: `flush(t)`, `close(t)` or a panic
//! hook before the process dies. Whoever waits registers its deadline with [`finish_by`] for
//! as long as it waits; finalizers ask [`deadline`] (the earliest registered) and, when time
//! runs out, finish with what is cheap rather than run past it (`sentry-backtrace` then names
//! frames from the symbol table, or leaves raw addresses and `debug_meta` for Sentry to
//! symbolicate). Finalizers aim to be done a quarter of the wait (at most half a second)
//! before the deadline itself, which leaves that time to serialize, store and send.
//!
//! Transports that do not use the worker must call [`finalize_envelope`] themselves before
//! serializing, or events reach Sentry unfinished, and count what it removed (an event its
//! finalizers left too large for Sentry) as `invalid` in their client reports.
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

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use crate::envelope::{Envelope, EnvelopeItem, ItemType};
use crate::protocol::{DataCategory, Event};

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

/// Runs every registered finalizer on `event`, in registration order, then holds the event
/// to the size limits again: what the finalizers added (the contexts, source lines) was not
/// there when the capturing thread checked them.
///
/// Returns `false` when the event is still larger than Sentry accepts
/// ([`MAX_EVENT_BYTES`](crate::limits::MAX_EVENT_BYTES)) after trimming: Sentry would reject
/// it, so it must not be sent. [`finalize_envelope`] removes such events.
pub fn finalize_event(event: &mut Event) -> bool {
    if !has_event_finalizers() {
        return true;
    }
    let all = FINALIZERS
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for (name, finalizer) in all {
        // A panic leaves the event as the finalizer left it; `run_callback` says so in the
        // diagnostics.
        let _ = crate::callback::run_callback(name, || finalizer(event));
    }
    // Strings were cut to `max_value_length` on the capturing thread; what is left to check
    // is the event's size (a read-only walk unless it is over).
    match crate::limits::enforce_event(event, usize::MAX) {
        crate::limits::Verdict::TooLarge(size) => {
            crate::sentry_debug!(
                "event {} is still {size} bytes after its finalizers and trimming, more than \
                 the {} Sentry accepts; dropped",
                event.event_id,
                crate::limits::MAX_EVENT_BYTES
            );
            false
        }
        _ => true,
    }
}

/// The most that is kept back from a deadline for what follows the finalizers.
const MAX_RESERVE: Duration = Duration::from_millis(500);

/// The deadlines of everyone waiting for the finalizers now.
static DEADLINES: Deadlines = Deadlines::new();

/// A set of finish-by instants, with the earliest readable in one atomic load.
#[derive(Debug)]
struct Deadlines {
    /// By registration number.
    all: Mutex<Vec<(u64, Instant)>>,
    next_registration: AtomicU64,
    /// The earliest finish-by, in nanoseconds after `base`; [`NO_DEADLINE`] when none is.
    earliest: AtomicU64,
    /// The instant `earliest` counts from: the first registration.
    base: OnceLock<Instant>,
}

const NO_DEADLINE: u64 = u64::MAX;

impl Deadlines {
    const fn new() -> Self {
        Deadlines {
            all: Mutex::new(Vec::new()),
            next_registration: AtomicU64::new(0),
            earliest: AtomicU64::new(NO_DEADLINE),
            base: OnceLock::new(),
        }
    }

    fn register(&'static self, deadline: Option<Instant>) -> FinishBy {
        let Some(deadline) = deadline else {
            return FinishBy { registration: None };
        };
        let now = Instant::now();
        self.base.get_or_init(|| now);
        let reserve = (deadline.saturating_duration_since(now) / 4).min(MAX_RESERVE);
        let finish = deadline.checked_sub(reserve).unwrap_or(deadline);
        let registration = self.next_registration.fetch_add(1, Ordering::Relaxed);
        let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        all.push((registration, finish));
        self.publish(&all);
        FinishBy {
            registration: Some((self, registration)),
        }
    }

    fn withdraw(&self, registration: u64) {
        let mut all = self.all.lock().unwrap_or_else(PoisonError::into_inner);
        all.retain(|(r, _)| *r != registration);
        self.publish(&all);
    }

    fn publish(&self, all: &[(u64, Instant)]) {
        let nanos = match (all.iter().map(|(_, at)| *at).min(), self.base.get()) {
            (Some(at), Some(base)) => {
                let nanos = at.saturating_duration_since(*base).as_nanos();
                u64::try_from(nanos).unwrap_or(NO_DEADLINE - 1)
            }
            _ => NO_DEADLINE,
        };
        self.earliest.store(nanos, Ordering::Release);
    }

    fn earliest(&self) -> Option<Instant> {
        let nanos = self.earliest.load(Ordering::Acquire);
        if nanos == NO_DEADLINE {
            return None;
        }
        self.base.get()?.checked_add(Duration::from_nanos(nanos))
    }
}

/// Registers `deadline` (none: no limit) for as long as the returned guard lives: someone
/// waits for the events being finalized until then. See the [module docs](self#deadlines).
///
/// The transport worker registers the deadlines of `flush` and `shutdown`; a panic hook
/// registers its own. Several may be registered at once; the earliest counts.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use sentry_core::finalize::{deadline, finish_by};
///
/// let waiting_until = Instant::now() + Duration::from_secs(10);
/// let guard = finish_by(Some(waiting_until));
/// // Finalizers aim to be done half a second early, for serialization and sending.
/// assert_eq!(deadline(), Some(waiting_until - Duration::from_millis(500)));
/// drop(guard);
/// assert_eq!(deadline(), None);
/// ```
pub fn finish_by(deadline: Option<Instant>) -> FinishBy {
    DEADLINES.register(deadline)
}

/// Keeps a deadline registered with [`finish_by`]; dropping it withdraws the deadline.
#[must_use = "the deadline is withdrawn as soon as the guard is dropped"]
#[derive(Debug)]
pub struct FinishBy {
    registration: Option<(&'static Deadlines, u64)>,
}

impl Drop for FinishBy {
    fn drop(&mut self) {
        if let Some((deadlines, registration)) = self.registration {
            deadlines.withdraw(registration);
        }
    }
}

/// The instant finalizers should be done by: the earliest deadline registered with
/// [`finish_by`], less the time kept for sending. `None` while nobody is waiting.
pub fn deadline() -> Option<Instant> {
    DEADLINES.earliest()
}

/// How long finalizers may still take: `None` without a deadline, zero once it has passed.
pub fn time_left() -> Option<Duration> {
    deadline().map(|at| at.saturating_duration_since(Instant::now()))
}

/// `true` once the [`deadline`] has passed: finalizers do only what is cheap.
pub fn past_deadline() -> bool {
    time_left().is_some_and(|left| left.is_zero())
}

/// Runs [`finalize_event`] on every error or message event of the envelope. Transactions are
/// left as they are: finalizers complete what error events defer (stack traces, debug images),
/// which a transaction does not carry.
///
/// An event still too large for Sentry afterwards is removed, with the envelope's attachments
/// (they belong to it). Returns what was removed, as `(category, quantity)` pairs for the
/// caller to count as [`Invalid`](crate::protocol::DiscardReason::Invalid) in its client
/// reports; nothing is removed, and nothing allocated, in the usual case.
///
/// # Examples
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::finalize::finalize_envelope;
/// use sentry_core::protocol::Event;
///
/// let mut envelope = Envelope::from_event(Event::new());
/// let removed = finalize_envelope(&mut envelope);
/// assert!(removed.is_empty());
/// assert_eq!(envelope.items().count(), 1);
/// ```
pub fn finalize_envelope(envelope: &mut Envelope) -> Vec<(DataCategory, u64)> {
    if !has_event_finalizers() {
        return Vec::new();
    }
    let mut too_large = Vec::new();
    for (index, item) in envelope.items_mut().enumerate() {
        if let EnvelopeItem::Event(event) = item {
            if !finalize_event(event) {
                too_large.push(index);
            }
        }
    }
    let mut removed = Vec::new();
    if too_large.is_empty() {
        return removed;
    }
    let mut index = 0;
    envelope.retain_items(|item| {
        let drop = too_large.contains(&index) || item.ty() == ItemType::Attachment;
        index += 1;
        if drop {
            removed.extend(item.outcomes());
        }
        !drop
    });
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_deadline_counts_until_its_guard_goes() {
        // A set of its own: the process-wide one sees the flushes of other tests.
        static SET: Deadlines = Deadlines::new();
        assert_eq!(SET.earliest(), None);
        let before = Instant::now();
        let late = SET.register(Some(before + Duration::from_secs(60)));
        let late_finish = SET.earliest().unwrap();
        // Half a second is kept for sending.
        assert!(late_finish <= before + Duration::from_millis(59_500));
        assert!(late_finish >= before + Duration::from_secs(59));
        let early_deadline = Instant::now() + Duration::from_millis(400);
        let early = SET.register(Some(early_deadline));
        let early_finish = SET.earliest().unwrap();
        // A quarter of a short wait is kept.
        assert!(early_finish < early_deadline - Duration::from_millis(90));
        assert!(early_finish > early_deadline - Duration::from_millis(110));
        drop(early);
        assert_eq!(SET.earliest(), Some(late_finish));
        drop(late);
        assert_eq!(SET.earliest(), None);
        let _none = SET.register(None);
        assert_eq!(SET.earliest(), None);
    }

    #[test]
    fn a_passed_deadline_says_so() {
        let guard = finish_by(Some(Instant::now()));
        assert!(past_deadline());
        assert_eq!(time_left(), Some(Duration::ZERO));
        drop(guard);
    }

    #[test]
    fn transactions_are_not_finalized() {
        fn mark(event: &mut Event) {
            if event.tags.contains_key("finalize-tx-test") {
                event.tags.insert("finalized".into(), "yes".into());
            }
        }
        set_event_finalizer("test-transactions", mark);
        let marked = || {
            let mut event = Event::default();
            event.tags.insert("finalize-tx-test".into(), "1".into());
            event
        };
        let mut envelope = Envelope::from_transaction(marked());
        envelope.add_item(marked());
        finalize_envelope(&mut envelope);
        let finalized: Vec<bool> = envelope
            .items()
            .filter_map(|item| item.as_event().or_else(|| item.as_transaction()))
            .map(|event| event.tags.contains_key("finalized"))
            .collect();
        assert_eq!(finalized, [false, true]);
        set_event_finalizer("test-transactions", |_| {});
    }

    #[test]
    fn a_panicking_finalizer_leaves_the_event_to_the_others() {
        fn broken(_: &mut Event) {
            panic!("finalizer bug");
        }
        fn tagging(event: &mut Event) {
            if event.tags.contains_key("finalize-test") {
                event.tags.insert("after-broken".into(), "yes".into());
            }
        }
        set_event_finalizer("test-broken", broken);
        set_event_finalizer("test-tagging", tagging);
        let mut event = Event::default();
        event.tags.insert("finalize-test".into(), "1".into());
        finalize_event(&mut event);
        assert_eq!(event.tags["after-broken"], "yes");
        set_event_finalizer("test-broken", |_| {});
    }
}
