//! The sampler in this (debug) test process: it starts, samples a busy thread with its full
//! call path, and stops.

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
use std::sync::Arc;
use std::time::Duration;

use sampler::SamplerConfig;

#[inline(never)]
fn smoke_spin(stop: &AtomicBool) -> u64 {
    let mut x = 0u64;
    while !stop.load(Ordering::Relaxed) {
        for i in 0..1000u64 {
            x = black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    x
}

#[test]
fn samples_a_busy_thread_down_to_its_entry() {
    let stop = Arc::new(AtomicBool::new(false));
    let worker_stop = Arc::clone(&stop);
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("smoke-worker".into())
        .spawn(move || {
            tid_tx
                .send(sentry_core::profiling::current_thread().0)
                .unwrap();
            smoke_spin(&worker_stop)
        })
        .unwrap();
    let worker_tid = tid_rx.recv().unwrap();
    let (sampler, collected) = sampler_support::start(SamplerConfig::default());
    std::thread::sleep(Duration::from_millis(1000));
    let stats = sampler.stats();
    let _sink = sampler.stop();
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();

    let collected = collected.lock().unwrap();
    // 101 rounds a second; the bounds leave room for a loaded machine and a debug build.
    assert!(
        collected.rounds >= 10,
        "rounds: {} ({stats:?})",
        collected.rounds
    );
    let ours: Vec<_> = collected
        .samples
        .iter()
        .filter(|(t, _)| *t == worker_tid)
        .collect();
    assert!(
        ours.len() >= 10,
        "samples of the worker: {} ({stats:?})",
        ours.len()
    );
    let images = sentry_backtrace::loaded_images();
    let mut in_spin = 0;
    let mut reach_entry = 0;
    for (_, frames) in &ours {
        let symbolized = sentry_backtrace::symbolize_addresses(frames, &images);
        let names: Vec<String> = symbolized
            .iter()
            .filter_map(|f| f.function.clone())
            .collect();
        if names.iter().any(|n| n.contains("smoke_spin")) {
            in_spin += 1;
        }
        if names
            .iter()
            .any(|n| n.contains("thread_start") || n.contains("start_thread"))
        {
            reach_entry += 1;
        }
    }
    assert!(
        in_spin * 10 >= ours.len() * 9,
        "{in_spin} of {} in smoke_spin",
        ours.len()
    );
    assert!(
        reach_entry * 10 >= ours.len() * 9,
        "{reach_entry} of {} reach the thread start",
        ours.len()
    );
    assert_eq!(
        sampler::thread_name(worker_tid).as_deref(),
        None,
        "the worker has exited"
    );
}
