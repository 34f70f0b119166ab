//! The outermost frames of a stack, below the program's or a thread's entry point, walked once
//! and then reused.
//!
//! Every stack of the main thread ends the same way: `std::rt::lang_start_internal` called by
//! `std::rt::lang_start`, called by the C `main`, called by libc's start-up code and `_start`.
//! Every thread the standard library spawns ends in `thread_start` called by libc's
//! `start_thread` and `clone`. These functions are each called from one place only, so the
//! return addresses below such a function's frame are the same in every stack of the process.
//! The unwinder still pays for each of them (about 1,650 instructions a frame with libgcc).
//!
//! So the first stack that reaches such a frame is walked to its end, and a helper thread
//! names its frames (the symbol table, the same code the worker uses); from then on a walk
//! that meets that frame's return address stops there and appends the frames recorded below
//! it. What a stack contains is unchanged; only the unwinder's work is.
//!
//! A frame counts as a start frame only by the name of the function that contains its address
//! (not of a function inlined there), and only for functions that have a single caller in the
//! process: `std::rt::lang_start_internal`, `std::rt::lang_start` and its closure (generic,
//! but instantiated once, for the one `main`), and the standard library's `thread_start`.
//! Generic functions that several call sites share (`__rust_begin_short_backtrace`, the boxed
//! closure's `call_once`) are never keys: what lies below them depends on who called them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

use crate::resolve::SdkCodeGuard;

/// How many distinct start frames are remembered (the main thread's, and one per way of
/// starting threads: the standard library's, and those of other runtimes if they had keys).
pub(crate) const MAX_STARTS: usize = 4;
/// How many stacks are handed to the helper to be named at most, over the process's life. A
/// process whose stacks never reach a known start frame (a library loaded by another runtime)
/// stops trying after this many.
const MAX_ATTEMPTS: usize = 8;
/// Tails longer than this are not recorded (the start-up code of a program is a handful of
/// frames; anything longer is not what this is for).
const MAX_TAIL: usize = 32;

/// One start frame: its return address, and the return addresses below it, innermost first.
struct Start {
    key: u64,
    tail: Box<[u64]>,
}

static STARTS: [OnceLock<Start>; MAX_STARTS] = [const { OnceLock::new() }; MAX_STARTS];
/// Stacks handed to the helper so far.
static ATTEMPTS: AtomicUsize = AtomicUsize::new(0);
/// Whether a helper is naming a stack now (one at a time).
static LEARNING: AtomicBool = AtomicBool::new(false);

/// The return addresses of the start frames known so far; 0 in unused places (a walk never
/// records the address 0).
#[inline]
pub(crate) fn keys() -> [u64; MAX_STARTS] {
    let mut keys = [0; MAX_STARTS];
    for (key, start) in keys.iter_mut().zip(&STARTS) {
        if let Some(start) = start.get() {
            *key = start.key;
        }
    }
    keys
}

/// The return addresses recorded below the start frame at `key`, innermost first (empty for
/// an unknown key).
pub(crate) fn tail(key: u64) -> &'static [u64] {
    STARTS
        .iter()
        .filter_map(OnceLock::get)
        .find(|start| start.key == key)
        .map_or(&[], |start| &start.tail)
}

/// After a walk that met no known start frame: hands a copy of `ips` (innermost first, the
/// whole stack) to a helper thread that looks for a start frame in it, unless one is at work
/// already, every place is taken, or the attempts are used up.
pub(crate) fn learn_from(ips: &[u64]) {
    if STARTS.iter().all(|start| start.get().is_some())
        || ATTEMPTS.load(Ordering::Relaxed) >= MAX_ATTEMPTS
        || LEARNING
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    ATTEMPTS.fetch_add(1, Ordering::Relaxed);
    let ips = ips.to_vec();
    let job = Box::new(move || {
        let _guard = SdkCodeGuard::enter();
        // A failure inside the symbolizer only means nothing is learned from this stack.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            learn(&ips, &crate::symbolize::outer_name)
        }));
        LEARNING.store(false, Ordering::Release);
    });
    if sentry_core::__private::spawn_named("sentry-stack-start", job).is_err() {
        LEARNING.store(false, Ordering::Release);
    }
}

/// Finds the innermost start frame of `ips` (innermost first), naming each address's function
/// with `name_of`, and records it with the addresses below it. Returns whether one was
/// recorded.
fn learn(ips: &[u64], name_of: &dyn Fn(u64) -> Option<String>) -> bool {
    let Some(at) = ips
        .iter()
        .position(|&ip| name_of(ip).is_some_and(|name| is_start_function(&name)))
    else {
        return false;
    };
    let tail = &ips[at + 1..];
    if tail.is_empty() || tail.len() > MAX_TAIL {
        return false;
    }
    let key = ips[at];
    if STARTS
        .iter()
        .filter_map(OnceLock::get)
        .any(|start| start.key == key)
    {
        return false;
    }
    STARTS.iter().any(|slot| {
        slot.get().is_none()
            && slot
                .set(Start {
                    key,
                    tail: tail.into(),
                })
                .is_ok()
    })
}

/// `true` for the functions below which the stack is the same every time they are on it (see
/// the module's documentation). `name` is demangled, without the hash.
fn is_start_function(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    name == "std::rt::lang_start_internal"
        || name.starts_with("std::rt::lang_start::<")
        || name.starts_with("std::rt::lang_start::{{closure}}")
        || name == "std::rt::lang_start"
        || (name.starts_with("std::sys::") && name.ends_with("::thread_start"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_functions() {
        for name in [
            "std::rt::lang_start_internal",
            "std::rt::lang_start::{{closure}}",
            "std::rt::lang_start::<()>",
            "<std::sys::thread::unix::Thread>::new::thread_start",
            "std::sys::pal::unix::thread::Thread::new::thread_start",
        ] {
            assert!(is_start_function(name), "{name}");
        }
        for name in [
            "std::sys::backtrace::__rust_begin_short_backtrace",
            "core::ops::function::FnOnce::call_once{{vtable.shim}}",
            "main",
            "my_app::thread_start",
            "std::rt::lang_start_internal::{closure#0}",
        ] {
            assert!(!is_start_function(name), "{name}");
        }
    }

    #[test]
    fn learns_the_innermost_start_and_what_is_below_it() {
        // Addresses far from any real code, so no walk of this process meets them.
        let ips = [
            0xdead_0001,
            0xdead_0002,
            0xdead_0003,
            0xdead_0004,
            0xdead_0005,
        ];
        let name_of = |ip: u64| {
            Some(
                match ip {
                    0xdead_0003 => "std::rt::lang_start_internal",
                    0xdead_0004 => "std::rt::lang_start::<()>",
                    _ => "app::work",
                }
                .to_owned(),
            )
        };
        assert!(learn(&ips, &name_of));
        assert!(keys().contains(&0xdead_0003));
        assert_eq!(tail(0xdead_0003), &[0xdead_0004, 0xdead_0005]);
        // The same key is not recorded twice; a stack without a start frame teaches nothing.
        assert!(!learn(&ips, &name_of));
        assert!(!learn(&[0xbeef_0001], &|_| Some("app::work".to_owned())));
        assert!(tail(0xbeef_0001).is_empty());
    }
}
