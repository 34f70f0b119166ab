//! The sampler's life cycle: 100 starts and stops leave no thread behind and keep the one
//! handler; one sampler per process; after `fork`, a child runs (stray signals included, its
//! own sampler too) and exits 0 while the parent samples.

#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#![allow(dead_code, unreachable_pub)]

#[path = "../src/sampler/mod.rs"]
mod sampler;
mod sampler_support;

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sampler::{Sampler, SamplerConfig, SamplerError};

/// The tests of this file each start samplers: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn sigprof_handler() -> libc::sighandler_t {
    // SAFETY: reading the current action of SIGPROF into a zeroed struct we own; a null new
    // action changes nothing. (Tests may use `unsafe` with a written reason: this one needs
    // `sigaction`, `raise`, `fork`, `waitpid` and `_exit`.)
    #[allow(unsafe_code)]
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(libc::SIGPROF, std::ptr::null(), &mut old),
            0
        );
        old.sa_sigaction
    }
}

#[test]
fn a_hundred_starts_and_stops_leave_no_thread_and_one_handler() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut handler = None;
    for i in 0..100 {
        let (sampler, collected) = sampler_support::start(SamplerConfig::default());
        // A second sampler in the same process is refused.
        let second = Sampler::start(
            SamplerConfig::default(),
            Box::new(sampler_support::Collect(Arc::clone(&collected))),
        );
        assert!(
            matches!(second, Err(SamplerError::AlreadyRunning)),
            "cycle {i}"
        );
        if i % 10 == 0 {
            // Some cycles sample a round or two before stopping.
            std::thread::sleep(Duration::from_millis(15));
        }
        let installed = sigprof_handler();
        assert_ne!(installed, libc::SIG_DFL);
        assert_eq!(
            *handler.get_or_insert(installed),
            installed,
            "one handler, installed once"
        );
        drop(sampler.stop());
    }
    // Every sampler thread was joined.
    assert_eq!(sampler_support::sampler_threads(), 0);
    // The handler stays after the last stop, and a stray signal is harmless.
    assert_eq!(Some(sigprof_handler()), handler);
    // SAFETY: see `sigprof_handler`.
    #[allow(unsafe_code)]
    unsafe {
        assert_eq!(libc::raise(libc::SIGPROF), 0);
    }
}

#[test]
fn dropping_a_sampler_stops_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (sampler, _collected) = sampler_support::start(SamplerConfig::default());
    assert_eq!(sampler_support::sampler_threads(), 1);
    drop(sampler);
    assert_eq!(sampler_support::sampler_threads(), 0);
    let (again, _) = sampler_support::start(SamplerConfig::default());
    drop(again.stop());
}

/// What a forked child does; returns its exit code. Runs in the child only.
fn child() -> i32 {
    // Stray signals: the handler is installed, nothing is requested from this process.
    for _ in 0..100 {
        // SAFETY: see `sigprof_handler`.
        #[allow(unsafe_code)]
        let raised = unsafe { libc::raise(libc::SIGPROF) };
        if raised != 0 {
            return 2;
        }
    }
    let mut x = 0u64;
    for i in 0..1_000_000u64 {
        x = black_box(x.wrapping_mul(31).wrapping_add(i));
    }
    let v: Vec<u64> = (0..10_000).collect();
    black_box((x, v));
    // The child may profile itself: no sampler runs in it.
    let (sampler, collected) = sampler_support::start(SamplerConfig::default());
    std::thread::sleep(Duration::from_millis(50));
    drop(sampler.stop());
    let rounds = collected.lock().map_or(0, |c| c.rounds);
    if rounds == 0 {
        return 3;
    }
    0
}

#[test]
fn a_forked_child_runs_and_exits_0_while_the_parent_samples() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let stop = Arc::new(AtomicBool::new(false));
    let busy_stop = Arc::clone(&stop);
    let busy = std::thread::spawn(move || {
        let mut x = 0u64;
        while !busy_stop.load(Ordering::Relaxed) {
            x = black_box(x.wrapping_add(1));
        }
    });
    let (sampler, collected) = sampler_support::start(SamplerConfig::default());
    for round in 0..10 {
        std::thread::sleep(Duration::from_millis(20));
        // SAFETY: see `sigprof_handler`. The child only runs `child` (allocation and thread
        // creation after fork work with glibc, which resets its locks at fork) and leaves
        // with `_exit`, running no destructor or exit handler of the parent's.
        #[allow(unsafe_code)]
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork");
        if pid == 0 {
            let code = child();
            // SAFETY: as above.
            #[allow(unsafe_code)]
            unsafe {
                libc::_exit(code)
            };
        }
        let mut status = 0;
        // SAFETY: as above; `status` is ours.
        #[allow(unsafe_code)]
        let waited = unsafe { libc::waitpid(pid, &mut status, 0) };
        assert_eq!(waited, pid);
        assert!(
            libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "child {round}: status {status:#x}"
        );
    }
    let rounds_before = collected.lock().unwrap().rounds;
    std::thread::sleep(Duration::from_millis(100));
    let stats = sampler.stats();
    drop(sampler.stop());
    stop.store(true, Ordering::Relaxed);
    busy.join().unwrap();
    // The parent kept sampling through the forks.
    assert!(
        collected.lock().unwrap().rounds > rounds_before,
        "{stats:?}"
    );
}
