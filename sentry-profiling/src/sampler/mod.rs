//! Sampling the stacks of every thread of the process.
//!
//! The contract between the sampler (this module) and the rest of the crate, which
//! aggregates samples into profile chunks. Everything here is called off the signal handler.
//!
//! # How a sample is taken (Linux x86_64 and aarch64)
//!
//! One thread, `sentry-profiler`, runs rounds on a fixed grid of `1 / frequency_hz` s
//! (`run.rs`). Each round lists `/proc/self/task` and asks every thread but its own for its
//! stack: it fills one request slot per thread, sends each `SIGURG` (ignored by default, see
//! `handler.rs`) with `tgkill`, and waits (a futex) for the answers, all threads of a batch
//! asked at the same instant (`exchange.rs`). The handler (`handler.rs`), running on the interrupted thread, claims the
//! slot naming its own thread id, unwinds from the interrupted registers with `framehop` over
//! the DWARF CFI (`.eh_frame`) every binary carries, so default release builds without frame
//! pointers or debug info unwind fully (`unwind.rs`), and writes the addresses into the slot's
//! preallocated buffer. The sampler's thread hands them to the [`SampleSink`].
//!
//! The modules' unwind information (`modules.rs`) is read from the files by the sampler's
//! thread and kept as an immutable generation, rebuilt when `/proc/self/maps` shows a library
//! loaded or unloaded, and swapped in only between batches, when no handler can be using the
//! old one. A thread that exits before its signal is skipped (`ESRCH`), one that blocks the
//! signal is asked again later with a growing pause, and a thread blocked in a system call is
//! sampled too (`SA_RESTART` restarts what can be restarted; like any signal, it makes calls
//! such as `poll` return `EINTR`, which callers must handle).
//!
//! # What is `unsafe`, and why
//!
//! This is the only module of the SDK with `unsafe` code (`#[allow(unsafe_code)]` on the
//! modules that need it, each block with its `SAFETY:` argument beside it). The handler must
//! be async-signal-safe: it allocates nothing, takes no lock and calls only raw system calls
//! (`gettid`, `process_vm_readv`, `futex`) and `clock_gettime`.
//!
//! - **Installing the handler** (`sigaction`, `pthread_atfork`) and **signalling threads**
//!   (`tgkill`), **waiting** (`futex`): system calls with checked arguments. Installing fails
//!   if another handler owns `SIGURG` instead of taking it over. The handler stays installed
//!   after the sampler stops (a late signal finds a no-op).
//! - **Reading the interrupted registers** from the `ucontext_t` the kernel passes.
//! - **Reading stack memory**: only inside `[sp, sp + 16 MiB)` of the interrupted thread, and
//!   only from pages `process_vm_readv` (which fails instead of faulting) confirmed readable;
//!   the stack between `sp` and its base is one mapping, live while its thread sits in the
//!   handler.
//! - **Sharing the request slots** between the sampler's thread and handlers: a slot's work
//!   area belongs to whoever holds its state (claimed by compare-and-swap, released with
//!   Release/Acquire); the exchange is freed only once no handler is inside it (a counter
//!   incremented before the pointer is loaded), and leaked rather than freed when that cannot
//!   be shown within a second.
//! - **Copying the vDSO's image** (it has no file) from the mapping the kernel announces.
//!
//! After `fork`, the child forgets the exchange (an `atfork` hook), so a stray signal finds
//! nothing to serve, and it may start its own sampler; the parent's handle in the child never
//! joins a thread the child does not have.

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

/// Declares the modules that exist only where the sampler runs (Linux x86_64 and aarch64),
/// each allowed `unsafe` code (its blocks carry their safety arguments).
macro_rules! sampler_modules {
    ($($module:ident),* $(,)?) => {
        $(
            #[cfg(all(
                target_os = "linux",
                any(target_arch = "x86_64", target_arch = "aarch64")
            ))]
            #[allow(unsafe_code)]
            mod $module;
        )*
    };
}

sampler_modules!(exchange, handler, modules, run, stack, unwind);
#[cfg(target_os = "linux")]
mod tasks;
#[cfg(not(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
)))]
mod unsupported;

// Used by the rest of the crate (the profiler); unused while only the sampler is built.
/// The signal the sampler sends threads (`SIGURG`, whose default action is to be ignored).
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unused_imports)]
pub(crate) use handler::SIGNAL;
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
#[cfg(all(
    test,
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[allow(unused_imports)]
pub(crate) use unwind::unwinding_on_this_thread;

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
