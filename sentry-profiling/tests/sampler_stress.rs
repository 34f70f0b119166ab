//! Signal safety under stress: threads that allocate, lock, panic and catch, recurse deeply
//! (one on a 64 KiB stack) and spawn threads, all continuously, profiled at 1000 Hz. Nothing
//! may deadlock or crash: a watchdog fails the test if any worker stops making progress. A
//! counting allocator checks that the handler's unwinding never allocates or frees.
//!
//! `SENTRY_SAMPLER_STRESS_SECS` sets the duration (default 10; run it with 60 for the full
//! minute).

#![cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#![allow(dead_code, unreachable_pub)]

#[path = "../src/sampler/mod.rs"]
mod sampler;
mod sampler_support;

use std::collections::HashMap;
use std::hint::black_box;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sampler::SamplerConfig;

/// Counts allocations made inside the signal handler's unwinding (there must be none), and
/// all others, then hands every request to the system allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATIONS_IN_HANDLER: AtomicU64 = AtomicU64::new(0);

impl Counting {
    fn count() {
        if sampler::unwinding_on_this_thread() {
            ALLOCATIONS_IN_HANDLER.fetch_add(1, Ordering::Relaxed);
        }
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every method forwards to `System` unchanged, which upholds `GlobalAlloc`'s
// contract; the counting touches only atomics and a const thread-local. (Tests may use
// `unsafe` with a written reason: a counting allocator needs `unsafe impl GlobalAlloc`.)
#[allow(unsafe_code)]
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        Self::count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if sampler::unwinding_on_this_thread() {
            ALLOCATIONS_IN_HANDLER.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        Self::count();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { std::alloc::System.realloc(ptr, layout, size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocates and frees blocks of varied sizes (malloc's locks and arenas).
fn allocate(round: u64) {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for i in 0..64 {
        blocks.push(vec![i as u8; 16 + ((round as usize * 31 + i * 97) % 8192)]);
    }
    let text: String = blocks.iter().map(|b| b.len().to_string()).collect();
    black_box((blocks, text));
}

/// Takes a contended lock.
fn lock(shared: &Mutex<HashMap<u64, u64>>, round: u64) {
    let mut map = shared.lock().unwrap_or_else(|e| e.into_inner());
    *map.entry(round % 97).or_default() += 1;
}

/// Panics and catches it (the unwinder's own locks and allocations).
fn panic_and_catch(round: u64) {
    let r = catch_unwind(|| {
        if black_box(round) != u64::MAX {
            panic!("stress panic {round}");
        }
    });
    assert!(r.is_err());
}

/// Recurses deeper than the sampler keeps frames.
#[inline(never)]
fn recurse(depth: u32) -> u64 {
    if depth == 0 {
        return black_box(1);
    }
    black_box(recurse(depth - 1)) + 1
}

/// Spawns a short-lived thread and joins it (new threads all the time; some exit mid-round).
fn spawn_and_join(round: u64) {
    let handle = std::thread::spawn(move || {
        allocate(round);
        black_box(recurse(20))
    });
    handle.join().expect("the short-lived thread");
}

#[test]
fn profiling_hostile_threads_at_1000_hz_neither_deadlocks_nor_crashes() {
    let secs: u64 = std::env::var("SENTRY_SAMPLER_STRESS_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    // Thousands of caught panics: keep the default hook from printing each.
    std::panic::set_hook(Box::new(|_| {}));

    let stop = Arc::new(AtomicBool::new(false));
    let shared = Arc::new(Mutex::new(HashMap::new()));
    let kinds = [
        "allocate",
        "lock",
        "panic",
        "recurse",
        "spawn",
        "small-stack",
        "mixed",
    ];
    let progress: Arc<Vec<AtomicU64>> = Arc::new(kinds.iter().map(|_| AtomicU64::new(0)).collect());
    let mut workers = Vec::new();
    for (k, kind) in kinds.iter().enumerate() {
        let (stop, shared, progress) = (
            Arc::clone(&stop),
            Arc::clone(&shared),
            Arc::clone(&progress),
        );
        let kind = *kind;
        // One worker runs on a small stack, near its end: the handler runs on the thread's
        // stack too and must fit.
        let stack_size = if kind == "small-stack" {
            64 << 10
        } else {
            2 << 20
        };
        workers.push(
            std::thread::Builder::new()
                .name(format!("stress-{kind}"))
                .stack_size(stack_size)
                .spawn(move || {
                    let mut round = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        round += 1;
                        match kind {
                            "allocate" => allocate(round),
                            "lock" => {
                                for _ in 0..100 {
                                    lock(&shared, round);
                                }
                            }
                            "panic" => panic_and_catch(round),
                            "recurse" => {
                                black_box(recurse(300));
                            }
                            "spawn" => spawn_and_join(round),
                            "small-stack" => {
                                black_box(recurse(200));
                            }
                            _ => {
                                allocate(round);
                                lock(&shared, round);
                                panic_and_catch(round);
                                if round % 8 == 0 {
                                    spawn_and_join(round);
                                }
                            }
                        }
                        progress[k].fetch_add(1, Ordering::Relaxed);
                    }
                })
                .expect("spawn a worker"),
        );
    }

    let config = SamplerConfig {
        frequency_hz: 1000,
        ..SamplerConfig::default()
    };
    let (sampler, collected) = sampler_support::start(config);
    let start = Instant::now();
    let mut last: Vec<(u64, Instant)> = progress
        .iter()
        .map(|p| (p.load(Ordering::Relaxed), Instant::now()))
        .collect();
    while start.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_millis(200));
        for (k, p) in progress.iter().enumerate() {
            let now = p.load(Ordering::Relaxed);
            if now != last[k].0 {
                last[k] = (now, Instant::now());
            }
            assert!(
                last[k].1.elapsed() < Duration::from_secs(10),
                "worker {} made no progress for 10 s: deadlock ({:?})",
                kinds[k],
                sampler.stats()
            );
        }
    }
    let stats = sampler.stats();
    let _sink = sampler.stop();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("a worker");
    }
    let _ = std::panic::take_hook();

    let counts: Vec<String> = kinds
        .iter()
        .zip(progress.iter())
        .map(|(k, p)| format!("{k}={}", p.load(Ordering::Relaxed)))
        .collect();
    let collected = collected.lock().unwrap();
    eprintln!(
        "{secs} s: {} samples in {} rounds; workers {}; {stats:?}",
        collected.samples.len(),
        collected.rounds,
        counts.join(" ")
    );
    assert!(stats.samples > 0 && stats.rounds > 0, "{stats:?}");
    // The handler allocated (and freed) nothing, while the process allocated all along.
    assert_eq!(ALLOCATIONS_IN_HANDLER.load(Ordering::Relaxed), 0);
    assert!(ALLOCATIONS.load(Ordering::Relaxed) > 1_000_000);
    assert!(
        stats.truncated > 0,
        "300-deep recursion is truncated to 128 frames: {stats:?}"
    );
}
