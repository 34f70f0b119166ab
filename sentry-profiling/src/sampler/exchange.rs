//! The request slots shared by the sampler's thread and the signal handler.
//!
//! Each round, the sampler's thread asks a batch of threads at once: for each it writes
//! "requested, thread `tid`" into one slot's atomic state word, then signals them all and
//! waits for their answers. Asking at the same instant matters: a thread that waits for a CPU
//! answers late, and asking one thread after another's answer would make the moment a thread
//! is asked depend on what the others were doing. A handler, running on a signalled thread,
//! claims the slot that names its own thread id with a compare-and-swap (so a late or stray
//! signal, or a request already given up, is never served by the wrong thread), unwinds into
//! the slot's preallocated [`Work`] with the shared module [`Generation`], marks it done and
//! wakes the sampler's thread (a futex). Whoever holds a slot's state owns its work area: the
//! handler between claiming and "done", the sampler's thread at every other time. The
//! generation is only read by handlers, and replaced by the sampler's thread only while no
//! request is in flight. Nothing here allocates or locks on the handler's side.

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::modules::{Generation, NativeCache};

const IDLE: u64 = 0;
const REQUESTED: u64 = 1;
const RUNNING: u64 = 2;
const DONE: u64 = 3;

fn word(state: u64, tid: u32) -> u64 {
    (state << 32) | u64::from(tid)
}

/// How long a handler that has claimed a request may take before the sampler's thread gives
/// the exchange up (it is then leaked, never reused): only a thread stopped mid-handler (a
/// debugger) takes that long; unwinding itself takes microseconds.
const STUCK_AFTER: Duration = Duration::from_secs(1);

/// What the handler fills in, one per slot.
pub(super) struct Work {
    /// The unwinder's cache, preallocated; used by one handler at a time.
    pub(super) cache: NativeCache,
    /// Instruction addresses, innermost first (capacity: the configured maximum).
    pub(super) frames: Box<[u64]>,
    /// How many of `frames` are filled.
    pub(super) len: usize,
    /// `CLOCK_REALTIME` when the stack was taken.
    pub(super) time: libc::timespec,
    /// The stack had more frames than `frames` holds.
    pub(super) truncated: bool,
    /// The interrupted address is in no known module: the module list is stale.
    pub(super) outside_known_code: bool,
    /// How long the handler's unwinding took (`CLOCK_MONOTONIC`), in nanoseconds.
    pub(super) handler_ns: u64,
    /// Why the walk ended before reaching a root frame (`None`: it reached one).
    pub(super) ended_early: Option<framehop::Error>,
    /// This process, for the stack reader's probes.
    pub(super) pid: libc::pid_t,
}

impl Work {
    fn reset(&mut self) {
        self.len = 0;
        self.truncated = false;
        self.outside_known_code = false;
        self.handler_ns = 0;
        self.ended_early = None;
    }
}

struct Slot {
    /// `state << 32 | tid`.
    state: AtomicU64,
    work: UnsafeCell<Work>,
}

/// The slots, the wake-up counter and the module generation.
pub(super) struct Exchange {
    slots: Box<[Slot]>,
    /// Bumped by each handler when done; the sampler's thread futex-waits on it.
    done: AtomicU32,
    generation: UnsafeCell<Generation>,
    pid: libc::pid_t,
}

// What the `Sync` below relies on, checked by the compiler: handlers on several threads read
// one generation at once (`framehop`'s unwinder has no interior mutability), and a work area
// is used by one thread after another.
const _: () = {
    const fn shared_across_threads<T: Sync>() {}
    const fn moved_across_threads<T: Send>() {}
    shared_across_threads::<Generation>();
    moved_across_threads::<Work>();
};

// SAFETY: each slot's `work` is accessed only by the owner of that slot's state (see the
// module docs): a handler between its successful claim and its `DONE` store (Release, read
// with Acquire by the sampler's thread), the sampler's thread otherwise. `generation` is
// written only by the sampler's thread while no slot is requested or claimed, and read
// (shared) by handlers only while they hold a claim. The atomics are `Sync` themselves.
#[allow(unsafe_code)]
unsafe impl Sync for Exchange {}

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The stack is in the slot's work area (read it with [`Requester::result`]).
    Sampled,
    /// The thread exited (`ESRCH`).
    Gone,
    /// The thread did not run its handler in time (it blocks the signal, or is not
    /// scheduled); the request was withdrawn.
    NoAnswer,
    /// The signal could not be sent for another reason.
    SendFailed,
    /// A handler claimed the request and never finished: the exchange must not be reused.
    Stuck,
}

impl Exchange {
    /// `slots` slots with room for `max_frames` frames each, unwinding with `generation`.
    pub(super) fn new(slots: usize, max_frames: usize, generation: Generation) -> Exchange {
        // SAFETY: `getpid` has no preconditions.
        #[allow(unsafe_code)]
        let pid = unsafe { libc::getpid() };
        let slots = (0..slots.max(1))
            .map(|_| Slot {
                state: AtomicU64::new(IDLE),
                work: UnsafeCell::new(Work {
                    cache: NativeCache::new_in(),
                    frames: vec![0; max_frames].into_boxed_slice(),
                    len: 0,
                    time: libc::timespec {
                        tv_sec: 0,
                        tv_nsec: 0,
                    },
                    truncated: false,
                    outside_known_code: false,
                    handler_ns: 0,
                    ended_early: None,
                    pid,
                }),
            })
            .collect();
        Exchange {
            slots,
            done: AtomicU32::new(0),
            generation: UnsafeCell::new(generation),
            pid,
        }
    }

    /// The handler's side: if a slot requests thread `tid`, claims it, runs `fill` on its
    /// work area with the module generation, publishes the result and wakes the sampler's
    /// thread. Called in the signal handler: atomics, the callback and one futex syscall.
    pub(super) fn serve(&self, tid: u32, fill: impl FnOnce(&mut Work, &Generation)) {
        let Some(slot) = self.slots.iter().find(|slot| {
            slot.state
                .compare_exchange(
                    word(REQUESTED, tid),
                    word(RUNNING, tid),
                    Ordering::Acquire,
                    Ordering::Relaxed,
                )
                .is_ok()
        }) else {
            return;
        };
        // SAFETY: the claim above succeeded, so this handler owns the slot's work area until
        // the `DONE` store below: the sampler's thread touches it only before a request and
        // after seeing `DONE`, and cannot withdraw a claimed request; no other handler can
        // claim it (the state is not `REQUESTED`). The generation is not replaced while a
        // slot is claimed. The Acquire of the claim pairs with the Release that published the
        // request, so the sampler's writes before it (work reset, generation) are visible.
        #[allow(unsafe_code)]
        let (work, generation) = unsafe { (&mut *slot.work.get(), &*self.generation.get()) };
        fill(work, generation);
        slot.state.store(word(DONE, tid), Ordering::Release);
        self.done.fetch_add(1, Ordering::Release);
        futex_wake(&self.done);
    }

    /// Takes slot `i`'s request back if no handler claimed it.
    fn withdraw(&self, i: usize, requested: u64) -> bool {
        self.slots[i]
            .state
            .compare_exchange(requested, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

/// The sampler's side of a published exchange: the one handle that makes requests. Its
/// methods take `&mut self`, so the borrow checker keeps a read of a result from overlapping
/// the next request.
pub(super) struct Requester {
    exchange: NonNull<Exchange>,
    /// The outcome of each slot's last request.
    outcomes: Vec<Option<Outcome>>,
}

// SAFETY: the requester only hands out access to the exchange (which is `Sync`) and to the
// work areas under the state protocol; moving it to the sampler's thread is fine.
#[allow(unsafe_code)]
unsafe impl Send for Requester {}

impl Requester {
    /// The requester of `exchange`.
    ///
    /// # Safety
    ///
    /// `exchange` comes from `Box::into_raw`, is freed by no one while this requester lives,
    /// and no other requester of it exists.
    #[allow(unsafe_code)]
    pub(super) unsafe fn new(exchange: NonNull<Exchange>) -> Requester {
        // SAFETY: the caller guarantees `exchange` is alive.
        let slots = unsafe { exchange.as_ref() }.slots.len();
        Requester {
            exchange,
            outcomes: vec![None; slots],
        }
    }

    /// The raw exchange, for its owner to free once no handler can use it.
    pub(super) fn into_raw(self) -> NonNull<Exchange> {
        self.exchange
    }

    fn exchange(&self) -> &Exchange {
        // SAFETY: see `Requester::new`: the exchange is alive while the requester lives.
        #[allow(unsafe_code)]
        unsafe {
            self.exchange.as_ref()
        }
    }

    /// How many threads one batch can ask.
    pub(super) fn batch_size(&self) -> usize {
        self.outcomes.len()
    }

    /// Slot `i`'s work area, between requests.
    fn work(&mut self, i: usize) -> &mut Work {
        // SAFETY: called only while slot `i` has no claimed-and-unfinished request: before
        // the next request is published, after a withdrawal, or after `DONE` (Acquire) was
        // seen. Stray handlers cannot claim it (no `REQUESTED` state names them), so the work
        // area is ours; `&mut self` keeps two of these borrows from overlapping.
        #[allow(unsafe_code)]
        unsafe {
            &mut *self.exchange().slots[i].work.get()
        }
    }

    /// Swaps in a new module generation (and fresh caches, whose rules were keyed by the old
    /// modules). No request is in flight, so no handler can be using the old one; it is
    /// dropped here, on the sampler's thread.
    pub(super) fn set_generation(&mut self, generation: Generation) {
        // SAFETY: between batches no slot is requested or claimed, so no handler reads the
        // generation (see `Exchange::serve`), and `&mut self` is the only requester.
        #[allow(unsafe_code)]
        unsafe {
            *self.exchange().generation.get() = generation;
        }
        for i in 0..self.outcomes.len() {
            self.work(i).cache = NativeCache::new_in();
        }
    }

    /// A stack of the last batch began outside every known module.
    pub(super) fn saw_unknown_code(&mut self) -> bool {
        (0..self.outcomes.len())
            .any(|i| self.outcomes[i] == Some(Outcome::Sampled) && self.work(i).outside_known_code)
    }

    /// Asks the threads `tids` (at most [`Requester::batch_size`]; the rest are ignored) for
    /// their stacks: signals them all with `signal`, then waits up to `timeout` for their
    /// handlers. Slot `i` answers for `tids[i]`: see [`Requester::outcome`].
    pub(super) fn request(&mut self, tids: &[u32], signal: libc::c_int, timeout: Duration) {
        let n = tids.len().min(self.outcomes.len());
        for i in 0..self.outcomes.len() {
            self.outcomes[i] = None;
            self.work(i).reset();
        }
        let mut outcomes = std::mem::take(&mut self.outcomes);
        let exchange = self.exchange();
        for (i, &tid) in tids.iter().take(n).enumerate() {
            exchange.slots[i]
                .state
                .store(word(REQUESTED, tid), Ordering::Release);
        }
        for (i, &tid) in tids.iter().take(n).enumerate() {
            // SAFETY: `tgkill` is a plain syscall with integer arguments; a wrong tid yields
            // an error (`ESRCH`), never undefined behaviour.
            #[allow(unsafe_code)]
            let sent = unsafe {
                libc::syscall(
                    libc::SYS_tgkill,
                    libc::c_long::from(exchange.pid),
                    libc::c_long::from(tid as i32),
                    libc::c_long::from(signal),
                )
            };
            if sent != 0 {
                let gone = std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
                if exchange.withdraw(i, word(REQUESTED, tid)) {
                    outcomes[i] = Some(if gone {
                        Outcome::Gone
                    } else {
                        Outcome::SendFailed
                    });
                }
                // Otherwise a signal sent earlier (still pending then) claimed the request.
            }
        }
        let start = Instant::now();
        let mut limit = timeout;
        loop {
            let seen = exchange.done.load(Ordering::Acquire);
            let mut open = 0;
            for (i, &tid) in tids.iter().take(n).enumerate() {
                if outcomes[i].is_none() {
                    if exchange.slots[i].state.load(Ordering::Acquire) == word(DONE, tid) {
                        outcomes[i] = Some(Outcome::Sampled);
                    } else {
                        open += 1;
                    }
                }
            }
            if open == 0 {
                break;
            }
            let elapsed = start.elapsed();
            if elapsed >= limit {
                let mut claimed = 0;
                for (i, &tid) in tids.iter().take(n).enumerate() {
                    if outcomes[i].is_none() {
                        if exchange.withdraw(i, word(REQUESTED, tid)) {
                            outcomes[i] = Some(Outcome::NoAnswer);
                        } else {
                            claimed += 1;
                        }
                    }
                }
                if claimed == 0 {
                    break;
                }
                // Claimed: handlers are unwinding; give them until STUCK_AFTER.
                if limit >= STUCK_AFTER {
                    for outcome in outcomes.iter_mut().take(n) {
                        if outcome.is_none() {
                            *outcome = Some(Outcome::Stuck);
                        }
                    }
                    break;
                }
                limit = STUCK_AFTER;
                continue;
            }
            futex_wait(&exchange.done, seen, limit - elapsed);
        }
        self.outcomes = outcomes;
    }

    /// How slot `i`'s last request ended (`None`: it asked no thread).
    pub(super) fn outcome(&self, i: usize) -> Option<Outcome> {
        self.outcomes.get(i).copied().flatten()
    }

    /// The sample in slot `i` after [`Outcome::Sampled`]: frames, time, truncated.
    pub(super) fn result(&mut self, i: usize) -> (&[u64], SystemTime, bool) {
        let work = self.work(i);
        let time = UNIX_EPOCH
            + Duration::new(
                u64::try_from(work.time.tv_sec).unwrap_or(0),
                u32::try_from(work.time.tv_nsec).unwrap_or(0),
            );
        (&work.frames[..work.len], time, work.truncated)
    }

    /// How long slot `i`'s handler took to unwind, in nanoseconds.
    pub(super) fn handler_ns(&mut self, i: usize) -> u64 {
        self.work(i).handler_ns
    }

    /// Why slot `i`'s walk ended before a root frame, if it did.
    pub(super) fn ended_early(&mut self, i: usize) -> Option<framehop::Error> {
        self.work(i).ended_early
    }
}

impl std::fmt::Debug for Requester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester")
            .field("slots", &self.outcomes.len())
            .finish_non_exhaustive()
    }
}

/// Sleeps while `word` is `expected`, at most `timeout` (spurious wake-ups are fine: the
/// caller re-checks).
fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs().min(i32::MAX as u64) as libc::time_t,
        tv_nsec: timeout.subsec_nanos() as libc::c_long,
    };
    // SAFETY: FUTEX_WAIT reads the aligned 32-bit word behind `as_ptr` (alive for the call,
    // borrowed from `word`) and the timespec on our stack; it writes nothing.
    #[allow(unsafe_code)]
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            expected,
            &ts as *const libc::timespec,
        );
    }
}

/// Wakes the sampler's thread if it waits on `word`. Async-signal-safe (one syscall).
fn futex_wake(word: &AtomicU32) {
    // SAFETY: FUTEX_WAKE only uses the address of the live word as a key.
    #[allow(unsafe_code)]
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        );
    }
}
