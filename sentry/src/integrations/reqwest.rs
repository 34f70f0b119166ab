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
            let outgoing = sentry_core::start_outgoing_request(
                request.method().as_str(),
                request.url().as_str(),
            )
            .with_origin(ORIGIN);
            super::trace_headers::set_trace_headers(&outgoing, request.headers_mut());
            (request, outgoing)
        });
        async move {
            let (request, outgoing) = traced?;
            match client.execute(request).await {
                Ok(response) => {
                    outgoing.finish(response.status().as_u16());
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
    }
}
