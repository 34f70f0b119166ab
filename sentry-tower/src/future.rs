//! [`ResponseFuture`]: the inner service's future, run in the request's scopes, and the end
//! of the request (transaction status, session, 5xx event) however it ends.

use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Response, StatusCode};
use sentry_core::protocol::SessionStatus;
use sentry_core::{Level, Scopes, Span};
use sentry_minimal::SpanStatus;

use crate::layer::LayerOptions;

pin_project_lite::pin_project! {
    /// The future of a [`SentryService`](crate::SentryService): the inner service's future,
    /// polled with the request's scopes entered and its transaction current.
    ///
    /// When it completes, the transaction gets the response's status; when the inner future
    /// panics, the transaction is finished as `internal_error` and the panic resumes, so the
    /// server behaves as it would without the layer; when it is dropped unfinished (the client
    /// went away), the transaction ends as `cancelled`.
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        // Declared first, so dropped first: the handler's state goes before the request ends.
        #[pin]
        inner: F,
        state: Option<RequestState>,
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .field("state", &self.state)
            .finish()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, state: RequestState) -> ResponseFuture<F> {
        ResponseFuture {
            inner,
            state: Some(state),
        }
    }

    /// The SDK was off when the request came in: the inner future alone.
    pub(crate) fn passthrough(inner: F) -> ResponseFuture<F> {
        ResponseFuture { inner, state: None }
    }
}

impl<F, R, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<R>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(state) = this.state.as_ref() else {
            return this.inner.poll(cx);
        };
        let mut inner = this.inner;
        let polled = {
            let _entered = state.scopes.clone().enter();
            panic::catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx)))
        };
        match polled {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(result)) => {
                if let Some(state) = this.state.take() {
                    match &result {
                        Ok(response) => state.responded(response.status()),
                        Err(_) => state.end(SpanStatus::InternalError, SessionStatus::Exited),
                    }
                }
                Poll::Ready(result)
            }
            Err(payload) => {
                // The panic hook has reported it already, from inside the request's scopes.
                if let Some(state) = this.state.take() {
                    state.end(SpanStatus::InternalError, SessionStatus::Crashed);
                }
                panic::resume_unwind(payload)
            }
        }
    }
}

/// What ends with the request: its scopes, its transaction (when one was started) and its
/// session. Ending it consumes it; dropping it unended ends the request as `cancelled`.
#[derive(Debug)]
pub(crate) struct RequestState {
    scopes: Scopes,
    transaction: Option<Span>,
    session: bool,
    options: LayerOptions,
    ended: bool,
}

impl RequestState {
    pub(crate) fn new(
        scopes: Scopes,
        transaction: Option<Span>,
        session: bool,
        options: LayerOptions,
    ) -> RequestState {
        RequestState {
            scopes,
            transaction,
            session,
            options,
            ended: false,
        }
    }

    /// The service answered with `status`.
    fn responded(self, status: StatusCode) {
        if let Some(transaction) = &self.transaction {
            transaction.set_data("http.response.status_code", status.as_u16());
        }
        if self.options.capture_server_errors && status.is_server_error() {
            self.scopes.bind(|| capture_server_error(status));
        }
        self.end(span_status(status), SessionStatus::Exited);
    }

    /// Finishes the transaction with `span` and ends the session with `session`.
    fn end(mut self, span: SpanStatus, session: SessionStatus) {
        self.finish(span, session);
    }

    fn finish(&mut self, span: SpanStatus, session: SessionStatus) {
        if self.ended {
            return;
        }
        self.ended = true;
        if let Some(transaction) = self.transaction.take() {
            transaction.set_status(span);
            transaction.finish();
        }
        if self.session {
            self.scopes
                .bind(|| sentry_core::end_session_with_status(session));
        }
    }
}

impl Drop for RequestState {
    fn drop(&mut self) {
        // Dropped before the inner future completed: the connection closed, or a timeout
        // layer outside gave up on the request.
        self.finish(SpanStatus::Cancelled, SessionStatus::Exited);
    }
}

/// The span status of a response: the specification's table for the codes it names, `ok`
/// below 400.
fn span_status(status: StatusCode) -> SpanStatus {
    let code = status.as_u16();
    SpanStatus::from_http_status(code).unwrap_or(if code < 400 {
        SpanStatus::Ok
    } else {
        SpanStatus::Unknown
    })
}

/// An error event for a 5xx response, in the current (the request's) scopes.
fn capture_server_error(status: StatusCode) {
    let message = match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    let mut event = sentry_core::Event::new();
    event.level = Level::Error;
    event.message = Some(message);
    event.tags.insert(
        "http.status_code".into(),
        status.as_u16().to_string().into(),
    );
    sentry_core::capture_event(event);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(span_status(StatusCode::OK), SpanStatus::Ok);
        assert_eq!(span_status(StatusCode::FOUND), SpanStatus::Ok);
        assert_eq!(span_status(StatusCode::NOT_FOUND), SpanStatus::NotFound);
        assert_eq!(span_status(StatusCode::CONFLICT), SpanStatus::AlreadyExists);
        assert_eq!(
            span_status(StatusCode::BAD_GATEWAY),
            SpanStatus::InternalError
        );
        assert_eq!(
            span_status(StatusCode::from_u16(999).unwrap()),
            SpanStatus::Unknown
        );
    }
}
