//! [`LogBuffer`]: where captured logs wait to be sent in batches. Public as
//! `transport::LogBuffer`, for transports that drain it themselves.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::{ClientSdkInfo, DataCategory, DiscardReason, Log};
use crate::signal::{Flags, Signal};

/// The flag of the buffer's own wake-up signal.
const WOKEN: Flags = 1;

/// How many logs go into one envelope at most, and how many make a batch due at once.
pub(crate) const MAX_BATCH_SIZE: usize = 100;

/// How long the first log of a batch may wait before the batch is due.
pub(crate) const BATCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How many logs may wait at most; more are dropped and counted as `buffer_overflow`.
pub(crate) const MAX_QUEUED: usize = 1000;

/// How many bytes (estimated, as JSON) one envelope's logs hold at most, and how many make a
/// batch due at once: Relay accepts log items of up to 1 MiB.
pub(crate) const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// How many bytes (estimated) the waiting logs may hold at most; a log that does not fit is
/// dropped and counted as `buffer_overflow`. A log can be up to 1 MiB (larger ones are dropped
/// before they get here), so the count alone would let the buffer hold a gigabyte.
pub(crate) const MAX_QUEUED_BYTES: usize = 8 * MAX_BATCH_BYTES;

/// Captured logs waiting to be sent, in capture order.
///
/// The client [`push`](Self::push)es on the calling thread (a short lock, no I/O). The transport
/// worker drains the buffer on its own thread: it is woken when the buffer becomes worth
/// looking at, or waits with [`wait_wakeup`](Self::wait_wakeup), until
/// [`next_deadline`](Self::next_deadline), and sends what [`take_batch`](Self::take_batch)
/// returns. A batch (at most 100 logs, one envelope) is due when 100 logs are waiting or when
/// the oldest waiting log is 5 seconds old; flush and shutdown take everything (`force`).
///
/// At most 1,000 logs of 8 MiB (estimated) in all wait; a log pushed beyond that is dropped
/// and counted as `buffer_overflow` (`log_item` and `log_byte`) in the client's reports. A
/// batch also holds at most 1 MiB, and is due once that many bytes wait.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::transport::LogBuffer;
/// use sentry_core::protocol::{Log, LogLevel};
///
/// let buffer = LogBuffer::new(Arc::new(ClientReports::default()));
/// buffer.push(Log::new(LogLevel::Info, "hello"));
/// assert!(buffer.take_wakeup()); // it became non-empty
/// assert!(buffer.take_batch(Instant::now(), false).is_none()); // not due yet
/// let envelope = buffer.take_batch(Instant::now(), true).expect("forced");
/// assert_eq!(envelope.len(), 1);
/// assert!(buffer.is_empty());
/// ```
pub struct LogBuffer {
    state: Mutex<State>,
    /// The wake-up of [`take_wakeup`](Self::take_wakeup) and [`wait_wakeup`](Self::wait_wakeup).
    wake: Signal,
    /// The signals of the transport workers draining this buffer, each with the flag it wants
    /// rung (see [`link`](Self::link)); the signals of workers that are gone are pruned.
    linked: Mutex<Vec<(Weak<Signal>, Flags)>>,
    client_reports: Arc<ClientReports>,
    sdk: Option<Arc<ClientSdkInfo>>,
}

#[derive(Default)]
struct State {
    logs: Vec<Log>,
    /// The estimated size of each waiting log, in the same order.
    sizes: Vec<usize>,
    /// The sum of `sizes`.
    bytes: usize,
    /// When the oldest waiting log arrived; `None` while empty.
    first_at: Option<Instant>,
}

impl LogBuffer {
    /// An empty buffer that counts its drops in `client_reports`.
    pub fn new(client_reports: Arc<ClientReports>) -> Self {
        LogBuffer {
            state: Mutex::new(State::default()),
            wake: Signal::new(),
            linked: Mutex::new(Vec::new()),
            client_reports,
            sdk: None,
        }
    }

    /// Sets the `sdk` header of the envelopes this buffer makes.
    #[must_use]
    pub fn with_sdk_info(mut self, sdk: Arc<ClientSdkInfo>) -> Self {
        self.sdk = Some(sdk);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a log. Over 1,000 logs it is dropped and counted instead. Signals a wake-up
    /// (see [`take_wakeup`](Self::take_wakeup)) when the buffer becomes non-empty and whenever
    /// another 100 logs are waiting.
    pub fn push(&self, log: Log) {
        let size = log.estimated_size();
        let mut state = self.lock();
        let len = state.logs.len();
        if len >= MAX_QUEUED || state.bytes.saturating_add(size) > MAX_QUEUED_BYTES {
            drop(state);
            self.client_reports
                .record(DiscardReason::BufferOverflow, DataCategory::LogItem, 1);
            self.client_reports.record(
                DiscardReason::BufferOverflow,
                DataCategory::LogByte,
                size as u64,
            );
            return;
        }
        if len == 0 {
            state.first_at = Some(Instant::now());
            // Room for the whole cap at once: pushes never reallocate while holding the lock
            // more than a few times.
            state.logs.reserve(MAX_BATCH_SIZE);
            state.sizes.reserve(MAX_BATCH_SIZE);
        }
        state.logs.push(log);
        state.sizes.push(size);
        let before = state.bytes;
        state.bytes += size;
        let crossed_batch_bytes = before / MAX_BATCH_BYTES != state.bytes / MAX_BATCH_BYTES;
        let len = len + 1;
        drop(state);
        if len == 1 || len % MAX_BATCH_SIZE == 0 || crossed_batch_bytes {
            self.wake();
        }
    }

    /// Signals a wake-up: on the buffer's own signal and on every linked worker's.
    fn wake(&self) {
        // Coalesces: a pending wake-up already means "look at the buffer"; nothing is lost.
        self.wake.ring(WOKEN);
        self.linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(signal, flags)| {
                let Some(signal) = signal.upgrade() else {
                    return false;
                };
                signal.ring(*flags);
                true
            });
    }

    /// Makes the buffer ring `flags` on `signal` whenever it signals a wake-up, for as long as
    /// `signal` lives: this is how the transport worker waits for the buffer, its queue and a
    /// stop request at once. Rings at once if logs are already waiting.
    pub(crate) fn link(&self, signal: &Arc<Signal>, flags: Flags) {
        self.linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((Arc::downgrade(signal), flags));
        if !self.is_empty() {
            signal.ring(flags);
        }
    }

    /// Takes the pending wake-up, without waiting: `true` if the buffer may have become worth
    /// looking at since the last wake-up was taken, because it became non-empty (so a
    /// [deadline](Self::next_deadline) started) or another full batch is waiting. Wake-ups
    /// coalesce: several of them are taken as one.
    ///
    /// This is for transports that drain the buffer on a thread of their own; the SDK's
    /// [`TransportWorker`](crate::transport::TransportWorker) is woken without it.
    pub fn take_wakeup(&self) -> bool {
        self.wake.take(WOKEN) != 0
    }

    /// Waits up to `timeout` for a wake-up (see [`take_wakeup`](Self::take_wakeup)) and takes
    /// it: `true` if there was one, `false` if the time ran out. Returns at once when a wake-up
    /// is pending already.
    pub fn wait_wakeup(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        self.wake.wait_until(WOKEN, deadline).flags != 0
    }

    /// When the oldest waiting log is due (5 seconds after it arrived); `None` while
    /// the buffer is empty.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.lock().first_at.map(|t| t + BATCH_TIMEOUT)
    }

    /// Takes up to 100 of the oldest logs, of at most 1 MiB (always at least one log), as an
    /// envelope with one `log` item, if a batch is due at `now` (100 logs or 1 MiB wait, or the
    /// oldest log is 5 seconds old) or `force` is set. `None` when nothing is due or the buffer
    /// is empty. Call it again until it returns `None` to drain.
    pub fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        let mut state = self.lock();
        let first_at = state.first_at?;
        let due = force
            || state.logs.len() >= MAX_BATCH_SIZE
            || state.bytes >= MAX_BATCH_BYTES
            || now.saturating_duration_since(first_at) >= BATCH_TIMEOUT;
        if !due || state.logs.is_empty() {
            return None;
        }
        let mut count = 0;
        let mut bytes = 0;
        for &size in state.sizes.iter().take(MAX_BATCH_SIZE) {
            if count > 0 && bytes + size > MAX_BATCH_BYTES {
                break;
            }
            count += 1;
            bytes += size;
        }
        state.bytes -= bytes;
        let batch: Vec<Log> = if count == state.logs.len() {
            state.first_at = None;
            state.sizes.clear();
            std::mem::take(&mut state.logs)
        } else {
            // The logs left behind arrived after `first_at`, so keeping it keeps every log
            // within its deadline.
            state.sizes.drain(..count);
            state.logs.drain(..count).collect()
        };
        drop(state);
        let mut envelope = Envelope::new();
        envelope.headers_mut().sdk.clone_from(&self.sdk);
        envelope.add_item(EnvelopeItem::Logs(batch));
        Some(envelope)
    }

    /// How many logs are waiting.
    pub fn len(&self) -> usize {
        self.lock().logs.len()
    }

    /// `true` when no log is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for LogBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("LogBuffer")
            .field("queued", &state.logs.len())
            .field("first_at", &state.first_at)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::LogLevel;

    fn buffer() -> (LogBuffer, Arc<ClientReports>) {
        let reports = Arc::new(ClientReports::default());
        (LogBuffer::new(Arc::clone(&reports)), reports)
    }

    fn log(i: usize) -> Log {
        Log::new(LogLevel::Info, format!("log {i}"))
    }

    fn logs_of(envelope: &Envelope) -> &[Log] {
        match envelope.items().next() {
            Some(EnvelopeItem::Logs(logs)) => logs,
            other => panic!("expected a log item, got {other:?}"),
        }
    }

    #[test]
    fn a_full_batch_is_due_at_once_and_capped_at_100() {
        let (buffer, _) = buffer();
        for i in 0..250 {
            buffer.push(log(i));
        }
        let now = Instant::now();
        let first = buffer.take_batch(now, false).expect("100 are waiting");
        assert_eq!(logs_of(&first).len(), 100);
        assert_eq!(logs_of(&first)[0].body, "log 0");
        let second = buffer.take_batch(now, false).expect("150 were waiting");
        assert_eq!(logs_of(&second)[0].body, "log 100");
        // 50 left: not a full batch and not old enough.
        assert!(buffer.take_batch(now, false).is_none());
        assert_eq!(buffer.len(), 50);
        let rest = buffer.take_batch(now, true).expect("forced");
        assert_eq!(logs_of(&rest).len(), 50);
        assert!(buffer.take_batch(now, true).is_none());
        assert_eq!(buffer.next_deadline(), None);
    }

    #[test]
    fn a_batch_is_due_five_seconds_after_its_first_log() {
        let (buffer, _) = buffer();
        let before = Instant::now();
        buffer.push(log(0));
        let deadline = buffer.next_deadline().expect("one log waits");
        assert!(deadline >= before + BATCH_TIMEOUT);
        assert!(deadline <= Instant::now() + BATCH_TIMEOUT);
        // Later logs do not move the deadline.
        buffer.push(log(1));
        assert_eq!(buffer.next_deadline(), Some(deadline));
        assert!(buffer
            .take_batch(deadline - Duration::from_millis(1), false)
            .is_none());
        let batch = buffer.take_batch(deadline, false).expect("due");
        assert_eq!(logs_of(&batch).len(), 2);
        assert_eq!(buffer.next_deadline(), None);
    }

    #[test]
    fn over_1000_queued_logs_are_dropped_and_counted() {
        let (buffer, reports) = buffer();
        for i in 0..1003 {
            buffer.push(log(i));
        }
        assert_eq!(buffer.len(), MAX_QUEUED);
        let report = reports.take().expect("drops were counted");
        let count = |category| {
            report
                .discarded_events
                .iter()
                .find(|d| d.reason == DiscardReason::BufferOverflow && d.category == category)
                .map_or(0, |d| d.quantity)
        };
        assert_eq!(count(DataCategory::LogItem), 3);
        assert_eq!(
            count(DataCategory::LogByte),
            3 * log(1000).estimated_size() as u64
        );
        // Draining makes room again.
        while buffer.take_batch(Instant::now(), true).is_some() {}
        buffer.push(log(0));
        assert_eq!(buffer.len(), 1);
    }

    /// Logs near Relay's 1 MiB limit: the buffer holds at most `MAX_QUEUED_BYTES` of them
    /// (not 1,000), and each envelope at most `MAX_BATCH_BYTES`.
    #[test]
    fn large_logs_are_bounded_by_bytes_in_the_buffer_and_in_each_batch() {
        let (buffer, reports) = buffer();
        let big = |i: usize| Log::new(LogLevel::Info, format!("{i} {}", "x".repeat(400_000)));
        let size = big(0).estimated_size();
        for i in 0..40 {
            buffer.push(big(i));
        }
        let kept = MAX_QUEUED_BYTES / size;
        assert_eq!(buffer.len(), kept);
        let report = reports.take().expect("drops were counted");
        let items = report
            .discarded_events
            .iter()
            .find(|d| {
                d.reason == DiscardReason::BufferOverflow && d.category == DataCategory::LogItem
            })
            .map_or(0, |d| d.quantity);
        assert_eq!(items, (40 - kept) as u64);
        // Due at once (over a batch's bytes), and every batch within MAX_BATCH_BYTES.
        let mut taken = 0;
        while let Some(envelope) = buffer.take_batch(Instant::now(), false) {
            let logs = logs_of(&envelope);
            let bytes: usize = logs.iter().map(Log::estimated_size).sum();
            assert!(bytes <= MAX_BATCH_BYTES, "{bytes} bytes in one batch");
            assert!(!logs.is_empty());
            taken += logs.len();
        }
        // What is left is less than a batch's bytes, waiting for its deadline.
        let left = buffer.len();
        assert!(left * size < MAX_BATCH_BYTES);
        assert_eq!(taken + left, kept);
        while buffer.take_batch(Instant::now(), true).is_some() {}
        assert!(buffer.is_empty());
        // The byte count went back to zero: the buffer takes as many again.
        for i in 0..kept {
            buffer.push(big(i));
        }
        assert_eq!(buffer.len(), kept);
    }

    #[test]
    fn wakes_when_non_empty_and_per_full_batch() {
        let (buffer, _) = buffer();
        assert!(!buffer.take_wakeup());
        buffer.push(log(0));
        assert!(buffer.take_wakeup());
        for i in 1..99 {
            buffer.push(log(i));
        }
        assert!(!buffer.take_wakeup(), "no wake-up before 100");
        buffer.push(log(99));
        assert!(buffer.take_wakeup());
        // Never blocks when nobody listens.
        for i in 0..300 {
            buffer.push(log(i));
        }
        assert!(buffer.take_wakeup());
        assert!(!buffer.take_wakeup(), "wake-ups coalesce");
    }

    #[test]
    fn wait_wakeup_waits_for_a_push_or_the_timeout() {
        let (buffer, _) = buffer();
        let start = Instant::now();
        assert!(!buffer.wait_wakeup(Duration::from_millis(30)));
        assert!(start.elapsed() >= Duration::from_millis(30));
        let buffer = Arc::new(buffer);
        let pusher = {
            let buffer = Arc::clone(&buffer);
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                buffer.push(log(0));
            })
        };
        assert!(buffer.wait_wakeup(Duration::from_secs(10)));
        pusher.join().expect("pusher");
    }

    #[test]
    fn linked_signals_are_rung_while_they_live() {
        const FLAG: Flags = 4;
        let (buffer, _) = buffer();
        let signal = Arc::new(Signal::new());
        buffer.link(&signal, FLAG);
        assert_eq!(signal.take(FLAG), 0, "nothing waits yet");
        buffer.push(log(0));
        assert_eq!(signal.take(FLAG), FLAG);
        // The buffer's own wake-up is independent of the linked ones.
        assert!(buffer.take_wakeup());
        // Linking to a non-empty buffer rings at once.
        let late = Arc::new(Signal::new());
        buffer.link(&late, FLAG);
        assert_eq!(late.take(FLAG), FLAG);
        // A dropped signal is forgotten at the next wake-up.
        drop(late);
        while buffer.take_batch(Instant::now(), true).is_some() {}
        buffer.push(log(1));
        assert_eq!(signal.take(FLAG), FLAG);
        assert_eq!(
            buffer
                .linked
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            1
        );
    }

    #[test]
    fn envelopes_carry_the_sdk_header() {
        let sdk = Arc::new(ClientSdkInfo {
            name: "sentry.rust".into(),
            ..Default::default()
        });
        let buffer = LogBuffer::new(Arc::default()).with_sdk_info(Arc::clone(&sdk));
        buffer.push(log(0));
        let envelope = buffer.take_batch(Instant::now(), true).unwrap();
        assert_eq!(envelope.headers().sdk, Some(sdk));
        assert!(envelope.headers().event_id.is_none());
        assert!(format!("{buffer:?}").contains("queued"));
    }
}
