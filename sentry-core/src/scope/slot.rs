//! A scope object that several threads or tasks may share.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};
use std::time::{Duration, Instant};

use super::data::Scope;
use sentry_minimal::EventId;

/// How many threads are changing a slot right now. Writers check the thread-local marker only
/// while this is non-zero.
static CONFIGURING: AtomicUsize = AtomicUsize::new(0);

/// How long a thread inside a closure configuring one slot waits for another slot's writer
/// lock before it drops its change (see `ScopeSlot::lock_writer`).
const NESTED_WAIT: Duration = Duration::from_millis(500);

thread_local! {
    /// The slot this thread is changing (its address), or 0.
    static CONFIGURING_SLOT: Cell<usize> = const { Cell::new(0) };
}

/// One scope object: published data that readers copy, and a writer lock.
///
/// Readers take the `data` lock only to clone the `Arc` (a snapshot), so they never wait for
/// code that runs while a scope is being changed, user closures included. Writers hold the
/// `writer` lock while they compute the next version, so concurrent updates from several
/// threads are never lost:
///
/// - SDK code ([`update`](Self::update)) changes the data in place, copy-on-write, under the
///   `data` lock alone while no closure is running (the common case: a breadcrumb takes one
///   lock), and waits for the `writer` lock only while one is;
/// - a user closure ([`configure`](Self::configure)) works on a copy, which is published when
///   it returns. While it runs, every reader (another thread, the panic hook's helper, the
///   closure itself when it captures) sees the version from before the closure began, and a
///   closure that panics publishes nothing.
///
/// A closure that changes the slot it is configuring again is refused (it would wait for
/// itself); see the thread-local marker above. A closure that changes another slot whose
/// writer lock is held waits for it at most [`NESTED_WAIT`]: two threads configuring two
/// slots, each changing the other's from inside, would otherwise wait for each other forever.
///
/// Whether the published data is empty is also kept beside the lock
/// ([`fork_data`](Self::fork_data)): a fork of an empty scope, the usual current scope, holds no data at all
/// and takes neither the lock nor a reference count.
#[derive(Debug)]
pub(crate) struct ScopeSlot {
    data: Mutex<Published>,
    writer: Mutex<()>,
    last_event_id: Mutex<Option<EventId>>,
    /// Set while the published data holds nothing (`Scope::is_empty`). Written under the
    /// `data` lock whenever a version is published; once cleared it stays clear (a scope
    /// emptied again only takes the general path).
    empty: AtomicBool,
}

impl Default for ScopeSlot {
    fn default() -> Self {
        ScopeSlot::with_data(Arc::default())
    }
}

/// The published data, and whether a closure is computing the next version from it.
#[derive(Debug, Default)]
struct Published {
    scope: Arc<Scope>,
    /// Set and cleared under the `data` lock, with the closure's snapshot and its publication:
    /// while it is clear, no closure's result can overwrite a change made in place.
    configuring: bool,
}

impl ScopeSlot {
    pub(crate) fn new(scope: Arc<Scope>) -> Arc<Self> {
        Arc::new(ScopeSlot::with_data(scope))
    }

    /// A slot holding `scope`, not yet shared (the process's default slots live in statics).
    pub(crate) fn with_data(scope: Arc<Scope>) -> Self {
        ScopeSlot {
            empty: AtomicBool::new(scope.is_empty()),
            data: Mutex::new(Published {
                scope,
                configuring: false,
            }),
            writer: Mutex::new(()),
            last_event_id: Mutex::new(None),
        }
    }

    fn address(&self) -> usize {
        self as *const ScopeSlot as usize
    }

    /// Whether this thread is inside a closure configuring another slot. Waiting for this
    /// slot's writer lock then could wait forever: another thread may hold it while waiting
    /// for the slot this thread holds (nested `configure` calls in opposite orders), or this
    /// thread may hold it further out (`configure` of this slot, of another, of this again).
    fn configuring_another(&self) -> bool {
        CONFIGURING.load(Ordering::Acquire) != 0
            && CONFIGURING_SLOT
                .try_with(|c| c.get() != 0 && c.get() != self.address())
                .unwrap_or(false)
    }

    /// The writer lock: waited for, except by a thread inside a closure configuring another
    /// slot, which waits at most [`NESTED_WAIT`] (a lock-order deadlock otherwise) and gets
    /// `None` then.
    fn lock_writer(&self) -> Option<MutexGuard<'_, ()>> {
        if !self.configuring_another() {
            return Some(self.writer.lock().unwrap_or_else(PoisonError::into_inner));
        }
        let deadline = Instant::now() + NESTED_WAIT;
        loop {
            match self.writer.try_lock() {
                Ok(guard) => return Some(guard),
                Err(TryLockError::Poisoned(poisoned)) => return Some(poisoned.into_inner()),
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(TryLockError::WouldBlock) => {
                    crate::sentry_debug!(
                        "a scope changed inside a closure configuring another scope is busy \
                         (nested configure calls in opposite orders?); the change is dropped"
                    );
                    return None;
                }
            }
        }
    }

    fn configured_by_this_thread(&self) -> bool {
        CONFIGURING.load(Ordering::Acquire) != 0
            && CONFIGURING_SLOT
                .try_with(|c| c.get() == self.address())
                .unwrap_or(false)
    }

    /// The current data: a reference-count increment. Never waits for a writer's closure.
    pub(crate) fn snapshot(&self) -> Arc<Scope> {
        Arc::clone(&self.lock_data().scope)
    }

    /// The data a fork of this slot starts from: `None` while the slot holds nothing (one
    /// atomic load: no lock, no reference count), else a snapshot.
    pub(crate) fn fork_data(&self) -> Option<Arc<Scope>> {
        if self.empty.load(Ordering::Acquire) {
            None
        } else {
            Some(self.snapshot())
        }
    }

    /// Clears the `empty` flag once `published` holds something. Called under the `data`
    /// lock, after every change.
    fn note_published(&self, published: &Scope) {
        if self.empty.load(Ordering::Relaxed) && !published.is_empty() {
            self.empty.store(false, Ordering::Release);
        }
    }

    fn lock_data(&self) -> std::sync::MutexGuard<'_, Published> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads one field of the current data under the lock, without taking a snapshot (two
    /// reference counts fewer when only a field is needed).
    pub(crate) fn read<R>(&self, f: impl FnOnce(&Scope) -> R) -> R {
        f(&self.lock_data().scope)
    }

    /// Changes the data with SDK code (no user closure), in place.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        if self.configured_by_this_thread() {
            return None;
        }
        let mut data = self.lock_data();
        if !data.configuring {
            let result = f(Arc::make_mut(&mut data.scope));
            self.note_published(&data.scope);
            return Some(result);
        }
        // A closure is computing the next version: wait for it to publish.
        drop(data);
        let _writer = self.lock_writer()?;
        let mut data = self.lock_data();
        let result = f(Arc::make_mut(&mut data.scope));
        self.note_published(&data.scope);
        Some(result)
    }

    /// Runs a user closure on a copy of the data and publishes the copy when it returns.
    pub(crate) fn configure<R>(&self, f: impl FnOnce(&mut Scope) -> R) -> Option<R> {
        if self.configured_by_this_thread() {
            crate::sentry_debug!("configure_scope called inside configure_scope; ignored");
            return None;
        }
        let _writer = self.lock_writer()?;
        let mut next = {
            let mut data = self.lock_data();
            data.configuring = true;
            Arc::clone(&data.scope)
        };
        // Cleared with the publication, or without one when the closure panics.
        let configuring = ConfiguringFlag(self);
        let marker = ConfiguringMarker::set(self.address());
        let result = f(Arc::make_mut(&mut next));
        drop(marker);
        let previous = {
            let mut data = self.lock_data();
            data.configuring = false;
            self.note_published(&next);
            std::mem::replace(&mut data.scope, next)
        };
        std::mem::forget(configuring);
        // The old version goes away outside the lock.
        drop(previous);
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

/// Clears the slot's `configuring` flag when a closure panics (it publishes nothing).
struct ConfiguringFlag<'a>(&'a ScopeSlot);

impl Drop for ConfiguringFlag<'_> {
    fn drop(&mut self) {
        self.0.lock_data().configuring = false;
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

    /// Two threads each configure one slot and, from inside, the other: the lock order is
    /// reversed, and before the bound they waited for each other forever. Now an inner change
    /// waits at most `NESTED_WAIT` and is dropped; both threads finish.
    #[test]
    fn nested_configures_in_opposite_orders_do_not_deadlock() {
        let a = ScopeSlot::new(Arc::default());
        let b = ScopeSlot::new(Arc::default());
        let both_inside = Arc::new(std::sync::Barrier::new(2));
        let (done, finished) = std::sync::mpsc::channel();
        for (outer, inner, tag) in [(&a, &b, "from_a"), (&b, &a, "from_b")] {
            let (outer, inner) = (Arc::clone(outer), Arc::clone(inner));
            let (both_inside, done) = (Arc::clone(&both_inside), done.clone());
            std::thread::spawn(move || {
                let applied = outer.configure(|_| {
                    both_inside.wait();
                    inner.configure(|scope| scope.set_tag(tag, "1")).is_some()
                });
                done.send(applied).unwrap();
            });
        }
        let timeout = Duration::from_secs(20);
        let results = [
            finished.recv_timeout(timeout).expect("a thread finished"),
            finished
                .recv_timeout(timeout)
                .expect("both threads finished"),
        ];
        // One gives up and drops its change; the other gets the lock then, unless its own
        // wait ran out at about the same time.
        assert!(results.contains(&Some(false)), "{results:?}");
        let applied = results.iter().filter(|r| **r == Some(true)).count();
        let tags = a.snapshot().tags().len() + b.snapshot().tags().len();
        assert_eq!(tags, applied, "what was applied, and only that, is there");
    }

    /// Configuring a slot, then another, then the first again from inside both: the innermost
    /// waits for a lock its own thread holds; it gives up after the bound.
    #[test]
    fn a_slot_configured_again_further_in_does_not_wait_for_itself() {
        let a = ScopeSlot::new(Arc::default());
        let b = ScopeSlot::new(Arc::default());
        let inner = a.configure(|_| b.configure(|_| a.configure(|s| s.set_tag("x", "1"))));
        assert_eq!(inner, Some(Some(None)));
        assert!(a.snapshot().tags().is_empty());
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
    fn a_panicking_closure_publishes_nothing() {
        let slot = ScopeSlot::new(Arc::default());
        slot.update(|s| s.set_tag("before", "1"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            slot.configure(|scope| {
                scope.set_tag("half", "done");
                panic!("user code");
            });
        }));
        assert!(result.is_err());
        let tags = slot.snapshot().tags().clone();
        assert_eq!(tags.get("before").map(|v| &**v), Some("1"));
        assert!(!tags.contains_key("half"));
    }

    /// Readers (another thread, a panic hook's helper) never wait for a closure that is
    /// changing the slot: they see the version from before it began.
    #[test]
    fn readers_never_wait_for_a_configuring_closure() {
        use std::sync::mpsc;
        use std::time::Duration;

        let slot = ScopeSlot::new(Arc::default());
        slot.update(|s| s.set_tag("version", "1"));
        let (inside_tx, inside_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let slot = &slot;
            s.spawn(move || {
                slot.configure(|scope| {
                    scope.set_tag("version", "2");
                    inside_tx.send(()).unwrap();
                    // Held inside the closure until the reader is done.
                    let _ = release_rx.recv_timeout(Duration::from_secs(10));
                });
            });
            inside_rx.recv().unwrap();
            let (seen_tx, seen_rx) = mpsc::channel();
            s.spawn(move || {
                let version = slot.snapshot().tags()["version"].to_string();
                let _ = seen_tx.send(version);
            });
            let seen = seen_rx.recv_timeout(Duration::from_secs(5));
            release_tx.send(()).unwrap();
            assert_eq!(
                seen.as_deref(),
                Ok("1"),
                "the reader waited for the closure"
            );
        });
        assert_eq!(slot.snapshot().tags()["version"], "2");
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

    /// An update made while a closure is running waits for it, and is kept: the closure's
    /// publication does not overwrite it.
    #[test]
    fn an_update_during_a_closure_is_not_lost() {
        use std::sync::mpsc;
        use std::time::Duration;

        let slot = ScopeSlot::new(Arc::default());
        let (inside_tx, inside_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        std::thread::scope(|s| {
            let slot = &slot;
            s.spawn(move || {
                slot.configure(|scope| {
                    scope.set_tag("closure", "1");
                    inside_tx.send(()).unwrap();
                    let _ = release_rx.recv_timeout(Duration::from_secs(10));
                });
            });
            inside_rx.recv().unwrap();
            let updater = s.spawn(move || slot.update(|scope| scope.set_tag("update", "1")));
            std::thread::sleep(Duration::from_millis(50));
            release_tx.send(()).unwrap();
            updater.join().unwrap();
        });
        let tags = slot.snapshot().tags().clone();
        assert!(
            tags.contains_key("closure") && tags.contains_key("update"),
            "{tags:?}"
        );
    }
}
