//! [`SpanBuffer`]: where finished spans wait to be streamed (`trace_lifecycle = Stream`),
//! bucketed by trace, until the transport worker sends them as `span` items, and
//! [`SegmentLink`]: what the spans of one segment share while they wait (the segment's name,
//! its dynamic sampling context, the attributes it gives every span).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use sentry_minimal::{Map, SpanId, TraceId, Value};

use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem, ItemType, RawItem};
use crate::propagation::DynamicSamplingContext;
use crate::protocol::{
    ClientSdkInfo, DataCategory, DiscardReason, SpanV2, SpanV2Payload, TransactionSource,
    SPAN_V2_CONTENT_TYPE,
};
use crate::signal::{Flags, Signal};

/// At most this many spans go into one envelope (one trace each).
pub(crate) const MAX_SPANS_PER_ENVELOPE: usize = 1000;
/// The buffer is flushed once this many spans wait.
pub(crate) const FLUSH_SPANS: usize = 1000;
/// The buffer is flushed once this many bytes (estimated, as JSON) wait; one envelope holds at
/// most this many too.
pub(crate) const FLUSH_BYTES: usize = 5 * 1024 * 1024;
/// The buffer never holds more than this many bytes; a span that does not fit is dropped and
/// counted as `buffer_overflow`.
pub(crate) const MAX_BUFFERED_BYTES: usize = 10 * 1024 * 1024;
/// The buffer never holds more than this many spans (the worker flushes at
/// [`FLUSH_SPANS`], so this is reached only while it cannot keep up).
pub(crate) const MAX_BUFFERED_SPANS: usize = 10 * FLUSH_SPANS;
/// How long the first waiting span waits at most before everything is flushed.
pub(crate) const FLUSH_INTERVAL: Duration = Duration::from_secs(5);

/// What the spans of one segment (the root span of this process's part of a trace and the
/// spans under it) share while they wait in the buffer: the segment's id and its name (final
/// only when the segment ends), the dynamic sampling context (frozen the first time it leaves
/// the SDK: an outgoing request, or the first flush of the trace), and the attributes of the
/// scopes the segment started in. It holds no client, so a buffered span never keeps one alive.
pub(crate) struct SegmentLink {
    pub(crate) trace_id: TraceId,
    pub(crate) segment_id: SpanId,
    name: Mutex<(String, TransactionSource)>,
    /// The sampling context without `transaction` (that comes from the name when frozen).
    base: DynamicSamplingContext,
    frozen: Mutex<Option<DynamicSamplingContext>>,
    public_key: Option<String>,
    header: OnceLock<Arc<Map>>,
    /// Given to every span of the segment (the scopes' user, with `send_default_pii`).
    pub(crate) attributes: Map,
}

impl SegmentLink {
    /// A link; `incoming` is a sampling context that arrived with the trace (frozen already).
    pub(crate) fn new(
        trace_id: TraceId,
        segment_id: SpanId,
        name: (String, TransactionSource),
        base: DynamicSamplingContext,
        incoming: Option<DynamicSamplingContext>,
        public_key: Option<String>,
        attributes: Map,
    ) -> SegmentLink {
        SegmentLink {
            trace_id,
            segment_id,
            name: Mutex::new(name),
            base,
            frozen: Mutex::new(incoming),
            public_key,
            header: OnceLock::new(),
            attributes,
        }
    }

    /// Renames the segment.
    pub(crate) fn set_name(&self, name: String, source: TransactionSource) {
        *self.name.lock().unwrap_or_else(PoisonError::into_inner) = (name, source);
    }

    /// The segment's name and its source.
    pub(crate) fn name(&self) -> (String, TransactionSource) {
        self.name
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The dynamic sampling context, frozen from now on.
    pub(crate) fn dsc(&self) -> DynamicSamplingContext {
        let mut frozen = self.frozen.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(dsc) = &*frozen {
            return dsc.clone();
        }
        let mut dsc = self.base.clone();
        let (name, source) = self.name();
        // Names from URLs are high-cardinality and may hold personal data.
        if source != TransactionSource::Url && !name.is_empty() {
            dsc.transaction = Some(name);
        }
        *frozen = Some(dsc.clone());
        dsc
    }

    /// The envelope `trace` header (freezing the sampling context), built once.
    pub(crate) fn header(&self) -> Arc<Map> {
        Arc::clone(self.header.get_or_init(|| {
            let mut header = self.dsc().to_header_map();
            if !header.contains_key("trace_id") {
                header.insert("trace_id".into(), self.trace_id.to_string().into());
            }
            if let (false, Some(key)) = (header.contains_key("public_key"), &self.public_key) {
                header.insert("public_key".into(), key.as_str().into());
            }
            Arc::new(header)
        }))
    }
}

impl fmt::Debug for SegmentLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SegmentLink")
            .field("trace_id", &self.trace_id)
            .field("segment_id", &self.segment_id)
            .finish_non_exhaustive()
    }
}

/// What runs on every span as the worker takes it from the buffer: the client's span
/// pipeline (common attributes, `before_send_span`).
pub(crate) type ProcessSpan = Box<dyn Fn(&mut SpanV2, &SegmentLink) + Send + Sync>;

/// An ended span as the span layer hands it to the buffer: kept as it is until the worker
/// takes it, then converted to its v2 form there, off the thread that ended it.
pub(crate) trait BufferedSpan: Send {
    /// The trace the span belongs to.
    fn trace_id(&self) -> TraceId;
    /// About how many bytes the span takes as JSON (what the buffer's byte bounds count).
    fn estimated_size(&self) -> usize;
    /// The v2 span, with its operation and origin apart (they become the `sentry.op` and
    /// `sentry.origin` attributes).
    fn into_v2(self: Box<Self>) -> (SpanV2, String, Option<String>);
}

/// The thread a span ended on: its id (the kernel's, as profiles name threads) and name.
pub(crate) type SpanThread = crate::profiling::ThreadInfo;

struct Pending {
    /// The ended span, made a span v2 item on the worker.
    record: Box<dyn BufferedSpan>,
    /// The thread it ended on, unless the same as the span before it in its bucket's order.
    thread: AsBefore<Option<Arc<SpanThread>>>,
    /// Its segment, unless the same as the span before it in its bucket's order.
    link: AsBefore<Arc<SegmentLink>>,
    size: usize,
}

/// What consecutive spans of a bucket usually share (their thread, their segment): kept by
/// the first span that has it, so the thread that ends a span pays no reference count for it.
enum AsBefore<T> {
    /// A value that differs from the one of the span before.
    New(T),
    /// The same as the span before in the bucket.
    Same,
}

impl<T: Clone> AsBefore<T> {
    /// The value, with `last` the value of the span before (updated).
    fn resolve(self, last: &mut Option<T>) -> Option<T> {
        if let AsBefore::New(value) = self {
            *last = Some(value);
        }
        last.clone()
    }
}

#[derive(Default)]
struct Bucket {
    spans: VecDeque<Pending>,
    /// The thread and segment of the last span pushed (`None` before the first).
    pushed_thread: Option<Option<Arc<SpanThread>>>,
    pushed_link: Option<Arc<SegmentLink>>,
    /// The thread and segment of the last span taken.
    taken_thread: Option<Option<Arc<SpanThread>>>,
    taken_link: Option<Arc<SegmentLink>>,
}

impl Bucket {
    fn new(spans: VecDeque<Pending>) -> Bucket {
        Bucket {
            spans,
            pushed_thread: None,
            pushed_link: None,
            taken_thread: None,
            taken_link: None,
        }
    }
}

/// Hashes a trace id by its first eight bytes: they are random already, so SipHash's work
/// (about a fifth of a streamed span's cost on the calling thread) buys nothing here.
#[derive(Default)]
struct TraceIdHasher(u64);

impl Hasher for TraceIdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let n = bytes.len().min(8);
        let mut word = [0u8; 8];
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(word);
    }

    fn write_usize(&mut self, _length_prefix: usize) {}
}

#[derive(Default)]
struct State {
    buckets: HashMap<TraceId, Bucket, BuildHasherDefault<TraceIdHasher>>,
    /// An emptied bucket's storage, kept for the next trace (a flush empties every bucket,
    /// and growing a new one from nothing would copy its spans about twice).
    spare: Option<VecDeque<Pending>>,
    /// Traces in the order their buckets were created: the oldest is sent first.
    order: VecDeque<TraceId>,
    count: usize,
    bytes: usize,
    /// When the oldest waiting span arrived; `None` while empty.
    first_at: Option<Instant>,
    /// A flush started and goes on until the buffer is empty.
    draining: bool,
}

/// Finished spans waiting to be streamed, bucketed by trace.
///
/// The client pushes each finished span on the thread that ended it (a short lock, no
/// serialization). The transport worker drains the buffer on its own thread: everything is
/// flushed 5 seconds after the oldest waiting span arrived, as soon as 1,000 spans or 5 MiB
/// (estimated) wait, and on every flush and close; each envelope holds the spans of one trace
/// only, at most 1,000 of them and 5 MiB, with the trace's `trace` header. At most 10 MiB
/// (and 10,000 spans) wait; a span beyond that is dropped and counted as
/// `buffer_overflow`/`span`. The client's span pipeline runs on each span as the worker
/// takes it, so it costs the application's threads nothing.
pub struct SpanBuffer {
    state: Mutex<State>,
    pub(crate) linked: Mutex<Vec<(Weak<Signal>, Flags)>>,
    client_reports: Arc<ClientReports>,
    sdk: Option<Arc<ClientSdkInfo>>,
    process: Option<ProcessSpan>,
}

impl SpanBuffer {
    /// An empty buffer counting its drops in `client_reports`, running `process` on every span
    /// it hands out.
    pub(crate) fn new(
        client_reports: Arc<ClientReports>,
        sdk: Option<Arc<ClientSdkInfo>>,
        process: Option<ProcessSpan>,
    ) -> SpanBuffer {
        SpanBuffer {
            state: Mutex::new(State::default()),
            linked: Mutex::new(Vec::new()),
            client_reports,
            sdk,
            process,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds an ended span of the segment `link` with the thread it ended on, or drops and
    /// counts it when the buffer is full. The span stays a record until the worker takes it.
    pub(crate) fn push(
        &self,
        record: Box<dyn BufferedSpan>,
        thread: Option<&Arc<SpanThread>>,
        link: &Arc<SegmentLink>,
    ) {
        let size = record.estimated_size();
        let mut state = self.lock();
        if state.count >= MAX_BUFFERED_SPANS
            || state.bytes.saturating_add(size) > MAX_BUFFERED_BYTES
        {
            drop(state);
            crate::sentry_debug!("the span buffer is full; a span was dropped");
            self.client_reports
                .record(DiscardReason::BufferOverflow, DataCategory::Span, 1);
            return;
        }
        let trace_id = record.trace_id();
        let state = &mut *state;
        let bucket = match state.buckets.get_mut(&trace_id) {
            Some(bucket) => bucket,
            None => {
                state.order.push_back(trace_id);
                let spans = state.spare.take().unwrap_or_default();
                state.buckets.entry(trace_id).or_insert(Bucket::new(spans))
            }
        };
        // Reference counts only when the thread or the segment changes.
        let same_thread = match (&bucket.pushed_thread, thread) {
            (Some(Some(last)), Some(thread)) => Arc::ptr_eq(last, thread),
            (Some(None), None) => true,
            _ => false,
        };
        let thread = if same_thread {
            AsBefore::Same
        } else {
            let thread = thread.cloned();
            bucket.pushed_thread = Some(thread.clone());
            AsBefore::New(thread)
        };
        let link = match &bucket.pushed_link {
            Some(last) if Arc::ptr_eq(last, link) => AsBefore::Same,
            _ => {
                bucket.pushed_link = Some(Arc::clone(link));
                AsBefore::New(Arc::clone(link))
            }
        };
        bucket.spans.push_back(Pending {
            record,
            thread,
            link,
            size,
        });
        let before = state.bytes;
        state.count += 1;
        state.bytes += size;
        if state.first_at.is_none() {
            state.first_at = Some(Instant::now());
        }
        let count = state.count;
        let crossed = before < FLUSH_BYTES && state.bytes >= FLUSH_BYTES;
        if count == 1 || count % FLUSH_SPANS == 0 || crossed {
            self.wake();
        }
    }

    fn wake(&self) {
        self.linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|(signal, flags)| match signal.upgrade() {
                Some(signal) => {
                    signal.ring(*flags);
                    true
                }
                None => false,
            });
    }

    /// Makes the buffer ring `flags` on `signal` whenever it becomes worth a look (and at
    /// once if spans already wait).
    pub(crate) fn link(&self, signal: &Arc<Signal>, flags: Flags) {
        self.linked
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((Arc::downgrade(signal), flags));
        if !self.is_empty() {
            signal.ring(flags);
        }
    }

    /// When the buffer is due by time (5 seconds after its oldest span arrived); `None` while
    /// it is empty.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.lock().first_at.map(|t| t + FLUSH_INTERVAL)
    }

    /// Takes the next envelope (the oldest trace's spans, at most 1,000 and 5 MiB) if a flush
    /// is due at `now` or under way, or, with `force`, whatever waits. Call it until it returns
    /// `None` to drain. The client's span pipeline runs on the spans here, on the calling
    /// thread, and the envelope's `trace` header freezes the trace's sampling context.
    pub fn take_batch(&self, now: Instant, force: bool) -> Option<Envelope> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let first_at = state.first_at?;
        let due = force
            || state.draining
            || state.count >= FLUSH_SPANS
            || state.bytes >= FLUSH_BYTES
            || now.saturating_duration_since(first_at) >= FLUSH_INTERVAL;
        if !due {
            return None;
        }
        state.draining = true;
        let mut batch = Vec::new();
        let mut bytes = 0;
        while let Some(&trace_id) = state.order.front() {
            let Some(bucket) = state.buckets.get_mut(&trace_id) else {
                state.order.pop_front();
                continue;
            };
            while let Some(next) = bucket.spans.front() {
                if batch.len() >= MAX_SPANS_PER_ENVELOPE
                    || (!batch.is_empty() && bytes + next.size > FLUSH_BYTES)
                {
                    break;
                }
                bytes += next.size;
                if let Some(pending) = bucket.spans.pop_front() {
                    let thread = pending.thread.resolve(&mut bucket.taken_thread).flatten();
                    // The first span of a bucket always has its segment.
                    match pending.link.resolve(&mut bucket.taken_link) {
                        Some(link) => batch.push((pending.record, thread, link)),
                        None => {
                            crate::sentry_debug!("a buffered span lost its segment; dropped");
                            self.client_reports.record(
                                DiscardReason::InternalSdkError,
                                DataCategory::Span,
                                1,
                            );
                        }
                    }
                }
            }
            if bucket.spans.is_empty() {
                if let Some(bucket) = state.buckets.remove(&trace_id) {
                    if bucket.spans.capacity() <= MAX_SPANS_PER_ENVELOPE * 2 {
                        state.spare = Some(bucket.spans);
                    }
                }
                state.order.pop_front();
            }
            if !batch.is_empty() {
                break;
            }
        }
        state.count -= batch.len();
        state.bytes -= bytes;
        if state.count == 0 {
            state.first_at = None;
            state.draining = false;
        }
        drop(guard);
        let link = Arc::clone(&batch.first()?.2);
        let spans: Vec<SpanV2> = batch
            .into_iter()
            .map(|(record, thread, span_link)| {
                let (mut span, op, origin) = record.into_v2();
                let attributes = &mut span.attributes;
                if !op.is_empty() {
                    attributes
                        .entry("sentry.op".into())
                        .or_insert(Value::String(op));
                }
                attributes
                    .entry("sentry.origin".into())
                    .or_insert_with(|| Value::String(origin.unwrap_or_else(|| "manual".into())));
                if let Some(thread) = &thread {
                    attributes
                        .entry("thread.id".into())
                        .or_insert_with(|| Value::String(thread.id.to_string()));
                    if let Some(name) = &thread.name {
                        attributes
                            .entry("thread.name".into())
                            .or_insert_with(|| Value::String(name.clone()));
                    }
                }
                if let Some(process) = &self.process {
                    process(&mut span, &span_link);
                }
                span
            })
            .collect();

        let payload = match serde_json::to_vec(&SpanV2Payload {
            version: 2,
            items: &spans,
        }) {
            Ok(payload) => payload,
            Err(err) => {
                crate::sentry_debug!("spans could not be serialized ({err}); dropped");
                self.client_reports.record(
                    DiscardReason::InternalSdkError,
                    DataCategory::Span,
                    spans.len() as u64,
                );
                return None;
            }
        };
        let mut item = RawItem::new(ItemType::Span, payload);
        item.headers
            .insert("item_count".into(), Value::U64(spans.len() as u64));
        item.headers
            .insert("content_type".into(), SPAN_V2_CONTENT_TYPE.into());
        let mut envelope = Envelope::new();
        envelope.headers_mut().sdk.clone_from(&self.sdk);
        envelope.headers_mut().trace = Some(link.header());
        envelope.add_item(EnvelopeItem::Raw(item));
        Some(envelope)
    }

    /// How many spans wait.
    pub fn len(&self) -> usize {
        self.lock().count
    }

    /// `true` when no span waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for SpanBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("SpanBuffer")
            .field("queued", &state.count)
            .field("traces", &state.buckets.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
