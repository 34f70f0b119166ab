//! A scope object that several threads or tasks may share.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::data::Scope;
use crate::EventId;

/// How many threads are inside a `configure` closure right now. Readers check the thread-local
/// marker only while this is non-zero.
static CONFIGURING: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    /// The slot this thread is configuring (its address), or 0.
    static CONFIGURING_SLOT: Cell<usize> = const { Cell::new(0) };
}

/// One scope object: its data behind a lock, copy-on-write.
///
/// Writers hold the lock while they change the data, so concurrent updates from several threads
/// are never lost. A user closure that, while configuring a slot, reads or configures the same
/// slot again (for example by capturing an event) sees an empty scope instead of deadlocking.
#[derive(Debug, Default)]
pub(crate) struct ScopeSlot {
    data: Mutex<Arc<Scope>>,
    last_event_id: Mutex<Option<EventId>>,
}

fn empty_scope() -> Arc<Scope> {
    static EMPTY: OnceLock<Arc<Scope>> = OnceLock::new();
    Arc::clone(EMPTY.get_or_init(Arc::default))
}

impl ScopeSlot {
    pub(crate) fn new(scope: Arc<Scope>) -> Arc<Self> {
        Arc::new(ScopeSlot {
            data: Mutex::new(scope),
            last_event_id: Mutex::new(None),
        })
    }

    fn address(&self) -> usize {
        self as *const ScopeSlot as usize
    }

    fn configured_by_this_thread(&self) -> bool {
        CONFIGURING.load(Ordering::Acquire) != 0
            && CONFIGURING_SLOT
                .try_with(|c| c.get() == self.address())
                .unwrap_or(false)
    }

    /// The current data: a reference-count increment.
    pub(crate) fn snapshot(&self) -> Arc<Scope> {
        if self.configured_by_this_thread() {
            return empty_scope();
        }
        Arc::clone(&self.data.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Changes the data with SDK code (no user closure): the lock is held throughout.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        if self.configured_by_this_thread() {
            return None;
        }
        let mut guard = self.data.lock().unwrap_or_else(PoisonError::into_inner);
        Some(f(Arc::make_mut(&mut guard)))
    }

    /// Runs a user closure on the data, holding the lock, with re-entrancy protection.
    pub(crate) fn configure<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        if self.configured_by_this_thread() {
            crate::sentry_debug!("configure_scope called inside configure_scope; ignored");
            return None;
        }
        let mut guard = self.data.lock().unwrap_or_else(PoisonError::into_inner);
        let marker = ConfiguringMarker::set(self.address());
        let result = f(Arc::make_mut(&mut guard));
        drop(marker);
        Some(result)
    }

    pub(crate) fn last_event_id(&self) -> Option<EventId> {
        *self
            .last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn set_last_event_id(&self, id: EventId) {
        *self
            .last_event_id
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(id);
    }
}

/// Marks this thread as configuring a slot; restores the previous marker on drop, even when the
/// closure panics.
struct ConfiguringMarker {
    previous: usize,
}

impl ConfiguringMarker {
    fn set(address: usize) -> Self {
        CONFIGURING.fetch_add(1, Ordering::AcqRel);
        let previous = CONFIGURING_SLOT
            .try_with(|c| c.replace(address))
            .unwrap_or(0);
        ConfiguringMarker { previous }
    }
}

impl Drop for ConfiguringMarker {
    fn drop(&mut self) {
        let _ = CONFIGURING_SLOT.try_with(|c| c.set(self.previous));
        CONFIGURING.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reentrant_configure_does_not_deadlock() {
        let slot = ScopeSlot::new(Arc::default());
        let inner = slot.configure(|scope| {
            scope.set_tag("outer", "1");
            // Reading or configuring the same slot from inside: no deadlock.
            assert!(slot.snapshot().tags().is_empty());
            slot.configure(|_| ())
        });
        assert_eq!(inner, Some(None));
        assert_eq!(slot.snapshot().tags()["outer"], "1");
    }

    #[test]
    fn panicking_closure_leaves_slot_usable() {
        let slot = ScopeSlot::new(Arc::default());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            slot.configure(|_| panic!("user code"));
        }));
        assert!(result.is_err());
        slot.update(|s| s.set_tag("after", "panic"));
        assert_eq!(slot.snapshot().tags()["after"], "panic");
    }

    #[test]
    fn concurrent_updates_are_not_lost() {
        let slot = ScopeSlot::new(Arc::default());
        std::thread::scope(|s| {
            for t in 0..4 {
                let slot = &slot;
                s.spawn(move || {
                    for i in 0..250 {
                        slot.update(|scope| scope.set_extra(format!("{t}-{i}"), i));
                    }
                });
            }
        });
        assert_eq!(slot.snapshot().extra().len(), 1000);
    }
}
