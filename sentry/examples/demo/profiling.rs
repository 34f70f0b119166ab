//! Continuous profiling (feature `profiling`, Linux): with `SENTRY_PROFILE_SESSION_SAMPLE_RATE=1`
//! the profiler runs from the start of the demo to its end, and the demo spends some CPU in
//! named functions, so the chunk it sends has stacks worth looking at.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Starts the profiler (a no-op unless this process is sampled by the rate). Returns whether
/// it runs.
pub(crate) fn start() -> bool {
    match sentry::start_profiler() {
        Ok(running) => running,
        Err(err) => {
            eprintln!("demo: the profiler did not start: {err}");
            false
        }
    }
}

/// Spends about 600 ms of CPU in two named functions, the second twice as long as the first.
pub(crate) fn busy_work() {
    let _span =
        sentry::start_transaction(sentry::TransactionContext::new("demo.busy_work", "task"))
            .enter();
    price_catalog(Duration::from_millis(200));
    checksum_orders(Duration::from_millis(400));
}

#[inline(never)]
fn price_catalog(budget: Duration) -> u64 {
    let start = Instant::now();
    let mut total = 0u64;
    while start.elapsed() < budget {
        for price in 0..10_000u64 {
            total = total.wrapping_add(black_box(price) * 3 / 2);
        }
    }
    black_box(total)
}

#[inline(never)]
fn checksum_orders(budget: Duration) -> u64 {
    let start = Instant::now();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    while start.elapsed() < budget {
        for byte in 0..10_000u64 {
            hash = (hash ^ black_box(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
    black_box(hash)
}
