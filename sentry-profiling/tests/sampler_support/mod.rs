//! Shared by the sampler's tests: each test crate compiles the sampler's module itself
//! (`#[path = "../src/sampler/mod.rs"] mod sampler;`), as its crate-private contract is not
//! public API; this module collects samples and starts a sampler.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::sampler::{RawSample, SampleSink, Sampler, SamplerConfig, SamplerError};

/// What a [`Collect`] sink received.
#[derive(Debug, Default)]
pub struct Collected {
    /// (thread id, frames) of every sample.
    pub samples: Vec<(u64, Vec<u64>)>,
    /// `on_round` calls.
    pub rounds: u64,
}

/// A sink that keeps everything (and allocates and locks, as a real sink does).
pub struct Collect(pub Arc<Mutex<Collected>>);

impl SampleSink for Collect {
    fn on_sample(&mut self, sample: &RawSample<'_>) {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        c.samples.push((sample.thread_id, sample.frames.to_vec()));
    }
    fn on_round(&mut self, _now: SystemTime) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).rounds += 1;
    }
}

/// Starts a sampler, waiting while another one of this process runs (the sampler's own unit
/// tests, compiled into every test crate with the module, take the process's one sampler
/// slot for a moment).
pub fn start(config: SamplerConfig) -> (Sampler, Arc<Mutex<Collected>>) {
    let collected = Arc::new(Mutex::new(Collected::default()));
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match Sampler::start(config.clone(), Box::new(Collect(Arc::clone(&collected)))) {
            Ok(sampler) => return (sampler, collected),
            Err(SamplerError::AlreadyRunning) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("the sampler starts: {e}"),
        }
    }
}

/// The sampler threads still listed once every joined one has left `/proc/self/task`: a
/// joined thread's entry can outlive `join` for a moment (the kernel wakes the joiner as the
/// thread exits, and removes the task after), so this waits up to 5 s for the count to reach
/// `expected` and returns the last count seen.
pub fn sampler_threads_settled(expected: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let count = sampler_threads();
        if count == expected || Instant::now() >= deadline {
            return count;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The number of sampler threads (named `sentry-profiler`) of this process.
pub fn sampler_threads() -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "sentry-profiler")
        .count()
}
