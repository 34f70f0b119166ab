//! [`BatchBuffer`]: where high-volume items (structured logs, metrics) wait to be sent in
//! batches of one envelope each. Public as `transport::BatchBuffer` (and as its instances
//! `transport::LogBuffer` and `transport::MetricBuffer`), for transports that drain it
//! themselves.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::protocol::{ClientSdkInfo, DataCategory, DiscardReason};
use crate::signal::{Flags, Signal};

/// The flag of the buffer's own wake-up signal.
const WOKEN: Flags = 1;

/// How many items go into one envelope at most, and how many make a batch due at once.
pub(crate) const MAX_BATCH_SIZE: usize = 100;

/// How long the first item of a batch may wait before the batch is due.
pub(crate) const BATCH_TIMEOUT: Duration = Duration::from_secs(5);

/// How many items may wait at most; more are dropped and counted as `buffer_overflow`.
pub(crate) const MAX_QUEUED: usize = 1000;

/// How many bytes (estimated, as JSON) one envelope's items hold at most, and how many make a
/// batch due at once: Relay accepts container items of up to 1 MiB.
pub(crate) const MAX_BATCH_BYTES: usize = 1024 * 1024;

/// How many bytes (estimated) the waiting items may hold at most; an item that does not fit is
/// dropped and counted as `buffer_overflow`. A log can be up to 1 MiB (larger ones are dropped
/// before they get here), so the count alone would let the buffer hold a gigabyte.
pub(crate) const MAX_QUEUED_BYTES: usize = 8 * MAX_BATCH_BYTES;

pub(crate) mod sealed {
    /// Keeps [`Batched`](super::Batched) implemented by this crate's types only.
    pub trait Sealed {}
}

/// An item type the SDK sends in batches: [`Log`](crate::protocol::Log) and
/// [`Metric`](crate::protocol::Metric). Implemented by the SDK only.
pub trait Batched: Sized + Send + 'static + sealed::Sealed {
    /// The client-report category a dropped item counts in (one per item).
    #[doc(hidden)]
    const CATEGORY: DataCategory;

    /// The category a dropped item's estimated bytes count in, if any.
    #[doc(hidden)]
    const BYTE_CATEGORY: Option<DataCategory>;

    /// About how many bytes the item takes on the wire.
    #[doc(hidden)]
    fn batch_size(&self) -> usize;

    /// The envelope item of one batch.
    #[doc(hidden)]
    fn into_item(batch: Vec<Self>) -> EnvelopeItem;
}

/// What runs on every item of a batch when it is taken, on the thread that takes it (the
/// transport worker): how a client adds attributes that need not cost the calling thread.
pub(crate) type Finish<T> = Box<dyn Fn(&mut T) + Send + Sync>;

/// Captured items waiting to be sent, in capture order.
///
/// The client [`push`](Self::push)es on the calling thread (a short lock, no I/O). The transport
/// worker drains the buffer on its own thread: it is woken when the buffer becomes worth
/// looking at, or waits with [`wait_wakeup`](Self::wait_wakeup), until
/// [`next_deadline`](Self::next_deadline), and sends what [`take_batch`](Self::take_batch)
/// returns. A batch (at most 100 items, one envelope) is due when 100 items are waiting or
/// when the oldest waiting item is 5 seconds old; flush and shutdown take everything (`force`).
///
/// At most 1,000 items of 8 MiB (estimated) in all wait; an item pushed beyond that is dropped
/// and counted as `buffer_overflow` in the client's reports (`log_item` and `log_byte` for
/// logs, `trace_metric` for metrics). A batch also holds at most 1 MiB, and is due once that
/// many bytes wait.
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
pub struct BatchBuffer<T: Batched> {
    state: Mutex<State<T>>,
    /// The wake-up of [`take_wakeup`](Self::take_wakeup) and [`wait_wakeup`](Self::wait_wakeup).
    wake: Signal,
    /// The signals of the transport workers draining this buffer, each with the flag it wants
    /// rung (see [`link`](Self::link)); the signals of workers that are gone are pruned.
    pub(crate) linked: Mutex<Vec<(Weak<Signal>, Flags)>>,
    client_reports: Arc<ClientReports>,
    sdk: Option<Arc<ClientSdkInfo>>,
    finish: Option<Finish<T>>,
}

struct State<T> {
    items: Vec<T>,
    /// The estimated size of each waiting item, in the same order.
    sizes: Vec<usize>,
    /// The sum of `sizes`.
    bytes: usize,
    /// When the oldest waiting item arrived; `None` while empty.
    first_at: Option<Instant>,
}

impl<T: Batched> BatchBuffer<T> {
    /// An empty buffer that counts its drops in `client_reports`.
    pub fn new(client_reports: Arc<ClientReports>) -> Self {
        BatchBuffer {
            state: Mutex::new(State {
                items: Vec::new(),
                sizes: Vec::new(),
                bytes: 0,
                first_at: None,
            }),
            wake: Signal::new(),
            linked: Mutex::new(Vec::new()),
            client_reports,
            sdk: None,
            finish: None,
        }
    }

    /// Sets the `sdk` header of the envelopes this buffer makes.
    #[must_use]
    pub fn with_sdk_info(mut self, sdk: Arc<ClientSdkInfo>) -> Self {
        self.sdk = Some(sdk);
        self
    }

    /// Runs `finish` on every item of a batch as it is taken, outside the lock.
    #[must_use]
    pub(crate) fn with_finish(mut self, finish: Finish<T>) -> Self {
        self.finish = Some(finish);
        self
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record_drop(&self, size: usize) {
        self.client_reports
            .record(DiscardReason::BufferOverflow, T::CATEGORY, 1);
        if let Some(bytes) = T::BYTE_CATEGORY {
            self.client_reports
                .record(DiscardReason::BufferOverflow, bytes, size as u64);
        }
    }

    /// Adds an item. Over 1,000 items (or 8 MiB) it is dropped and counted instead. Signals a
    /// wake-up (see [`take_wakeup`](Self::take_wakeup)) when the buffer becomes non-empty and
    /// whenever another 100 items are waiting.
    pub fn push(&self, item: T) {
        let size = item.batch_size();
        let mut state = self.lock();
        let len = state.items.len();
        if len >= MAX_QUEUED || state.bytes.saturating_add(size) > MAX_QUEUED_BYTES {
            drop(state);
            self.record_drop(size);
            return;
        }
        if len == 0 {
            state.first_at = Some(Instant::now());
            // Room for the whole cap at once: pushes never reallocate while holding the lock
            // more than a few times.
            state.items.reserve(MAX_BATCH_SIZE);
            state.sizes.reserve(MAX_BATCH_SIZE);
        }
        state.items.push(item);
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
    /// stop request at once. Rings at once if items are already waiting.
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

    /// When the oldest waiting item is due (5 seconds after it arrived); `None` while
    /// the buffer is empty.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.lock().first_at.map(|t| t + BATCH_TIMEOUT)
    }

    /// Takes up to 100 of the oldest items, of at most 1 MiB (always at least one item), as an
    /// envelope with one container item, if a batch is due at `now` (100 items or 1 MiB wait,
    /// or the oldest item is 5 seconds old) or `force` is set. `None` when nothing is due or
    /// the buffer is empty. Call it again until it returns `None` to drain.
    pub fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        let mut state = self.lock();
        let first_at = state.first_at?;
        let due = force
            || state.items.len() >= MAX_BATCH_SIZE
            || state.bytes >= MAX_BATCH_BYTES
            || now.saturating_duration_since(first_at) >= BATCH_TIMEOUT;
        if !due || state.items.is_empty() {
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
        let mut batch: Vec<T> = if count == state.items.len() {
            state.first_at = None;
            state.sizes.clear();
            std::mem::take(&mut state.items)
        } else {
            // The items left behind arrived after `first_at`, so keeping it keeps every item
            // within its deadline.
            state.sizes.drain(..count);
            state.items.drain(..count).collect()
        };
        drop(state);
        if let Some(finish) = &self.finish {
            batch.iter_mut().for_each(finish);
        }
        let mut envelope = Envelope::new();
        envelope.headers_mut().sdk.clone_from(&self.sdk);
        envelope.add_item(T::into_item(batch));
        Some(envelope)
    }

    /// How many items are waiting.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// `true` when no item is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: Batched> fmt::Debug for BatchBuffer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("BatchBuffer")
            .field("queued", &state.items.len())
            .field("first_at", &state.first_at)
            .finish_non_exhaustive()
    }
}
