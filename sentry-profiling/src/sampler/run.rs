//! The sampler's thread: rounds over every thread of the process.
//!
//! Each round (every `1 / frequency_hz` s, on a fixed grid) lists `/proc/self/task`, signals
//! every thread but its own in batches (as many at once as the exchange has slots, see
//! `exchange.rs`) and waits for their handlers' answers, hands each stack to the sink, then
//! calls the sink's `on_round`. A thread that exited since the listing is skipped
//! (`ESRCH`). One that does not answer within [`ANSWER_TIMEOUT`] is asked again in a later
//! round: if it blocks the signal (its `SigBlk` mask says so), after a pause that doubles with
//! each miss up to [`MAX_SKIP_BLOCKED`] rounds; otherwise (it waited for a CPU, or sleeps
//! uninterruptibly) after at most [`MAX_SKIP_UNSCHEDULED`] rounds. The timeout is long
//! because a busy thread on a busy machine answers only once it is scheduled, and giving up
//! on it early would under-sample exactly the threads that use the CPU. Every
//! [`REFRESH_ROUNDS`] rounds, or right after a stack began outside every known module, the
//! module list is re-read and a new generation swapped in between two requests.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use super::exchange::{Exchange, Outcome};
use super::handler::{self, SIGNAL};
use super::modules::{Generation, ModuleSet};
use super::stack;
use super::{tasks, RawSample, SampleSink, SamplerConfig, SamplerError, SamplerStats};

/// How long the sampler's thread waits for one thread's handler.
const ANSWER_TIMEOUT: Duration = Duration::from_millis(50);

/// The most rounds a thread that blocks the signal is left alone (after one miss it is
/// skipped for one round, then two, four, … up to this: about 10 s at 101 Hz).
const MAX_SKIP_BLOCKED: u64 = 1024;

/// The most rounds a thread that did not answer for another reason is left alone.
const MAX_SKIP_UNSCHEDULED: u64 = 4;

/// How often (in rounds) the module list is re-read when nothing suggests it changed.
const REFRESH_ROUNDS: u64 = 10;

/// How many threads are asked at once (each slot has its own unwinder cache, about 40 KiB).
/// More threads than slots are asked in several batches, each waiting for its slowest
/// thread: on a loaded machine a waiting thread takes milliseconds to be scheduled.
const SLOTS: usize = 16;

/// The highest frequency accepted (higher values are lowered to it).
const MAX_FREQUENCY_HZ: u32 = 10_000;

/// The most frames a stack may keep (higher values are lowered to it).
const MAX_FRAMES: usize = 4096;

/// One sampler per process: there is one handler.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// A running sampler: its thread samples every other thread of the process until
/// [`Sampler::stop`] (or drop).
#[derive(Debug)]
pub(crate) struct Sampler {
    /// The process that started the sampler (a forked child holds a copy of this handle but
    /// not the thread).
    pid: u32,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<Box<dyn SampleSink>>>,
}

/// Between the handle and the sampler's thread.
#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    rounds: AtomicU64,
    samples: AtomicU64,
    truncated: AtomicU64,
    incomplete: AtomicU64,
    handler_ns: AtomicU64,
    no_answer: AtomicU64,
    gone: AtomicU64,
    generations: AtomicU64,
}

impl Sampler {
    /// Starts sampling every thread of the process (but its own) at `config.frequency_hz`.
    ///
    /// # Errors
    ///
    /// [`SamplerError::AlreadyRunning`] if a sampler runs; [`SamplerError::Os`] if the signal
    /// handler cannot be installed (another handler owns `SIGURG`), the stack probe
    /// (`process_vm_readv`) is not permitted, or the thread cannot be spawned.
    pub(crate) fn start(
        config: SamplerConfig,
        sink: Box<dyn SampleSink>,
    ) -> Result<Sampler, SamplerError> {
        if RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return Err(SamplerError::AlreadyRunning);
        }
        match spawn(config, sink) {
            Ok(sampler) => Ok(sampler),
            Err(e) => {
                RUNNING.store(false, Ordering::Release);
                Err(e)
            }
        }
    }

    /// Stops sampling, joins the sampler's thread and returns the sink, so the caller can
    /// flush what it holds.
    pub(crate) fn stop(mut self) -> Box<dyn SampleSink> {
        self.shutdown().unwrap_or_else(|| Box::new(Discard))
    }

    /// What the sampler counted so far.
    pub(crate) fn stats(&self) -> SamplerStats {
        let s = &self.shared;
        SamplerStats {
            rounds: s.rounds.load(Ordering::Relaxed),
            samples: s.samples.load(Ordering::Relaxed),
            truncated: s.truncated.load(Ordering::Relaxed),
            incomplete: s.incomplete.load(Ordering::Relaxed),
            handler_ns: s.handler_ns.load(Ordering::Relaxed),
            no_answer: s.no_answer.load(Ordering::Relaxed),
            gone: s.gone.load(Ordering::Relaxed),
            module_generations: s.generations.load(Ordering::Relaxed),
        }
    }

    fn shutdown(&mut self) -> Option<Box<dyn SampleSink>> {
        let thread = self.thread.take()?;
        if std::process::id() != self.pid {
            // A forked child's copy: the thread (and the sink) exist only in the parent, and
            // joining a thread the child does not have would wait forever.
            std::mem::forget(thread);
            return None;
        }
        self.shared.stop.store(true, Ordering::Release);
        thread.thread().unpark();
        // The thread's body catches panics, so it returns the sink; a join error could only
        // come from a panic outside that (none is possible), answered with a discarding sink.
        let sink = thread.join().ok();
        RUNNING.store(false, Ordering::Release);
        sink
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// In a child after `fork`: no sampler thread runs there, so the child may start its own.
pub(super) fn forget_after_fork() {
    RUNNING.store(false, Ordering::Release);
}

/// A sink that drops everything.
struct Discard;

impl SampleSink for Discard {
    fn on_sample(&mut self, _sample: &RawSample<'_>) {}
    fn on_round(&mut self, _now: SystemTime) {}
}

fn spawn(config: SamplerConfig, sink: Box<dyn SampleSink>) -> Result<Sampler, SamplerError> {
    // Without its stack probe (`process_vm_readv`, refused by some seccomp policies) the
    // handler could read no stack: every sample would be one frame. Say so instead.
    if !stack::probe_works() {
        return Err(SamplerError::Os(std::io::Error::other(
            "process_vm_readv is not permitted here, so stacks cannot be read safely",
        )));
    }
    handler::install().map_err(SamplerError::Os)?;
    let frequency = config.frequency_hz.clamp(1, MAX_FREQUENCY_HZ);
    let max_frames = config.max_frames.clamp(1, MAX_FRAMES);
    let shared = Arc::new(Shared::default());
    let thread_shared = Arc::clone(&shared);
    let (ready_tx, ready_rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("sentry-profiler".into())
        .spawn(move || {
            let mut sink = sink;
            let _ = ready_tx.send(());
            let shared = thread_shared;
            let period = Duration::from_secs(1) / frequency;
            let _ = catch_unwind(AssertUnwindSafe(|| {
                sample_loop(&shared, period, max_frames, &mut *sink);
            }));
            sink
        })
        .map_err(SamplerError::Os)?;
    let _ = ready_rx.recv();
    Ok(Sampler {
        pid: std::process::id(),
        shared,
        thread: Some(thread),
    })
}

/// Asks the kernel for a short time slice for the calling thread (the sampler's). On Linux
/// 6.12 and later (EEVDF), a fair-class thread may request its slice length; a short one gives
/// it an earlier deadline, so on waking it preempts a busy thread at once instead of waiting
/// for that thread's slice to end. This keeps rounds on their grid when the profiled threads
/// fill every CPU: late rounds would under-sample the states in which CPUs are scarce. It
/// changes neither the policy nor the nice value (nor the thread's share of CPU time); older
/// kernels ignore the slice, and a refusal changes nothing.
fn request_short_slice() {
    // SAFETY: `getpriority` has no memory arguments; `sched_setattr` reads the fully
    // initialised `sched_attr` on our stack, whose `size` field says how much to read.
    #[allow(unsafe_code)]
    unsafe {
        *libc::__errno_location() = 0;
        let nice = libc::getpriority(libc::PRIO_PROCESS, 0);
        if nice == -1 && *libc::__errno_location() != 0 {
            return;
        }
        let attr = libc::sched_attr {
            size: std::mem::size_of::<libc::sched_attr>() as u32,
            sched_policy: libc::SCHED_OTHER as u32,
            sched_flags: 0,
            sched_nice: nice,
            sched_priority: 0,
            // 100 µs, the shortest slice the kernel accepts.
            sched_runtime: 100_000,
            sched_deadline: 0,
            sched_period: 0,
        };
        libc::syscall(
            libc::SYS_sched_setattr,
            0,
            &attr as *const libc::sched_attr,
            0,
        );
    }
}

/// The sampler's thread's body.
fn sample_loop(shared: &Shared, period: Duration, max_frames: usize, sink: &mut dyn SampleSink) {
    request_short_slice();
    // SAFETY: `gettid` is a raw syscall without arguments.
    #[allow(unsafe_code)]
    let own_tid = unsafe { libc::syscall(libc::SYS_gettid) } as u64;
    let mut modules = ModuleSet::default();
    let first = modules.refresh().unwrap_or_else(Generation::empty);
    shared.generations.fetch_add(1, Ordering::Relaxed);
    let mut requester = handler::publish(Box::new(Exchange::new(SLOTS, max_frames, first)));
    let mut threads = Vec::new();
    let mut batch = Vec::new();
    // Per thread that missed: (consecutive misses, first round to ask again).
    let mut skip: HashMap<u64, (u32, u64)> = HashMap::new();
    let mut abandoned = false;
    let mut round = 0u64;
    let mut next = Instant::now();
    'rounds: while !shared.stop.load(Ordering::Acquire) {
        round += 1;
        if round % REFRESH_ROUNDS == 0 || requester.saw_unknown_code() {
            if let Some(generation) = modules.refresh() {
                requester.set_generation(generation);
                shared.generations.fetch_add(1, Ordering::Relaxed);
            }
        }
        if tasks::list_threads(&mut threads).is_err() {
            threads.clear();
        }
        batch.clear();
        for &tid in &threads {
            if tid == own_tid || skip.get(&tid).is_some_and(|&(_, r)| r > round) {
                continue;
            }
            if let Ok(tid) = u32::try_from(tid) {
                batch.push(tid);
            }
        }
        for chunk in batch.chunks(requester.batch_size()) {
            requester.request(chunk, SIGNAL, ANSWER_TIMEOUT);
            for (i, &tid) in chunk.iter().enumerate() {
                let tid = u64::from(tid);
                match requester.outcome(i) {
                    Some(Outcome::Sampled) => {
                        skip.remove(&tid);
                        shared
                            .handler_ns
                            .fetch_add(requester.handler_ns(i), Ordering::Relaxed);
                        if requester.ended_early(i).is_some() {
                            shared.incomplete.fetch_add(1, Ordering::Relaxed);
                        }
                        let (frames, timestamp, truncated) = requester.result(i);
                        shared.samples.fetch_add(1, Ordering::Relaxed);
                        if truncated {
                            shared.truncated.fetch_add(1, Ordering::Relaxed);
                        }
                        let sample = RawSample {
                            thread_id: tid,
                            timestamp,
                            frames,
                        };
                        let _ = catch_unwind(AssertUnwindSafe(|| sink.on_sample(&sample)));
                    }
                    Some(Outcome::Gone) => {
                        shared.gone.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(Outcome::NoAnswer | Outcome::SendFailed) => {
                        shared.no_answer.fetch_add(1, Ordering::Relaxed);
                        let misses = skip.get(&tid).map_or(0, |&(m, _)| m).saturating_add(1);
                        let cap = if tasks::blocks_signal(tid, SIGNAL) {
                            MAX_SKIP_BLOCKED
                        } else {
                            MAX_SKIP_UNSCHEDULED
                        };
                        let pause = (1u64 << (misses - 1).min(10)).min(cap);
                        skip.insert(tid, (misses, round + pause));
                    }
                    Some(Outcome::Stuck) => abandoned = true,
                    None => {}
                }
            }
            if abandoned {
                break 'rounds;
            }
        }
        if round % 100 == 0 {
            // Forget threads not asked for a while (most have exited).
            skip.retain(|_, &mut (_, r)| r + MAX_SKIP_BLOCKED > round);
        }
        shared.rounds.fetch_add(1, Ordering::Relaxed);
        let _ = catch_unwind(AssertUnwindSafe(|| sink.on_round(SystemTime::now())));
        // Rounds start on a fixed grid. A round that overran skips the grid points it missed
        // instead of starting the next one at once: how long a round takes depends on what
        // the threads were doing (a busy thread answers only once it gets a CPU), and
        // starting rounds back to back would sample more often the states that answer fast.
        next += period;
        let now = Instant::now();
        if next < now {
            let behind = (now - next).as_nanos() / period.as_nanos().max(1);
            next += period * (u32::try_from(behind).unwrap_or(u32::MAX - 1) + 1);
        }
        while !shared.stop.load(Ordering::Acquire) {
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::park_timeout(next - now);
        }
    }
    handler::retire(requester, abandoned);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes the process's one sampler slot (a `Sampler` may run in this process too, when
    /// this module is compiled into an integration test).
    fn exclusive() -> impl Drop {
        struct Release;
        impl Drop for Release {
            fn drop(&mut self) {
                RUNNING.store(false, Ordering::Release);
            }
        }
        while RUNNING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            std::thread::sleep(Duration::from_millis(10));
        }
        Release
    }

    #[inline(never)]
    fn sample_myself() -> Vec<u64> {
        let _slot = exclusive();
        handler::install().unwrap();
        let mut modules = ModuleSet::default();
        let generation = modules.refresh().unwrap();
        let mut requester = handler::publish(Box::new(Exchange::new(2, 128, generation)));
        // SAFETY (test): gettid is a raw syscall.
        #[allow(unsafe_code)]
        let tid = unsafe { libc::syscall(libc::SYS_gettid) } as u32;
        // A signal to oneself is delivered before `tgkill` returns: the handler runs on this
        // thread, inside `request`.
        requester.request(&[tid], SIGNAL, ANSWER_TIMEOUT);
        assert_eq!(requester.outcome(0), Some(Outcome::Sampled));
        assert_eq!(requester.outcome(1), None);
        assert_eq!(
            requester.ended_early(0),
            None,
            "the walk reached the thread's root"
        );
        let frames = requester.result(0).0.to_vec();
        handler::retire(requester, false);
        frames
    }

    #[test]
    fn the_short_slice_request_is_harmless() {
        std::thread::spawn(|| {
            request_short_slice();
            // The thread's policy and nice value are unchanged.
            // SAFETY (test): `sched_getscheduler`/`getpriority` take no memory arguments.
            #[allow(unsafe_code)]
            let (policy, nice) = unsafe {
                (
                    libc::sched_getscheduler(0),
                    libc::getpriority(libc::PRIO_PROCESS, 0),
                )
            };
            assert_eq!(policy, libc::SCHED_OTHER);
            assert_eq!(nice, 0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_thread_sampling_itself_sees_its_callers() {
        let frames = sample_myself();
        let symbolized =
            sentry_backtrace::symbolize_addresses(&frames, &sentry_backtrace::loaded_images());
        let names: Vec<String> = symbolized
            .iter()
            .filter_map(|f| f.function.clone())
            .collect();
        assert!(
            names.iter().any(|n| n.contains("sample_myself")),
            "{names:#?}"
        );
        assert!(
            names
                .iter()
                .any(|n| n.contains("a_thread_sampling_itself_sees_its_callers")),
            "{names:#?}"
        );
    }
}
