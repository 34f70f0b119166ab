//! From the interrupted register state to return addresses, inside the signal handler.
//!
//! The kernel hands the handler the interrupted thread's registers (`ucontext_t`); `framehop`
//! unwinds from them with the CFI of the current module generation, its preallocated cache,
//! and the bounds-checked [`StackReader`]; where a module has no CFI, it follows frame
//! pointers, through the same reader. Frames go into the preallocated buffer; a deeper stack
//! keeps its innermost frames and is marked truncated.

use framehop::Unwinder;

use super::exchange::Work;
use super::modules::Generation;
use super::stack::StackReader;

/// Fills `work` with the stack of the code this thread was running when the signal came.
/// Called in the signal handler only, with the handler's `context` argument.
pub(super) fn unwind_interrupted(
    context: *mut libc::c_void,
    work: &mut Work,
    generation: &Generation,
) {
    #[cfg(test)]
    UNWINDING.with(|u| u.set(true));
    let started = monotonic_ns();
    // SAFETY: `clock_gettime` is async-signal-safe and writes the timespec we own.
    #[allow(unsafe_code)]
    unsafe {
        libc::clock_gettime(libc::CLOCK_REALTIME, &mut work.time);
    }
    walk(context, work, generation);
    work.handler_ns = monotonic_ns().saturating_sub(started);
    #[cfg(test)]
    UNWINDING.with(|u| u.set(false));
}

#[cfg(test)]
thread_local! {
    static UNWINDING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Test builds only: whether this thread is inside the handler's unwinding, so a test's
/// global allocator can check that nothing allocates there. (A const-initialised thread-local
/// without destructor is a plain TLS slot: safe to touch in a signal handler.)
#[cfg(test)]
pub(crate) fn unwinding_on_this_thread() -> bool {
    UNWINDING.with(|u| u.get())
}

/// `CLOCK_MONOTONIC` in nanoseconds (async-signal-safe).
fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` is async-signal-safe and writes the timespec we own.
    #[allow(unsafe_code)]
    unsafe {
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
    }
    (ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64)
}

fn walk(context: *mut libc::c_void, work: &mut Work, generation: &Generation) {
    if context.is_null() {
        return;
    }
    // SAFETY: with `SA_SIGINFO`, the kernel passes the interrupted context as a valid
    // `ucontext_t` on the handler's stack, readable for the handler's whole run.
    #[allow(unsafe_code)]
    let context = unsafe { &*(context as *const libc::ucontext_t) };
    let Work {
        cache,
        frames,
        len,
        truncated,
        outside_known_code,
        ended_early,
        pid,
        ..
    } = work;
    let (pc, sp, regs) = registers(context, generation);
    *outside_known_code = !generation.covers(pc);
    let mut reader = StackReader::new(*pid, sp);
    let mut read = |addr: u64| reader.read(addr);
    let mut iter = generation.unwinder.iter_frames(pc, regs, cache, &mut read);
    let mut n = 0;
    // `Err` ends the walk too: an unreadable address or a missing rule is the end of what we
    // can know; the frames so far are kept.
    loop {
        match iter.next() {
            Ok(Some(frame)) => {
                if n == frames.len() {
                    *truncated = true;
                    break;
                }
                frames[n] = frame.address();
                n += 1;
            }
            Ok(None) => break,
            Err(e) => {
                *ended_early = Some(e);
                break;
            }
        }
    }
    *len = n;
}

#[cfg(target_arch = "x86_64")]
fn registers(
    context: &libc::ucontext_t,
    _generation: &Generation,
) -> (u64, u64, framehop::UnwindRegsNative) {
    let gregs = &context.uc_mcontext.gregs;
    let pc = gregs[libc::REG_RIP as usize] as u64;
    let sp = gregs[libc::REG_RSP as usize] as u64;
    let bp = gregs[libc::REG_RBP as usize] as u64;
    (pc, sp, framehop::x86_64::UnwindRegsX86_64::new(pc, sp, bp))
}

#[cfg(target_arch = "aarch64")]
fn registers(
    context: &libc::ucontext_t,
    generation: &Generation,
) -> (u64, u64, framehop::UnwindRegsNative) {
    let mcontext = &context.uc_mcontext;
    let pc = mcontext.pc;
    let sp = mcontext.sp;
    let fp = mcontext.regs[29];
    let lr = mcontext.regs[30];
    let regs = framehop::aarch64::UnwindRegsAarch64::new_with_ptr_auth_mask(
        generation.ptr_auth_mask,
        lr,
        sp,
        fp,
    );
    (pc, sp, regs)
}
