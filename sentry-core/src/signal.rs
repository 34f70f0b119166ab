//! [`Signal`]: the SDK's wake-up primitive, a set of flags behind a mutex with a condition
//! variable; and [`notice`], a one-shot notification built on it.
//!
//! The transport worker, its queue and the log buffer only ever need to say "look again" to
//! one another, never to pass data: a signal carries *which* reasons to wake up are pending, so
//! one thread waits for all of them (the queue, the log buffer, a stop request) and a deadline
//! with a single condition variable. Being this small, it replaced the `crossbeam-channel`
//! channels (and their `select!`) that used to do the job, and their weight in every
//! application.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

/// Reasons to wake up, one bit each. What a bit means is up to the users of a signal.
pub(crate) type Flags = u8;

/// A bell that can be rung with flags, waited on with a deadline, and closed.
///
/// Ringing is coalescing: a flag that is already pending stays pending once, so, like a
/// one-slot channel, the waiter learns "look again", not how many times. Ringing never blocks
/// and wakes the waiters only when a flag was not pending yet (notifying costs a system call;
/// ringing an already pending flag costs a lock). Closing is permanent and wakes every waiter
/// at once; pending flags survive it.
#[derive(Debug, Default)]
pub(crate) struct Signal {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    pending: Flags,
    closed: bool,
    /// Threads inside [`Signal::wait_until`]; nobody to notify when zero.
    waiters: usize,
}

/// What [`Signal::wait_until`] returned with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Woken {
    /// The flags of the mask that were pending, now taken; `0` after a timeout, or when the
    /// signal was closed with none of them pending.
    pub(crate) flags: Flags,
    /// The signal is closed.
    pub(crate) closed: bool,
}

impl Signal {
    /// A signal with nothing pending, open.
    pub(crate) fn new() -> Signal {
        Signal::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Makes `flags` pending and wakes the waiters if one of them was not pending already.
    pub(crate) fn ring(&self, flags: Flags) {
        let mut state = self.lock();
        if state.pending & flags == flags {
            return;
        }
        state.pending |= flags;
        let notify = state.waiters > 0;
        drop(state);
        if notify {
            self.changed.notify_all();
        }
    }

    /// Closes the signal for good and wakes every waiter. Closing twice does nothing more.
    pub(crate) fn close(&self) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        state.closed = true;
        let notify = state.waiters > 0;
        drop(state);
        if notify {
            self.changed.notify_all();
        }
    }

    /// `true` once the signal has been closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Takes the pending flags of `mask`, without waiting; `0` if none was pending.
    pub(crate) fn take(&self, mask: Flags) -> Flags {
        let mut state = self.lock();
        let flags = state.pending & mask;
        state.pending &= !mask;
        flags
    }

    /// Waits until a flag of `mask` is pending or the signal is closed, then takes the pending
    /// flags of `mask`. Gives up at `deadline` (at once if it has passed; never for `None`).
    ///
    /// Flags and closing are looked at before the deadline: what is already pending is taken
    /// even with a deadline in the past.
    pub(crate) fn wait_until(&self, mask: Flags, deadline: Option<Instant>) -> Woken {
        let mut state = self.lock();
        loop {
            let flags = state.pending & mask;
            if flags != 0 || state.closed {
                state.pending &= !mask;
                return Woken {
                    flags,
                    closed: state.closed,
                };
            }
            let left = match deadline {
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Woken {
                            flags: 0,
                            closed: false,
                        };
                    }
                    Some(left)
                }
                None => None,
            };
            state.waiters += 1;
            // Spurious wake-ups and early timeouts only mean another turn of the loop.
            state = match left {
                Some(left) => {
                    self.changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .changed
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner),
            };
            state.waiters -= 1;
        }
    }
}

/// The flag a [`Notifier`] rings.
const NOTIFIED: Flags = 1;

/// A one-shot notification from one thread to another, like a channel of `()` with room for
/// one message: the [`Notifier`] [notifies](Notifier::notify) once or is dropped, and the
/// [`Notice`] waits for either with a deadline.
pub(crate) fn notice() -> (Notifier, Notice) {
    let signal = Arc::new(Signal::new());
    (Notifier(Arc::clone(&signal)), Notice(signal))
}

/// The notifying side of a [`notice`]. Dropping it without notifying tells the waiter that no
/// notification will come (as dropping a channel's sender does); that happens when unwinding,
/// too.
#[derive(Debug)]
pub(crate) struct Notifier(Arc<Signal>);

impl Notifier {
    /// Notifies the waiting side. Nothing happens if it stopped waiting.
    pub(crate) fn notify(self) {
        self.0.ring(NOTIFIED);
        // Dropping `self` closes the signal.
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The waiting side of a [`notice`].
#[derive(Debug)]
pub(crate) struct Notice(Arc<Signal>);

/// Why [`Notice::wait_until`] came back without a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotNotified {
    /// The deadline passed first.
    TimedOut,
    /// The [`Notifier`] was dropped without notifying.
    Dropped,
}

impl Notice {
    /// Waits until the [`Notifier`] notifies or is dropped, giving up at `deadline` (never
    /// for `None`). A notification wins over the drop that follows it.
    pub(crate) fn wait_until(&self, deadline: Option<Instant>) -> Result<(), NotNotified> {
        let woken = self.0.wait_until(NOTIFIED, deadline);
        if woken.flags != 0 {
            Ok(())
        } else if woken.closed {
            Err(NotNotified::Dropped)
        } else {
            Err(NotNotified::TimedOut)
        }
    }

    /// `true` once the [`Notifier`] is gone (dropped, or notified and so consumed).
    pub(crate) fn notifier_gone(&self) -> bool {
        self.0.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use std::thread;
    use std::time::Duration;

    use super::*;

    const A: Flags = 1;
    const B: Flags = 2;

    fn in_ms(ms: u64) -> Option<Instant> {
        Some(Instant::now() + Duration::from_millis(ms))
    }

    #[test]
    fn rings_coalesce_and_are_taken_by_mask() {
        let signal = Signal::new();
        assert_eq!(signal.take(A | B), 0);
        signal.ring(A);
        signal.ring(A);
        signal.ring(B);
        assert_eq!(signal.take(A), A);
        assert_eq!(signal.take(A), 0, "two rings of A are one");
        let woken = signal.wait_until(A | B, in_ms(0));
        assert_eq!(
            woken,
            Woken {
                flags: B,
                closed: false
            },
            "pending flags beat a passed deadline"
        );
    }

    #[test]
    fn waits_time_out_at_the_deadline() {
        let signal = Signal::new();
        signal.ring(B);
        let start = Instant::now();
        let woken = signal.wait_until(A, in_ms(50));
        let elapsed = start.elapsed();
        assert_eq!(woken.flags, 0);
        assert!(!woken.closed);
        assert!(elapsed >= Duration::from_millis(50), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
        assert_eq!(signal.take(B), B, "flags outside the mask stay pending");
        // A deadline that has passed returns at once.
        let start = Instant::now();
        assert_eq!(signal.wait_until(A, Some(start)).flags, 0);
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_ring_from_another_thread_wakes_the_waiter() {
        let signal = Arc::new(Signal::new());
        let ringer = {
            let signal = Arc::clone(&signal);
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(30));
                signal.ring(A);
            })
        };
        let start = Instant::now();
        let woken = signal.wait_until(A | B, None);
        assert_eq!(woken.flags, A);
        assert!(start.elapsed() < Duration::from_secs(5));
        ringer.join().expect("ringer");
    }

    #[test]
    fn closing_wakes_every_waiter_and_is_permanent() {
        let signal = Arc::new(Signal::new());
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let signal = Arc::clone(&signal);
                thread::spawn(move || signal.wait_until(A, in_ms(10_000)))
            })
            .collect();
        thread::sleep(Duration::from_millis(30));
        signal.close();
        signal.close();
        for waiter in waiters {
            let woken = waiter.join().expect("waiter");
            assert!(woken.closed);
            assert_eq!(woken.flags, 0);
        }
        assert!(signal.is_closed());
        // Still closed, and flags still work.
        signal.ring(A);
        assert_eq!(
            signal.wait_until(A, None),
            Woken {
                flags: A,
                closed: true
            }
        );
        assert!(signal.wait_until(A, None).closed);
    }

    #[test]
    fn a_notice_is_notified_dropped_or_timed_out() {
        let (notifier, notice) = super::notice();
        assert!(!notice.notifier_gone());
        notifier.notify();
        assert_eq!(notice.wait_until(None), Ok(()));
        assert!(notice.notifier_gone());

        let (notifier, notice) = super::notice();
        drop(notifier);
        assert_eq!(notice.wait_until(None), Err(NotNotified::Dropped));

        let (notifier, notice) = super::notice();
        assert_eq!(notice.wait_until(in_ms(20)), Err(NotNotified::TimedOut));
        let waiter = thread::spawn(move || notice.wait_until(in_ms(10_000)));
        thread::sleep(Duration::from_millis(20));
        notifier.notify();
        assert_eq!(waiter.join().expect("waiter"), Ok(()));
    }

    #[test]
    fn a_notifier_dropped_while_unwinding_closes_its_notice() {
        let (notifier, notice) = super::notice();
        let thread = thread::spawn(move || {
            let _notifier = notifier;
            panic!("unwinding (expected by this test)");
        });
        assert!(thread.join().is_err());
        assert_eq!(notice.wait_until(in_ms(5_000)), Err(NotNotified::Dropped));
    }
}
