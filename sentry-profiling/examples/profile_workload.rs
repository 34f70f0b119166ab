//! A workload with a known profile, sampled by the profiler's sampler; the accuracy test
//! (`tests/sampler_accuracy.rs`) builds it as a default release build (no debug info, no
//! frame pointers), runs it and checks the samples.
//!
//! The main thread spins in `spin_a` the whole time; a second thread spins in `spin_b` for
//! 3 ms, then sleeps 4 ms, in a loop. Both measure the time they spent spinning, so the truth
//! is known: `spin_a` gets about 70 % of the CPU samples of the two functions, `spin_b` 30 %.
//!
//! Output, one record a line: `image <start> <end> <path>`, `thread <tid> <role>`,
//! `truth <a_ns> <b_ns>`, `stats <debug>`, `phase <start_ns> <end_ns>` (a spinning phase of
//! the second thread, Unix time), `sample <tid> <unix_ns> <hex addresses, innermost first>`.
//!
//! ```text
//! cargo run --release --example profile_workload -p sentry-profiling -- 3
//! ```

#![allow(dead_code, unreachable_pub, clippy::print_stdout)]

#[path = "../src/sampler/mod.rs"]
mod sampler;

use std::hint::black_box;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use sampler::{RawSample, SampleSink, Sampler, SamplerConfig};

/// Collects samples as text lines (on the sampler's thread; printed at the end).
struct Lines(Arc<Mutex<Vec<String>>>);

impl SampleSink for Lines {
    fn on_sample(&mut self, sample: &RawSample<'_>) {
        let frames: Vec<String> = sample.frames.iter().map(|a| format!("{a:x}")).collect();
        let at = sample
            .timestamp
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let line = format!("sample {} {} {}", sample.thread_id, at, frames.join(","));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(line);
    }
    fn on_round(&mut self, _now: SystemTime) {}
}

/// About 20 µs of arithmetic the optimizer must keep.
#[inline(never)]
fn spin_a(seed: u64) -> u64 {
    let mut x = seed;
    for i in 0..20_000u64 {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

/// The same work under another name.
#[inline(never)]
fn spin_b(seed: u64) -> u64 {
    let mut x = seed;
    for i in 0..20_000u64 {
        x = black_box(x.wrapping_mul(2862933555777941757).wrapping_add(i));
    }
    x
}

/// Spins in `spin_a` until `stop`; returns the time spent.
#[inline(never)]
fn run_a(stop: &AtomicBool) -> Duration {
    let start = Instant::now();
    let mut x = 1;
    while !stop.load(Ordering::Relaxed) {
        x = spin_a(x);
    }
    black_box(x);
    start.elapsed()
}

/// 3 ms in `spin_b`, 4 ms asleep, until `stop`; returns the time spent spinning.
#[inline(never)]
fn run_b(stop: &AtomicBool, phases: &mut Vec<(u128, u128)>) -> Duration {
    let mut spent = Duration::ZERO;
    let mut x = 2;
    while !stop.load(Ordering::Relaxed) {
        let start = Instant::now();
        let wall = now_ns();
        while start.elapsed() < Duration::from_millis(3) {
            x = spin_b(x);
        }
        spent += start.elapsed();
        phases.push((wall, now_ns()));
        std::thread::sleep(Duration::from_millis(4));
    }
    black_box(x);
    spent
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

fn main() {
    let seconds: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let stop = Arc::new(AtomicBool::new(false));
    let (tid_tx, tid_rx) = mpsc::channel();
    let b_stop = Arc::clone(&stop);
    let b = std::thread::Builder::new()
        .name("workload-b".into())
        .spawn(move || {
            let _ = tid_tx.send(sentry_core::profiling::current_thread().0);
            let mut phases = Vec::new();
            let spent = run_b(&b_stop, &mut phases);
            (spent, phases)
        })
        .expect("spawn");
    let b_tid = tid_rx.recv().expect("tid");
    let main_tid = sentry_core::profiling::current_thread().0;

    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Box::new(Lines(Arc::clone(&lines)));
    let sampler = match Sampler::start(SamplerConfig::default(), sink) {
        Ok(sampler) => sampler,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let timer_stop = Arc::clone(&stop);
    let timer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs_f64(seconds));
        timer_stop.store(true, Ordering::Relaxed);
    });
    let a_time = run_a(&stop);
    let stats = sampler.stats();
    drop(sampler.stop());
    let (b_time, phases) = b.join().expect("workload-b");
    timer.join().expect("timer");

    let mut out = std::io::stdout().lock();
    for image in sentry_backtrace::loaded_images() {
        let _ = writeln!(
            out,
            "image {:x} {:x} {}",
            image.start,
            image.end,
            image.path.display()
        );
    }
    let _ = writeln!(out, "thread {main_tid} a");
    let _ = writeln!(out, "thread {b_tid} b");
    let _ = writeln!(out, "truth {} {}", a_time.as_nanos(), b_time.as_nanos());
    let _ = writeln!(out, "stats {stats:?}");
    for (start, end) in phases {
        let _ = writeln!(out, "phase {start} {end}");
    }
    for line in lines.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        let _ = writeln!(out, "{line}");
    }
}
