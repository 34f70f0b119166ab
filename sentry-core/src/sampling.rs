//! How a transaction begins: its [`TransactionContext`] (name, operation, and the trace it
//! continues), the [`SamplingContext`] a `traces_sampler` decides from, and the decision itself.
//!
//! The decision follows the specification's precedence:
//!
//! 1. an explicit `sampled` on the transaction context;
//! 2. the `traces_sampler`, which gets the parent's decision and rate to follow them or not;
//! 3. the decision of the incoming trace (the `-1`/`-0` flag of `sentry-trace`);
//! 4. `traces_sample_rate`.
//!
//! With neither `traces_sample_rate` nor `traces_sampler` tracing is off and nothing is
//! sampled. A rate is compared with the trace's `sample_rand`, generated once per trace (or
//! taken from the incoming baggage), never with a fresh random number, so every service of a
//! trace with the same rate makes the same decision.

use std::time::SystemTime;

use sentry_minimal::{Map, SpanId, TraceId, Value};

use crate::callback::run_callback;
use crate::propagation::{new_sample_rand, ContinuedTrace, DynamicSamplingContext, IncomingTrace};
use crate::protocol::{new_trace_id, TransactionSource};

/// What a transaction is started with: its name and operation, and the trace it belongs to.
///
/// [`TransactionContext::new`] starts a new trace; [`continue_trace`](crate::continue_trace)
/// (or [`TransactionContext::continue_from_headers`]) continues the trace of an incoming
/// request.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::TransactionSource;
/// use sentry_core::TransactionContext;
///
/// let headers = [("sentry-trace", "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1")];
/// let ctx = TransactionContext::continue_from_headers("GET /users/{id}", "http.server", headers)
///     .with_source(TransactionSource::Route);
/// assert_eq!(ctx.trace_id().to_string(), "771a43a4192642f0b136d5159a501700");
/// assert_eq!(ctx.parent_sampled(), Some(true));
/// ```
#[derive(Clone, Debug)]
pub struct TransactionContext {
    pub(crate) name: String,
    pub(crate) op: String,
    pub(crate) source: TransactionSource,
    pub(crate) origin: Option<String>,
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) sampled: Option<bool>,
    pub(crate) parent_sampled: Option<bool>,
    pub(crate) sample_rand: Option<f64>,
    /// The frozen sampling context of the incoming trace (`Some` when continued, even when
    /// the caller sent no `sentry-` baggage).
    pub(crate) incoming_dsc: Option<DynamicSamplingContext>,
    pub(crate) custom: Map,
    pub(crate) start_timestamp: Option<SystemTime>,
    /// `false` for [`TransactionContext::new`]: the transaction joins the trace of the scopes it
    /// starts in (new or continued) instead of the fresh one made here.
    pub(crate) own_trace: bool,
    /// Attributes the root span is started with (the span-first API), for `ignore_spans`
    /// rules to match before it starts.
    pub(crate) start_attributes: Option<Map>,
}

impl TransactionContext {
    /// A transaction of a new trace, unless the scopes it is started in continue one (by
    /// [`continue_trace`](crate::continue_trace), or from `SENTRY_TRACE` at `init`): then it
    /// joins that trace. [`start_new_trace`](crate::start_new_trace) ends such a continuation.
    ///
    /// `op` is the kind of work (`http.server`, `task`, `queue.process`, …), `name` what this
    /// one does (a route, a job's name). The name's source is [`TransactionSource::Custom`];
    /// integrations set a better one.
    pub fn new(name: impl Into<String>, op: impl Into<String>) -> Self {
        TransactionContext {
            name: name.into(),
            op: op.into(),
            source: TransactionSource::Custom,
            origin: None,
            trace_id: new_trace_id(),
            parent_span_id: None,
            sampled: None,
            parent_sampled: None,
            sample_rand: None,
            incoming_dsc: None,
            custom: Map::new(),
            start_timestamp: None,
            own_trace: false,
            start_attributes: None,
        }
    }

    /// A transaction continuing the trace of an incoming request, from its headers
    /// (`sentry-trace` and `baggage`; W3C `traceparent` when there is no `sentry-trace`).
    /// Names are matched case-insensitively; without valid trace headers it starts a new
    /// trace. Unlike [`continue_trace`](crate::continue_trace), it leaves the scopes alone.
    pub fn continue_from_headers<'a, I>(
        name: impl Into<String>,
        op: impl Into<String>,
        headers: I,
    ) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        TransactionContext::new(name, op).continuing(&IncomingTrace::from_headers(headers))
    }

    /// This context, continuing `incoming` if it names a trace.
    pub(crate) fn continuing(self, incoming: &IncomingTrace) -> Self {
        match incoming.continued() {
            Some(continued) => self.continued(continued),
            None => self,
        }
    }

    /// This context continuing `continued`.
    pub(crate) fn continued(self, continued: ContinuedTrace) -> Self {
        self.joining(
            continued.trace_id,
            Some(continued.parent_span_id),
            continued.sampled,
            continued.sample_rand,
            Some(continued.dsc),
        )
    }

    /// This context in the trace of the scopes it starts in (see [`TransactionContext::new`]).
    pub(crate) fn joining(
        self,
        trace_id: TraceId,
        parent_span_id: Option<SpanId>,
        parent_sampled: Option<bool>,
        sample_rand: f64,
        incoming_dsc: Option<DynamicSamplingContext>,
    ) -> Self {
        TransactionContext {
            trace_id,
            parent_span_id,
            parent_sampled,
            sample_rand: Some(sample_rand),
            incoming_dsc,
            own_trace: true,
            start_attributes: None,
            ..self
        }
    }

    /// This context without its incoming trace: a new trace.
    pub(crate) fn restarted(self) -> Self {
        TransactionContext {
            trace_id: new_trace_id(),
            parent_span_id: None,
            parent_sampled: None,
            sample_rand: None,
            incoming_dsc: None,
            own_trace: true,
            start_attributes: None,
            ..self
        }
    }

    /// Forces the sampling decision, over the sampler, the parent and the rate (tracing must
    /// still be on: a `traces_sample_rate` or a `traces_sampler`).
    #[must_use]
    pub fn with_sampled(mut self, sampled: bool) -> Self {
        self.sampled = Some(sampled);
        self
    }

    /// Sets where the name comes from (a route, a URL, a task, …).
    #[must_use]
    pub fn with_source(mut self, source: TransactionSource) -> Self {
        self.source = source;
        self
    }

    /// Sets the name.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the operation.
    #[must_use]
    pub fn with_op(mut self, op: impl Into<String>) -> Self {
        self.op = op.into();
        self
    }

    /// Sets what started the transaction, such as `auto.http.axum` (default: `manual`).
    #[must_use]
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Sets when the transaction started (default: when it is started).
    #[must_use]
    pub fn with_start_timestamp(mut self, start: SystemTime) -> Self {
        self.start_timestamp = Some(start);
        self
    }

    /// Adds a value the `traces_sampler` can read (such as the request's URL).
    #[must_use]
    pub fn with_custom_sampling_context(
        mut self,
        key: impl Into<String>,
        value: impl Into<Value>,
    ) -> Self {
        self.custom.insert(key.into(), value.into());
        self
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The operation.
    pub fn op(&self) -> &str {
        &self.op
    }

    /// Where the name comes from.
    pub fn source(&self) -> TransactionSource {
        self.source
    }

    /// The trace the transaction belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span of the caller, for a continued trace.
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.parent_span_id
    }

    /// The explicit decision set with [`with_sampled`](Self::with_sampled).
    pub fn sampled(&self) -> Option<bool> {
        self.sampled
    }

    /// The caller's sampling decision, for a continued trace that carried one.
    pub fn parent_sampled(&self) -> Option<bool> {
        self.parent_sampled
    }

    /// The caller's sample rate (from its baggage), for a continued trace that carried one.
    pub fn parent_sample_rate(&self) -> Option<f64> {
        self.incoming_dsc.as_ref().and_then(|dsc| dsc.sample_rate)
    }

    /// The values added with [`with_custom_sampling_context`](Self::with_custom_sampling_context).
    pub fn custom_sampling_context(&self) -> &Map {
        &self.custom
    }
}

/// What a `traces_sampler` decides from: the transaction context (name, operation), the
/// incoming trace's decision and rate, and custom values.
///
/// # Examples
///
/// ```
/// use sentry_core::{SamplingContext, TransactionContext};
///
/// let ctx = TransactionContext::new("nightly-report", "task")
///     .with_custom_sampling_context("tenant", "acme");
/// let sampling = SamplingContext::new(&ctx);
/// assert_eq!(sampling.name(), "nightly-report");
/// assert_eq!(sampling.custom()["tenant"].as_str(), Some("acme"));
/// assert_eq!(sampling.parent_sampled(), None);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SamplingContext<'a> {
    transaction: &'a TransactionContext,
}

impl<'a> SamplingContext<'a> {
    /// The sampling context of a transaction about to start.
    pub fn new(transaction: &'a TransactionContext) -> Self {
        SamplingContext { transaction }
    }

    /// The transaction's context.
    pub fn transaction_context(&self) -> &'a TransactionContext {
        self.transaction
    }

    /// The transaction's name.
    pub fn name(&self) -> &'a str {
        &self.transaction.name
    }

    /// The transaction's operation.
    pub fn op(&self) -> &'a str {
        &self.transaction.op
    }

    /// The incoming trace's decision.
    pub fn parent_sampled(&self) -> Option<bool> {
        self.transaction.parent_sampled
    }

    /// The incoming trace's sample rate.
    pub fn parent_sample_rate(&self) -> Option<f64> {
        self.transaction.parent_sample_rate()
    }

    /// Custom values set on the transaction context.
    pub fn custom(&self) -> &'a Map {
        &self.transaction.custom
    }
}

/// The outcome of sampling a new transaction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Decision {
    pub(crate) sampled: bool,
    /// The rate the decision was made with (for the sampling context).
    pub(crate) sample_rate: f64,
    pub(crate) sample_rand: f64,
}

/// Decides whether the transaction of `ctx` is sampled, with tracing on
/// ([`ClientOptions::tracing_enabled`](crate::ClientOptions::tracing_enabled)).
pub(crate) fn decide(
    ctx: &TransactionContext,
    traces_sample_rate: Option<f64>,
    traces_sampler: Option<&(dyn Fn(&SamplingContext<'_>) -> f64 + Send + Sync)>,
) -> Decision {
    // A continued trace brings its own (see `ContinuedTrace`); a new one draws it here.
    let sample_rand = ctx.sample_rand.unwrap_or_else(new_sample_rand);
    let rate = if let Some(sampled) = ctx.sampled {
        as_rate(sampled)
    } else if let Some(sampler) = traces_sampler {
        let context = SamplingContext::new(ctx);
        match run_callback("traces_sampler", || sampler(&context)) {
            Some(rate) if (0.0..=1.0).contains(&rate) => rate,
            Some(rate) => {
                crate::sentry_debug!(
                    "traces_sampler returned {rate}, not a rate from 0.0 to 1.0; the \
                     transaction is not sampled"
                );
                0.0
            }
            None => 0.0,
        }
    } else if let Some(parent) = ctx.parent_sampled {
        as_rate(parent)
    } else {
        traces_sample_rate.unwrap_or(0.0)
    };
    Decision {
        // A rate of 1.0 samples every `sample_rand` (always below 1); 0.0 none.
        sampled: sample_rand < rate,
        sample_rate: rate,
        sample_rand,
    }
}

fn as_rate(sampled: bool) -> f64 {
    if sampled {
        1.0
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Sampler = dyn Fn(&SamplingContext<'_>) -> f64 + Send + Sync;
    type Row<'a> = (
        Option<bool>,
        Option<bool>,
        Option<&'a Sampler>,
        Option<f64>,
        bool,
    );

    fn ctx(parent: Option<bool>, explicit: Option<bool>) -> TransactionContext {
        let header = match parent {
            Some(true) => "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1",
            Some(false) => "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0",
            None => "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12",
        };
        let mut ctx = TransactionContext::continue_from_headers(
            "t",
            "op",
            [
                ("sentry-trace", header),
                ("baggage", "sentry-sample_rand=0.5,sentry-sample_rate=0.7"),
            ],
        );
        ctx.sampled = explicit;
        ctx
    }

    /// The precedence table: explicit → sampler → parent → rate; tracing off samples nothing.
    #[test]
    fn precedence() {
        let yes: &Sampler = &|_| 1.0;
        let no: &Sampler = &|_| 0.0;
        // (parent, explicit, sampler, rate) -> sampled
        // Tracing on (a rate or a sampler) in every row; off is `tracing_enabled`'s test.
        let rows: [Row<'_>; 9] = [
            // (parent, explicit, sampler, rate) -> sampled
            (None, Some(true), Some(no), Some(0.0), true),
            (None, Some(false), Some(yes), Some(1.0), false),
            (Some(false), None, Some(yes), None, true),
            (Some(true), None, Some(no), Some(1.0), false),
            (Some(true), None, None, Some(0.0), true),
            (Some(false), None, None, Some(1.0), false),
            (None, None, None, Some(0.6), true), // sample_rand 0.5 < 0.6
            (None, None, None, Some(0.4), false),
            (None, None, Some(yes), None, true),
        ];
        for (i, (parent, explicit, sampler, rate, want)) in rows.into_iter().enumerate() {
            let d = decide(&ctx(parent, explicit), rate, sampler);
            assert_eq!(d.sampled, want, "row {i}");
            assert_eq!(
                d.sample_rand, 0.5,
                "row {i}: the incoming sample_rand is kept"
            );
        }
    }

    #[test]
    fn the_sampler_sees_the_parent_and_bad_results_sample_out() {
        let follow: &Sampler = &|c| c.parent_sample_rate().unwrap_or(0.0);
        assert!(decide(&ctx(Some(true), None), None, Some(follow)).sampled); // 0.5 < 0.7
        let nan: &Sampler = &|_| f64::NAN;
        assert!(!decide(&ctx(None, None), None, Some(nan)).sampled);
        let panics: &Sampler = &|_| panic!("sampler bug");
        let d = decide(&ctx(None, None), Some(1.0), Some(panics));
        assert!(!d.sampled);
        assert_eq!(d.sample_rate, 0.0);
    }

    #[test]
    fn a_new_trace_draws_its_sample_rand_once() {
        let ctx = TransactionContext::new("t", "op");
        let d = decide(&ctx, Some(1.0), None);
        assert!(d.sampled);
        assert!((0.0..1.0).contains(&d.sample_rand));
    }

    #[test]
    fn a_missing_sample_rand_is_backfilled_from_the_parent_decision() {
        // Each continuation backfills anew: 100 draws, all in [0.25, 1).
        for _ in 0..100 {
            let ctx = TransactionContext::continue_from_headers(
                "t",
                "op",
                [
                    (
                        "sentry-trace",
                        "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0",
                    ),
                    ("baggage", "sentry-sample_rate=0.25"),
                ],
            );
            let d = decide(&ctx, Some(1.0), None);
            assert!(d.sample_rand >= 0.25, "{}", d.sample_rand);
            assert!(!d.sampled);
        }
    }
}
