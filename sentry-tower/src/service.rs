//! [`SentryService`]: what the layer does when a request comes in.

use std::task::{Context, Poll};

use http::{HeaderName, Method, Request, Response};
use sentry_core::{Scopes, SessionMode};
use tower_service::Service;

use crate::future::{RequestState, ResponseFuture};
use crate::layer::LayerOptions;
use crate::name::transaction_name;
use crate::request::RequestInfo;

/// The origin of the transactions the layer starts (`auto.http.tower`).
pub const ORIGIN: &str = "auto.http.tower";

/// The operation of the transactions the layer starts (`http.server`).
pub const OP: &str = "http.server";

/// The headers an incoming trace is read from, as `HeaderName`s built at compile time, which
/// every header's name is compared with in one pass over the headers: a standard name
/// differs at its tag, a custom one by its bytes. Cheaper than three lookups by hash (each
/// hashes the name and probes), and far cheaper than lookups by `&str` (each parses and
/// validates the name).
static TRACE_HEADERS: [HeaderName; 3] = [
    HeaderName::from_static("sentry-trace"),
    HeaderName::from_static("baggage"),
    HeaderName::from_static("traceparent"),
];

/// The service [`SentryLayer`](crate::SentryLayer) wraps around another.
///
/// For every request: a fork of the current isolation scope (the request's own, entered
/// around every poll of the inner service's future, so work bound to the current scopes
/// keeps it), the incoming trace continued, a transaction `http.server` made current, the
/// `request` interface added to everything the request's scope sends, and a request session
/// when the client's `session_mode` is `Request`. With the SDK off, the request goes straight
/// to the inner service after one atomic load.
#[derive(Clone, Debug)]
pub struct SentryService<S> {
    inner: S,
    options: LayerOptions,
}

impl<S> SentryService<S> {
    pub(crate) fn new(inner: S, options: LayerOptions) -> SentryService<S> {
        SentryService { inner, options }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The wrapped service, unwrapped.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, B, R> Service<Request<B>> for SentryService<S>
where
    S: Service<Request<B>, Response = Response<R>>,
{
    type Response = Response<R>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        if !sentry_minimal::is_enabled() {
            return ResponseFuture::passthrough(self.inner.call(request));
        }
        let parent = Scopes::current();
        let client = parent.client();
        let options = client.options();
        let info = RequestInfo::new(&request, options.send_default_pii);
        let streams = options.trace_lifecycle.is_stream();
        let sessions = options.session_mode == SessionMode::Request;
        let (name, source) = transaction_name(&request);
        // Only the headers that carry a trace, with their names as the core spells them: the
        // core then reads their values alone, and checks no other value's text.
        let headers = request.headers().iter().filter_map(|(name, value)| {
            let name = TRACE_HEADERS.iter().find(|trace| *trace == name)?;
            Some((name.as_str(), value.to_str().ok()?))
        });
        // The request's scopes, made in the caller's trace and configured as they are made:
        // continuing or configuring the scope after would copy it again. Made without
        // entering any scopes (entering costs a thread-local swap each way): only a
        // `traces_sampler`, user code, might look for the current scopes, and it runs with
        // them entered.
        let (scopes, ctx) = parent.fork_isolation_continuing(headers, |scope| {
            scope.set_transaction(Some(&name));
            // The processor owns the request's data: one allocation for both.
            scope.add_event_processor(move |mut event, _hint| {
                if event.request.is_none() {
                    event.request = Some(info.to_protocol());
                }
                Some(event)
            });
        });
        drop(parent);
        let traced = self.options.trace_options_requests || request.method() != Method::OPTIONS;
        if sessions {
            scopes.bind(sentry_core::start_session);
        }
        let transaction = traced
            .then(|| {
                let mut ctx = ctx
                    .with_name(name)
                    .with_op(OP)
                    .with_source(source)
                    .with_origin(ORIGIN);
                if options.traces_sampler.is_none() {
                    return scopes.start_transaction(ctx);
                }
                ctx = ctx
                    .with_custom_sampling_context("http.request.method", request.method().as_str())
                    .with_custom_sampling_context("url.path", request.uri().path());
                scopes.bind(|| scopes.start_transaction(ctx))
            })
            .filter(|transaction| {
                if transaction.is_sampled() {
                    if streams {
                        // No `request` interface goes with streamed spans: the request
                        // travels as the segment's attributes.
                        let info = RequestInfo::new(&request, options.send_default_pii);
                        for (key, value) in info.span_attributes() {
                            transaction.set_data(&key, value);
                        }
                    } else {
                        transaction.set_data("http.request.method", request.method().as_str());
                    }
                }
                transaction.is_active()
            });
        let scopes = match &transaction {
            Some(transaction) => scopes.with_span(Some(transaction.clone())),
            None => scopes,
        };
        let inner = scopes.bind(|| self.inner.call(request));
        ResponseFuture::new(
            inner,
            RequestState::new(scopes, transaction, sessions, self.options),
        )
    }
}
