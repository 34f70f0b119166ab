//! Spans and transactions: timed operations of a trace.
//!
//! A transaction is the root span of the part of a trace that runs in this process (a request,
//! a job); its children are spans. Both are a [`Span`]: start one with
//! [`start_transaction`](crate::start_transaction) or [`start_span`](crate::start_span) (a
//! child of the current span), make it current for a stretch of code with [`Span::enter`], and
//! it is finished when that guard, or its last handle, is dropped.
//!
//! What a span costs depends on the sampling decision, made once per transaction: a sampled
//! span allocates its record; a span of a transaction sampled out allocates nothing and only
//! counts itself (for the client report that says how many spans were not sent), and with
//! tracing off, or no SDK, a span is an empty value.

mod guard;
mod segment;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use sentry_minimal::{Map, SpanId, TraceId, Value};

use crate::client::Client;
use crate::propagation::{DynamicSamplingContext, SentryTrace};
use crate::protocol::TransactionSource;
use crate::protocol::{
    new_span_id, DataCategory, DiscardReason, Measurement, MeasurementUnit, SpanLink, SpanStatus,
    SpanText, TraceContext,
};
use crate::sampling::{decide, TransactionContext};
use crate::scope::Scopes;

pub use guard::SpanGuard;

use crate::span_record::{Ending, SpanRecord};
pub(crate) use segment::effective_org_id;
use segment::{Segment, SegmentStart};

/// Whether `ctx`'s incoming trace may be continued by `client`, by the organization ids.
pub(crate) fn may_continue(client: &Client, ctx: &TransactionContext) -> bool {
    may_continue_org(
        client,
        ctx.incoming_dsc.as_ref().and_then(|d| d.org_id.as_deref()),
    )
}

/// Whether a trace of the organization `incoming` may be continued by `client`.
pub(crate) fn may_continue_org(client: &Client, incoming: Option<&str>) -> bool {
    let own = effective_org_id(client);
    crate::propagation::should_continue_trace(
        incoming,
        own.as_deref(),
        client.options().strict_trace_continuation,
    )
}

/// Whether `client`'s [`ignore_spans`](crate::ClientOptions::ignore_spans) drops a span
/// starting with this name, operation and attributes (streaming only).
#[inline]
fn is_ignored(client: &Client, name: &str, op: &str, attributes: Option<&Map>) -> bool {
    let options = client.options();
    if options.ignore_spans.is_empty() || !options.trace_lifecycle.is_stream() {
        return false;
    }
    matches_ignore_rule(options, name, op, attributes)
}

#[inline(never)]
fn matches_ignore_rule(
    options: &crate::options::ClientOptions,
    name: &str,
    op: &str,
    attributes: Option<&Map>,
) -> bool {
    let mut all = attributes.cloned().unwrap_or_default();
    if !op.is_empty() {
        all.entry("sentry.op".into())
            .or_insert_with(|| op.to_owned().into());
    }
    options
        .ignore_spans
        .iter()
        .any(|rule| rule.matches(name, &all))
}

/// A span or a transaction: a timed operation of a trace.
///
/// A `Span` is a cheap handle (clone it to hand it to another thread or task); all clones are
/// the same span. It ends with [`finish`](Self::finish), when the guard of
/// [`enter`](Self::enter) is dropped, or when its last handle is dropped. Changes after it
/// ended are ignored.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::SpanStatus;
/// use sentry_core::test::with_captured_transactions_options;
/// use sentry_core::{ClientOptions, TransactionContext};
///
/// let options = ClientOptions { traces_sample_rate: Some(1.0), ..Default::default() };
/// let transactions = with_captured_transactions_options(options, || {
///     let tx = sentry_core::start_transaction(TransactionContext::new("checkout", "task"));
///     let _tx = tx.enter(); // current until dropped
///     let span = sentry_core::start_span("db.query", "SELECT * FROM carts");
///     span.set_data("db.system", "postgresql");
///     span.set_status(SpanStatus::Ok);
///     span.finish();
/// });
/// assert_eq!(transactions[0].transaction.as_deref(), Some("checkout"));
/// assert_eq!(transactions[0].spans[0].op.as_deref(), Some("db.query"));
/// ```
#[derive(Clone)]
pub struct Span {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    /// Tracing off, no client, or no transaction to belong to: does nothing.
    Off,
    /// A span that is not recorded: its transaction was sampled out (or is over the span
    /// limit). It counts as a span of its transaction.
    Unsampled(Arc<Segment>),
    /// The root span of a transaction sampled out. (Two variants rather than a flag: a
    /// `Span` stays two words, moved as such.)
    UnsampledRoot(Arc<Segment>),
    /// A recorded span.
    Recording(Arc<Node>),
}

/// A recorded span.
struct Node {
    segment: Arc<Segment>,
    span_id: SpanId,
    parent_span_id: Option<SpanId>,
    root: bool,
    /// `None` once finished.
    record: Mutex<Option<SpanRecord>>,
}

impl Node {
    fn with_record(&self, f: impl FnOnce(&mut SpanRecord)) {
        if let Some(record) = self
            .record
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            f(record);
        }
    }

    fn finish(&self, end: SystemTime) {
        let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        if record.is_none() {
            return;
        }
        if !self.root && self.segment.stream.is_some() {
            // Lent to the span buffer, which moves it into its segment's list; it becomes a
            // span v2 item on the worker.
            let ending = Ending {
                trace_id: self.segment.trace_id,
                span_id: self.span_id,
                parent_span_id: self.parent_span_id,
                end,
                segment_name: None,
            };
            self.segment.stream_span(&mut record, ending);
            return;
        }
        let taken = record.take();
        // Unlocked before the transaction is sent: its hooks may touch this span.
        drop(record);
        let Some(record) = taken else { return };
        if self.root {
            self.segment.finish(Some(record), end);
        } else {
            let wire = record.into_wire(
                self.segment.trace_id,
                self.span_id,
                self.parent_span_id,
                end,
            );
            self.segment.push_span(wire);
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let record = self
            .record
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        if record.is_some() {
            self.finish(SystemTime::now());
        }
    }
}

impl Default for Span {
    /// The no-op span ([`Span::noop`]).
    fn default() -> Span {
        Span::noop()
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Span");
        match &self.inner {
            Inner::Off => d.field("recording", &false),
            Inner::Unsampled(segment) | Inner::UnsampledRoot(segment) => d
                .field("trace_id", &segment.trace_id)
                .field("transaction", &self.is_transaction())
                .field("sampled", &false),
            Inner::Recording(node) => d
                .field("trace_id", &node.segment.trace_id)
                .field("span_id", &node.span_id)
                .field("transaction", &node.root)
                .field("sampled", &true),
        };
        d.finish()
    }
}

impl Span {
    /// A span that records nothing, as returned while tracing is off.
    pub const fn noop() -> Span {
        Span { inner: Inner::Off }
    }

    /// Starts a transaction (the `start_transaction` verb, with the client already chosen).
    pub(crate) fn start_transaction(scopes: &Scopes, ctx: TransactionContext) -> Span {
        let client = scopes.client();
        if !client.options().tracing_enabled() || !client.is_enabled() {
            // Tracing is off (or no client is bound): nothing to decide or count.
            return Span::noop();
        }
        // The span id of the scopes' trace, when the transaction joins it: what an unsampled
        // streamed trace propagates (see below).
        let mut scopes_span_id = None;
        let ctx = if ctx.own_trace {
            ctx
        } else {
            // A trace the scopes continue (from `continue_trace` or `SENTRY_TRACE`) is joined;
            // otherwise the context's own new trace is kept, so a process that never forks
            // isolation scopes does not put every transaction into one endless trace.
            let continued = scopes.with_trace(|p| {
                let p = p?;
                p.parent_span_id?;
                Some((
                    p.span_id,
                    p.trace_id,
                    p.parent_span_id,
                    p.sampled,
                    p.sample_rand,
                    p.incoming_dsc(),
                ))
            });
            match continued {
                Some((span_id, trace_id, parent, sampled, sample_rand, dsc)) => {
                    scopes_span_id = Some(span_id);
                    ctx.joining(trace_id, parent, sampled, sample_rand, dsc)
                }
                None => ctx,
            }
        };
        let ctx = if ctx.incoming_dsc.is_some() && !may_continue(&client, &ctx) {
            crate::sentry_debug!(
                "the incoming trace belongs to another organization; a new trace starts"
            );
            ctx.restarted()
        } else {
            ctx
        };
        let options = client.options();
        let ignored = is_ignored(&client, &ctx.name, &ctx.op, ctx.start_attributes.as_ref());
        let mut decision = decide(
            &ctx,
            options.traces_sample_rate,
            options.traces_sampler.as_deref(),
        );
        if ignored {
            decision.sampled = false;
        }
        // A trace sampled out while spans stream has no spans at all (the span-first API's
        // no-op span): what it propagates are the ids of the scopes' trace it joined, as if
        // no span had started, never an id made up for a span that does not exist.
        let root_span_id = match scopes_span_id {
            Some(id) if !decision.sampled && options.trace_lifecycle.is_stream() => id,
            _ => new_span_id(),
        };
        let start = ctx.start_timestamp.unwrap_or_else(SystemTime::now);
        let mut ctx = ctx;
        let segment = Arc::new(Segment::new(SegmentStart {
            client,
            scopes: decision.sampled.then(|| scopes.without_span()),
            trace_id: ctx.trace_id,
            root_span_id,
            parent_span_id: ctx.parent_span_id,
            sampled: decision.sampled,
            sample_rate: decision.sample_rate,
            sample_rand: decision.sample_rand,
            name: std::mem::take(&mut ctx.name),
            source: ctx.source,
            incoming_dsc: ctx.incoming_dsc,
            ignored,
        }));
        if !decision.sampled {
            return Span {
                inner: Inner::UnsampledRoot(segment),
            };
        }
        let mut record = SpanRecord::new(ctx.op.into(), SpanText::default(), start);
        record.origin = ctx.origin.map(SpanText::from);
        Span {
            inner: Inner::Recording(Arc::new(Node {
                segment,
                span_id: root_span_id,
                parent_span_id: ctx.parent_span_id,
                root: true,
                record: Mutex::new(Some(record)),
            })),
        }
    }

    /// Starts a child of this span. A child of a span that is not recorded is not recorded
    /// either; the transaction records at most 1,000 spans.
    pub fn start_child(&self, op: &str, name: &str) -> Span {
        self.start_child_at(op, name, None)
    }

    /// [`start_child`](Self::start_child) with an explicit start time.
    pub fn start_child_at(&self, op: &str, name: &str, start: Option<SystemTime>) -> Span {
        self.start_child_with(op, name, start, Map::new())
    }

    /// [`start_child`](Self::start_child) with its data known at the start: the map becomes
    /// the child's data (attributes) as it is, where a [`set_data`](Self::set_data) per entry
    /// would take the span's lock and grow its map once each, and `ignore_spans` rules see
    /// it. An integration that knows a span's data up front (the `tracing` layer: a span's
    /// fields and code location) starts it this way.
    ///
    /// ```
    /// use sentry_core::test::with_captured_transactions_options;
    /// use sentry_core::{ClientOptions, Map, TransactionContext};
    ///
    /// let options = ClientOptions { traces_sample_rate: Some(1.0), ..Default::default() };
    /// let transactions = with_captured_transactions_options(options, || {
    ///     let tx = sentry_core::start_transaction(TransactionContext::new("import", "task"));
    ///     let mut data = Map::with_capacity(2);
    ///     data.insert("file".into(), "a.csv".into());
    ///     data.insert("rows".into(), 120.into());
    ///     tx.start_child_with_data("file.read", "read a.csv", data).finish();
    ///     tx.finish();
    /// });
    /// assert_eq!(transactions[0].spans[0].data["rows"], 120.into());
    /// ```
    pub fn start_child_with_data(&self, op: &str, name: &str, data: Map) -> Span {
        self.start_child_with(op, name, None, data)
    }

    /// A child with attributes known at its start (which [`ignore_spans`] rules may match).
    ///
    /// [`ignore_spans`]: crate::ClientOptions::ignore_spans
    pub(crate) fn start_child_with(
        &self,
        op: &str,
        name: &str,
        start: Option<SystemTime>,
        attributes: Map,
    ) -> Span {
        let (segment, parent) = match &self.inner {
            Inner::Off => return Span::noop(),
            Inner::Unsampled(segment) | Inner::UnsampledRoot(segment) => (segment, None),
            Inner::Recording(node) => (&node.segment, Some(node)),
        };
        if let Some(node) = parent {
            if segment.stream.is_some() && is_ignored(&segment.client, name, op, Some(&attributes))
            {
                segment.client.client_reports().record(
                    DiscardReason::Ignored,
                    DataCategory::Span,
                    1,
                );
                // Not recorded; its children become children of its parent.
                return Span {
                    inner: Inner::Recording(Arc::new(Node {
                        segment: Arc::clone(segment),
                        span_id: node.span_id,
                        parent_span_id: node.parent_span_id,
                        root: false,
                        record: Mutex::new(None),
                    })),
                };
            }
        }
        let admitted = segment.admit_child();
        match parent {
            Some(parent) if admitted => {
                let start = start.unwrap_or_else(SystemTime::now);
                // Short texts are kept inline: no allocation but the node's. The record is
                // built inside the node's expression, so it is not copied on its way there.
                Span {
                    inner: Inner::Recording(Arc::new(Node {
                        segment: Arc::clone(segment),
                        span_id: new_span_id(),
                        parent_span_id: Some(parent.span_id),
                        root: false,
                        record: Mutex::new(Some(SpanRecord::with_attributes(
                            op.into(),
                            name.into(),
                            start,
                            attributes,
                        ))),
                    })),
                }
            }
            _ => Span {
                inner: Inner::Unsampled(Arc::clone(segment)),
            },
        }
    }

    /// Ends the span now. A transaction is then sent (when sampled), with the spans that
    /// ended before it.
    pub fn finish(&self) {
        match &self.inner {
            // The clock is read only for a span that records its end.
            Inner::Recording(node) => node.finish(SystemTime::now()),
            Inner::UnsampledRoot(segment) => segment.finish(None, SystemTime::UNIX_EPOCH),
            Inner::Off | Inner::Unsampled(_) => {}
        }
    }

    /// Ends the span at `end` (not before its start).
    pub fn finish_at(&self, end: SystemTime) {
        match &self.inner {
            Inner::Off => {}
            Inner::UnsampledRoot(segment) => segment.finish(None, end),
            Inner::Unsampled(_) => {}
            Inner::Recording(node) => node.finish(end),
        }
    }

    /// `true` if the span is recorded and will be sent with its transaction.
    pub fn is_sampled(&self) -> bool {
        matches!(self.inner, Inner::Recording(_))
    }

    /// `true` for the root span of a transaction.
    pub fn is_transaction(&self) -> bool {
        match &self.inner {
            Inner::Off => false,
            Inner::Unsampled(_) => false,
            Inner::UnsampledRoot(_) => true,
            Inner::Recording(node) => node.root,
        }
    }

    /// `false` for the no-op span of tracing that is off.
    pub fn is_active(&self) -> bool {
        !matches!(self.inner, Inner::Off)
    }

    /// Whether this span is the current span of this thread's scopes.
    ///
    /// Spans that are not recorded have no identity of their own: two children of the same
    /// transaction that are not recorded (sampled out, or over the span limit) answer alike
    /// to everything, so either counts as current when the other is. An integration that
    /// makes spans current as they are entered (the `tracing` layer) skips the switch when
    /// this is `true`: in a trace sampled out, entering a child inside its parent then costs
    /// no change of scopes.
    ///
    /// ```
    /// use sentry_core::{ClientOptions, TransactionContext};
    ///
    /// let options = ClientOptions { traces_sample_rate: Some(1.0), ..Default::default() };
    /// sentry_core::test::with_captured_transactions_options(options, || {
    ///     let tx = sentry_core::start_transaction(TransactionContext::new("job", "task"));
    ///     assert!(!tx.is_current());
    ///     let _entered = tx.clone().enter();
    ///     assert!(tx.is_current());
    ///     assert!(!tx.start_child("db", "SELECT 1").is_current());
    /// });
    /// ```
    pub fn is_current(&self) -> bool {
        crate::scope::with_current_span(|current| {
            current.is_some_and(|current| match (&current.inner, &self.inner) {
                (Inner::Recording(a), Inner::Recording(b)) => Arc::ptr_eq(a, b),
                (Inner::Unsampled(a), Inner::Unsampled(b))
                | (Inner::UnsampledRoot(a), Inner::UnsampledRoot(b)) => Arc::ptr_eq(a, b),
                (Inner::Off, Inner::Off) => true,
                _ => false,
            })
        })
    }

    /// The trace the span belongs to (`None` while tracing is off).
    pub fn trace_id(&self) -> Option<TraceId> {
        self.segment().map(|s| s.trace_id)
    }

    /// The trace and span ids, read without locking the span: what logs and metrics captured
    /// inside it carry.
    pub(crate) fn ids(&self) -> Option<(TraceId, SpanId)> {
        Some((self.trace_id()?, self.span_id()?))
    }

    /// The span's id. A span that is not recorded has none of its own; it answers with its
    /// transaction's, which is what outgoing requests then continue from.
    pub fn span_id(&self) -> Option<SpanId> {
        match &self.inner {
            Inner::Off => None,
            Inner::Unsampled(segment) | Inner::UnsampledRoot(segment) => Some(segment.root_span_id),
            Inner::Recording(node) => Some(node.span_id),
        }
    }

    /// Sets the status.
    pub fn set_status(&self, status: SpanStatus) {
        self.with_record(|r| r.status = Some(status));
    }

    /// The status, if set (and the span is recorded).
    pub fn status(&self) -> Option<SpanStatus> {
        let mut status = None;
        self.with_record(|r| status = r.status);
        status
    }

    /// Sets a data attribute (the span's `data` in a transaction).
    pub fn set_data(&self, key: &str, value: impl Into<Value>) {
        if let Inner::Recording(node) = &self.inner {
            let value = value.into();
            node.with_record(|r| r.set_attribute(key.to_owned(), value));
        }
    }

    /// Sets an attribute; the same as [`set_data`](Self::set_data).
    pub fn set_attribute(&self, key: &str, value: impl Into<Value>) {
        self.set_data(key, value);
    }

    /// Sets several attributes.
    ///
    /// ```
    /// # use sentry_core::{ClientOptions, TransactionContext};
    /// # let options = ClientOptions { traces_sample_rate: Some(1.0), ..Default::default() };
    /// # sentry_core::test::with_captured_transactions_options(options, || {
    /// let span = sentry_core::start_transaction(TransactionContext::new("job", "task"));
    /// span.set_attributes([("retries", 2.into()), ("queue", "mail".into())]);
    /// span.remove_attribute("queue");
    /// assert_eq!(span.attributes().get("retries"), Some(&2.into()));
    /// assert!(span.attributes().get("queue").is_none());
    /// # });
    /// ```
    pub fn set_attributes<K: Into<String>>(
        &self,
        attributes: impl IntoIterator<Item = (K, Value)>,
    ) {
        self.with_record(|r| {
            for (key, value) in attributes {
                r.set_attribute(key.into(), value);
            }
        });
    }

    /// Removes an attribute.
    pub fn remove_attribute(&self, key: &str) {
        self.with_record(|r| {
            if let Some(old) = r.attributes.remove(key) {
                crate::depth::dispose(old);
            }
        });
    }

    /// The attributes set so far (empty for a span that is not recorded).
    pub fn attributes(&self) -> Map {
        let mut attributes = Map::new();
        self.with_record(|r| attributes.clone_from(&r.attributes));
        attributes
    }

    /// The span's name: a transaction's name for the root span, else the name (description)
    /// given at its start. `None` for a span that is not recorded.
    pub fn name(&self) -> Option<String> {
        match &self.inner {
            Inner::Recording(node) if node.root => Some(node.segment.name()),
            Inner::Recording(node) => {
                let mut name = None;
                node.with_record(|r| name = Some(r.name.as_str().to_owned()));
                name
            }
            _ => None,
        }
    }

    /// Links this span to another span (of this trace or another), such as the previous
    /// trace of a user's session. Sent with streamed spans only; transactions have no links.
    pub fn add_link(&self, link: SpanLink) {
        self.with_record(|r| r.links.push(link));
    }

    /// Links this span to `other` with the link type `kind` (`previous_trace`, `next_trace`,
    /// `child_of`, `follows_from`); nothing when `other` has no ids (tracing off).
    pub fn add_link_to(&self, other: &Span, kind: &str) {
        let Some((trace_id, span_id)) = other.ids() else {
            return;
        };
        let mut link = SpanLink::new(trace_id, span_id);
        link.sampled = Some(other.is_sampled());
        link.attributes
            .insert("sentry.link.type".into(), kind.into());
        self.add_link(link);
    }

    /// Sets a tag (a searchable string).
    pub fn set_tag(&self, key: &str, value: impl Into<String>) {
        if let Inner::Recording(node) = &self.inner {
            let value = value.into();
            node.with_record(|r| {
                r.tags.insert(key.to_owned(), value);
            });
        }
    }

    /// Sets the operation (`db.query`, `http.client`, …).
    pub fn set_op(&self, op: &str) {
        self.with_record(|r| r.op = op.into());
    }

    /// Sets what created the span, such as `auto.db.sqlx` (default `manual`).
    pub fn set_origin(&self, origin: &str) {
        self.with_record(|r| r.origin = Some(origin.into()));
    }

    /// Sets the name: a child's description, or a transaction's name (source `custom`; use
    /// [`set_transaction_name`](Self::set_transaction_name) to give another source).
    pub fn set_name(&self, name: &str) {
        if self.is_transaction() {
            self.set_transaction_name(name, TransactionSource::Custom);
        } else {
            self.with_record(|r| r.name = name.into());
        }
    }

    /// Renames the transaction this span belongs to, with the source of the new name.
    pub fn set_transaction_name(&self, name: &str, source: TransactionSource) {
        if let Some(segment) = self.segment() {
            segment.set_name(name.to_owned(), source);
        }
    }

    /// The name of the transaction this span belongs to.
    pub fn transaction_name(&self) -> Option<String> {
        self.segment().map(|s| s.name())
    }

    /// Records a measurement on the transaction this span belongs to, such as
    /// `("queue.wait", 12.5, MeasurementUnit::Millisecond)`.
    pub fn set_measurement(&self, name: &str, value: f64, unit: MeasurementUnit) {
        if let Some(segment) = self.segment() {
            segment.set_measurement(
                name.to_owned(),
                Measurement {
                    value,
                    unit: Some(unit),
                },
            );
        }
    }

    /// The `sentry-trace` value that continues the trace from this span (`None` while tracing
    /// is off: the scope's trace is propagated instead).
    pub fn sentry_trace(&self) -> Option<SentryTrace> {
        match &self.inner {
            Inner::Off => None,
            Inner::Unsampled(segment) | Inner::UnsampledRoot(segment) => Some(SentryTrace {
                trace_id: segment.trace_id,
                span_id: segment.root_span_id,
                sampled: Some(false),
            }),
            Inner::Recording(node) => Some(SentryTrace {
                trace_id: node.segment.trace_id,
                span_id: node.span_id,
                sampled: Some(true),
            }),
        }
    }

    /// The envelope `trace` header of the span's trace; its sampling context is frozen from
    /// this call on.
    pub(crate) fn trace_header(&self) -> Option<Arc<Map>> {
        self.segment().map(|s| s.trace_header())
    }

    /// The dynamic sampling context of the span's trace; frozen from this call on.
    pub(crate) fn dsc(&self) -> Option<DynamicSamplingContext> {
        self.segment().map(|s| s.dsc())
    }

    /// The `contexts.trace` of events captured while this span is current.
    pub(crate) fn trace_context(&self) -> Option<TraceContext> {
        match &self.inner {
            Inner::Off => None,
            Inner::Unsampled(segment) | Inner::UnsampledRoot(segment) => Some(TraceContext {
                trace_id: segment.trace_id,
                span_id: segment.root_span_id,
                parent_span_id: segment.parent_span_id,
                ..TraceContext::default()
            }),
            Inner::Recording(node) => {
                let mut context = TraceContext {
                    trace_id: node.segment.trace_id,
                    span_id: node.span_id,
                    parent_span_id: node.parent_span_id,
                    ..TraceContext::default()
                };
                node.with_record(|r| {
                    context.op = (!r.op.is_empty()).then(|| r.op.as_str().to_owned());
                });
                Some(context)
            }
        }
    }

    fn segment(&self) -> Option<&Arc<Segment>> {
        match &self.inner {
            Inner::Off => None,
            Inner::Unsampled(segment) | Inner::UnsampledRoot(segment) => Some(segment),
            Inner::Recording(node) => Some(&node.segment),
        }
    }

    fn with_record(&self, f: impl FnOnce(&mut SpanRecord)) {
        if let Inner::Recording(node) = &self.inner {
            node.with_record(f);
        }
    }
}
