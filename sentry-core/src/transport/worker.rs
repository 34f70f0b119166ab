//! The reusable transport worker: one thread, a bounded queue, rate limits, client reports,
//! the offline cache, flush barriers and bounded shutdown around a [`Sender`] that only knows
//! how to send bytes.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant, SystemTime};

use super::cache::{DiskCache, Release};
use super::discard::{record_envelope, record_outcomes};
use super::durability;
use super::in_flight::InFlight;
use super::queue::{Queue, Queued, Task, LOGS, QUEUED};
use super::{Transport, TransportOptions};
use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::logs::LogBuffer;
use crate::protocol::{DataCategory, DiscardReason};
use crate::ratelimit::RateLimiter;
use crate::signal::{notice, Flags, NotNotified, Notice};

/// The name of the thread a [`TransportWorker`] runs on.
///
/// Integrations that capture things happening on threads (a panic hook, a log bridge) check
/// for this name so that the SDK never reports on its own worker in a loop.
pub const WORKER_THREAD_NAME: &str = "sentry-transport";

/// How long dropping a [`TransportWorker`] that was not shut down may wait for it.
const DROP_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(2);

/// Bounds for the client report interval: never a busy loop, never an overflowing `Instant`.
const MIN_REPORT_INTERVAL: Duration = Duration::from_millis(100);
const MAX_REPORT_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Backoff between attempts to send cached envelopes after a network error: doubles from the
/// first value up to the second.
const FIRST_RETRY_DELAY: Duration = Duration::from_secs(1);
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// With an offline cache, pending client report counts are persisted at most this often while
/// the worker is idle (and at every flush and at shutdown).
const PERSIST_INTERVAL: Duration = Duration::from_secs(1);

/// The part of a shutdown's timeout kept for the final client report: the worker stops
/// sending queued envelopes this long before the deadline (at most a quarter of the timeout).
const MAX_REPORT_RESERVE: Duration = Duration::from_secs(1);

/// Rung on the queue's signal by the client's [`ClientReports`] when counts appear, so that
/// the worker persists them with the offline cache. (`QUEUED` and `LOGS`, in `queue.rs`, are
/// bits 0 and 1.)
const REPORTS: Flags = 1 << 2;

thread_local! {
    /// Set by [`durable`]: envelopes sent from this thread go to the offline cache first.
    static DURABLE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` so that every envelope it hands to a [`TransportWorker`] with an offline cache is
/// written to disk, complete, *before* `send_envelope` returns, on the calling thread.
///
/// With an offline cache, errors, check-ins and feedback are always written on the calling
/// thread, but *raw*: the event finalizers (symbolication) run later on the worker, which then
/// replaces the file with the finished event; a kill in between leaves the raw event (with its
/// instruction addresses) on disk. High-volume items (transactions, logs, spans, sessions) are
/// written by the worker just before sending. A process that is about to die (a panic hook
/// under `panic = "abort"`, a fatal signal handler) cannot count on the worker getting that
/// far: under `durable`, every envelope is finalized and written on the calling thread, so it
/// survives even an abort right after, complete. Without an offline cache this changes
/// nothing.
///
/// ```
/// use sentry_core::transport::durable;
///
/// let id = durable(|| sentry_core::capture_message("about to abort", sentry_core::Level::Fatal));
/// # let _ = id;
/// ```
pub fn durable<R>(f: impl FnOnce() -> R) -> R {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            DURABLE.with(|flag| flag.set(self.0));
        }
    }
    let _reset = Reset(DURABLE.with(|flag| flag.replace(true)));
    f()
}

fn is_durable() -> bool {
    DURABLE.with(Cell::get)
}

/// How to send the bytes of one envelope: the only part of a transport that differs between
/// HTTP libraries.
///
/// A [`TransportWorker`] calls [`send`](Sender::send) on its own thread, one envelope at a
/// time, and does everything else (queueing, rate limits, client reports, the offline cache,
/// flush, shutdown). A sender should bound the time one call can take (connect and request
/// timeouts): it is what limits how long a worker can stay stuck on a hanging server.
///
/// Closures `FnMut(Vec<u8>, &Envelope) -> SendOutcome` are senders too:
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::transport::{SendOutcome, Sender};
///
/// fn assert_sender(_: impl Sender) {}
/// assert_sender(|body: Vec<u8>, _: &Envelope| {
///     println!("would send {} bytes", body.len());
///     SendOutcome::status(200)
/// });
/// ```
pub trait Sender: Send + 'static {
    /// Sends `body`, the serialized form of `envelope` (with `sent_at` stamped), and reports
    /// what happened. `envelope` is there for senders that need to look at its items (a test
    /// recorder); most only send `body`.
    fn send(&mut self, body: Vec<u8>, envelope: &Envelope) -> SendOutcome;
}

impl<F> Sender for F
where
    F: FnMut(Vec<u8>, &Envelope) -> SendOutcome + Send + 'static,
{
    fn send(&mut self, body: Vec<u8>, envelope: &Envelope) -> SendOutcome {
        self(body, envelope)
    }
}

/// What happened to one envelope a [`Sender`] tried to send.
///
/// The worker applies it exactly as the Sentry transport spec says: `2xx` is success; `429`
/// updates the rate limits and drops the envelope without counting it; `413` and any other
/// status drop it and count `send_error`; a network error keeps the envelope in the offline
/// cache for a retry with backoff when there is one, and otherwise drops it and counts
/// `network_error`. Rate-limit headers are applied on every response, `200` included.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// The server answered.
    Response {
        /// The HTTP status code.
        status: u16,
        /// The `X-Sentry-Rate-Limits` header, if the response had one.
        rate_limits: Option<String>,
        /// The `Retry-After` header, if the response had one.
        retry_after: Option<String>,
    },
    /// No answer: connection refused or reset, DNS failure, TLS failure, timeout. The string
    /// says what happened, for SDK diagnostics.
    NetworkError(String),
}

impl SendOutcome {
    /// A response with this status code and no rate-limit headers.
    ///
    /// ```
    /// use sentry_core::transport::SendOutcome;
    ///
    /// assert_eq!(
    ///     SendOutcome::status(200),
    ///     SendOutcome::Response { status: 200, rate_limits: None, retry_after: None },
    /// );
    /// ```
    pub fn status(status: u16) -> Self {
        SendOutcome::Response {
            status,
            rate_limits: None,
            retry_after: None,
        }
    }
}

/// A [`Transport`] that runs a [`Sender`] on one background thread.
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
/// - **No panics escape.** A panic in the sender or while handling an envelope drops that
///   envelope (counted as `internal_sdk_error`) and the worker keeps serving.
/// - **No loops.** An envelope handed over *from the worker thread itself* (something the
///   sender did got captured) is dropped and counted as `internal_sdk_error`.
///
/// Dropping a worker that was not shut down shuts it down with a 2-second timeout.
///
/// [`send_envelope`]: Transport::send_envelope
/// [`flush`]: Transport::flush
/// [`shutdown`]: Transport::shutdown
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::protocol::DiscardReason;
/// use sentry_core::envelope::Envelope;
/// use sentry_core::protocol::Event;
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
        if let Some(logs) = &options.logs {
            // The buffer wakes the worker through the queue's signal, so that the worker waits
            // for both (and a stop) at once.
            logs.link(queue.signal(), LOGS);
        }
        if cache.is_some() {
            // New counts wake the worker, which persists them.
            options.client_reports.link(queue.signal(), REPORTS);
        }
        let in_flight = Arc::new(InFlight::default());
        let wind_down_at = Arc::new(Mutex::new(None));
        let now = Instant::now();
        let worker = Worker {
            sender,
            mirror,
            queue: Arc::clone(&queue),
            cache: cache.clone(),
            logs: options.logs.clone(),
            stopping: false,
            limiter: RateLimiter::default(),
            reports: Arc::clone(&options.client_reports),
            report_interval: options
                .client_report_interval
                .clamp(MIN_REPORT_INTERVAL, MAX_REPORT_INTERVAL),
            next_report_check: now,
            // Envelopes left by an earlier process go first.
            retry_at: now,
            retry_delay: FIRST_RETRY_DELAY,
            in_flight: Arc::clone(&in_flight),
            wind_down_at: Arc::clone(&wind_down_at),
            next_persist: now,
            claimed: None,
        };
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

/// Writes an envelope to the offline cache, saying why in the diagnostics if it cannot.
/// `queued`: the envelope is queued too; `raw`: the finalizers have not run on it.
fn store(cache: &DiskCache, envelope: &Envelope, queued: bool, raw: bool) -> Option<PathBuf> {
    match cache.store(envelope, queued, raw) {
        Ok(path) => Some(path),
        Err(error) => {
            crate::sentry_debug!("offline cache: cannot store an envelope: {error}");
            None
        }
    }
}

/// Like [`store`], for the worker right before it sends: the file is claimed from the start.
fn store_claimed(cache: &DiskCache, envelope: &Envelope) -> Option<PathBuf> {
    match cache.store_claimed(envelope) {
        Ok(path) => Some(path),
        Err(error) => {
            crate::sentry_debug!("offline cache: cannot store an envelope: {error}");
            None
        }
    }
}

/// Runs the deferred work (symbolication) on the calling thread, so that the file is complete,
/// and writes the envelope to the offline cache.
fn finalize_and_store(cache: &DiskCache, envelope: &mut Envelope, queued: bool) -> Option<PathBuf> {
    crate::finalize::finalize_envelope(envelope);
    store(cache, envelope, queued, false)
}

/// Whether a file written before the finalizers ran differs from the finished envelope.
fn needs_finalized_copy(envelope: &Envelope) -> bool {
    crate::finalize::has_event_finalizers()
        && envelope
            .items()
            .any(|item| matches!(item, EnvelopeItem::Event(_)))
}

/// Replaces a raw cached file (written before the finalizers ran) with the finished envelope,
/// when the envelope will not be sent by this worker any more.
fn finalize_on_disk(cache: &DiskCache, path: &std::path::Path, envelope: &mut Envelope) {
    if !needs_finalized_copy(envelope) {
        return;
    }
    // Gone: another process has it.
    let Some(claimed) = cache.claim(path) else {
        return;
    };
    crate::finalize::finalize_envelope(envelope);
    if let Err(error) = cache.replace(&claimed, envelope) {
        crate::sentry_debug!("offline cache: cannot write the finished envelope: {error}");
    }
    cache.unclaim(&claimed);
}

/// Disposes of tasks nobody will handle any more: envelopes are saved to the offline cache
/// (unless they are on disk already) or, without one, counted as `queue_overflow`; flush
/// barriers are dropped, which their waiters see as "not flushed".
fn abandon(tasks: Vec<Task>, cache: Option<&DiskCache>, reports: &ClientReports) {
    for task in tasks {
        let Task::Envelope(mut queued) = task else {
            continue;
        };
        let on_disk = match (cache, &queued.cached) {
            (Some(cache), Some(path)) => match cache.release(path) {
                Release::OnDisk { raw } => {
                    if raw {
                        finalize_on_disk(cache, path, &mut queued.envelope);
                    }
                    true
                }
                // Another process has it.
                Release::Gone => true,
                Release::Evicted => false,
            },
            _ => false,
        };
        if on_disk {
            continue;
        }
        let stored = cache
            .and_then(|cache| finalize_and_store(cache, &mut queued.envelope, false))
            .is_some();
        if !stored {
            record_envelope(reports, DiscardReason::QueueOverflow, &queued.envelope);
        }
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
            Some(cache) if is_durable() => finalize_and_store(cache, &mut envelope, true),
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
        let _finish_by = crate::finalize::finish_by(deadline.0); // finalizers yield to it
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
        self.set_wind_down(deadline, (timeout / 4).min(MAX_REPORT_RESERVE));
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

/// When a shutting-down worker stops sending queued envelopes (`wind_down`), to send its final
/// client report before the shutdown's deadline (`end`).
#[derive(Clone, Copy)]
struct WindDown {
    wind_down: Instant,
    end: Instant,
}

/// What becomes of a client report that rode along with an envelope.
enum ReportFate {
    /// Delivered, or rejected by the server for its content: do not send its counts again.
    Done,
    /// Not delivered for reasons unrelated to its content: put its counts back.
    Restore,
}

/// Whether the server answered (the envelope is done with, one way or another).
#[derive(PartialEq, Eq)]
enum Delivery {
    Answered,
    NoAnswer,
}

/// The state owned by the worker thread.
struct Worker<S> {
    sender: S,
    /// Gets every envelope too, unfiltered; its outcome is ignored.
    mirror: Option<Box<dyn Sender>>,
    queue: Arc<Queue>,
    cache: Option<Arc<DiskCache>>,
    /// The client's structured-log buffer, drained in batches on this thread. It rings
    /// [`LOGS`] on the queue's signal.
    logs: Option<Arc<LogBuffer>>,
    /// A stop was requested (the queue's signal was closed: shutdown, or the transport is
    /// gone).
    stopping: bool,
    limiter: RateLimiter,
    reports: Arc<ClientReports>,
    report_interval: Duration,
    /// When to next look for pending client reports to send on their own.
    next_report_check: Instant,
    /// When cached envelopes may next be tried.
    retry_at: Instant,
    /// The wait after the next network error.
    retry_delay: Duration,
    /// The client report riding on the envelope being sent (shared with the handle, which
    /// persists it if it gives up on a stuck send); restored if that envelope is not
    /// delivered (or if sending panics).
    in_flight: Arc<InFlight>,
    /// Set by `shutdown`.
    wind_down_at: Arc<Mutex<Option<WindDown>>>,
    /// When pending client reports may next be persisted while idle.
    next_persist: Instant,
    /// The cache file claimed for the envelope being handled, to drop if handling panics.
    claimed: Option<PathBuf>,
}

impl<S: Sender> Worker<S> {
    fn run(mut self) {
        self.postpone_report_check();
        loop {
            self.check_stop();
            if self.stopping || self.winding_down() {
                break;
            }
            let now = Instant::now();
            if now >= self.next_report_check {
                self.guarded(Self::send_standalone_report);
                self.postpone_report_check();
            }
            if self.retry_due(now) {
                self.guarded(Self::send_cached);
                if self.stopping {
                    break;
                }
            }
            self.send_logs(now, false);
            if let Some(task) = self.queue.pop() {
                self.handle(task);
                continue;
            }
            let mut wake_at = self.next_report_check;
            if self
                .cache
                .as_ref()
                .is_some_and(|cache| cache.sendable() > 0)
            {
                wake_at = wake_at.min(self.retry_at);
            }
            if let Some(deadline) = self.logs.as_ref().and_then(|logs| logs.next_deadline()) {
                wake_at = wake_at.min(deadline);
            }
            if let Some(persist_at) = self.persist_when_idle(now) {
                wake_at = wake_at.min(persist_at);
            }
            // One wait for everything: something queued, logs worth a look, new discard
            // counts, a stop request, or the earliest deadline. Taking the flags at once is
            // fine: the next turn looks at the queue, the logs and the counts either way.
            let woken = self
                .queue
                .signal()
                .wait_until(QUEUED | LOGS | REPORTS, Some(wake_at));
            if woken.closed {
                self.stopping = true;
            }
        }
        // Whatever is still queued after a stop is saved to the offline cache or counted, and
        // the counts of everything dropped go out (or to disk).
        abandon(self.queue.drain(), self.cache.as_deref(), &self.reports);
        self.guarded(Self::final_report);
    }

    fn check_stop(&mut self) {
        if !self.stopping && self.queue.signal().is_closed() {
            self.stopping = true;
        }
    }

    fn wind_down(&self) -> Option<WindDown> {
        *self
            .wind_down_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// `true` once a shutdown wants the worker to stop sending queued envelopes.
    fn winding_down(&self) -> bool {
        self.wind_down()
            .is_some_and(|at| Instant::now() >= at.wind_down)
    }

    fn retry_due(&self, now: Instant) -> bool {
        now >= self.retry_at
            && self
                .cache
                .as_ref()
                .is_some_and(|cache| cache.sendable() > 0)
    }

    fn postpone_report_check(&mut self) {
        let now = Instant::now();
        self.next_report_check = now.checked_add(self.report_interval).unwrap_or(now);
    }

    /// With an offline cache, persists pending counts if that was not done within the last
    /// [`PERSIST_INTERVAL`], so that a kill loses at most that much; returns when to try again
    /// if counts wait.
    fn persist_when_idle(&mut self, now: Instant) -> Option<Instant> {
        let cache = self.cache.clone()?;
        if self.reports.is_empty() {
            return None;
        }
        if now < self.next_persist {
            return Some(self.next_persist);
        }
        self.in_flight.persist(&self.reports, &cache);
        self.next_persist = now.checked_add(PERSIST_INTERVAL).unwrap_or(now);
        None
    }

    fn handle(&mut self, task: Task) {
        match task {
            Task::Envelope(queued) => self.handle_envelope(queued.envelope, queued.cached),
            Task::Flush(reply) => {
                self.send_logs(Instant::now(), true);
                self.guarded(Self::send_standalone_report);
                // What could not be sent is on disk when the flush returns.
                if let Some(cache) = self.cache.clone() {
                    self.in_flight.persist(&self.reports, &cache);
                }
                // The flushing thread may have stopped waiting; that is fine.
                reply.notify();
            }
        }
    }

    /// The last thing a stopping worker does: send the pending counts unless that cannot
    /// work (backing off after a network error, past the shutdown's deadline), and persist
    /// what is left with the offline cache.
    fn final_report(&mut self) {
        let now = Instant::now();
        let backing_off = self.cache.is_some() && now < self.retry_at;
        let too_late = self.wind_down().is_some_and(|at| now >= at.end);
        if !backing_off && !too_late {
            self.send_standalone_report();
        }
        match self.cache.clone() {
            Some(cache) => self.in_flight.persist(&self.reports, &cache),
            None if !self.reports.is_empty() => {
                crate::sentry_debug!("client reports could not be sent before shutdown");
            }
            None => {}
        }
    }

    /// Sends the log batches that are due: full ones, ones whose delay has passed, or all of
    /// them when `force` is set (flush).
    fn send_logs(&mut self, now: Instant, force: bool) {
        let Some(logs) = self.logs.clone() else {
            return;
        };
        while let Some(envelope) = logs.take_batch(now, force) {
            self.handle_envelope(envelope, None);
        }
    }

    fn handle_envelope(&mut self, mut envelope: Envelope, cached: Option<PathBuf>) {
        let result = catch_unwind(AssertUnwindSafe(|| {
            self.process(&mut envelope, cached.clone());
        }));
        if result.is_err() {
            crate::sentry_debug!("the transport panicked while sending; envelope dropped");
            self.restore_in_flight_report();
            if let Some(cache) = &self.cache {
                if let Some(path) = &cached {
                    let _ = cache.release(path);
                    cache.remove(path);
                }
                if let Some(claimed) = self.claimed.take() {
                    cache.remove(&claimed);
                }
            }
            record_envelope(&self.reports, DiscardReason::InternalSdkError, &envelope);
        }
        self.claimed = None;
    }

    /// Runs `f` so that a panic in it cannot end the worker. A cached file it was sending is
    /// dropped and counted (retrying it could panic again, forever).
    fn guarded(&mut self, f: fn(&mut Self)) {
        if catch_unwind(AssertUnwindSafe(|| f(self))).is_err() {
            crate::sentry_debug!("the transport panicked while sending");
            self.restore_in_flight_report();
            if let (Some(cache), Some(claimed)) = (&self.cache, self.claimed.take()) {
                cache.discard(&claimed, DiscardReason::InternalSdkError);
            }
        }
        self.claimed = None;
    }

    fn restore_in_flight_report(&mut self) {
        self.in_flight
            .finish(false, &self.reports, self.cache.as_deref());
    }

    /// Takes the file written on the capturing thread for this envelope, if it is still this
    /// worker's to send, then mirror, rate limits, offline cache, send, response.
    fn process(&mut self, envelope: &mut Envelope, cached: Option<PathBuf>) {
        let (claimed, raw) = match (&self.cache, cached) {
            (Some(cache), Some(path)) => match cache.release(&path) {
                Release::OnDisk { raw } => match cache.claim(&path) {
                    Some(claimed) => (Some(claimed), raw),
                    None => {
                        crate::sentry_debug!("offline cache: another process sends {path:?}");
                        return;
                    }
                },
                // Evicted from the disk to keep the cache within its bounds: memory only.
                Release::Evicted => (None, false),
                Release::Gone => {
                    crate::sentry_debug!("offline cache: another process sends {path:?}");
                    return;
                }
            },
            _ => (None, false),
        };
        self.claimed.clone_from(&claimed);
        self.process_claimed(envelope, claimed, raw);
    }

    fn process_claimed(&mut self, envelope: &mut Envelope, claimed: Option<PathBuf>, raw: bool) {
        if envelope.is_empty() {
            self.forget_cached(claimed.as_deref());
            return;
        }
        if let Some(mirror) = &mut self.mirror {
            // The mirror sees everything, so deferred work runs before filtering here.
            crate::finalize::finalize_envelope(envelope);
            let outcome = mirror.send(envelope.to_vec(Some(SystemTime::now())), envelope);
            if let SendOutcome::NetworkError(error) = outcome {
                crate::sentry_debug!("mirror could not be reached: {error}");
            }
        }
        if !self.filter(envelope) {
            self.forget_cached(claimed.as_deref());
            return;
        }
        if self.mirror.is_none() {
            // Deferred work (such as symbolication) happens here, off the capturing thread,
            // and only for what will actually be sent. (With a mirror it ran above.)
            crate::finalize::finalize_envelope(envelope);
        }
        let Some(cache) = self.cache.clone() else {
            self.transmit(envelope, None);
            return;
        };
        let backing_off = Instant::now() < self.retry_at;
        let claimed = match claimed {
            Some(claimed) => {
                if raw && needs_finalized_copy(envelope) {
                    // Written on the capturing thread before the finalizers ran: the file
                    // gets the finished event before anything else happens to it.
                    if let Err(error) = cache.replace(&claimed, envelope) {
                        crate::sentry_debug!(
                            "offline cache: cannot write the finished envelope: {error}"
                        );
                    }
                }
                if backing_off {
                    // Backing off after a network error: the envelope waits on disk, behind
                    // the older ones.
                    cache.unclaim(&claimed);
                    self.claimed = None;
                    return;
                }
                Some(claimed)
            }
            None if backing_off => {
                if store(&cache, envelope, false, false).is_some() {
                    return;
                }
                None
            }
            None => store_claimed(&cache, envelope),
        };
        self.claimed.clone_from(&claimed);
        self.transmit(envelope, claimed);
        self.claimed = None;
    }

    /// Removes rate-limited items (counting them); `false` if nothing is left to send.
    fn filter(&mut self, envelope: &mut Envelope) -> bool {
        let removed = self.limiter.filter_envelope(envelope);
        record_outcomes(&self.reports, DiscardReason::RatelimitBackoff, removed);
        if envelope.is_empty() {
            crate::sentry_debug!("envelope dropped: every item is rate limited");
            return false;
        }
        true
    }

    fn forget_cached(&mut self, cached: Option<&std::path::Path>) {
        if let (Some(cache), Some(path)) = (&self.cache, cached) {
            cache.remove(path);
        }
        self.claimed = None;
    }

    /// Sends cached envelopes, oldest first, until the cache is empty or the network fails
    /// again. Each is claimed first: a file another process took is skipped.
    fn send_cached(&mut self) {
        let Some(cache) = self.cache.clone() else {
            return;
        };
        while let Some(path) = cache.oldest_sendable() {
            self.check_stop();
            if self.stopping || self.winding_down() {
                return;
            }
            let Some(claimed) = cache.claim(&path) else {
                continue;
            };
            self.claimed = Some(claimed.clone());
            let Some(mut envelope) = cache.load(&claimed) else {
                self.claimed = None;
                continue;
            };
            if !self.filter(&mut envelope) {
                self.forget_cached(Some(&claimed));
                continue;
            }
            let delivery = self.transmit(&mut envelope, Some(claimed));
            self.claimed = None;
            if delivery == Delivery::NoAnswer {
                return;
            }
        }
    }

    /// Sends pending client reports (with those persisted on disk) in an envelope of their
    /// own, unless everything is rate limited (then they wait).
    fn send_standalone_report(&mut self) {
        if self.limiter.is_limited(DataCategory::Internal) {
            return;
        }
        if let Some(cache) = &self.cache {
            cache.absorb_reports();
        }
        let Some(report) = self.in_flight.take(&self.reports, self.cache.as_deref()) else {
            return;
        };
        let mut envelope = Envelope::new();
        envelope.add_item(report);
        self.transmit(&mut envelope, None);
    }

    /// Attaches pending client reports, sends, and applies the outcome. `cached` is the
    /// envelope's claimed file in the offline cache: deleted after an answer, given back (and
    /// retried later) after a network error.
    fn transmit(&mut self, envelope: &mut Envelope, cached: Option<PathBuf>) -> Delivery {
        if !self.limiter.is_limited(DataCategory::Internal) {
            if let Some(cache) = &self.cache {
                cache.absorb_reports();
            }
            if let Some(report) = self.in_flight.take(&self.reports, self.cache.as_deref()) {
                envelope.add_item(report);
            }
        }
        let body = envelope.to_vec(Some(SystemTime::now()));
        let outcome = self.sender.send(body, envelope);
        let answered = matches!(outcome, SendOutcome::Response { .. });
        let fate = self.apply(outcome, envelope, cached.is_some());
        let delivered = matches!(fate, ReportFate::Done);
        if self
            .in_flight
            .finish(delivered, &self.reports, self.cache.as_deref())
        {
            self.postpone_report_check();
        }
        if answered {
            self.retry_delay = FIRST_RETRY_DELAY;
            self.forget_cached(cached.as_deref());
            Delivery::Answered
        } else {
            if let (Some(cache), Some(claimed)) = (&self.cache, &cached) {
                cache.unclaim(claimed);
                let now = Instant::now();
                self.retry_at = now.checked_add(self.retry_delay).unwrap_or(now);
                self.retry_delay = (self.retry_delay * 2).min(MAX_RETRY_DELAY);
            }
            Delivery::NoAnswer
        }
    }

    /// Applies a response per the transport spec's table and counts what was lost.
    fn apply(&mut self, outcome: SendOutcome, envelope: &Envelope, cached: bool) -> ReportFate {
        match outcome {
            SendOutcome::Response {
                status,
                rate_limits,
                retry_after,
            } => {
                self.limiter.update_from_headers(
                    status,
                    rate_limits.as_deref(),
                    retry_after.as_deref(),
                );
                match status {
                    200..=299 => ReportFate::Done,
                    429 => {
                        crate::sentry_debug!("envelope dropped: rate limited by the server (429)");
                        ReportFate::Restore
                    }
                    413 => {
                        crate::debug::debug_print(format_args!(
                            "envelope dropped: the server rejected it as too large (413)"
                        ));
                        record_envelope(&self.reports, DiscardReason::SendError, envelope);
                        // The report is not what made the envelope too large.
                        ReportFate::Restore
                    }
                    400..=499 => {
                        crate::sentry_debug!("envelope dropped: the server rejected it ({status})");
                        record_envelope(&self.reports, DiscardReason::SendError, envelope);
                        ReportFate::Done
                    }
                    _ => {
                        crate::sentry_debug!("envelope dropped: the server answered {status}");
                        record_envelope(&self.reports, DiscardReason::SendError, envelope);
                        ReportFate::Restore
                    }
                }
            }
            SendOutcome::NetworkError(error) if cached => {
                crate::sentry_debug!("network error, envelope kept for a retry: {error}");
                ReportFate::Restore
            }
            SendOutcome::NetworkError(error) => {
                crate::sentry_debug!("envelope dropped: network error: {error}");
                record_envelope(&self.reports, DiscardReason::NetworkError, envelope);
                ReportFate::Restore
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::atomic::AtomicUsize;
    use std::sync::mpsc;

    use super::*;
    use crate::envelope::{EnvelopeItem, ItemType, RawItem};
    use crate::protocol::Event;

    const LONG: Duration = Duration::from_secs(5);

    fn options(capacity: usize) -> TransportOptions {
        let dsn = "https://public@example.invalid/1"
            .parse()
            .expect("valid DSN");
        let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::new()));
        options.queue_capacity = capacity;
        options
    }

    fn event_envelope() -> Envelope {
        Envelope::from_event(Event::default())
    }

    fn transaction_envelope() -> Envelope {
        let mut envelope = Envelope::new();
        envelope.add_item(RawItem::new(ItemType::Transaction, b"{}".to_vec()));
        envelope
    }

    /// Records the bodies a sender was given.
    #[derive(Clone, Default)]
    struct Sent(Arc<Mutex<Vec<Vec<u8>>>>);

    impl Sent {
        fn push(&self, body: Vec<u8>) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(body);
        }

        fn bodies(&self) -> Vec<Vec<u8>> {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        }

        fn envelopes(&self) -> Vec<Envelope> {
            self.bodies()
                .iter()
                .map(|body| Envelope::from_bytes(body).expect("the worker writes valid envelopes"))
                .collect()
        }
    }

    /// A sender that records every body and answers from `script`, then `200`.
    fn scripted(sent: &Sent, script: Vec<SendOutcome>) -> impl Sender {
        let sent = sent.clone();
        let mut script = VecDeque::from(script);
        move |body: Vec<u8>, _: &Envelope| {
            sent.push(body);
            script.pop_front().unwrap_or(SendOutcome::status(200))
        }
    }

    fn count_items(envelopes: &[Envelope], ty: &ItemType) -> usize {
        envelopes
            .iter()
            .flat_map(Envelope::items)
            .filter(|item| item.ty() == *ty)
            .count()
    }

    /// The quantity of `reason`/`category` over every client report in `envelopes`.
    fn discarded(envelopes: &[Envelope], reason: DiscardReason, category: DataCategory) -> u64 {
        envelopes
            .iter()
            .flat_map(Envelope::items)
            .filter_map(|item| match item {
                EnvelopeItem::ClientReport(report) => Some(report),
                _ => None,
            })
            .flat_map(|report| report.discarded_events.iter())
            .filter(|entry| entry.reason == reason && entry.category == category)
            .map(|entry| entry.quantity)
            .sum()
    }

    fn rate_limited(limits: &str) -> SendOutcome {
        SendOutcome::Response {
            status: 429,
            rate_limits: Some(limits.to_owned()),
            retry_after: None,
        }
    }

    #[test]
    fn delivers_with_sent_at_stamped() {
        let sent = Sent::default();
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options(10)).expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), 1);
        assert_eq!(count_items(&envelopes, &ItemType::Event), 1);
        assert!(envelopes[0].headers().sent_at.is_some());
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn blocked_sender_flush_and_shutdown_are_bounded() {
        let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            // Blocks until the test ends (the sending side is dropped).
            let _ = release_rx.recv();
            SendOutcome::NetworkError("released".into())
        };
        let worker = TransportWorker::spawn(sender, &options(10)).expect("spawn");
        worker.send_envelope(event_envelope());
        worker.send_envelope(event_envelope());

        let start = Instant::now();
        assert!(!worker.flush(Duration::from_millis(200)));
        let flush_time = start.elapsed();
        assert!(
            flush_time < Duration::from_millis(400),
            "flush took {flush_time:?}"
        );

        let start = Instant::now();
        assert!(!worker.shutdown(Duration::from_millis(200)));
        let shutdown_time = start.elapsed();
        assert!(
            shutdown_time < Duration::from_millis(400),
            "shutdown took {shutdown_time:?}"
        );

        // Dropping a shut-down worker does not wait again.
        let start = Instant::now();
        drop(worker);
        assert!(start.elapsed() < Duration::from_millis(100));
        drop(release_tx);
    }

    #[test]
    fn flush_is_bounded_when_the_queue_is_full() {
        let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            let _ = release_rx.recv();
            SendOutcome::status(200)
        };
        let worker = TransportWorker::spawn(sender, &options(1)).expect("spawn");
        for _ in 0..5 {
            worker.send_envelope(event_envelope());
        }
        let start = Instant::now();
        assert!(!worker.flush(Duration::from_millis(100)));
        let elapsed = start.elapsed();
        assert!(
            elapsed < Duration::from_millis(300),
            "flush took {elapsed:?}"
        );
        assert!(!worker.shutdown(Duration::from_millis(100)));
        drop(release_tx);
    }

    #[test]
    fn drop_is_bounded() {
        let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            let _ = release_rx.recv();
            SendOutcome::status(200)
        };
        let worker = TransportWorker::spawn(sender, &options(10)).expect("spawn");
        worker.send_envelope(event_envelope());
        let start = Instant::now();
        drop(worker);
        let elapsed = start.elapsed();
        assert!(
            elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_millis(2500),
            "drop took {elapsed:?}"
        );
        drop(release_tx);
    }

    #[test]
    fn queue_overflow_is_counted_exactly() {
        let sent = Sent::default();
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let recorder = sent.clone();
        let sender = move |body: Vec<u8>, _: &Envelope| {
            let _ = gate_rx.recv();
            recorder.push(body);
            SendOutcome::status(200)
        };
        let options = options(5);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        for _ in 0..100 {
            worker.send_envelope(event_envelope());
        }
        // Open the gate for good.
        for _ in 0..200 {
            let _ = gate_tx.send(());
        }
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        let delivered = count_items(&envelopes, &ItemType::Event) as u64;
        let overflow = discarded(
            &envelopes,
            DiscardReason::QueueOverflow,
            DataCategory::Error,
        );
        assert!((5..=6).contains(&delivered), "delivered {delivered}");
        assert_eq!(delivered + overflow, 100);
        assert!(options.client_reports.is_empty());
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn rate_limit_filters_that_category_only() {
        let sent = Sent::default();
        let sender = scripted(&sent, vec![rate_limited("60:error:organization")]);
        let options = options(10);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        worker.send_envelope(event_envelope());
        worker.send_envelope(transaction_envelope());
        assert!(worker.flush(LONG));

        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), 2, "the second error is not sent");
        assert_eq!(count_items(&envelopes, &ItemType::Event), 1);
        assert_eq!(count_items(&envelopes, &ItemType::Transaction), 1);
        // The 429 itself is not counted; the filtered error is, riding on the transaction.
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::RatelimitBackoff,
                DataCategory::Error
            ),
            1
        );
        assert_eq!(
            discarded(&envelopes, DiscardReason::SendError, DataCategory::Error),
            0
        );
        assert!(options.client_reports.is_empty());
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn rate_limits_apply_from_successful_responses_too() {
        let sent = Sent::default();
        let ok_with_limits = SendOutcome::Response {
            status: 200,
            rate_limits: Some("60:transaction:organization".into()),
            retry_after: None,
        };
        let worker = TransportWorker::spawn(scripted(&sent, vec![ok_with_limits]), &options(10))
            .expect("spawn");
        worker.send_envelope(event_envelope());
        worker.send_envelope(transaction_envelope());
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(count_items(&envelopes, &ItemType::Event), 2);
        assert_eq!(count_items(&envelopes, &ItemType::Transaction), 0);
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::RatelimitBackoff,
                DataCategory::Transaction
            ),
            1
        );
        // A transaction also counts its spans (none here, plus the root span).
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::RatelimitBackoff,
                DataCategory::Span
            ),
            1
        );
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn server_error_counts_send_error() {
        for status in [500, 503, 400, 413] {
            let sent = Sent::default();
            let worker = TransportWorker::spawn(
                scripted(&sent, vec![SendOutcome::status(status)]),
                &options(10),
            )
            .expect("spawn");
            worker.send_envelope(event_envelope());
            assert!(worker.flush(LONG));
            let envelopes = sent.envelopes();
            // The failed envelope, then the report on its own at flush.
            assert_eq!(envelopes.len(), 2, "status {status}");
            assert_eq!(
                discarded(&envelopes, DiscardReason::SendError, DataCategory::Error),
                1,
                "status {status}"
            );
            assert!(worker.shutdown(LONG));
        }
    }

    #[test]
    fn network_error_counts_network_error() {
        let sent = Sent::default();
        let failure = SendOutcome::NetworkError("connection reset".into());
        let options = options(10);
        let worker =
            TransportWorker::spawn(scripted(&sent, vec![failure]), &options).expect("spawn");
        worker.send_envelope(transaction_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::NetworkError,
                DataCategory::Transaction
            ),
            1
        );
        assert_eq!(
            discarded(&envelopes, DiscardReason::NetworkError, DataCategory::Span),
            1
        );
        assert!(options.client_reports.is_empty());
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn client_reports_ride_along_with_the_next_envelope() {
        let sent = Sent::default();
        let options = options(10);
        options
            .client_reports
            .record(DiscardReason::SampleRate, DataCategory::Error, 3);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), 1, "no separate report envelope");
        let types: Vec<ItemType> = envelopes[0].items().map(EnvelopeItem::ty).collect();
        assert_eq!(types, [ItemType::Event, ItemType::ClientReport]);
        assert_eq!(
            discarded(&envelopes, DiscardReason::SampleRate, DataCategory::Error),
            3
        );
        assert!(options.client_reports.is_empty());
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn client_report_goes_alone_at_flush_and_shutdown() {
        let sent = Sent::default();
        let options = options(10);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        assert!(worker.flush(LONG));
        assert!(sent.bodies().is_empty(), "nothing to send, nothing sent");

        options
            .client_reports
            .record(DiscardReason::BeforeSend, DataCategory::Error, 2);
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), 1);
        assert_eq!(count_items(&envelopes, &ItemType::ClientReport), 1);
        assert_eq!(envelopes[0].len(), 1);
        assert_eq!(
            discarded(&envelopes, DiscardReason::BeforeSend, DataCategory::Error),
            2
        );

        options
            .client_reports
            .record(DiscardReason::EventProcessor, DataCategory::Error, 1);
        assert!(worker.shutdown(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), 2);
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::EventProcessor,
                DataCategory::Error
            ),
            1
        );
    }

    #[test]
    fn client_report_goes_alone_after_the_interval() {
        let sent = Sent::default();
        let mut options = options(10);
        options.client_report_interval = Duration::from_millis(100);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        options
            .client_reports
            .record(DiscardReason::SampleRate, DataCategory::Error, 1);
        let start = Instant::now();
        while sent.bodies().is_empty() && start.elapsed() < LONG {
            thread::sleep(Duration::from_millis(10));
        }
        let elapsed = start.elapsed();
        assert!(elapsed < Duration::from_secs(1), "report took {elapsed:?}");
        let envelopes = sent.envelopes();
        assert_eq!(
            discarded(&envelopes, DiscardReason::SampleRate, DataCategory::Error),
            1
        );
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn undelivered_report_is_restored() {
        let sent = Sent::default();
        let options = options(10);
        options
            .client_reports
            .record(DiscardReason::SampleRate, DataCategory::Error, 4);
        let script = vec![
            SendOutcome::NetworkError("down".into()),
            SendOutcome::status(502),
        ];
        let worker = TransportWorker::spawn(scripted(&sent, script), &options).expect("spawn");
        worker.send_envelope(event_envelope());
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        // Tried on the first (network error) and second (502) envelope, delivered at flush.
        assert_eq!(envelopes.len(), 3);
        assert_eq!(
            discarded(
                &envelopes[2..],
                DiscardReason::SampleRate,
                DataCategory::Error
            ),
            4
        );
        assert_eq!(
            discarded(
                &envelopes[2..],
                DiscardReason::NetworkError,
                DataCategory::Error
            ),
            1
        );
        assert_eq!(
            discarded(
                &envelopes[2..],
                DiscardReason::SendError,
                DataCategory::Error
            ),
            1
        );
        assert!(options.client_reports.is_empty());
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn report_waits_while_everything_is_rate_limited() {
        let sent = Sent::default();
        let options = options(10);
        let worker = TransportWorker::spawn(
            scripted(&sent, vec![rate_limited("60::organization")]),
            &options,
        )
        .expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        worker.send_envelope(event_envelope());
        options
            .client_reports
            .record(DiscardReason::SampleRate, DataCategory::Error, 1);
        assert!(worker.flush(LONG));
        assert_eq!(
            sent.bodies().len(),
            1,
            "nothing goes out under an all-category limit"
        );
        let pending = options.client_reports.take().expect("the report was kept");
        let pending = [Envelope::from_iter([pending])];
        assert_eq!(
            discarded(
                &pending,
                DiscardReason::RatelimitBackoff,
                DataCategory::Error
            ),
            1
        );
        assert_eq!(
            discarded(&pending, DiscardReason::SampleRate, DataCategory::Error),
            1
        );
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn panicking_sender_does_not_kill_the_worker() {
        let sent = Sent::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let recorder = sent.clone();
        let counter = Arc::clone(&calls);
        let sender = move |body: Vec<u8>, _: &Envelope| {
            if counter.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("sender bug (expected by this test)");
            }
            recorder.push(body);
            SendOutcome::status(200)
        };
        let options = options(10);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        worker.send_envelope(event_envelope());
        worker.send_envelope(transaction_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(count_items(&envelopes, &ItemType::Transaction), 1);
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::InternalSdkError,
                DataCategory::Error
            ),
            1
        );
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn envelopes_after_shutdown_are_counted() {
        let sent = Sent::default();
        let options = options(10);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        assert!(worker.shutdown(LONG));
        worker.send_envelope(event_envelope());
        let report = options.client_reports.take().expect("counted");
        assert_eq!(report.total(), 1);
        assert_eq!(
            report.discarded_events[0].reason,
            DiscardReason::QueueOverflow
        );
        // A second shutdown and a flush after shutdown return at once.
        assert!(worker.shutdown(LONG));
        assert!(worker.flush(LONG));
        assert!(sent.bodies().is_empty());
    }

    #[test]
    fn envelopes_from_the_worker_thread_are_refused() {
        let sent = Sent::default();
        let this: Arc<std::sync::OnceLock<std::sync::Weak<TransportWorker>>> = Arc::default();
        let recorder = sent.clone();
        let handle = Arc::clone(&this);
        let sender = move |body: Vec<u8>, _: &Envelope| {
            recorder.push(body);
            // As if the sender's own failure were captured and sent again.
            if let Some(worker) = handle.get().and_then(std::sync::Weak::upgrade) {
                worker.send_envelope(event_envelope());
            }
            SendOutcome::status(200)
        };
        let options = options(10);
        let worker = Arc::new(TransportWorker::spawn(sender, &options).expect("spawn"));
        let _ = this.set(Arc::downgrade(&worker));
        worker.send_envelope(transaction_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(
            envelopes.len(),
            2,
            "the transaction, then the report at flush"
        );
        assert_eq!(count_items(&envelopes, &ItemType::Event), 0);
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::InternalSdkError,
                DataCategory::Error
            ),
            1
        );
        assert!(worker.shutdown(LONG));
    }

    #[test]
    fn a_full_log_batch_wakes_the_idle_worker() {
        use crate::logs::{LogBuffer, MAX_BATCH_SIZE};
        use crate::protocol::{Log, LogLevel};

        let sent = Sent::default();
        let mut options = options(10);
        let logs = Arc::new(LogBuffer::new(Arc::clone(&options.client_reports)));
        options.logs = Some(Arc::clone(&logs));
        // Nothing else would wake the worker during the test.
        options.client_report_interval = Duration::from_secs(60);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        thread::sleep(Duration::from_millis(50)); // idle, waiting
        for i in 0..MAX_BATCH_SIZE {
            logs.push(Log::new(LogLevel::Info, format!("log {i}")));
        }
        let start = Instant::now();
        while sent.bodies().is_empty() && start.elapsed() < LONG {
            thread::sleep(Duration::from_millis(5));
        }
        let elapsed = start.elapsed();
        assert!(elapsed < Duration::from_secs(1), "batch took {elapsed:?}");
        assert_eq!(count_items(&sent.envelopes(), &ItemType::Log), 1);
        assert!(logs.is_empty());
        // Stopping still works while the worker waits for logs too.
        let start = Instant::now();
        assert!(worker.shutdown(LONG));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn dropping_the_worker_stops_it() {
        let sent = Sent::default();
        let mut options = options(10);
        options.client_report_interval = Duration::from_secs(60);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        let signal = Arc::clone(worker.queue.signal());
        thread::sleep(Duration::from_millis(20));
        let start = Instant::now();
        drop(worker);
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "the idle worker woke up"
        );
        assert!(signal.is_closed());
    }

    #[test]
    fn worker_thread_is_named() {
        let (name_tx, name_rx) = mpsc::sync_channel(1);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            let _ = name_tx.try_send(thread::current().name().map(str::to_owned));
            SendOutcome::status(200)
        };
        let worker = TransportWorker::spawn(sender, &options(10)).expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        assert_eq!(
            name_rx.try_recv().expect("sent once"),
            Some(WORKER_THREAD_NAME.to_owned())
        );
        assert!(worker.shutdown(LONG));
    }

    fn cache_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "sentry-worker-cache-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    /// The envelope files in `dir`, claimed ones (being sent) included.
    fn cached_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| {
                        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                        name.is_some_and(|n| !n.starts_with('.') && n.contains(".envelope"))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    fn with_cache(capacity: usize, dir: &std::path::Path) -> TransportOptions {
        let mut options = options(capacity);
        options.cache = Some(super::super::CacheOptions::new(dir));
        options
    }

    #[test]
    fn network_errors_keep_envelopes_on_disk_and_retry_them() {
        let dir = cache_dir("retry");
        let sent = Sent::default();
        let script = vec![SendOutcome::NetworkError("offline".into())];
        let options = with_cache(10, &dir);
        let worker = TransportWorker::spawn(scripted(&sent, script), &options).expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        // The first attempt failed: the envelope waits on disk, uncounted.
        assert_eq!(cached_files(&dir).len(), 1);
        assert!(options.client_reports.is_empty());
        // While backing off, a new envelope joins it on disk.
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        assert_eq!(sent.bodies().len(), 1);
        assert_eq!(cached_files(&dir).len(), 2);
        // After the backoff (1 s) both go, oldest first, and the files are deleted.
        let start = Instant::now();
        while !cached_files(&dir).is_empty() && start.elapsed() < LONG {
            thread::sleep(Duration::from_millis(20));
        }
        assert!(cached_files(&dir).is_empty(), "retried and deleted");
        let envelopes = sent.envelopes();
        assert_eq!(
            count_items(&envelopes, &ItemType::Event),
            3,
            "1 failed + 2 delivered"
        );
        assert_eq!(
            discarded(&envelopes, DiscardReason::NetworkError, DataCategory::Error),
            0
        );
        assert!(worker.shutdown(LONG));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn envelopes_left_by_an_earlier_worker_are_sent_at_start() {
        let dir = cache_dir("replay");
        // A first worker that never reaches the server.
        let options = with_cache(10, &dir);
        let offline = |_: Vec<u8>, _: &Envelope| SendOutcome::NetworkError("offline".into());
        let worker = TransportWorker::spawn(offline, &options).expect("spawn");
        for _ in 0..3 {
            worker.send_envelope(event_envelope());
        }
        assert!(worker.shutdown(LONG));
        assert_eq!(cached_files(&dir).len(), 3);
        for file in cached_files(&dir) {
            let body = std::fs::read(file).expect("read");
            assert!(!String::from_utf8_lossy(&body).contains("sent_at"));
        }
        // The next one sends them first thing.
        let sent = Sent::default();
        let options = with_cache(10, &dir);
        let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(count_items(&envelopes, &ItemType::Event), 3);
        assert!(envelopes.iter().all(|e| e.headers().sent_at.is_some()));
        assert!(cached_files(&dir).is_empty());
        assert!(worker.shutdown(LONG));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stuck_worker_leaves_its_queue_on_disk() {
        let dir = cache_dir("stuck");
        let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            let _ = release_rx.recv();
            SendOutcome::NetworkError("released".into())
        };
        let options = with_cache(10, &dir);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        for _ in 0..4 {
            worker.send_envelope(event_envelope());
        }
        let start = Instant::now();
        assert!(!worker.shutdown(Duration::from_millis(300)));
        assert!(start.elapsed() < Duration::from_millis(800));
        // One is in the stuck send (written before sending), three were saved by shutdown.
        assert_eq!(cached_files(&dir).len(), 4);
        assert!(options.client_reports.is_empty(), "nothing was lost");
        drop(release_tx);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn durable_sends_are_on_disk_before_send_envelope_returns() {
        let dir = cache_dir("durable");
        let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            let _ = release_rx.recv();
            SendOutcome::status(200)
        };
        let options = with_cache(10, &dir);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        // Occupy the worker so that it cannot be the one writing.
        worker.send_envelope(transaction_envelope());
        thread::sleep(Duration::from_millis(50));
        let before = cached_files(&dir).len();
        durable(|| worker.send_envelope(event_envelope()));
        assert_eq!(cached_files(&dir).len(), before + 1);
        drop(release_tx);
        assert!(worker.flush(LONG));
        assert!(cached_files(&dir).is_empty(), "deleted once answered");
        assert!(worker.shutdown(LONG));
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn message_envelope(message: &str) -> Envelope {
        Envelope::from_event(Event {
            message: Some(message.to_owned()),
            ..Event::default()
        })
    }

    /// Tags the events of [`errors_are_written_raw_on_the_calling_thread_then_finished`] only.
    fn tag_finish_me(event: &mut Event) {
        if event.message.as_deref() == Some("finish me") {
            event.tags.insert("finished".into(), "yes".into());
        }
    }

    #[test]
    fn errors_are_written_raw_on_the_calling_thread_then_finished() {
        crate::finalize::set_event_finalizer("worker-test-finish-me", tag_finish_me);
        let dir = cache_dir("raw");
        let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
        let sender = move |_: Vec<u8>, _: &Envelope| {
            let _ = release_rx.recv();
            SendOutcome::NetworkError("offline".into())
        };
        let options = with_cache(10, &dir);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        // Occupy the worker (a transaction is not written on the calling thread).
        worker.send_envelope(transaction_envelope());
        thread::sleep(Duration::from_millis(50));
        assert_eq!(cached_files(&dir).len(), 1, "the transaction, being sent");
        worker.send_envelope(message_envelope("finish me"));
        let files = cached_files(&dir);
        assert_eq!(files.len(), 2, "the error is on disk at once");
        let raw: Vec<String> = files
            .iter()
            .map(|file| std::fs::read_to_string(file).expect("read"))
            .filter(|body| body.contains("finish me"))
            .collect();
        assert_eq!(raw.len(), 1);
        assert!(!raw[0].contains("finished"), "{}", raw[0]);
        // The send fails: while backing off, the worker writes the finished event over it.
        drop(release_tx);
        assert!(worker.flush(LONG));
        let finished: Vec<String> = cached_files(&dir)
            .iter()
            .map(|file| std::fs::read_to_string(file).expect("read"))
            .filter(|body| body.contains("finish me"))
            .collect();
        assert_eq!(finished.len(), 1);
        assert!(
            finished[0].contains("\"finished\":\"yes\""),
            "{}",
            finished[0]
        );
        assert!(options.client_reports.is_empty(), "nothing lost");
        assert!(worker.shutdown(LONG));
        assert_eq!(
            cached_files(&dir).len(),
            2,
            "both wait for the next process"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn pending_counts_are_persisted_while_offline() {
        let dir = cache_dir("persist");
        let sent = Sent::default();
        let offline = vec![SendOutcome::NetworkError("offline".into()); 4];
        let options = with_cache(10, &dir);
        let worker = TransportWorker::spawn(scripted(&sent, offline), &options).expect("spawn");
        options
            .client_reports
            .record(DiscardReason::SampleRate, DataCategory::Error, 5);
        // Flush tries to send them, fails, and leaves them on disk.
        assert!(worker.flush(LONG));
        assert!(options.client_reports.is_empty(), "moved to disk");
        let report_files = || {
            std::fs::read_dir(&dir)
                .expect("dir")
                .filter_map(Result::ok)
                .filter(|entry| {
                    entry
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".client_report")
                })
                .count()
        };
        assert_eq!(report_files(), 1);
        // Counts recorded later wake the idle worker, which persists them too (one file).
        options
            .client_reports
            .record(DiscardReason::BeforeSend, DataCategory::Error, 2);
        let start = Instant::now();
        while !options.client_reports.is_empty() && start.elapsed() < LONG {
            thread::sleep(Duration::from_millis(20));
        }
        assert!(options.client_reports.is_empty(), "persisted while idle");
        assert_eq!(report_files(), 1);
        // Each flush tries once more; after the four failures of the script the server is
        // back: all counts go, once, and the file goes.
        for _ in 0..10 {
            if sent.bodies().len() >= 5 {
                break;
            }
            assert!(worker.flush(LONG));
        }
        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), 5);
        let delivered = &envelopes[envelopes.len() - 1..];
        assert_eq!(
            discarded(delivered, DiscardReason::SampleRate, DataCategory::Error),
            5
        );
        assert_eq!(
            discarded(delivered, DiscardReason::BeforeSend, DataCategory::Error),
            2
        );
        assert_eq!(report_files(), 0);
        assert!(worker.shutdown(LONG));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn shutdown_leaves_time_for_a_final_report() {
        let sent = Sent::default();
        let recorder = sent.clone();
        let sender = move |body: Vec<u8>, _: &Envelope| {
            thread::sleep(Duration::from_millis(50));
            recorder.push(body);
            SendOutcome::status(200)
        };
        let options = options(100);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        for _ in 0..40 {
            worker.send_envelope(event_envelope());
        }
        let start = Instant::now();
        assert!(!worker.shutdown(Duration::from_millis(800)), "not all sent");
        assert!(start.elapsed() < Duration::from_millis(1000));
        let envelopes = sent.envelopes();
        let delivered = count_items(&envelopes, &ItemType::Event) as u64;
        let dropped = discarded(
            &envelopes,
            DiscardReason::QueueOverflow,
            DataCategory::Error,
        );
        assert!(dropped > 0, "the final report went out");
        assert_eq!(delivered + dropped, 40);
        assert!(options.client_reports.is_empty());
    }

    #[test]
    fn overflow_evicts_low_priority_envelopes_first() {
        let sent = Sent::default();
        let (gate_tx, gate_rx) = mpsc::channel::<()>();
        let recorder = sent.clone();
        let sender = move |body: Vec<u8>, _: &Envelope| {
            let _ = gate_rx.recv();
            recorder.push(body);
            SendOutcome::status(200)
        };
        let options = options(4);
        let worker = TransportWorker::spawn(sender, &options).expect("spawn");
        let session = || {
            let mut envelope = Envelope::new();
            envelope.add_item(RawItem::new(ItemType::Session, b"{}".to_vec()));
            envelope
        };
        // The worker takes the first one and blocks on the gate; then fill the queue.
        worker.send_envelope(session());
        thread::sleep(Duration::from_millis(50));
        for _ in 0..4 {
            worker.send_envelope(session());
        }
        for _ in 0..4 {
            worker.send_envelope(event_envelope());
        }
        for _ in 0..20 {
            let _ = gate_tx.send(());
        }
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        assert_eq!(count_items(&envelopes, &ItemType::Event), 4, "errors kept");
        assert_eq!(count_items(&envelopes, &ItemType::Session), 1);
        assert_eq!(
            discarded(
                &envelopes,
                DiscardReason::QueueOverflow,
                DataCategory::Session
            ),
            4
        );
        assert!(worker.shutdown(LONG));
    }
}
