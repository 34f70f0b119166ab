//! Outgoing `reqwest` requests as `http.client` spans, with the trace headers and an `http`
//! breadcrumb (feature `reqwest`).
//!
//! Replace `.send()` by [`.send_traced()`](SendTraced::send_traced):
//!
//! ```no_run
//! use sentry::integrations::reqwest::SendTraced;
//!
//! # async fn call(client: reqwest::Client) -> Result<(), reqwest::Error> {
//! let response = client
//!     .get("https://stock.internal/items/42")
//!     .send_traced()
//!     .await?;
//! # let _ = response;
//! # Ok(())
//! # }
//! ```
//!
//! The span is a child of the span current where `send_traced` is called, named
//! `GET https://stock.internal/items/42`; see [`sentry_core::start_outgoing_request`] for its
//! data, the breadcrumb, and when the headers are sent
//! ([`trace_propagation_targets`](crate::ClientOptions::trace_propagation_targets)). A
//! `baggage` header the request already has keeps its other vendors' entries. A request that
//! gets no response ends its span `deadline_exceeded` (a timeout) or `internal_error`; one whose
//! future is dropped unfinished ends it `cancelled`.
//!
//! With the feature `reqwest-blocking`, [`blocking::SendTraced`] does the same for
//! `reqwest::blocking` requests.
//!
//! This module names `reqwest` 0.13: the extension applies to that version's `RequestBuilder`.

use std::future::Future;

use reqwest::{RequestBuilder, Response};
use sentry_core::protocol::SpanStatus;

/// The origin of the spans and breadcrumbs of this adapter.
pub const ORIGIN: &str = "auto.http.reqwest";

/// Sends a `reqwest` request as an `http.client` span; see the [module docs](self).
pub trait SendTraced {
    /// Like `RequestBuilder::send`, traced: the span starts (and the trace headers are set)
    /// now, and ends when the response's headers arrive or the request fails.
    fn send_traced(self) -> impl Future<Output = reqwest::Result<Response>> + Send;
}

impl SendTraced for RequestBuilder {
    fn send_traced(self) -> impl Future<Output = reqwest::Result<Response>> + Send {
        let (client, request) = self.build_split();
        let traced = request.map(|mut request| {
            let outgoing = start(request.method(), request.url());
            super::trace_headers::set_trace_headers(&outgoing, request.headers_mut());
            (request, outgoing)
        });
        async move {
            let (request, outgoing) = traced?;
            ended(outgoing, client.execute(request).await, |r| r.status())
        }
    }
}

/// The span of a request of `method` to `url` (its trace headers are written next).
fn start(method: &reqwest::Method, url: &reqwest::Url) -> sentry_core::OutgoingRequest {
    sentry_core::start_outgoing_request(method.as_str(), url.as_str()).with_origin(ORIGIN)
}

/// Ends `outgoing` with the response's status, or as failed: `deadline_exceeded` for a
/// timeout, else `internal_error`.
fn ended<R>(
    outgoing: sentry_core::OutgoingRequest,
    result: reqwest::Result<R>,
    status: impl FnOnce(&R) -> reqwest::StatusCode,
) -> reqwest::Result<R> {
    match result {
        Ok(response) => {
            outgoing.finish(status(&response).as_u16());
            Ok(response)
        }
        Err(err) => {
            outgoing.fail(if err.is_timeout() {
                SpanStatus::DeadlineExceeded
            } else {
                SpanStatus::InternalError
            });
            Err(err)
        }
    }
}

/// `reqwest::blocking` requests, traced as the async ones are (feature `reqwest-blocking`).
///
/// ```no_run
/// use sentry::integrations::reqwest::blocking::SendTraced;
///
/// # fn call(client: reqwest::blocking::Client) -> Result<(), reqwest::Error> {
/// let response = client
///     .get("https://stock.internal/items/42")
///     .send_traced()?;
/// # let _ = response;
/// # Ok(())
/// # }
/// ```
#[cfg(feature = "reqwest-blocking")]
pub mod blocking {
    use reqwest::blocking::{RequestBuilder, Response};

    /// Sends a `reqwest::blocking` request as an `http.client` span; see the
    /// [module docs](super).
    pub trait SendTraced {
        /// Like `RequestBuilder::send`, traced: the span starts (and the trace headers are
        /// set) now, and ends when the response's headers arrive or the request fails.
        fn send_traced(self) -> reqwest::Result<Response>;
    }

    impl SendTraced for RequestBuilder {
        fn send_traced(self) -> reqwest::Result<Response> {
            let (client, request) = self.build_split();
            let mut request = request?;
            let outgoing = super::start(request.method(), request.url());
            super::super::trace_headers::set_trace_headers(&outgoing, request.headers_mut());
            super::ended(outgoing, client.execute(request), Response::status)
        }
    }
}
