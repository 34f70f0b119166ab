//! The one request slot shared by the sampler's thread and the signal handler.
//!
//! The sampler's thread asks one thread at a time: it writes "requested, thread `tid`" into
//! one atomic word, signals the thread and waits. The handler, running on the signalled
//! thread, claims the request with a compare-and-swap that names its own thread id (so a
//! late or stray signal, or a request already given up, is never served by the wrong thread),
//! unwinds into the preallocated [`Work`], marks it done and wakes the sampler (a futex).
//! Whoever holds the state owns [`Work`]: the handler between claiming and "done", the
//! sampler's thread at every other time. Nothing here allocates or locks on the handler's side.

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

/// What the handler fills in.
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
    /// Why the walk ended before reaching a root frame (`None`: it reached one).
    pub(super) ended_early: Option<framehop::Error>,
    /// This process, for the stack reader's probes.
    pub(super) pid: libc::pid_t,
    /// The unwinder's modules.
    pub(super) generation: Generation,
}

/// The slot: state word, wake-up counter and the work area.
pub(super) struct Exchange {
    /// `state << 32 | tid`.
    state: AtomicU64,
    /// Bumped by the handler when done; the sampler's thread futex-waits on it.
    done: AtomicU32,
    work: UnsafeCell<Work>,
}

// SAFETY: `work` is accessed only by the owner of the state (see the module docs): the
// handler between its successful claim and its `DONE` store (Release, read with Acquire by
// the sampler's thread), the sampler's thread otherwise. The atomics are `Sync` themselves.
#[allow(unsafe_code)]
unsafe impl Sync for Exchange {}

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// The stack is in the work area (read it with [`Requester::result`]).
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
    /// A slot with room for `max_frames` frames, unwinding with `generation`.
    pub(super) fn new(max_frames: usize, generation: Generation) -> Exchange {
        // SAFETY: `getpid` has no preconditions.
        #[allow(unsafe_code)]
        let pid = unsafe { libc::getpid() };
        Exchange {
            state: AtomicU64::new(IDLE),
            done: AtomicU32::new(0),
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
                ended_early: None,
                pid,
                generation,
            }),
        }
    }

    /// The handler's side: if a request for thread `tid` is pending, claims it, runs `fill`
    /// on the work area, publishes the result and wakes the sampler's thread. Called in the
    /// signal handler: atomics, the callback and one futex syscall.
    pub(super) fn serve(&self, tid: u32, fill: impl FnOnce(&mut Work)) {
        if self
            .state
            .compare_exchange(
                word(REQUESTED, tid),
                word(RUNNING, tid),
                Ordering::Acquire,
                Ordering::Relaxed,
            )
            .is_err()
        {
            return;
        }
        // SAFETY: the claim above succeeded, so this handler owns the work area until the
        // `DONE` store below: the sampler's thread touches it only before a request and after
        // seeing `DONE`, and cannot withdraw a claimed request; no other handler can claim
        // (the state is not `REQUESTED`). The Acquire of the claim pairs with the Release
        // that published the request, so the sampler's writes before it are visible.
        #[allow(unsafe_code)]
        let work = unsafe { &mut *self.work.get() };
        fill(work);
        self.state.store(word(DONE, tid), Ordering::Release);
        self.done.fetch_add(1, Ordering::Release);
        futex_wake(&self.done);
    }
}

/// The sampler's side of a published exchange: the one handle that makes requests. Its
/// methods take `&mut self`, so the borrow checker keeps a read of a result from overlapping
/// the next request.
pub(super) struct Requester {
    exchange: NonNull<Exchange>,
}

// SAFETY: the requester only hands out access to the exchange (which is `Sync`) and to the
// work area under the state protocol; moving it to the sampler's thread is fine.
#[allow(unsafe_code)]
unsafe impl Send for Requester {}

impl Requester {
    /// The requester of `exchange`, which stays allocated until [`Requester::into_raw`]'s
    /// owner frees it.
    ///
    /// # Safety
    ///
    /// `exchange` comes from `Box::into_raw`, is freed by no one while this requester lives,
    /// and no other requester of it exists.
    #[allow(unsafe_code)]
    pub(super) unsafe fn new(exchange: NonNull<Exchange>) -> Requester {
        Requester { exchange }
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

    /// The work area, between requests.
    fn work(&mut self) -> &mut Work {
        // SAFETY: called only while no request of ours is claimed-and-unfinished: before the
        // next request is published, after a withdrawal, or after `DONE` (Acquire) was seen.
        // Stray handlers cannot claim (no `REQUESTED` state names them), so the work area is
        // ours; `&mut self` keeps two of these borrows from overlapping.
        #[allow(unsafe_code)]
        unsafe {
            &mut *self.exchange().work.get()
        }
    }

    /// Swaps in a new module generation (and a fresh cache, whose rules were keyed by the old
    /// modules). No request is in flight, so no handler can be using the old one; it is
    /// dropped here, on the sampler's thread.
    pub(super) fn set_generation(&mut self, generation: Generation) {
        let work = self.work();
        work.generation = generation;
        work.cache = NativeCache::new_in();
    }

    /// Why the last walk ended before a root frame, if it did.
    pub(super) fn ended_early(&mut self) -> Option<framehop::Error> {
        self.work().ended_early
    }

    /// The last sampled stack began outside every known module.
    pub(super) fn saw_unknown_code(&mut self) -> bool {
        self.work().outside_known_code
    }

    /// Asks thread `tid` for its stack: signals it with `signal` and waits up to `timeout`
    /// for its handler.
    pub(super) fn request(&mut self, tid: u32, signal: libc::c_int, timeout: Duration) -> Outcome {
        let pid = {
            let work = self.work();
            work.len = 0;
            work.truncated = false;
            work.outside_known_code = false;
            work.ended_early = None;
            work.pid
        };
        let this = self.exchange();
        let requested = word(REQUESTED, tid);
        this.state.store(requested, Ordering::Release);
        // SAFETY: `tgkill` is a plain syscall with integer arguments; a wrong tid yields an
        // error (`ESRCH`), never undefined behaviour.
        #[allow(unsafe_code)]
        let sent = unsafe {
            libc::syscall(
                libc::SYS_tgkill,
                libc::c_long::from(pid),
                libc::c_long::from(tid as i32),
                libc::c_long::from(signal),
            )
        };
        if sent != 0 {
            let gone = std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
            if this.withdraw(requested) {
                return if gone {
                    Outcome::Gone
                } else {
                    Outcome::SendFailed
                };
            }
            // A signal sent earlier (still pending then) claimed the request: wait for it.
        }
        let start = Instant::now();
        let mut limit = timeout;
        loop {
            let seen = this.done.load(Ordering::Acquire);
            let state = this.state.load(Ordering::Acquire);
            if state == word(DONE, tid) {
                return Outcome::Sampled;
            }
            let elapsed = start.elapsed();
            if elapsed >= limit {
                if state == requested && this.withdraw(requested) {
                    return Outcome::NoAnswer;
                }
                // Claimed: the handler is unwinding; give it until STUCK_AFTER.
                if limit >= STUCK_AFTER {
                    return Outcome::Stuck;
                }
                limit = STUCK_AFTER;
                continue;
            }
            futex_wait(&this.done, seen, limit - elapsed);
        }
    }

    /// The sample of the last [`Outcome::Sampled`] request: frames, time, truncated. The
    /// request ends when the borrow does (the next request resets the area).
    pub(super) fn result(&mut self) -> (&[u64], SystemTime, bool) {
        let work = self.work();
        let time = UNIX_EPOCH
            + Duration::new(
                u64::try_from(work.time.tv_sec).unwrap_or(0),
                u32::try_from(work.time.tv_nsec).unwrap_or(0),
            );
        (&work.frames[..work.len], time, work.truncated)
    }
}

impl std::fmt::Debug for Requester {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Requester").finish_non_exhaustive()
    }
}

impl Exchange {
    /// Takes a request back if no handler claimed it.
    fn withdraw(&self, requested: u64) -> bool {
        self.state
            .compare_exchange(requested, IDLE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

impl std::fmt::Debug for Exchange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exchange")
            .field("state", &self.state.load(Ordering::Relaxed))
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
