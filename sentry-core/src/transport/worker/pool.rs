//! The senders a backed-up worker adds: helper threads, each with a fork of the worker's
//! sender, that send one envelope at a time and hand the outcome back.
//!
//! The worker thread stays the only one that decides anything (rate limits, the offline cache,
//! client reports, what to send next): it serializes an envelope and [submits](Pool::submit)
//! it; a helper only calls [`Sender::send`] and puts the outcome in the pool's done list,
//! ringing [`DONE`] on the worker's signal; the worker [takes](Pool::take_done) the outcomes
//! and applies them. A helper is started when a job finds none waiting (up to the pool's
//! size) and ends after [`LINGER`] without work, so an idle transport has its one thread.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::WORKER_THREAD_NAME;
use crate::envelope::Envelope;
use crate::signal::{Flags, Signal};
use crate::transport::{SendOutcome, Sender};

/// Rung on the worker's signal when a helper has finished a send. (Bits 0–4 are the queue's,
/// the batchers' and the client reports'.)
pub(super) const DONE: Flags = 1 << 5;

/// How long a helper waits for another envelope before it ends.
pub(super) const LINGER: Duration = Duration::from_secs(1);

/// What the worker needs to know about a send when its outcome comes back.
pub(super) struct Ticket {
    /// The envelope's claimed file in the offline cache.
    pub(super) cached: Option<PathBuf>,
    /// The pending client report rides on this envelope.
    pub(super) report: bool,
    /// The envelope holds items whose order the server relies on (see `run::is_ordered`).
    pub(super) ordered: bool,
    /// The memory it holds while under way, in bytes (see `run::in_flight_cost`).
    pub(super) cost: usize,
}

/// One envelope for a helper to send.
pub(super) struct Job {
    pub(super) body: Vec<u8>,
    pub(super) envelope: Envelope,
    pub(super) ticket: Ticket,
}

/// A send that has returned.
pub(super) struct Done {
    /// `None` when the sender panicked.
    pub(super) outcome: Option<SendOutcome>,
    /// How long the send took.
    pub(super) took: Duration,
    pub(super) envelope: Envelope,
    pub(super) ticket: Ticket,
}

/// The helpers and the jobs between them and the worker.
pub(super) struct Pool {
    shared: Arc<Shared>,
    /// The worker's signal, rung with [`DONE`].
    signal: Arc<Signal>,
    /// The most sends under way at once.
    size: usize,
    /// Jobs submitted whose outcome the worker has not taken yet.
    in_flight: usize,
}

struct Shared {
    state: Mutex<State>,
    /// Wakes an idle helper (a job arrived, or the pool closed).
    work: Condvar,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    done: Vec<Done>,
    /// Helper threads alive, and how many of them wait for a job.
    helpers: usize,
    idle: usize,
    /// The worker stopped: helpers end once the jobs are done.
    closed: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Pool {
    /// A pool of at most `size` concurrent sends (`0` counts as `1`; one means no helpers)
    /// that rings `signal` with [`DONE`].
    pub(super) fn new(size: usize, signal: Arc<Signal>) -> Pool {
        Pool {
            shared: Arc::new(Shared {
                state: Mutex::new(State::default()),
                work: Condvar::new(),
            }),
            signal,
            size: size.max(1),
            in_flight: 0,
        }
    }

    /// The most sends under way at once.
    pub(super) fn size(&self) -> usize {
        self.size
    }

    /// Sends submitted and not yet taken back.
    pub(super) fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// `true` when another job can start at once.
    pub(super) fn has_room(&self) -> bool {
        self.in_flight < self.size
    }

    /// Hands `job` to a helper, starting one with a sender from `fork` if none is waiting and
    /// the pool is not full. Gives the job back when no helper can take it (the sender cannot
    /// fork, no thread can be started), for the worker to send it itself.
    pub(super) fn submit(
        &mut self,
        job: Job,
        fork: impl FnOnce() -> Option<Box<dyn Sender>>,
    ) -> Result<(), Box<Job>> {
        if self.size < 2 {
            return Err(Box::new(job));
        }
        let mut state = self.shared.lock();
        if state.idle > state.jobs.len() {
            state.jobs.push_back(job);
            drop(state);
            self.shared.work.notify_one();
            self.in_flight += 1;
            return Ok(());
        }
        if state.helpers >= self.size {
            // Every helper is busy: the job waits for the first one done.
            state.jobs.push_back(job);
            drop(state);
            self.in_flight += 1;
            return Ok(());
        }
        drop(state);
        let Some(sender) = fork() else {
            return Err(Box::new(job));
        };
        let mut state = self.shared.lock();
        state.helpers += 1;
        state.jobs.push_back(job);
        drop(state);
        let shared = Arc::clone(&self.shared);
        let signal = Arc::clone(&self.signal);
        let spawned = crate::off_thread::spawn_named(
            WORKER_THREAD_NAME,
            Box::new(move || help(&shared, &signal, sender)),
        );
        if let Err(error) = spawned {
            crate::sentry_debug!("no thread for a concurrent request: {error}");
            let mut state = self.shared.lock();
            state.helpers -= 1;
            if state.helpers == 0 {
                // Nobody would ever take it.
                if let Some(job) = state.jobs.pop_back() {
                    return Err(Box::new(job));
                }
            }
        }
        self.in_flight += 1;
        Ok(())
    }

    /// The outcomes of the sends that have returned, oldest first.
    pub(super) fn take_done(&mut self) -> Vec<Done> {
        if self.in_flight == 0 {
            return Vec::new();
        }
        let done = std::mem::take(&mut self.shared.lock().done);
        self.in_flight -= done.len().min(self.in_flight);
        done
    }

    /// Tells the helpers to end once their jobs are done.
    pub(super) fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.work.notify_all();
    }

    /// The helper threads alive.
    #[cfg(test)]
    pub(super) fn helpers(&self) -> usize {
        self.shared.lock().helpers
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        self.close();
    }
}

/// A helper thread: sends the jobs it gets, one at a time, until none came for [`LINGER`] or
/// the pool is closed and out of jobs.
fn help(shared: &Shared, signal: &Signal, mut sender: Box<dyn Sender>) {
    loop {
        let Some(job) = next_job(shared) else {
            return;
        };
        let Job {
            body,
            envelope,
            ticket,
        } = job;
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| sender.send(body, &envelope))).ok();
        let took = started.elapsed();
        shared.lock().done.push(Done {
            outcome,
            took,
            envelope,
            ticket,
        });
        signal.ring(DONE);
    }
}

/// The next job, or `None` when the helper should end (counted out of the pool already).
fn next_job(shared: &Shared) -> Option<Job> {
    let mut state = shared.lock();
    let give_up = Instant::now() + LINGER;
    loop {
        if let Some(job) = state.jobs.pop_front() {
            return Some(job);
        }
        let now = Instant::now();
        if state.closed || now >= give_up {
            state.helpers -= 1;
            return None;
        }
        state.idle += 1;
        state = shared
            .work
            .wait_timeout(state, give_up - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        state.idle -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn job(n: u8) -> Job {
        Job {
            body: vec![n],
            envelope: Envelope::new(),
            ticket: Ticket {
                cached: None,
                report: false,
                ordered: false,
                cost: 0,
            },
        }
    }

    /// A sender whose every send waits for a go from the test, and which forks.
    struct Gated {
        gate: Arc<Mutex<mpsc::Receiver<()>>>,
    }

    impl Sender for Gated {
        fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
            let _ = self
                .gate
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .recv_timeout(Duration::from_secs(5));
            if body == [0xff] {
                panic!("a sender bug");
            }
            SendOutcome::status(200)
        }

        fn fork(&mut self) -> Option<Box<dyn Sender>> {
            Some(Box::new(Gated {
                gate: Arc::clone(&self.gate),
            }))
        }
    }

    fn wait_done(pool: &mut Pool, signal: &Signal, n: usize) -> Vec<Done> {
        let mut done = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(5);
        while done.len() < n && Instant::now() < deadline {
            signal.wait_until(DONE, Some(deadline));
            done.extend(pool.take_done());
        }
        done
    }

    #[test]
    fn helpers_start_up_to_the_size_and_end_when_idle() {
        let signal = Arc::new(Signal::new());
        let mut pool = Pool::new(2, Arc::clone(&signal));
        let (go, gate) = mpsc::channel();
        let mut sender = Gated {
            gate: Arc::new(Mutex::new(gate)),
        };
        for n in 0..3 {
            assert!(pool.submit(job(n), || sender.fork()).is_ok());
        }
        assert_eq!(pool.in_flight(), 3);
        assert!(!pool.has_room());
        assert_eq!(pool.helpers(), 2, "two helpers; the third job waits");
        for _ in 0..3 {
            go.send(()).expect("gate open");
        }
        let done = wait_done(&mut pool, &signal, 3);
        assert_eq!(done.len(), 3);
        assert!(done
            .iter()
            .all(|d| d.outcome == Some(SendOutcome::status(200))));
        assert_eq!(pool.in_flight(), 0);
        let deadline = Instant::now() + LINGER * 3;
        while pool.helpers() > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(pool.helpers(), 0, "helpers end once idle");
    }

    #[test]
    fn a_panicking_send_comes_back_without_an_outcome() {
        let signal = Arc::new(Signal::new());
        let mut pool = Pool::new(4, Arc::clone(&signal));
        let (go, gate) = mpsc::channel();
        let mut sender = Gated {
            gate: Arc::new(Mutex::new(gate)),
        };
        assert!(pool.submit(job(0xff), || sender.fork()).is_ok());
        go.send(()).expect("gate open");
        let done = wait_done(&mut pool, &signal, 1);
        assert_eq!(done.len(), 1);
        assert!(done[0].outcome.is_none());
        pool.close();
    }

    #[test]
    fn a_sender_that_cannot_fork_gets_the_job_back() {
        let signal = Arc::new(Signal::new());
        let mut pool = Pool::new(4, signal);
        assert!(pool.submit(job(1), || None).is_err());
        assert_eq!(pool.in_flight(), 0);
        let mut one = Pool::new(1, Arc::new(Signal::new()));
        assert!(one.submit(job(1), || None).is_err());
    }
}
