//! The layer's cost per request: a bare service against the same service behind
//! [`SentryLayer`], the service's future polled once with a no-op waker (no runtime, no TCP),
//! so the difference is what the layer adds on the request's own thread.
//!
//! Each request has eight headers, a query string and `sentry-trace` + `baggage` to continue
//! (whose sampling decision, the caller's, decides the unsampled and sampled cases); building
//! it is outside the measurement, dropping it inside (in the bare case too). Cases: the SDK off; on, with tracing off (scope,
//! continued trace, request data kept for events); a transaction sampled out; a sampled
//! transaction (built, its `request` interface converted and filtered, handed to a transport
//! that discards it); the sampled case with a request-mode session.

use std::convert::Infallible;
use std::future::{ready, Future, Ready};
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http::{HeaderValue, Request, Response, StatusCode};
use sentry_core::test::DiscardTransport;
use sentry_core::{Client, ClientOptions, SessionMode};
use sentry_tower::SentryLayer;
use tower_layer::Layer;
use tower_service::Service;

/// A handler that answers at once.
#[derive(Clone, Copy)]
struct Bare;

impl Service<Request<()>> for Bare {
    type Response = Response<()>;
    type Error = Infallible;
    type Future = Ready<Result<Response<()>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<()>) -> Self::Future {
        let mut response = Response::new(());
        *response.status_mut() = StatusCode::OK;
        ready(Ok(response))
    }
}

/// A request as a server hands it over. hyper's header values share the buffer the request
/// was read into (cloning one is a reference-count increment); `from_static` values clone as
/// cheaply, where values copied from `&str` would allocate on every clone.
fn request(sampled: bool) -> Request<()> {
    let trace = if sampled {
        "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-1"
    } else {
        "771a43a4192642f0b136d5159a501700-b0e6f15b45c36b12-0"
    };
    let headers = [
        ("host", "api.example.com"),
        ("user-agent", "bench/1.0"),
        ("accept", "application/json"),
        ("accept-encoding", "gzip, br"),
        ("authorization", "Bearer abcdef"),
        ("cookie", "theme=dark; sessionid=abc"),
        ("sentry-trace", trace),
        (
            "baggage",
            "sentry-trace_id=771a43a4192642f0b136d5159a501700,sentry-sample_rand=0.5,sentry-environment=prod",
        ),
    ];
    let mut request = Request::get("/users/42?page=2&token=abc")
        .body(())
        .expect("a valid request");
    for (name, value) in headers {
        request
            .headers_mut()
            .append(name, HeaderValue::from_static(value));
    }
    request
}

/// Calls `service` with `request` and polls the future to its end with a no-op waker.
fn serve<S>(service: &mut S, request: Request<()>) -> Response<()>
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = pin!(service.call(request));
    loop {
        if let Poll::Ready(Ok(response)) = future.as_mut().poll(&mut cx) {
            return response;
        }
    }
}

fn client(options: ClientOptions) -> Arc<Client> {
    Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(DiscardTransport::factory()),
        release: Some("bench@1.0.0".into()),
        ..options
    }))
}

fn bench_case<S>(c: &mut Criterion, name: &str, sampled: bool, mut service: S)
where
    S: Service<Request<()>, Response = Response<()>, Error = Infallible>,
{
    c.bench_function(name, |b| {
        b.iter_batched(
            || request(sampled),
            |request| serve(&mut service, request),
            BatchSize::SmallInput,
        )
    });
}

fn layer(c: &mut Criterion) {
    let layered = SentryLayer::new().layer(Bare);
    bench_case(c, "tower/bare", true, Bare);
    bench_case(c, "tower/layer_sdk_off", true, layered.clone());

    let cases = [
        // (name, traces_sample_rate, the caller's decision, session mode)
        (
            "tower/layer_tracing_off",
            None,
            true,
            SessionMode::Application,
        ),
        (
            "tower/layer_unsampled",
            Some(1.0),
            false,
            SessionMode::Application,
        ),
        (
            "tower/layer_sampled",
            Some(1.0),
            true,
            SessionMode::Application,
        ),
        (
            "tower/layer_sampled_session",
            Some(1.0),
            true,
            SessionMode::Request,
        ),
    ];
    for (name, rate, sampled, session_mode) in cases {
        let client = client(ClientOptions {
            traces_sample_rate: rate,
            session_mode,
            auto_session_tracking: false,
            ..Default::default()
        });
        sentry_core::bind_client(Some(Arc::clone(&client)));
        bench_case(c, name, sampled, layered.clone());
        sentry_core::bind_client(None);
        client.close(None);
    }
}

criterion_group!(benches, layer);
criterion_main!(benches);
