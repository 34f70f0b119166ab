//! The sampler's cost: the throughput of a 2-thread CPU-bound workload with and without
//! sampling at 101 Hz (interleaved windows, several rounds), and the time the signal handler
//! spends per sample.
//!
//! Reported: the throughput per second of wall time (what an application sees; noisy when
//! other processes share the CPUs); the throughput per second of the workers' own CPU time
//! (steady under outside load: the signal delivery and the handler run on the workers'
//! threads and are counted in their CPU time); and the CPU time of the sampler's thread per
//! second. The overhead on a machine whose 2 CPUs the workload fills is the first slowdown
//! plus the sampler's CPU time over 2 CPU-seconds per second.
//!
//! ```text
//! cargo run --release --example sampler_overhead -p sentry-profiling -- [rounds] [window_secs]
//! ```

#![allow(dead_code, unreachable_pub, clippy::print_stdout)]

#[path = "../src/sampler/mod.rs"]
mod sampler;

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use sampler::{RawSample, SampleSink, Sampler, SamplerConfig, SamplerStats};

/// Keeps the frames of the last samples, as an aggregating sink would touch them.
struct Keep {
    frames: Vec<u64>,
    samples: u64,
}

impl SampleSink for Keep {
    fn on_sample(&mut self, sample: &RawSample<'_>) {
        self.frames.clear();
        self.frames.extend_from_slice(sample.frames);
        self.samples += 1;
    }
    fn on_round(&mut self, _now: SystemTime) {}
}

/// A few microseconds of arithmetic, a few calls deep.
#[inline(never)]
fn work(seed: u64) -> u64 {
    let mut x = seed;
    for i in 0..2_000u64 {
        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

/// This thread's CPU time in nanoseconds (0 where the sampler does not run).
#[cfg(not(target_os = "linux"))]
fn thread_cpu_ns() -> u64 {
    0
}

/// This thread's CPU time in nanoseconds.
#[cfg(target_os = "linux")]
fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes the timespec we own. (Examples may use `unsafe` with a
    // written reason: this one reads a clock.)
    #[allow(unsafe_code)]
    unsafe {
        libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts);
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Works until `stop`, publishing its iteration count and (every 64 iterations) its CPU time.
#[inline(never)]
fn worker(done: &AtomicU64, cpu: &AtomicU64, stop: &AtomicBool) {
    let mut x = 1;
    let mut n = 0u64;
    while !stop.load(Ordering::Relaxed) {
        x = work(x);
        n += 1;
        if n % 64 == 0 {
            done.store(n, Ordering::Relaxed);
            cpu.store(thread_cpu_ns(), Ordering::Relaxed);
        }
    }
    black_box(x);
}

/// The CPU time of this process's thread named `name`, in nanoseconds (`schedstat`).
fn named_thread_cpu_ns(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim_end() == name {
            let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
            return stat
                .split(' ')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
        }
    }
    0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(8);
    let window = Duration::from_secs_f64(args.next().and_then(|s| s.parse().ok()).unwrap_or(2.0));

    let stop = Arc::new(AtomicBool::new(false));
    let counters: Arc<[AtomicU64; 4]> = Arc::new(Default::default());
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let (stop, counters) = (Arc::clone(&stop), Arc::clone(&counters));
            std::thread::spawn(move || worker(&counters[i], &counters[2 + i], &stop))
        })
        .collect();
    let load = |i: usize| counters[i].load(Ordering::Relaxed);

    // (iterations per wall second, iterations per worker CPU second, sampler CPU s per s)
    let measure = || {
        let (n0, c0, s0) = (
            load(0) + load(1),
            load(2) + load(3),
            named_thread_cpu_ns("sentry-profiler"),
        );
        std::thread::sleep(window);
        let (n1, c1, s1) = (
            load(0) + load(1),
            load(2) + load(3),
            named_thread_cpu_ns("sentry-profiler"),
        );
        let iterations = (n1 - n0) as f64;
        let secs = window.as_secs_f64();
        (
            iterations / secs,
            iterations / (c1 - c0) as f64 * 1e9,
            s1.saturating_sub(s0) as f64 / 1e9 / secs,
        )
    };
    let (mut off, mut on, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cpu_ratios, mut sampler_cpu) = (Vec::new(), Vec::new());
    let mut stats = SamplerStats::default();
    for round in 0..rounds {
        // Alternate which mode goes first, so a drift of the machine's load hits both.
        let mut pair = [(0.0, 0.0, 0.0); 2];
        for step in 0..2 {
            let profiled = (round + step) % 2 == 1;
            if profiled {
                let sink = Keep {
                    frames: Vec::with_capacity(128),
                    samples: 0,
                };
                let sampler = match Sampler::start(SamplerConfig::default(), Box::new(sink)) {
                    Ok(sampler) => sampler,
                    Err(e) => {
                        eprintln!("{e}");
                        std::process::exit(1);
                    }
                };
                // Leave out the start (module list, first round).
                std::thread::sleep(Duration::from_millis(200));
                let before = sampler.stats();
                pair[1] = measure();
                let after = sampler.stats();
                stats.samples += after.samples - before.samples;
                stats.handler_ns += after.handler_ns - before.handler_ns;
                stats.rounds += after.rounds - before.rounds;
                stats.incomplete += after.incomplete - before.incomplete;
                drop(sampler.stop());
            } else {
                std::thread::sleep(Duration::from_millis(200));
                pair[0] = measure();
            }
        }
        println!(
            "round {round}: per wall second: off {:.0}, on {:.0} ({:+.2} %); per worker CPU second: off {:.0}, on {:.0} ({:+.2} %); sampler thread {:.2} ms CPU/s",
            pair[0].0,
            pair[1].0,
            (1.0 - pair[1].0 / pair[0].0) * 100.0,
            pair[0].1,
            pair[1].1,
            (1.0 - pair[1].1 / pair[0].1) * 100.0,
            pair[1].2 * 1e3,
        );
        sampler_cpu.push(pair[1].2);
        off.push(pair[0].0);
        on.push(pair[1].0);
        ratios.push(pair[1].0 / pair[0].0);
        cpu_ratios.push(pair[1].1 / pair[0].1);
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let mean_off = off.iter().sum::<f64>() / off.len() as f64;
    let spread = off.iter().map(|v| (v - mean_off).powi(2)).sum::<f64>() / off.len() as f64;
    println!(
        "overhead at 101 Hz, 2 busy threads: median of paired rounds {:+.2} % (medians: off {:.0}/s, on {:.0}/s; off-round spread {:.2} %)",
        (1.0 - median(&mut ratios)) * 100.0,
        median(&mut off),
        median(&mut on),
        spread.sqrt() / mean_off * 100.0
    );
    let in_workers = 1.0 - median(&mut cpu_ratios);
    let sampler = median(&mut sampler_cpu);
    println!(
        "overhead at 101 Hz, 2 CPU-bound threads on 2 CPUs: {:+.2} % (in the workers' threads {:+.2} %, the sampler's thread {:.2} ms CPU/s = {:.2} % of 2 CPUs)",
        (in_workers + sampler / 2.0) * 100.0,
        in_workers * 100.0,
        sampler * 1e3,
        sampler / 2.0 * 100.0
    );
    let per_sample = stats.handler_ns as f64 / stats.samples.max(1) as f64;
    let seconds = rounds as f64 * window.as_secs_f64();
    println!(
        "handler: {per_sample:.0} ns per sample ({} samples, {:.1} rounds/s, {} incomplete walks)",
        stats.samples,
        stats.rounds as f64 / seconds,
        stats.incomplete
    );
}
