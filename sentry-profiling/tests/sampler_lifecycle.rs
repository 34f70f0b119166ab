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

fn signal_handler() -> libc::sighandler_t {
    // SAFETY: reading the current action of the sampler's signal into a zeroed struct we own;
    // a null new action changes nothing. (Tests may use `unsafe` with a written reason: this
    // one needs `sigaction`, `raise`, `fork`, `waitpid`, `_exit`, `pthread_sigmask` and
    // `dlopen`.)
    #[allow(unsafe_code)]
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(
            libc::sigaction(sampler::SIGNAL, std::ptr::null(), &mut old),
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
        let installed = signal_handler();
        assert_ne!(installed, libc::SIG_DFL);
        assert_eq!(
            *handler.get_or_insert(installed),
            installed,
            "one handler, installed once"
        );
        drop(sampler.stop());
    }
    // Every sampler thread was joined.
    assert_eq!(sampler_support::sampler_threads_settled(0), 0);
    // The handler stays after the last stop, and a stray signal is harmless.
    assert_eq!(Some(signal_handler()), handler);
    // SAFETY: see `signal_handler`.
    #[allow(unsafe_code)]
    unsafe {
        assert_eq!(libc::raise(sampler::SIGNAL), 0);
    }
}

#[test]
fn dropping_a_sampler_stops_it() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (sampler, _collected) = sampler_support::start(SamplerConfig::default());
    assert_eq!(sampler_support::sampler_threads(), 1);
    drop(sampler);
    assert_eq!(sampler_support::sampler_threads_settled(0), 0);
    let (again, _) = sampler_support::start(SamplerConfig::default());
    drop(again.stop());
}

/// What a forked child does; returns its exit code. Runs in the child only.
fn child() -> i32 {
    // Stray signals: the handler is installed, nothing is requested from this process.
    for _ in 0..100 {
        // SAFETY: see `signal_handler`.
        #[allow(unsafe_code)]
        let raised = unsafe { libc::raise(sampler::SIGNAL) };
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
        // SAFETY: see `signal_handler`. The child only runs `child` (allocation and thread
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

#[test]
fn threads_blocked_in_a_syscall_or_blocking_the_signal() {
    use std::io::{Read, Write};
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (sampler, collected) = sampler_support::start(SamplerConfig::default());

    // Started after the sampler: picked up by a later round. It blocks reading a socket; the
    // signal interrupts the call and, with SA_RESTART, the read resumes and still gets its
    // data.
    let (mut reader, mut writer) = std::os::unix::net::UnixStream::pair().expect("a socket pair");
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let blocked = std::thread::spawn(move || {
        tid_tx
            .send(sentry_core::profiling::current_thread().0)
            .unwrap();
        let mut buf = [0u8; 5];
        reader.read_exact(&mut buf).map(|()| buf)
    });
    let reader_tid = tid_rx.recv().unwrap();

    // This one blocks the sampler's signal: it is asked, does not answer, and is left alone
    // for longer and longer; the round goes on without it.
    let quiet_stop = Arc::new(AtomicBool::new(false));
    let quiet_flag = Arc::clone(&quiet_stop);
    let quiet = std::thread::spawn(move || {
        // SAFETY: see `signal_handler`; the sets are ours and initialised by sigemptyset.
        #[allow(unsafe_code)]
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sampler::SIGNAL);
            assert_eq!(
                libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()),
                0
            );
        }
        while !quiet_flag.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Unblocking delivers the one pending signal to the installed handler: harmless.
        // SAFETY: as above.
        #[allow(unsafe_code)]
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, sampler::SIGNAL);
            assert_eq!(
                libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()),
                0
            );
        }
    });

    std::thread::sleep(Duration::from_millis(600));
    let stats = sampler.stats();
    drop(sampler.stop());
    writer.write_all(b"hello").unwrap();
    assert_eq!(
        &blocked.join().unwrap().expect("the read resumes"),
        b"hello"
    );
    quiet_stop.store(true, Ordering::Relaxed);
    quiet.join().unwrap();

    let collected = collected.lock().unwrap();
    let images = sentry_backtrace::loaded_images();
    let reader_stacks: Vec<Vec<String>> = collected
        .samples
        .iter()
        .filter(|(tid, _)| *tid == reader_tid)
        .map(|(_, frames)| {
            sentry_backtrace::symbolize_addresses(frames, &images)
                .into_iter()
                .filter_map(|f| f.function)
                .collect()
        })
        .collect();
    assert!(
        reader_stacks.len() >= 5,
        "the blocked reader is sampled: {stats:?}"
    );
    assert!(
        reader_stacks.iter().all(|names| names
            .iter()
            .any(|n| n.contains("recv") || n.contains("read"))),
        "in its read: {:?}",
        reader_stacks.first()
    );
    // Asked, missed, then skipped with a growing pause: a handful of misses, not one a round.
    assert!(stats.no_answer >= 1, "{stats:?}");
    assert!(stats.no_answer <= 10, "{stats:?}");
}

#[test]
fn a_library_loaded_while_sampling_gives_a_new_module_generation() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let (sampler, _collected) = sampler_support::start(SamplerConfig::default());
    std::thread::sleep(Duration::from_millis(150));
    let before = sampler.stats().module_generations;
    assert!(before >= 1);
    // A glibc library no test loads otherwise (the sampler only looks at changes of the
    // executable mappings, re-reading them every 10 rounds).
    let name = c"libresolv.so.2";
    // SAFETY: see `signal_handler`; `dlopen` gets a NUL-terminated name, and the handle is
    // never closed (the library stays loaded for the rest of the test process).
    #[allow(unsafe_code)]
    let handle = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW) };
    if handle.is_null() {
        // Not every system has it; nothing to check then.
        drop(sampler.stop());
        return;
    }
    std::thread::sleep(Duration::from_millis(400));
    let after = sampler.stats().module_generations;
    drop(sampler.stop());
    assert!(
        after > before,
        "a new generation after dlopen: {before} -> {after}"
    );
}
