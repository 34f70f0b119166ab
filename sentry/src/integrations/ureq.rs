//! Outgoing `ureq` 3 requests as `http.client` spans, with the trace headers and an `http`
//! breadcrumb (feature `ureq`): a middleware to put on an `Agent`.
//!
//! ```no_run
//! use sentry::integrations::ureq::SentryMiddleware;
//!
//! let agent: ureq::Agent = ureq::Agent::config_builder()
//!     .middleware(SentryMiddleware::new())
//!     .build()
//!     .into();
//! let response = agent.get("https://stock.internal/items/42").call();
//! # let _ = response;
//! ```
//!
//! Every request of the agent is a span, a child of the span current on the thread that makes
//! it, named `GET https://stock.internal/items/42`; see
//! [`sentry_core::start_outgoing_request`] for its data, the breadcrumb, and when the headers
//! are sent ([`trace_propagation_targets`](crate::ClientOptions::trace_propagation_targets)).
//! A `baggage` header the request already has keeps its other vendors' entries. With ureq's
//! default `http_status_as_error`, a 4xx or 5xx response still ends the span with its status
//! code; a request that gets no response ends it `deadline_exceeded` (a timeout) or
//! `internal_error`.
//!
//! Put it last among the agent's middleware when others change the URL or method, so the span
//! shows what is sent.

use sentry_core::protocol::SpanStatus;
use ureq::http::{Request, Response};
use ureq::middleware::{Middleware, MiddlewareNext};
use ureq::{Body, Error, SendBody};

/// The origin of the spans and breadcrumbs of this adapter.
pub const ORIGIN: &str = "auto.http.ureq";

/// Traces every request of the `ureq::Agent` it is added to; see the [module docs](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct SentryMiddleware;

impl SentryMiddleware {
    /// The middleware.
    pub fn new() -> Self {
        SentryMiddleware
    }
}

impl Middleware for SentryMiddleware {
    fn handle(
        &self,
        mut request: Request<SendBody<'_>>,
        next: MiddlewareNext<'_>,
    ) -> Result<Response<Body>, Error> {
        let url = request.uri().to_string();
        let outgoing = sentry_core::start_outgoing_request(request.method().as_str(), &url)
            .with_origin(ORIGIN);
        super::trace_headers::set_trace_headers(&outgoing, request.headers_mut());
        let result = next.handle(request);
        match &result {
            Ok(response) => outgoing.finish(response.status().as_u16()),
            Err(Error::StatusCode(code)) => outgoing.finish(*code),
            Err(Error::Timeout(_)) => outgoing.fail(SpanStatus::DeadlineExceeded),
            Err(_) => outgoing.fail(SpanStatus::InternalError),
        }
        result
    }
}
