//! The signal handler: installed once per process, it serves the published exchange.
//!
//! The sampler's signal is `SIGURG`. Its default action is to be ignored, and that matters:
//! a pending signal survives `execve`, which resets handlers, so a thread that enters
//! `execve` just as it is signalled would meet the default action in the new program; for
//! `SIGPROF` or a real-time signal that ends the process, for `SIGURG` nothing happens (the
//! Go runtime's preemption signal is `SIGURG` too, ignored by default). It does not queue, so a
//! thread that blocks it holds at most one pending. The handler stays installed after the
//! sampler stops, and installing fails if another handler owns the signal (an application
//! that wants out-of-band socket data), rather than silently taking it.
//!
//! What the handler does, all async-signal-safe: save `errno`; count itself in
//! [`IN_HANDLER`]; load the published exchange (none: return); ask the kernel its thread id;
//! serve the exchange's request if it names this thread (unwind, see `unwind.rs`); restore
//! `errno`. No allocation, no lock, no call into libc beyond raw syscalls and
//! `clock_gettime`.

use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::exchange::{Exchange, Requester};

/// The signal the sampler sends.
pub(crate) const SIGNAL: libc::c_int = libc::SIGURG;

/// The exchange the handler serves; null when no sampler runs.
static EXCHANGE: AtomicPtr<Exchange> = AtomicPtr::new(ptr::null_mut());

/// Handlers between loading [`EXCHANGE`] and their last use of it.
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);

/// Whether the handler is installed (installing is idempotent).
static INSTALLED: Mutex<bool> = Mutex::new(false);

/// Installs the handler for [`SIGNAL`] unless it already is; fails if another handler owns
/// the signal.
pub(super) fn install() -> std::io::Result<()> {
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if *installed {
        return Ok(());
    }
    // SAFETY: `sigaction` with a null new action only reads the current one into `old`, a
    // zeroed (valid) `sigaction` on our stack.
    #[allow(unsafe_code)]
    let old = unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        if libc::sigaction(SIGNAL, ptr::null(), &mut old) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        old
    };
    if old.sa_sigaction != libc::SIG_DFL && old.sa_sigaction != libc::SIG_IGN {
        return Err(std::io::Error::other(
            "SIGURG already has a handler (the sampler signals threads with it)",
        ));
    }
    // SAFETY: the new action is fully initialised: our handler (an `extern "C"` function of
    // the three-argument form `SA_SIGINFO` asks for), an empty mask, and flags. The handler
    // is async-signal-safe (module docs). `pthread_atfork` registers a function that only
    // stores an atomic.
    #[allow(unsafe_code)]
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        if libc::sigaction(SIGNAL, &action, ptr::null_mut()) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        // A child of `fork` has no sampler thread: it forgets the exchange (leaked there), so
        // a stray signal in the child finds nothing to serve, and may start its own sampler.
        // Registration failing only loses that belt: the exchange's requests name the
        // parent's threads, never the child's.
        libc::pthread_atfork(None, None, Some(forget_in_child));
    }
    *installed = true;
    Ok(())
}

/// Runs in the child after `fork`: only atomic stores.
extern "C" fn forget_in_child() {
    EXCHANGE.store(ptr::null_mut(), Ordering::SeqCst);
    super::run::forget_after_fork();
}

/// Publishes `exchange` to the handler and returns the sampler's handle on it.
pub(super) fn publish(exchange: Box<Exchange>) -> Requester {
    let raw = Box::into_raw(exchange);
    EXCHANGE.store(raw, Ordering::SeqCst);
    // SAFETY: `raw` comes from `Box::into_raw` just above; it is freed only by `retire`,
    // which consumes this requester, the only one.
    #[allow(unsafe_code)]
    unsafe {
        Requester::new(NonNull::new_unchecked(raw))
    }
}

/// Unpublishes the exchange and frees it once no handler can be using it. With `abandoned`
/// (a handler never finished) or if handlers do not drain within a second, it is leaked
/// instead: leaking is always safe, freeing under a running handler is not.
pub(super) fn retire(requester: Requester, abandoned: bool) {
    let raw = requester.into_raw();
    // Only unpublish what is ours (a forked child's copy has already forgotten it).
    let _ = EXCHANGE.compare_exchange(
        raw.as_ptr(),
        ptr::null_mut(),
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    if abandoned {
        return;
    }
    // A handler increments IN_HANDLER before loading EXCHANGE (both SeqCst): once EXCHANGE
    // is null, a zero count means no handler holds the old pointer nor can load it again.
    let deadline = Instant::now() + Duration::from_secs(1);
    while IN_HANDLER.load(Ordering::SeqCst) != 0 {
        if Instant::now() >= deadline {
            return;
        }
        std::thread::sleep(Duration::from_micros(100));
    }
    // SAFETY: `raw` came from `Box::into_raw` in `publish`, the requester (its only other
    // user) is consumed, and no handler can reach it (above).
    #[allow(unsafe_code)]
    drop(unsafe { Box::from_raw(raw.as_ptr()) });
}

/// The signal handler.
extern "C" fn on_signal(
    _signal: libc::c_int,
    _info: *mut libc::siginfo_t,
    context: *mut libc::c_void,
) {
    // SAFETY: `__errno_location` returns this thread's errno slot; the handler restores the
    // interrupted code's errno, which the syscalls below may change.
    #[allow(unsafe_code)]
    let errno = unsafe { *libc::__errno_location() };
    IN_HANDLER.fetch_add(1, Ordering::SeqCst);
    let exchange = EXCHANGE.load(Ordering::SeqCst);
    if !exchange.is_null() {
        // SAFETY: a published exchange stays allocated while IN_HANDLER counts us (see
        // `retire`). `gettid` is a raw syscall.
        #[allow(unsafe_code)]
        let (exchange, tid) = unsafe { (&*exchange, libc::syscall(libc::SYS_gettid) as u32) };
        exchange.serve(tid, |work, generation| {
            super::unwind::unwind_interrupted(context, work, generation);
        });
    }
    IN_HANDLER.fetch_sub(1, Ordering::SeqCst);
    // SAFETY: as above.
    #[allow(unsafe_code)]
    unsafe {
        *libc::__errno_location() = errno;
    }
}
