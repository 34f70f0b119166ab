//! The layer around plain tower services (no router, no runtime): futures polled by hand
//! with a no-op waker, clients recording what they send.

use std::convert::Infallible;
use std::future::{pending, ready, Future, Pending, Ready};
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use http::{Request, Response, StatusCode};
use sentry_core::protocol::{Context as EventContext, SpanStatus, TransactionSource};
use sentry_core::test::with_captured_transactions_options;
use sentry_core::ClientOptions;
use sentry_tower::SentryLayer;
use tower_layer::Layer;
use tower_service::Service;

fn traced() -> ClientOptions {
    ClientOptions {
        traces_sample_rate: Some(1.0),
        ..Default::default()
    }
}

/// Answers `status` at once.
#[derive(Clone, Copy)]
struct Answer(u16);

impl Service<Request<()>> for Answer {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::from_u16(self.0).expect("a status");
        ready(Ok(response))
    }
}

/// Never answers.
#[derive(Clone, Copy)]
struct Never;

impl Service<Request<()>> for Never {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Pending<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        pending()
    }
}

/// Panics when polled.
#[derive(Clone, Copy)]
struct Panics;

struct PanicFuture;

impl Future for PanicFuture {
    type Output = Result<Response<()>, Infallible>;

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
        panic!("handler bug")
    }
}

impl Service<Request<()>> for Panics {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = PanicFuture;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        PanicFuture
    }
}

/// The status of a transaction's trace context.
fn status(transaction: &sentry_core::Event) -> Option<SpanStatus> {
    match transaction.contexts.get("trace") {
        Some(EventContext::Trace(trace)) => trace.status,
        _ => None,
    }
}

fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn a_plain_service_is_named_by_its_path() {
    let transactions = with_captured_transactions_options(traced(), || {
        let mut service = SentryLayer::new().layer(Answer(302));
        let request = Request::post("/items/9?x=1").body(()).unwrap();
        let mut future = pin!(service.call(request));
        let Poll::Ready(Ok(response)) = poll_once(future.as_mut()) else {
            panic!("answered at once");
        };
        assert_eq!(response.status(), 302);
    });
    assert_eq!(transactions.len(), 1);
    let tx = &transactions[0];
    assert_eq!(tx.transaction.as_deref(), Some("POST /items/9"));
    assert_eq!(
        tx.transaction_info.as_ref().map(|i| i.source),
        Some(TransactionSource::Url)
    );
    let request = tx.request.as_ref().expect("the request");
    assert_eq!(request.url.as_deref(), Some("/items/9"));
    assert_eq!(request.query_string.as_deref(), Some("x=1"));
}

#[test]
fn a_dropped_request_is_cancelled() {
    let transactions = with_captured_transactions_options(traced(), || {
        let mut service = SentryLayer::new().layer(Never);
        let request = Request::get("/slow").body(()).unwrap();
        let mut future = Box::pin(service.call(request));
        assert!(poll_once(future.as_mut()).is_pending());
        drop(future); // the client went away
    });
    assert_eq!(transactions.len(), 1);
    assert_eq!(status(&transactions[0]), Some(SpanStatus::Cancelled));
}

#[test]
fn a_panic_resumes_after_the_transaction_is_finished() {
    let transactions = with_captured_transactions_options(traced(), || {
        let mut service = SentryLayer::new().layer(Panics);
        let request = Request::get("/bug").body(()).unwrap();
        let mut future = Box::pin(service.call(request));
        let caught = panic::catch_unwind(AssertUnwindSafe(|| poll_once(future.as_mut())));
        let payload = caught.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler bug"));
    });
    assert_eq!(transactions.len(), 1);
    assert_eq!(status(&transactions[0]), Some(SpanStatus::InternalError));
}

#[test]
fn without_a_client_the_response_passes_through() {
    let mut service = SentryLayer::new().layer(Answer(204));
    let request = Request::get("/").body(()).unwrap();
    let mut future = pin!(service.call(request));
    let Poll::Ready(Ok(response)) = poll_once(future.as_mut()) else {
        panic!("answered at once");
    };
    assert_eq!(response.status(), 204);
}
