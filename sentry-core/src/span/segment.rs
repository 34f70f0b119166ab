//! A transaction while it runs: the shared state of its spans, its sampling decision and its
//! dynamic sampling context, and what finishing it sends.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::SystemTime;

use sentry_minimal::{Map, SortedMap, SpanId, TraceId, Value};

use crate::client::Client;
use crate::propagation::DynamicSamplingContext;
use crate::protocol::{
    Context, DataCategory, DiscardReason, Event, EventType, Level, Measurement, Span as WireSpan,
    TransactionInfo, TransactionSource,
};
use crate::scope::{Scopes, Snapshots};
use crate::transport::span_buffer::SegmentLink;

use crate::span_record::{Ending, SpanRecord};

/// At most this many spans are recorded per transaction; later ones are dropped (counted as
/// `buffer_overflow`) and record no children.
pub(crate) const MAX_SPANS: usize = 1000;

/// The state shared by a transaction's spans.
pub(crate) struct Segment {
    pub(crate) client: Arc<Client>,
    /// The scopes the transaction was started in (without their span), applied when it is
    /// sent; `None` when it is sampled out (nothing is sent, and a request that is sampled
    /// out does not pay for holding and dropping a copy).
    scopes: Option<Scopes>,
    pub(crate) trace_id: TraceId,
    pub(crate) root_span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) sampled: bool,
    sample_rate: f64,
    sample_rand: f64,
    /// Child spans started, recorded or not (the `span` quantity of a dropped transaction is
    /// this plus one).
    children: AtomicUsize,
    done: AtomicBool,
    state: Mutex<SegmentState>,
    /// The envelope `trace` header, built once the sampling context is frozen.
    header: OnceLock<Arc<Map>>,
    /// With `trace_lifecycle = Stream` and sampled: what the streamed spans of this segment
    /// share (its name and sampling context live there then).
    pub(crate) stream: Option<Arc<SegmentLink>>,
    /// Ignored by `ignore_spans` (it is not sampled then): its spans count as `ignored`.
    ignored: bool,
}

struct SegmentState {
    name: String,
    source: TransactionSource,
    spans: Vec<WireSpan>,
    measurements: SortedMap<String, Measurement>,
    /// Set once the sampling context has left the SDK (or arrived with the trace).
    frozen_dsc: Option<DynamicSamplingContext>,
}

/// How a segment starts.
pub(crate) struct SegmentStart {
    pub(crate) client: Arc<Client>,
    /// `None` for a segment sampled out.
    pub(crate) scopes: Option<Scopes>,
    pub(crate) trace_id: TraceId,
    pub(crate) root_span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) sampled: bool,
    pub(crate) sample_rate: f64,
    pub(crate) sample_rand: f64,
    pub(crate) name: String,
    pub(crate) source: TransactionSource,
    pub(crate) incoming_dsc: Option<DynamicSamplingContext>,
    /// Ignored by `ignore_spans` (then `sampled` is `false`).
    pub(crate) ignored: bool,
}

impl Segment {
    pub(crate) fn new(start: SegmentStart) -> Segment {
        if start.sampled {
            // A profiler in `trace` lifecycle runs while sampled transactions do.
            crate::profiling::root_span_started();
        }
        let stream =
            (start.sampled && start.client.options().trace_lifecycle.is_stream()).then(|| {
                let options = start.client.options();
                let base = DynamicSamplingContext {
                    trace_id: Some(start.trace_id),
                    public_key: options.dsn.as_ref().map(|dsn| dsn.public_key().to_owned()),
                    sample_rate: Some(start.sample_rate),
                    sample_rand: Some(start.sample_rand),
                    sampled: Some(start.sampled),
                    release: options.release.as_deref().map(str::to_owned),
                    environment: Some(options.effective_environment().to_owned()),
                    org_id: effective_org_id(&start.client),
                    ..DynamicSamplingContext::default()
                };
                let attributes = match &start.scopes {
                    Some(scopes) => {
                        let snapshots = Snapshots::of(scopes);
                        start.client.segment_attributes(snapshots.scopes())
                    }
                    None => Default::default(),
                };
                Arc::new(SegmentLink::new(
                    start.trace_id,
                    start.root_span_id,
                    (start.name.clone(), start.source),
                    base,
                    start.incoming_dsc.clone(),
                    options.dsn.as_ref().map(|dsn| dsn.public_key().to_owned()),
                    attributes,
                ))
            });
        Segment {
            stream,
            ignored: start.ignored,
            client: start.client,
            scopes: start.scopes,
            trace_id: start.trace_id,
            root_span_id: start.root_span_id,
            parent_span_id: start.parent_span_id,
            sampled: start.sampled,
            sample_rate: start.sample_rate,
            sample_rand: start.sample_rand,
            children: AtomicUsize::new(0),
            done: AtomicBool::new(false),
            header: OnceLock::new(),
            state: Mutex::new(SegmentState {
                name: start.name,
                source: start.source,
                spans: Vec::new(),
                measurements: SortedMap::new(),
                frozen_dsc: start.incoming_dsc,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SegmentState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Counts a new child; `false` if it must not be recorded (sampled out, over
    /// [`MAX_SPANS`], or the transaction already sent).
    pub(crate) fn admit_child(&self) -> bool {
        if self.sampled && self.stream.is_some() {
            // Streamed spans are sent on their own, also after their segment ended; the span
            // buffer bounds what waits. Nothing reads the count of a sampled streaming
            // segment (it counts drops of one sampled out or ignored), so this is not counted:
            // an atomic increment costs a streamed span about 9 ns.
            return true;
        }
        let n = self.children.fetch_add(1, Ordering::Relaxed);
        if !self.sampled {
            return false;
        }
        if self.done.load(Ordering::Relaxed) {
            crate::sentry_debug!("a span was started after its transaction finished; dropped");
            return false;
        }
        if n >= MAX_SPANS {
            if n == MAX_SPANS {
                crate::sentry_debug!(
                    "transaction has more than {MAX_SPANS} spans; further spans are dropped"
                );
            }
            self.client.client_reports().record(
                DiscardReason::BufferOverflow,
                DataCategory::Span,
                1,
            );
            return false;
        }
        true
    }

    /// Streams a finished child span (`trace_lifecycle = Stream`); `false` if this segment
    /// does not stream.
    pub(crate) fn stream_span(&self, record: &mut Option<SpanRecord>, ending: Ending) -> bool {
        match &self.stream {
            Some(link) => {
                self.client.capture_span(record, ending, link, false);
                true
            }
            None => false,
        }
    }

    /// Adds a finished child span.
    pub(crate) fn push_span(&self, span: WireSpan) {
        if self.done.load(Ordering::Acquire) {
            crate::sentry_debug!("a span finished after its transaction was sent; dropped");
            self.client
                .client_reports()
                .record(DiscardReason::Invalid, DataCategory::Span, 1);
            return;
        }
        let mut state = self.state();
        // A large transaction continues in a vector a sent one left.
        crate::span_pool::reserve_one(&mut state.spans);
        state.spans.push(span);
    }

    pub(crate) fn set_name(&self, name: String, source: TransactionSource) {
        if let Some(link) = &self.stream {
            link.set_name(name.clone(), source);
        }
        let mut state = self.state();
        state.name = name;
        state.source = source;
    }

    pub(crate) fn name(&self) -> String {
        self.state().name.clone()
    }

    pub(crate) fn set_measurement(&self, name: String, measurement: Measurement) {
        if self.sampled {
            self.state().measurements.insert(name, measurement);
        }
    }

    /// The dynamic sampling context, frozen from now on.
    pub(crate) fn dsc(&self) -> DynamicSamplingContext {
        if let Some(link) = &self.stream {
            return link.dsc();
        }
        let mut state = self.state();
        if let Some(dsc) = &state.frozen_dsc {
            return dsc.clone();
        }
        let options = self.client.options();
        let mut dsc = DynamicSamplingContext {
            trace_id: Some(self.trace_id),
            public_key: options.dsn.as_ref().map(|dsn| dsn.public_key().to_owned()),
            sample_rate: Some(self.sample_rate),
            sample_rand: Some(self.sample_rand),
            sampled: Some(self.sampled),
            release: options.release.as_deref().map(str::to_owned),
            environment: Some(options.effective_environment().to_owned()),
            org_id: effective_org_id(&self.client),
            ..DynamicSamplingContext::default()
        };
        // Names from URLs are high-cardinality and may hold personal data.
        if state.source != TransactionSource::Url && !state.name.is_empty() {
            dsc.transaction = Some(state.name.clone());
        }
        state.frozen_dsc = Some(dsc.clone());
        dsc
    }

    /// The envelope `trace` header of this transaction's trace (freezing its sampling
    /// context), built at the first call and shared after.
    pub(crate) fn trace_header(&self) -> Arc<Map> {
        if let Some(link) = &self.stream {
            return link.header();
        }
        Arc::clone(self.header.get_or_init(|| {
            let header = self.dsc().to_header_map();
            Arc::new(self.client.complete_header(header, Some(self.trace_id)))
        }))
    }

    /// Ends the transaction with its root span's record: sends it if sampled, counts it as
    /// sampled out otherwise. Only the first call does anything.
    pub(crate) fn finish(&self, root: Option<SpanRecord>, end: SystemTime) {
        if self.done.swap(true, Ordering::AcqRel) {
            return;
        }
        if self.sampled {
            crate::profiling::root_span_finished();
        }
        let spans_total = self.children.load(Ordering::Relaxed) as u64 + 1;
        if self.ignored {
            self.client.client_reports().record(
                DiscardReason::Ignored,
                DataCategory::Span,
                spans_total,
            );
            return;
        }
        if !self.sampled && self.client.options().trace_lifecycle.is_stream() {
            // Streaming sends no transaction: only the spans count.
            self.client.client_reports().record(
                DiscardReason::SampleRate,
                DataCategory::Span,
                spans_total,
            );
            return;
        }
        if !self.sampled {
            self.client.client_reports().record_all(
                DiscardReason::SampleRate,
                [
                    (DataCategory::Transaction, 1),
                    (DataCategory::Span, spans_total),
                ],
            );
            return;
        }
        // A recording root span always finishes the segment with its record (its handle's
        // drop does), so this is only a guard.
        let Some(mut root) = root else { return };
        if let Some(link) = &self.stream {
            // Span v2 has no measurements: each becomes an attribute of the segment span,
            // with its unit (an attribute the span set itself wins).
            let measurements = std::mem::take(&mut self.state().measurements);
            for (name, measurement) in measurements {
                let mut value = Map::new();
                value.insert("value".into(), Value::F64(measurement.value));
                if let Some(unit) = &measurement.unit {
                    value.insert("unit".into(), unit.as_str().into());
                }
                root.attributes.entry(name).or_insert(Value::Map(value));
            }
            let (name, _) = link.name();
            let ending = Ending {
                trace_id: self.trace_id,
                span_id: self.root_span_id,
                parent_span_id: self.parent_span_id,
                end,
                segment_name: Some(name),
            };
            // The segment hands its spans over as it ends.
            self.client
                .capture_span(&mut Some(root), ending, link, true);
            return;
        }
        let header = self.trace_header();
        let (name, source, spans, measurements) = {
            let mut state = self.state();
            (
                std::mem::take(&mut state.name),
                state.source,
                std::mem::take(&mut state.spans),
                std::mem::take(&mut state.measurements),
            )
        };
        let mut event = Event {
            ty: EventType::Transaction,
            level: Level::Info,
            transaction: Some(name),
            transaction_info: Some(TransactionInfo { source }),
            start_timestamp: Some(root.start),
            timestamp: end.max(root.start),
            spans,
            measurements,
            ..Event::default()
        };
        event.contexts.insert(
            "trace".into(),
            Context::Trace(Box::new({
                let mut context =
                    root.root_trace_context(self.trace_id, self.root_span_id, self.parent_span_id);
                // Which lifecycle sent the spans (sentry-conventions): once per transaction.
                context
                    .data
                    .insert("sentry.trace_lifecycle".into(), "static".into());
                context
            })),
        );
        if let Some(profiler_id) = crate::profiling::active_profiler() {
            // Sentry joins the transaction to the profile chunks of this profiler.
            let mut profile = Map::new();
            profile.insert("profiler_id".into(), profiler_id.to_string().into());
            event
                .contexts
                .insert("profile".into(), Context::Other(profile));
        }
        for (key, value) in root.tags {
            event.tags.insert(key.into(), value.into());
        }
        let Some(scopes) = &self.scopes else { return };
        let snapshots = Snapshots::of(scopes);
        self.client
            .capture_transaction(event, snapshots.scopes(), header);
    }
}

impl Drop for Segment {
    fn drop(&mut self) {
        // A sampled transaction ends with its root span; one sampled out may end only when its
        // last handle goes.
        // No end time is needed: a sampled transaction has already ended with its root span.
        self.finish(None, SystemTime::UNIX_EPOCH);
    }
}

/// The organization id: the option, else the DSN's host.
pub(crate) fn effective_org_id(client: &Client) -> Option<String> {
    let options = client.options();
    // The DSN's id was read and formatted when the DSN was parsed.
    match &options.org_id {
        Some(id) => Some(String::from(&**id)),
        None => options
            .dsn
            .as_ref()
            .and_then(|dsn| dsn.org_id_text())
            .map(str::to_owned),
    }
}
