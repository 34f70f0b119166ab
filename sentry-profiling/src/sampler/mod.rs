//! Sampling the stacks of every thread of the process.
//!
//! The contract between the sampler (this module) and the rest of the crate, which
//! aggregates samples into profile chunks. Everything here is called off the signal handler.

use std::fmt;
use std::time::SystemTime;

/// How the sampler runs.
#[derive(Clone, Debug)]
pub(crate) struct SamplerConfig {
    /// Samples per second of each thread (101 by default, off the beat of periodic work).
    pub(crate) frequency_hz: u32,
    /// The most frames kept of one stack; deeper stacks keep their innermost frames.
    pub(crate) max_frames: usize,
}

impl Default for SamplerConfig {
    fn default() -> Self {
        SamplerConfig {
            frequency_hz: 101,
            max_frames: 128,
        }
    }
}

/// One stack sample, handed to the sink on the sampler's thread.
#[derive(Debug)]
pub(crate) struct RawSample<'a> {
    /// The kernel's thread id (`gettid`), as `/proc/self/task` lists it and as
    /// `sentry_core::profiling::current_thread` returns it.
    pub(crate) thread_id: u64,
    /// When the stack was taken.
    pub(crate) timestamp: SystemTime,
    /// Instruction addresses, innermost first: the interrupted instruction's address, then
    /// return addresses, out to the thread's entry (`main`, or the thread start routine).
    pub(crate) frames: &'a [u64],
}

/// Receives what the sampler collects, on the sampler's own thread (never in a signal
/// handler): it may allocate, lock and send.
pub(crate) trait SampleSink: Send + 'static {
    /// One sample of one thread.
    fn on_sample(&mut self, sample: &RawSample<'_>);
    /// After each round over all threads (about every `1 / frequency_hz` s), with the time;
    /// the sink flushes on its own schedule here.
    fn on_round(&mut self, now: SystemTime);
}

/// Why the sampler did not start.
#[derive(Debug)]
pub(crate) enum SamplerError {
    /// Not on this platform (the text says which are supported).
    Unsupported(&'static str),
    /// Another sampler runs in this process (there is one signal handler).
    AlreadyRunning,
    /// The operating system refused (installing the handler, spawning the thread, …).
    Os(std::io::Error),
}

impl fmt::Display for SamplerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SamplerError::Unsupported(why) => write!(f, "profiling is not supported here: {why}"),
            SamplerError::AlreadyRunning => f.write_str("a profiler already runs in this process"),
            SamplerError::Os(e) => write!(f, "the profiler could not start: {e}"),
        }
    }
}

impl std::error::Error for SamplerError {}

/// What a sampler counted since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct SamplerStats {
    /// Rounds over all threads completed.
    pub(crate) rounds: u64,
    /// Stacks handed to the sink.
    pub(crate) samples: u64,
    /// Of those, stacks deeper than `max_frames` (their innermost frames were kept).
    pub(crate) truncated: u64,
    /// Of those, walks that stopped before the thread's root frame (a stack word that could
    /// not be read, no unwind rule that worked); the frames found are kept.
    pub(crate) incomplete: u64,
    /// Time spent in the signal handler unwinding, summed over `samples`, in nanoseconds.
    pub(crate) handler_ns: u64,
    /// Requests a thread did not answer in time (it blocks the signal or was not scheduled).
    pub(crate) no_answer: u64,
    /// Threads that exited between the listing and their signal.
    pub(crate) gone: u64,
    /// Module lists built (the first, then one per change of the loaded code).
    pub(crate) module_generations: u64,
}

/// The platforms the sampler runs on.
pub(crate) const SUPPORTED_PLATFORMS: &str = "the sampler runs on Linux x86_64 and aarch64";

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod exchange;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod handler;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod modules;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod run;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod stack;
#[cfg(target_os = "linux")]
mod tasks;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod unsupported;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unsafe_code)]
mod unwind;

// Used by the rest of the crate (the profiler); unused while only the sampler is built.
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unused_imports)]
pub(crate) use run::Sampler;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
#[allow(unused_imports)]
pub(crate) use unsupported::Sampler;

/// The name of thread `thread_id` of this process, if it has one
/// (`/proc/self/task/<tid>/comm`; `None` off Linux).
#[cfg(target_os = "linux")]
pub(crate) fn thread_name(thread_id: u64) -> Option<String> {
    tasks::thread_name(thread_id)
}

/// The name of thread `thread_id` of this process, if it has one (`None` off Linux).
#[cfg(not(target_os = "linux"))]
pub(crate) fn thread_name(_thread_id: u64) -> Option<String> {
    None
}
