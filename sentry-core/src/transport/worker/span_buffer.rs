//! [`SpanBuffer`]: where finished spans wait to be streamed (`trace_lifecycle = Stream`),
//! bucketed by trace, until the transport worker sends them as `span` items, and
//! [`SegmentLink`]: what the spans of one segment share while they wait (the segment's name,
//! its dynamic sampling context, the attributes it gives every span, and its ended spans until
//! it hands them to the buffer).

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
use crate::span_record::{Ending, SpanRecord, StreamedRecord};

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
/// A segment hands the spans it holds to the buffer once this many wait…
pub(crate) const HANDOFF_SPANS: usize = 100;
/// …or this many bytes (estimated, as JSON).
pub(crate) const HANDOFF_BYTES: usize = 256 * 1024;

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
    /// Its ended spans not yet handed to the buffer.
    held: Mutex<Held>,
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
            held: Mutex::new(Held::default()),
        }
    }

    fn held(&self) -> MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(PoisonError::into_inner)
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

/// The thread a span ended on: its id (the kernel's, as profiles name threads) and name.
pub(crate) type SpanThread = crate::profiling::ThreadInfo;

/// An ended span, waiting (with its segment, then in the buffer) to become a span v2 item.
struct Waiting {
    /// The span as it ended: made a span v2 item on the worker.
    record: StreamedRecord,
    /// The thread it ended on, unless the same as the span before it in its chunk.
    thread: AsBefore<Option<Arc<SpanThread>>>,
    size: usize,
}

/// What consecutive spans of a chunk usually share (their thread): kept by the first span
/// that has it, so the thread that ends a span pays no reference count for it.
enum AsBefore<T> {
    /// A value that differs from the one of the span before.
    New(T),
    /// The same as the span before in the chunk.
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

/// The ended spans a segment holds until it hands them to the buffer.
#[derive(Default)]
struct Held {
    spans: Vec<Waiting>,
    /// The thread of the last span held (`None` before the first of a chunk).
    last_thread: Option<Option<Arc<SpanThread>>>,
    bytes: usize,
    /// In the buffer's list of segments to look at when it flushes.
    listed: bool,
}

impl Held {
    /// The spans held, as a chunk for the buffer, with their bytes. `busy`: the segment
    /// filled a chunk, so the next starts with room for a full one (rather than growing to
    /// it, copying its spans about once more).
    fn take(&mut self, busy: bool) -> Option<(Vec<Waiting>, usize)> {
        if self.spans.is_empty() {
            return None;
        }
        self.last_thread = None;
        let next = if busy {
            Vec::with_capacity(HANDOFF_SPANS)
        } else {
            Vec::new()
        };
        Some((
            std::mem::replace(&mut self.spans, next),
            std::mem::take(&mut self.bytes),
        ))
    }
}

/// What adding a chunk did.
struct Added {
    /// The buffer became due by count or size.
    wake: bool,
    /// Spans that did not fit.
    dropped: usize,
}

/// Spans of one segment handed to the buffer together, in the order they ended.
struct Chunk {
    link: Arc<SegmentLink>,
    spans: std::vec::IntoIter<Waiting>,
    /// The thread of the last span taken from the chunk.
    thread: Option<Option<Arc<SpanThread>>>,
}

/// Hashes a trace id by its first eight bytes: they are random already, so SipHash's work
/// buys nothing here.
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
    /// The chunks of each trace, in the order they arrived.
    buckets: HashMap<TraceId, VecDeque<Chunk>, BuildHasherDefault<TraceIdHasher>>,
    /// Traces in the order their buckets were created: the oldest is sent first.
    order: VecDeque<TraceId>,
    /// Segments that hold spans (or did when listed): a flush takes their spans first.
    listed: Vec<Arc<SegmentLink>>,
    /// Spans and bytes in the buckets (not those the segments still hold).
    count: usize,
    bytes: usize,
    /// When the oldest waiting span (held or in a bucket) ended; `None` while none waits.
    first_at: Option<Instant>,
    /// A flush started and goes on until the buffer is empty.
    draining: bool,
}

/// Finished spans waiting to be streamed, bucketed by trace.
///
/// An ended span first waits with its segment: the thread that ended it takes the segment's
/// own lock, which only that segment's threads share, and moves the span into the segment's
/// list (no allocation per span, no serialization). The segment hands its spans to the buffer
/// together: once 100 of them or 256 KiB (estimated) wait, and when the segment
/// ends. The transport worker drains the buffer on its own thread, taking what the segments
/// still hold first: everything is flushed 5 seconds after the oldest waiting span ended, as
/// soon as 1,000 spans or 5 MiB (estimated) are in the buffer, and on every flush and close;
/// each envelope holds the spans of one trace only, at most 1,000 of them and 5 MiB, with the
/// trace's `trace` header. At most 10 MiB (and 10,000 spans) are in the buffer; a span beyond
/// that is dropped and counted as `buffer_overflow`/`span`. The client's span pipeline runs
/// on each span as the worker takes it, so it costs the application's threads nothing.
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

    /// Adds an ended span of the segment `link` with the thread it ended on: moves `record`
    /// (lent, `None` after) into the segment's list. It waits there until the segment hands
    /// its spans over (see the type's docs); with `segment_ended`, the segment does so now.
    pub(crate) fn push(
        &self,
        record: &mut Option<SpanRecord>,
        ending: Ending,
        thread: Option<&Arc<SpanThread>>,
        link: &Arc<SegmentLink>,
        segment_ended: bool,
    ) {
        let Some(record) = record.take() else { return };
        let mut held = link.held();
        // A reference count only when the thread changes.
        let same_thread = match (&held.last_thread, thread) {
            (Some(Some(last)), Some(thread)) => Arc::ptr_eq(last, thread),
            (Some(None), None) => true,
            _ => false,
        };
        let thread = if same_thread {
            AsBefore::Same
        } else {
            let thread = thread.cloned();
            held.last_thread = Some(thread.clone());
            AsBefore::New(thread)
        };
        let size = record.estimated_stream_size(ending.segment_name.as_deref());
        held.spans.push(Waiting {
            record: ending.stream(record),
            thread,
            size,
        });
        held.bytes += size;
        let list = !std::mem::replace(&mut held.listed, true);
        let full = held.spans.len() >= HANDOFF_SPANS;
        let chunk = if segment_ended || full || held.bytes >= HANDOFF_BYTES {
            held.take(full && !segment_ended)
        } else {
            None
        };
        // The segment's lock is released before the buffer's is taken (a flush takes them
        // the other way round).
        drop(held);
        if list || chunk.is_some() {
            self.receive(link, list, chunk);
        }
    }

    /// Lists the segment `link` (when `list`) and adds a chunk of its spans.
    fn receive(&self, link: &Arc<SegmentLink>, list: bool, chunk: Option<(Vec<Waiting>, usize)>) {
        let mut state = self.lock();
        let mut wake = false;
        if list {
            state.listed.push(Arc::clone(link));
        }
        if state.first_at.is_none() {
            // The worker learns when the buffer is due.
            state.first_at = Some(Instant::now());
            wake = true;
        }
        let mut dropped = 0;
        if let Some((spans, bytes)) = chunk {
            let added = self.add(&mut state, link, spans, bytes);
            wake |= added.wake;
            dropped = added.dropped;
        }
        drop(state);
        if dropped > 0 {
            self.count_overflow(dropped);
        }
        if wake {
            self.wake();
        }
    }

    /// Puts a chunk of the segment `link`'s spans into its trace's bucket, as many as the
    /// buffer's bounds let in.
    fn add(
        &self,
        state: &mut State,
        link: &Arc<SegmentLink>,
        mut spans: Vec<Waiting>,
        mut bytes: usize,
    ) -> Added {
        let room = MAX_BUFFERED_SPANS.saturating_sub(state.count);
        let mut dropped = 0;
        if spans.len() > room || state.bytes.saturating_add(bytes) > MAX_BUFFERED_BYTES {
            // Keep the spans that fit, in order.
            let mut kept_bytes = 0;
            let kept = spans
                .iter()
                .take(room)
                .take_while(|waiting| {
                    let fits = state.bytes + kept_bytes + waiting.size <= MAX_BUFFERED_BYTES;
                    if fits {
                        kept_bytes += waiting.size;
                    }
                    fits
                })
                .count();
            dropped = spans.len() - kept;
            spans.truncate(kept);
            bytes = kept_bytes;
        }
        if spans.is_empty() {
            return Added {
                wake: false,
                dropped,
            };
        }
        let (count_before, bytes_before) = (state.count, state.bytes);
        state.count += spans.len();
        state.bytes += bytes;
        let chunk = Chunk {
            link: Arc::clone(link),
            spans: spans.into_iter(),
            thread: None,
        };
        match state.buckets.get_mut(&link.trace_id) {
            Some(bucket) => bucket.push_back(chunk),
            None => {
                state.order.push_back(link.trace_id);
                state.buckets.insert(link.trace_id, VecDeque::from([chunk]));
            }
        }
        let wake = count_before / FLUSH_SPANS != state.count / FLUSH_SPANS
            || (bytes_before < FLUSH_BYTES && state.bytes >= FLUSH_BYTES);
        Added { wake, dropped }
    }

    fn count_overflow(&self, dropped: usize) {
        crate::sentry_debug!("the span buffer is full; {dropped} span(s) dropped");
        self.client_reports.record(
            DiscardReason::BufferOverflow,
            DataCategory::Span,
            dropped as u64,
        );
    }

    /// Takes the spans every listed segment holds into the buckets; how many did not fit.
    fn sweep(&self, state: &mut State) -> usize {
        let mut dropped = 0;
        for link in std::mem::take(&mut state.listed) {
            let chunk = {
                let mut held = link.held();
                held.listed = false;
                held.take(false)
            };
            if let Some((spans, bytes)) = chunk {
                dropped += self.add(state, &link, spans, bytes).dropped;
            }
        }
        dropped
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

    /// When the buffer is due by time (5 seconds after its oldest span ended); `None` while
    /// no span waits.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.lock().first_at.map(|t| t + FLUSH_INTERVAL)
    }

    /// Takes the next envelope (the oldest trace's spans, at most 1,000 and 5 MiB) if a flush
    /// is due at `now` or under way, or, with `force`, whatever waits (also what the segments
    /// still hold). Call it until it returns `None` to drain. The client's span pipeline runs
    /// on the spans here, on the calling thread, and the envelope's `trace` header freezes the
    /// trace's sampling context.
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
        let dropped = self.sweep(state);
        state.draining = true;
        let mut batch = Vec::new();
        let mut bytes = 0;
        let mut full = false;
        while let Some(&trace_id) = state.order.front() {
            let Some(bucket) = state.buckets.get_mut(&trace_id) else {
                state.order.pop_front();
                continue;
            };
            while let Some(chunk) = bucket.front_mut() {
                while let Some(next) = chunk.spans.as_slice().first() {
                    if batch.len() >= MAX_SPANS_PER_ENVELOPE
                        || (!batch.is_empty() && bytes + next.size > FLUSH_BYTES)
                    {
                        full = true;
                        break;
                    }
                    bytes += next.size;
                    if let Some(waiting) = chunk.spans.next() {
                        let thread = waiting.thread.resolve(&mut chunk.thread).flatten();
                        batch.push((waiting.record, thread, Arc::clone(&chunk.link)));
                    }
                }
                if full {
                    break;
                }
                bucket.pop_front();
            }
            if bucket.is_empty() {
                state.buckets.remove(&trace_id);
                state.order.pop_front();
            }
            if !batch.is_empty() {
                break;
            }
        }
        state.count -= batch.len();
        state.bytes -= bytes;
        if state.count == 0 && state.listed.is_empty() {
            state.first_at = None;
            state.draining = false;
        }
        drop(guard);
        if dropped > 0 {
            self.count_overflow(dropped);
        }
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

    /// How many spans wait, in the buffer and held by their segments.
    pub fn len(&self) -> usize {
        let state = self.lock();
        state.count
            + state
                .listed
                .iter()
                .map(|link| link.held().spans.len())
                .sum::<usize>()
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
