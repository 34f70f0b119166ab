//! [`TransportWorker`]: the handle the client holds. It spawns the worker thread, queues
//! envelopes (writing the durable ones to the offline cache first), and waits a bounded time
//! for flushes and shutdown.

use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use super::disk::{abandon, finalize_and_store, store};
use super::run::Worker;
use super::{WindDown, REPORTS, WORKER_THREAD_NAME};
use crate::client_reports::ClientReports;
use crate::envelope::Envelope;
use crate::protocol::DiscardReason;
use crate::signal::{notice, NotNotified, Notice};
use crate::transport::cache::{DiskCache, Release};
use crate::transport::discard::record_envelope;
use crate::transport::in_flight::InFlight;
use crate::transport::queue::{Queue, Queued, Task};
use crate::transport::{durability, durable, Sender, Transport, TransportOptions};

/// How long dropping a [`TransportWorker`] that was not shut down may wait for it.
const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// The part of a shutdown's timeout kept for the final client report: the worker stops
/// sending queued envelopes this long before the deadline (at most a quarter of the timeout).
const MAX_REPORT_RESERVE: Duration = Duration::from_secs(1);

/// A [`Transport`] that runs a [`Sender`] on one background thread, and on a few more while
/// its queue backs up.
///
/// - **Queue.** Envelopes wait in a queue bounded by
///   [`queue_capacity`](TransportOptions::queue_capacity) envelopes and
///   [`queue_max_bytes`](TransportOptions::queue_max_bytes) (estimated before serialization).
///   [`send_envelope`] never blocks. When the queue is full, the oldest envelope of a lower
///   priority is evicted to make room (logs and sessions first, then transactions; errors
///   last); if there is none, the new envelope is dropped. Either way the loss is counted as
///   `queue_overflow`.
/// - **Rate limits.** Before sending, items whose category is rate limited are removed and
///   counted as `ratelimit_backoff`; an envelope left empty is not sent. Limits are updated from
///   every response.
/// - **Client reports.** Pending discard counts ride along with the next envelope that is sent,
///   and go out on their own at [`flush`]/[`shutdown`] and after
///   [`client_report_interval`](TransportOptions::client_report_interval) without traffic.
///   Counts that could not be delivered (network error, `413`, `429`, `5xx`) are kept for the next
///   try. [`shutdown`] stops sending queued envelopes shortly before its deadline (a quarter of
///   the timeout, at most 1 s) to send a final report of everything dropped, the envelopes it
///   gave up on included.
/// - **Offline cache** (when [`TransportOptions::cache`] is set). Errors, check-ins and feedback
///   are written to disk by [`send_envelope`] before it returns (see [`durable`]); other
///   envelopes just before they are sent. A file is deleted once the server has given a final
///   answer. After a network error it stays on disk and is retried with backoff (1 s doubling
///   to 60 s); while backing off, new envelopes go to disk without being sent. Envelopes left
///   by an earlier process are sent first when the worker starts, and envelopes still queued at
///   shutdown are written to disk instead of being dropped. Several processes may share one
///   directory: each file is sent by one of them. Pending client report counts are persisted
///   there too (when the worker goes idle, at most once a second; at every flush; at shutdown
///   when they cannot be sent), so that the next process reports them.
/// - **Bounded waiting.** [`flush`] and [`shutdown`] return within their timeout even when the
///   sender hangs; a worker still stuck in a send when [`shutdown`] gives up is detached and
///   exits once that send returns. With an offline cache, the shutting-down thread persists
///   the counts that could not be sent, including those riding on the stuck send.
/// - **Concurrent requests.** While envelopes wait behind a send, a sender that can
///   [`fork`](Sender::fork) sends up to
///   [`max_concurrent_requests`](TransportOptions::max_concurrent_requests) of them at once,
///   each fork on a thread of its own that ends after a second without work. The worker thread
///   still decides everything: it applies each answer (rate limits, the offline cache, client
///   reports) before it starts the next request, envelopes start in queue order, and session
///   updates and check-ins go one at a time. What the helpers have under way counts against a
///   quarter of [`queue_max_bytes`](TransportOptions::queue_max_bytes).
/// - **No panics escape.** A panic in the sender or while handling an envelope drops that
///   envelope (counted as `internal_sdk_error`) and the worker keeps serving.
/// - **No loops.** An envelope handed over *from the worker thread itself* (something the
///   sender did got captured) is dropped and counted as `internal_sdk_error`.
///
/// Dropping a worker that was not shut down shuts it down with a 2-second timeout.
///
/// [`send_envelope`]: Transport::send_envelope
/// [`durable`]: fn@crate::transport::durable
/// [`flush`]: Transport::flush
/// [`shutdown`]: Transport::shutdown
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::envelope::Envelope;
/// use sentry_core::protocol::{DiscardReason, Event};
/// use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
///
/// let dsn = "https://public@example.invalid/42".parse().expect("valid DSN");
/// let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
/// options.queue_capacity = 10;
///
/// // A sender that always fails: the worker counts the loss as `network_error`.
/// let sender = |_body: Vec<u8>, _: &Envelope| SendOutcome::NetworkError("offline".into());
/// let transport = TransportWorker::spawn(sender, &options).expect("thread spawned");
/// transport.send_envelope(Envelope::from_event(Event::default()));
/// assert!(transport.flush(Duration::from_secs(2)));
/// assert!(transport.shutdown(Duration::from_secs(2)));
///
/// // The loss was counted (and the report could not be delivered either).
/// let report = options.client_reports.take().expect("counted");
/// assert_eq!(report.discarded_events[0].reason, DiscardReason::NetworkError);
/// ```
pub struct TransportWorker {
    /// Shared with the worker; closing its [signal](Queue::signal) tells the worker to stop
    /// after its current task.
    queue: Arc<Queue>,
    cache: Option<Arc<DiskCache>>,
    /// Shared with the worker: the report riding on its current send.
    in_flight: Arc<InFlight>,
    /// Shared with the worker: set by `shutdown` to when the worker must stop sending queued
    /// envelopes, to leave time for the final client report.
    wind_down_at: Arc<Mutex<Option<WindDown>>>,
    /// Its notifier is dropped once the worker thread has finished.
    exited: Notice,
    /// `None` once shut down (joined or detached).
    handle: Mutex<Option<JoinHandle<()>>>,
    /// The worker thread, to refuse envelopes produced on it (the SDK reporting on itself).
    thread_id: ThreadId,
    /// Set at shutdown: no more envelopes are accepted.
    closed: AtomicBool,
    client_reports: Arc<ClientReports>,
}

impl TransportWorker {
    /// Starts the worker thread (named [`sentry-transport`](WORKER_THREAD_NAME)) that sends with
    /// `sender`, using the queue bounds, offline cache, client reports and report interval of
    /// `options`.
    ///
    /// An offline cache directory that cannot be created or read is reported in the SDK
    /// diagnostics and the worker runs without a cache.
    ///
    /// # Errors
    ///
    /// Returns the operating system's error if the thread cannot be spawned.
    pub fn spawn(sender: impl Sender, options: &TransportOptions) -> io::Result<TransportWorker> {
        Self::spawn_with_mirror(sender, None, options)
    }

    /// Like [`spawn`](Self::spawn), and every envelope is also handed to `mirror` (such as a
    /// Spotlight sender) before rate limits are applied. The mirror's outcome is ignored: it is
    /// never rate limited, never retried and never counted.
    ///
    /// # Errors
    ///
    /// Returns the operating system's error if the thread cannot be spawned.
    pub fn spawn_with_mirror(
        sender: impl Sender,
        mirror: Option<Box<dyn Sender>>,
        options: &TransportOptions,
    ) -> io::Result<TransportWorker> {
        let queue = Arc::new(Queue::new(options.queue_capacity, options.queue_max_bytes));
        let request_timeout = options.connect_timeout.saturating_add(options.timeout);
        let cache = options.cache.as_ref().and_then(|cache_options| {
            let reports = Arc::clone(&options.client_reports);
            match DiskCache::open(cache_options, reports, request_timeout) {
                Ok(cache) => Some(Arc::new(cache)),
                Err(error) => {
                    crate::debug::debug_print(format_args!(
                        "offline cache {} unusable, continuing without it: {error}",
                        cache_options.dir.display()
                    ));
                    None
                }
            }
        });
        let (exited_tx, exited_rx) = notice();
        let in_flight = Arc::new(InFlight::default());
        let wind_down_at = Arc::new(Mutex::new(None));
        // Its batchers (the log buffer) wake the worker through the queue's signal, so that
        // the worker waits for them, the queue and a stop at once.
        let worker = Worker::new(
            sender,
            mirror,
            Arc::clone(&queue),
            cache.clone(),
            options,
            Arc::clone(&in_flight),
            Arc::clone(&wind_down_at),
        );
        if cache.is_some() {
            // New counts wake the worker, which persists them.
            options.client_reports.link(queue.signal(), REPORTS);
        }
        let handle = crate::off_thread::spawn_named(
            WORKER_THREAD_NAME,
            Box::new(move || {
                // Dropped last, also when unwinding: dropping it tells `shutdown` that the
                // thread is done.
                let _exited = exited_tx;
                worker.run();
            }),
        )?;
        let thread_id = handle.thread().id();
        Ok(TransportWorker {
            thread_id,
            queue,
            cache,
            in_flight,
            wind_down_at,
            exited: exited_rx,
            handle: Mutex::new(Some(handle)),
            closed: AtomicBool::new(false),
            client_reports: Arc::clone(&options.client_reports),
        })
    }

    /// `true` once the worker thread has finished.
    fn has_exited(&self) -> bool {
        self.exited.notifier_gone()
    }

    /// `true` when called on the worker thread itself.
    fn on_worker_thread(&self) -> bool {
        thread::current().id() == self.thread_id
    }

    /// Puts a flush barrier in the queue and waits for the worker to reach it.
    fn flush_until(&self, deadline: Deadline) -> bool {
        if self.on_worker_thread() {
            // The worker cannot wait for itself.
            return false;
        }
        let (reply_tx, reply_rx) = notice();
        self.queue.push_flush(reply_tx);
        match reply_rx.wait_until(deadline.0) {
            Ok(()) => true,
            Err(NotNotified::TimedOut) => {
                crate::sentry_debug!("transport flush timed out: envelopes are still being sent");
                false
            }
            // The barrier was dropped unanswered (the worker is gone).
            Err(NotNotified::Dropped) => false,
        }
    }

    /// Disposes of envelopes the queue gave back: on disk (sent from there later), or counted
    /// as lost.
    fn count_overflow(&self, dropped: Vec<Queued>) {
        for queued in dropped {
            if let (Some(cache), Some(path)) = (&self.cache, &queued.cached) {
                match cache.release(path) {
                    // Still on disk: sent from there, by this worker or the next process.
                    Release::OnDisk { .. } => continue,
                    // Another process has it (and sends it).
                    Release::Gone => continue,
                    Release::Evicted => {}
                }
            }
            crate::sentry_debug!("transport queue is full: envelope dropped");
            record_envelope(
                &self.client_reports,
                DiscardReason::QueueOverflow,
                &queued.envelope,
            );
        }
    }

    /// Envelopes left in the queue when the worker is gone or stuck: written to the offline
    /// cache when there is one, otherwise counted as lost.
    fn abandon_queue(&self) {
        abandon(
            self.queue.drain(),
            self.cache.as_deref(),
            &self.client_reports,
        );
    }

    /// Sets when the worker must stop sending queued envelopes (`reserve` before `deadline`),
    /// so that the final client report goes out in time.
    fn set_wind_down(&self, deadline: Deadline, reserve: Duration) {
        let Some(end) = deadline.0 else {
            return;
        };
        let wind_down = end.checked_sub(reserve).unwrap_or(end);
        *self
            .wind_down_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(WindDown { wind_down, end });
    }
}

impl Transport for TransportWorker {
    fn send_envelope(&self, mut envelope: Envelope) {
        if self.on_worker_thread() {
            // Something the sender did while sending (a log, a panic) was captured and came
            // back here. Sending it could loop, and queueing from the worker could deadlock a
            // flush, so it is dropped.
            crate::sentry_debug!("envelope produced on the transport thread dropped");
            record_envelope(
                &self.client_reports,
                DiscardReason::InternalSdkError,
                &envelope,
            );
            return;
        }
        if self.closed.load(Ordering::Acquire) {
            crate::sentry_debug!("transport is shut down: envelope saved to disk or dropped");
            let queued = Queued::new(envelope, None);
            abandon(
                vec![Task::Envelope(queued)],
                self.cache.as_deref(),
                &self.client_reports,
            );
            return;
        }
        // With an offline cache, what must survive a kill is on disk before this returns.
        let cached = match &self.cache {
            Some(cache) if durable::is_active() => {
                let stored = finalize_and_store(cache, &mut envelope, true, &self.client_reports);
                if envelope.is_empty() {
                    // The finalizers left nothing Sentry would take (counted as `invalid`).
                    return;
                }
                stored
            }
            Some(cache) if durability::is_durable(&envelope) => store(cache, &envelope, true, true),
            _ => None,
        };
        let dropped = self.queue.push(envelope, cached);
        if !dropped.is_empty() {
            self.count_overflow(dropped);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        if self.closed.load(Ordering::Acquire) {
            // After shutdown nothing is pending any more: whatever was left has been handled,
            // unless the worker is still stuck in a send.
            return self.has_exited();
        }
        let deadline = Deadline::after(timeout);
        let _finish_by = crate::finalize::finish_by(deadline.0); // finalizers yield to it
        self.flush_until(deadline)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Deadline::after(timeout);
        let reserve = (timeout / 4).min(MAX_REPORT_RESERVE);
        // Finalizers yield before the wind-down (which stops sending queued envelopes to make
        // room for the final client report), not before the end: what they left unfinished
        // must still have time to be sent. Yielding only before the end let one slow
        // symbolication use up the sending time, and everything queued behind it was lost.
        let wind_down = deadline
            .0
            .map(|end| end.checked_sub(reserve).unwrap_or(end));
        let _finish_by = crate::finalize::finish_by(wind_down); // finalizers yield to it
        self.closed.store(true, Ordering::Release);
        let handle = self
            .handle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(handle) = handle else {
            // Already shut down (or being shut down by another thread).
            return self.has_exited();
        };
        self.set_wind_down(deadline, reserve);
        let flushed = self.flush_until(deadline);
        // Closing is idempotent: a second stop request changes nothing.
        self.queue.signal().close();
        if self.on_worker_thread() {
            // Shut down from inside a send (the last handle dropped there): the worker stops
            // once this send returns; it cannot wait for itself.
            return false;
        }
        match self.exited.wait_until(deadline.0) {
            Err(NotNotified::TimedOut) => {
                crate::sentry_debug!(
                    "transport shutdown timed out: detaching the worker thread, which exits \
                     once its current send returns"
                );
                // The worker is stuck; what it has not started on is saved or counted here,
                // and the counts it could not send are persisted.
                self.abandon_queue();
                match &self.cache {
                    Some(cache) => self.in_flight.persist(&self.client_reports, cache),
                    None => crate::sentry_debug!(
                        "client reports could not be sent before the shutdown deadline"
                    ),
                }
                drop(handle);
                false
            }
            Ok(()) | Err(NotNotified::Dropped) => {
                // The thread has finished its work; joining only reaps it.
                let _ = handle.join();
                flushed
            }
        }
    }
}

impl Drop for TransportWorker {
    fn drop(&mut self) {
        let running = self
            .handle
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some();
        if running {
            self.shutdown(DROP_SHUTDOWN_TIMEOUT);
        }
        // The worker stops once its transport is gone, however that happened (as it did when
        // the stop channel's sender was dropped).
        self.queue.signal().close();
    }
}

impl fmt::Debug for TransportWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportWorker")
            .field("queued", &self.queue.len())
            .field("cached", &self.cache.as_ref().map(|cache| cache.len()))
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// A point in time to stop waiting at; `None` (wait without a limit) when the timeout is too
/// large to represent.
#[derive(Clone, Copy)]
struct Deadline(Option<Instant>);

impl Deadline {
    fn after(timeout: Duration) -> Self {
        Deadline(Instant::now().checked_add(timeout))
    }
}

#[cfg(test)]
mod tests;
