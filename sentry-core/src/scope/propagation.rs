//! [`PropagationContext`]: the trace a scope belongs to when no span is current.

use std::sync::{Arc, OnceLock};

use sentry_minimal::{Map, SpanId, TraceId};

use crate::client::Client;
use crate::propagation::{new_sample_rand, ContinuedTrace, DynamicSamplingContext, SentryTrace};
use crate::protocol::{new_span_id, new_trace_id, TraceContext};

/// The trace an isolation scope belongs to when no span is current: every event carries it in
/// `contexts.trace` and its envelope in the `trace` header, and outgoing requests continue it,
/// whether tracing is on or not.
#[derive(Clone, Debug)]
pub(crate) struct PropagationContext {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    /// The caller's span, for a continued trace.
    pub(crate) parent_span_id: Option<SpanId>,
    /// The caller's decision, for a continued trace that made one.
    pub(crate) sampled: Option<bool>,
    pub(crate) sample_rand: f64,
    /// What is frozen once and shared by every copy: one allocation for both.
    frozen: Arc<Frozen>,
}

/// The parts of a trace made once, at its start or on first use, and shared by every copy of
/// its [`PropagationContext`].
#[derive(Debug, Default)]
struct Frozen {
    /// Frozen on arrival for a continued trace, on first use for a new one.
    dsc: OnceLock<DynamicSamplingContext>,
    /// The envelope `trace` header made from it, built once.
    header: OnceLock<Arc<Map>>,
}

impl PropagationContext {
    /// A new trace.
    pub(crate) fn new() -> Self {
        PropagationContext {
            trace_id: new_trace_id(),
            span_id: new_span_id(),
            parent_span_id: None,
            sampled: None,
            sample_rand: new_sample_rand(),
            frozen: Arc::default(),
        }
    }

    /// The trace of an incoming request.
    pub(crate) fn continuing(continued: ContinuedTrace) -> Self {
        PropagationContext {
            trace_id: continued.trace_id,
            span_id: new_span_id(),
            parent_span_id: Some(continued.parent_span_id),
            sampled: continued.sampled,
            sample_rand: continued.sample_rand,
            frozen: Arc::new(Frozen {
                dsc: OnceLock::from(continued.dsc),
                header: OnceLock::new(),
            }),
        }
    }

    /// The frozen sampling context of a trace continued from elsewhere; `None` for a trace
    /// that started here.
    pub(crate) fn incoming_dsc(&self) -> Option<DynamicSamplingContext> {
        self.parent_span_id
            .and_then(|_| self.frozen.dsc.get().cloned())
    }

    /// The `contexts.trace` of events in this trace.
    pub(crate) fn trace_context(&self) -> TraceContext {
        TraceContext {
            trace_id: self.trace_id,
            span_id: self.span_id,
            parent_span_id: self.parent_span_id,
            ..TraceContext::default()
        }
    }

    /// The `sentry-trace` value; without a decision of its own a head SDK sends none.
    pub(crate) fn sentry_trace(&self) -> SentryTrace {
        SentryTrace {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
        }
    }

    /// The envelope `trace` header of this trace, built at the first call and shared after.
    pub(crate) fn trace_header(&self, client: &Client) -> Arc<Map> {
        Arc::clone(self.frozen.header.get_or_init(|| {
            let header = self.dsc(client).to_header_map();
            Arc::new(client.complete_header(header, Some(self.trace_id)))
        }))
    }

    /// The dynamic sampling context: the incoming one, or (for a trace started here) one
    /// without a transaction or a decision, frozen at the first call.
    pub(crate) fn dsc(&self, client: &Client) -> DynamicSamplingContext {
        self.frozen
            .dsc
            .get_or_init(|| {
                let options = client.options();
                DynamicSamplingContext {
                    trace_id: Some(self.trace_id),
                    public_key: options.dsn.as_ref().map(|dsn| dsn.public_key().to_owned()),
                    sample_rand: Some(self.sample_rand),
                    release: options.release.as_deref().map(str::to_owned),
                    environment: Some(options.effective_environment().to_owned()),
                    org_id: crate::span::effective_org_id(client),
                    ..DynamicSamplingContext::default()
                }
            })
            .clone()
    }
}
