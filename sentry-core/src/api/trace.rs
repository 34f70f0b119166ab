//! The tracing verbs: transactions and spans, the current span, and trace propagation.

use std::fmt;

use crate::client::Client;
use crate::propagation::{merge_baggage, DynamicSamplingContext, IncomingTrace};
use crate::protocol::TransactionSource;
use crate::sampling::TransactionContext;
use crate::scope::{with_current_span, with_scopes, PropagationContext, Scope, Scopes};
use crate::span::Span;

/// Starts a transaction: the root span of this process's part of a trace (a request, a job).
///
/// It is sampled now, once (see [`ClientOptions::traces_sample_rate`](crate::ClientOptions)
/// and `traces_sampler`). Make it current with [`Span::enter`] so that spans and events belong
/// to it; it is sent when it finishes. With tracing off, or no client, the span does nothing.
///
/// # Examples
///
/// ```
/// use sentry_core::{start_transaction, TransactionContext};
///
/// let tx = start_transaction(TransactionContext::new("nightly-report", "task")).enter();
/// // ... the job; spans started here are children of the transaction ...
/// drop(tx); // finished and sent (when sampled)
/// ```
pub fn start_transaction(ctx: TransactionContext) -> Span {
    if !sentry_minimal::is_enabled() {
        return Span::noop();
    }
    with_scopes(|scopes| Span::start_transaction(scopes, ctx))
}

/// Starts a child of the current span. Without a current span (no transaction started, or
/// tracing off) the span does nothing.
///
/// # Examples
///
/// ```
/// let span = sentry_core::start_span("cache.get", "user:42");
/// span.set_data("cache.hit", true);
/// span.finish();
/// ```
#[inline]
pub fn start_span(op: &str, name: &str) -> Span {
    if !sentry_minimal::is_enabled() {
        return Span::noop();
    }
    start_span_enabled(op, name)
}

#[inline(never)]
fn start_span_enabled(op: &str, name: &str) -> Span {
    with_current_span(|parent| match parent {
        Some(parent) => parent.start_child(op, name),
        None => Span::noop(),
    })
}

/// Runs `f` in a child of the current span, current while `f` runs, and finishes it after.
///
/// # Examples
///
/// ```
/// let rows = sentry_core::with_span("db.query", "SELECT * FROM users", |span| {
///     span.set_data("db.system", "postgresql");
///     3
/// });
/// assert_eq!(rows, 3);
/// ```
pub fn with_span<R>(op: &str, name: &str, f: impl FnOnce(&Span) -> R) -> R {
    let guard = start_span(op, name).enter();
    f(&guard)
}

/// Runs a function body as a span named after it (operation `function`), a child of the
/// current span: the wrapper for timing a function without naming an operation.
///
/// # Examples
///
/// ```
/// fn rebuild_index(items: &[u32]) -> usize {
///     sentry_core::trace("rebuild_index", || items.len())
/// }
/// assert_eq!(rebuild_index(&[1, 2]), 2);
/// ```
pub fn trace<R>(name: &str, f: impl FnOnce() -> R) -> R {
    with_span("function", name, |_| f())
}

/// The current span, if one is current (and the SDK is enabled).
pub fn get_current_span() -> Option<Span> {
    if !sentry_minimal::is_enabled() {
        return None;
    }
    with_current_span(|span| span.cloned())
}

/// Calls `f` with the current span, if there is one.
///
/// # Examples
///
/// ```
/// sentry_core::update_current_span(|span| span.set_data("items", 12));
/// ```
pub fn update_current_span(f: impl FnOnce(&Span)) {
    if let Some(span) = get_current_span() {
        f(&span);
    }
}

/// Names the current transaction (and events of the current scope), with where the name
/// comes from.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::TransactionSource;
///
/// sentry_core::set_transaction_name("GET /users/{id}", TransactionSource::Route);
/// ```
pub fn set_transaction_name(name: &str, source: TransactionSource) {
    if !sentry_minimal::is_enabled() {
        return;
    }
    with_scopes(|scopes| {
        if let Some(span) = &scopes.span {
            span.set_transaction_name(name, source);
        }
        scopes
            .current
            .update(|scope| scope.set_transaction(Some(name)));
    });
}

/// Continues the trace of an incoming request (or message) from its headers: `sentry-trace`
/// and `baggage` (W3C `traceparent` when there is no `sentry-trace`; names matched
/// case-insensitively).
///
/// The isolation scope joins that trace, so events captured from here on carry it even with
/// tracing off, and outgoing requests pass it on. Returns the context to start the
/// transaction with; it creates no span itself. A trace from another Sentry organization is
/// not continued (see `strict_trace_continuation`): a new one starts instead.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::TransactionSource;
///
/// let headers = [
///     ("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"),
///     ("baggage", "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rate=1"),
/// ];
/// let ctx = sentry_core::continue_trace(headers)
///     .with_name("GET /users/{id}")
///     .with_op("http.server")
///     .with_source(TransactionSource::Route);
/// let _tx = sentry_core::start_transaction(ctx).enter();
/// ```
pub fn continue_trace<'a, I>(headers: I) -> TransactionContext
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    continue_owned(IncomingTrace::from_headers(headers))
}

impl Scopes {
    /// [`continue_trace`] on these scopes' isolation scope, whether or not they are the
    /// calling thread's: for an integration that holds the scopes of a request it has not
    /// entered yet (entering them only for this costs a thread-local swap each way).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::Scopes;
    ///
    /// let request = Scopes::current().fork_isolation();
    /// let ctx = request.continue_trace([(
    ///     "sentry-trace",
    ///     "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
    /// )]);
    /// let transaction = request.start_transaction(ctx.with_name("GET /").with_op("http.server"));
    /// transaction.finish();
    /// ```
    pub fn continue_trace<'a, I>(&self, headers: I) -> TransactionContext
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let incoming = IncomingTrace::from_headers(headers);
        if !sentry_minimal::is_enabled() {
            return TransactionContext::new("", "").continuing(&incoming);
        }
        continue_in(self, incoming)
    }

    /// [`fork_isolation_with`](Self::fork_isolation_with) and
    /// [`continue_trace`](Self::continue_trace) in one step, the usual start of a request:
    /// new scopes whose isolation scope, configured by `configure` as it is made, belongs to
    /// the trace the `headers` carry (or to a new one), and the context to start the
    /// request's transaction with.
    ///
    /// The same as the two calls in turn, for less: the fork is not given a new trace that
    /// the continuation then replaces, and the new isolation scope is not changed after it is
    /// made.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::Scopes;
    ///
    /// let headers = [(
    ///     "sentry-trace",
    ///     "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
    /// )];
    /// let (request, ctx) = Scopes::current().fork_isolation_continuing(headers, |scope| {
    ///     scope.set_tag("route", "/users/{id}");
    /// });
    /// let transaction = request.start_transaction(ctx.with_name("GET /users/{id}"));
    /// transaction.finish();
    /// ```
    pub fn fork_isolation_continuing<'a, I>(
        &self,
        headers: I,
        configure: impl FnOnce(&mut Scope),
    ) -> (Scopes, TransactionContext)
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let incoming = IncomingTrace::from_headers(headers);
        if !sentry_minimal::is_enabled() {
            let ctx = TransactionContext::new("", "").continuing(&incoming);
            return (self.fork_isolation_with(configure), ctx);
        }
        let (propagation, ctx) = continuation(&self.client(), incoming);
        (self.fork_isolation_in(propagation, configure), ctx)
    }

    /// [`start_transaction`] in these scopes, whether or not they are the calling thread's
    /// (see [`continue_trace`](Self::continue_trace)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::{Scopes, TransactionContext};
    ///
    /// let job = Scopes::current().fork_isolation();
    /// let transaction = job.start_transaction(TransactionContext::new("nightly", "task"));
    /// assert!(!transaction.is_sampled()); // no SDK in this example
    /// ```
    pub fn start_transaction(&self, ctx: TransactionContext) -> Span {
        if !sentry_minimal::is_enabled() {
            return Span::noop();
        }
        Span::start_transaction(self, ctx)
    }
}

/// Continues `incoming` on the current isolation scope.
pub(crate) fn continue_incoming(incoming: &IncomingTrace) -> TransactionContext {
    continue_owned(incoming.clone())
}

/// Continues `incoming`, taken, on the current isolation scope.
fn continue_owned(incoming: IncomingTrace) -> TransactionContext {
    if !sentry_minimal::is_enabled() {
        return TransactionContext::new("", "").continuing(&incoming);
    }
    with_scopes(|scopes| continue_in(scopes, incoming))
}

pub(crate) fn continue_in(scopes: &Scopes, incoming: IncomingTrace) -> TransactionContext {
    let (propagation, ctx) = continuation(&scopes.client(), incoming);
    scopes
        .isolation
        .update(|scope| scope.propagation = Some(propagation));
    ctx
}

/// What continuing `incoming` with `client` means: the scope's trace, and the context its
/// transaction starts with (the same trace and `sample_rand`). A trace that may not be
/// continued (another organization's) gives a new trace to both.
fn continuation(
    client: &Client,
    incoming: IncomingTrace,
) -> (PropagationContext, TransactionContext) {
    // One continuation for both the scope and the transaction: same trace, same sample_rand.
    let continued = incoming.into_continued().filter(|continued| {
        let org_id = continued.dsc.org_id.as_deref();
        let ok = crate::span::may_continue_org(client, org_id);
        if !ok {
            crate::sentry_debug!(
                "the incoming trace belongs to another organization; not continued"
            );
        }
        ok
    });
    let ctx = TransactionContext::new("", "");
    match continued {
        Some(continued) => (
            PropagationContext::continuing(continued.clone()),
            ctx.continued(continued),
        ),
        None => {
            // A new trace for the scope, which the transaction belongs to as well.
            let propagation = PropagationContext::new();
            let ctx = ctx.joining(
                propagation.trace_id,
                None,
                None,
                propagation.sample_rand,
                None,
            );
            (propagation, ctx)
        }
    }
}

/// Starts a new trace on the current isolation scope: events captured from here on belong to
/// it, and a trace continued there before (by [`continue_trace`] or from `SENTRY_TRACE`) is
/// no longer joined by new transactions.
///
/// # Examples
///
/// ```
/// for job in ["a", "b"] {
///     sentry_core::start_new_trace(); // each job its own trace
///     sentry_core::capture_message(job, sentry_core::Level::Info);
/// }
/// ```
pub fn start_new_trace() {
    if !sentry_minimal::is_enabled() {
        return;
    }
    with_scopes(|scopes| {
        scopes
            .isolation
            .update(|scope| scope.propagation = Some(PropagationContext::new()));
    });
}

/// The `sentry-trace` header value that continues the current trace: from the current span,
/// or the scope's trace. `None` while the SDK is disabled.
///
/// # Examples
///
/// ```
/// assert_eq!(sentry_core::get_traceparent(), None); // no SDK in this example
/// ```
pub fn get_traceparent() -> Option<String> {
    current_trace(None).map(|t| t.sentry_trace)
}

/// The `baggage` header value (the `sentry-` entries of the dynamic sampling context) of the
/// current trace; the sampling context is frozen from then on. `None` while the SDK is
/// disabled.
pub fn get_baggage() -> Option<String> {
    current_trace(None).map(|t| t.dsc.to_baggage())
}

/// The trace headers an outgoing request to `url` carries, or none when
/// `trace_propagation_targets` does not match it (or the SDK is disabled).
///
/// # Examples
///
/// ```
/// let headers = sentry_core::trace_headers("https://api.example.com/v1/orders");
/// for (name, value) in headers.iter() {
///     // request.header(name, value)
/// #   let _ = (name, value);
/// }
/// // An existing `baggage` header keeps its other vendors' entries:
/// let baggage = headers.baggage_merged_with(Some("othervendor=1"));
/// # assert_eq!(baggage.as_deref(), Some("othervendor=1")); // no SDK in this example: kept as is
/// ```
pub fn trace_headers(url: &str) -> TraceHeaders {
    let Some(trace) = current_trace(Some(url)) else {
        return TraceHeaders::default();
    };
    let traceparent = trace
        .propagate_traceparent
        .then(|| crate::propagation::SentryTrace::to_traceparent(&trace.parent));
    TraceHeaders {
        sentry_trace: Some(trace.sentry_trace),
        baggage: Some(trace.dsc.to_baggage()).filter(|b| !b.is_empty()),
        traceparent,
        dsc: Some(trace.dsc),
    }
}

/// The headers that continue the current trace in an outgoing request: `sentry-trace`,
/// `baggage` and (with `propagate_traceparent`) `traceparent`. Empty when the request's URL
/// is not a propagation target.
#[derive(Clone, Default)]
pub struct TraceHeaders {
    sentry_trace: Option<String>,
    baggage: Option<String>,
    traceparent: Option<String>,
    dsc: Option<DynamicSamplingContext>,
}

impl TraceHeaders {
    /// `(name, value)` pairs to set on the request. The `baggage` value is this SDK's
    /// entries alone: to add them to a `baggage` header the request already has, use
    /// [`baggage_merged_with`](Self::baggage_merged_with) instead.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("sentry-trace", self.sentry_trace.as_deref()),
            ("baggage", self.baggage.as_deref()),
            ("traceparent", self.traceparent.as_deref()),
        ]
        .into_iter()
        .filter_map(|(name, value)| Some((name, value?)))
    }

    /// `true` when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.sentry_trace.is_none()
    }

    /// The `sentry-trace` value.
    pub fn sentry_trace(&self) -> Option<&str> {
        self.sentry_trace.as_deref()
    }

    /// The `baggage` value (this SDK's entries only).
    pub fn baggage(&self) -> Option<&str> {
        self.baggage.as_deref()
    }

    /// The W3C `traceparent` value, when `propagate_traceparent` is on.
    pub fn traceparent(&self) -> Option<&str> {
        self.traceparent.as_deref()
    }

    /// The `baggage` value for a request that already has `existing`: its entries of other
    /// vendors kept (its `sentry-` entries replaced by this trace's), within the 8,192 bytes
    /// the W3C allows.
    pub fn baggage_merged_with(&self, existing: Option<&str>) -> Option<String> {
        match &self.dsc {
            Some(dsc) => merge_baggage(existing, dsc),
            None => existing.map(str::to_owned),
        }
    }
}

impl fmt::Debug for TraceHeaders {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// The current trace, as the verbs above need it.
struct CurrentTrace {
    parent: crate::propagation::SentryTrace,
    sentry_trace: String,
    dsc: DynamicSamplingContext,
    propagate_traceparent: bool,
}

/// The current trace; `None` when the SDK is disabled or `url` is not a propagation target.
fn current_trace(url: Option<&str>) -> Option<CurrentTrace> {
    if !sentry_minimal::is_enabled() {
        return None;
    }
    with_scopes(|scopes| {
        let client = scopes.client();
        if let Some(url) = url {
            if !client.options().trace_propagation_targets.matches(url) {
                return None;
            }
        }
        let (parent, dsc) = match scopes
            .span
            .as_ref()
            .and_then(|s| Some((s.sentry_trace()?, s)))
        {
            Some((parent, span)) => (parent, span.dsc()?),
            None => scopes.with_trace(|p| p.map(|p| (p.sentry_trace(), p.dsc(&client))))?,
        };
        let options = client.options();
        Some(CurrentTrace {
            sentry_trace: parent.to_string(),
            parent,
            dsc,
            propagate_traceparent: options.propagate_traceparent,
        })
    })
}

#[cfg(test)]
mod tests {
    use crate::test::with_captured_transactions_options;
    use crate::{ClientOptions, Scopes};

    const TRACE: &str = "771a43a4192642f0b136d5159a501700";

    #[test]
    fn scopes_held_continue_and_start_without_being_entered() {
        let options = ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        };
        let transactions = with_captured_transactions_options(options, || {
            let outside = crate::get_traceparent().unwrap();
            let request = Scopes::current().fork_isolation();
            let ctx = request.continue_trace([
                (
                    "sentry-trace",
                    "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
                ),
                ("baggage", "sentry-sample_rand=0.5,sentry-environment=up"),
            ]);
            let tx = request.start_transaction(ctx.with_name("GET /").with_op("http.server"));
            assert_eq!(
                tx.trace_id().map(|id| id.to_string()).as_deref(),
                Some(TRACE)
            );
            // Only the request's scopes joined the trace.
            assert_eq!(crate::get_traceparent().unwrap(), outside);
            let inside = request.bind(crate::get_traceparent).unwrap();
            assert!(inside.starts_with(TRACE), "{inside}");
            let baggage = request.bind(crate::get_baggage).unwrap();
            assert!(baggage.contains("sentry-environment=up"), "{baggage}");
            tx.finish();
        });
        assert_eq!(transactions.len(), 1);
        assert_eq!(transactions[0].transaction.as_deref(), Some("GET /"));
    }
}
