//! [`RequestBodyLayer`]: request bodies on events, by option, up to a size.

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Buf;
use http::Request;
use http_body::{Body, Frame, SizeHint};
use sentry_core::Scopes;
use tower_layer::Layer;
use tower_service::Service;

/// An opt-in layer that puts the request's body on the events and transactions of the
/// request (`request.data`), when the body is text of at most `max_bytes`, the handler read
/// all of it, and the client has `send_default_pii` (a body is whatever the user sent).
///
/// Place it inside [`SentryLayer`](crate::SentryLayer) (with axum: `.layer()` it before the
/// Sentry layer): it adds to the request's scope, which the Sentry layer creates. It copies
/// the body as the handler reads it, at most `max_bytes` (and stops copying past that), so
/// streaming is unchanged; the inner service sees a [`RecordedBody`], which axum's routes
/// accept like any body.
///
/// # Examples
///
/// ```
/// use axum::routing::post;
/// use axum::Router;
/// use sentry_tower::{RequestBodyLayer, SentryLayer};
///
/// let app: Router = Router::new()
///     .route("/orders", post(|body: String| async move { body.len().to_string() }))
///     .layer(RequestBodyLayer::new(10_000))
///     .layer(SentryLayer::new());
/// # let _ = app;
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RequestBodyLayer {
    max_bytes: usize,
}

impl RequestBodyLayer {
    /// Bodies of at most `max_bytes` (Sentry's `maxRequestBodySize`: "small" is 1,000,
    /// "medium" 10,000; Relay keeps about 8 KiB of a body).
    pub fn new(max_bytes: usize) -> RequestBodyLayer {
        RequestBodyLayer { max_bytes }
    }
}

impl<S> Layer<S> for RequestBodyLayer {
    type Service = RequestBodyService<S>;

    fn layer(&self, inner: S) -> RequestBodyService<S> {
        RequestBodyService {
            inner,
            max_bytes: self.max_bytes,
        }
    }
}

/// The service [`RequestBodyLayer`] wraps around another.
#[derive(Clone, Debug)]
pub struct RequestBodyService<S> {
    inner: S,
    max_bytes: usize,
}

impl<S, B> Service<Request<B>> for RequestBodyService<S>
where
    S: Service<Request<RecordedBody<B>>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> S::Future {
        let recorder = self.recorder();
        self.inner
            .call(request.map(|inner| RecordedBody { inner, recorder }))
    }
}

impl<S> RequestBodyService<S> {
    /// A recorder for this request's body, its event processor on the request's isolation
    /// scope; `None` (the body passes untouched) when the SDK is off or bodies may not be sent.
    fn recorder(&self) -> Option<Arc<Recorder>> {
        if !sentry_minimal::is_enabled() || self.max_bytes == 0 {
            return None;
        }
        let scopes = Scopes::current();
        if !scopes.client().options().send_default_pii {
            return None;
        }
        let recorder = Arc::new(Recorder {
            max_bytes: self.max_bytes,
            state: Mutex::new(Recorded::default()),
        });
        let shared = Arc::clone(&recorder);
        scopes.configure_isolation_scope(|scope| {
            scope.add_event_processor(move |mut event, _hint| {
                if let Some(request) = &mut event.request {
                    if request.data.is_none() {
                        request.data = shared.text().map(Into::into);
                    }
                }
                Some(event)
            });
        });
        Some(recorder)
    }
}

/// What was read of one body.
#[derive(Debug)]
struct Recorder {
    max_bytes: usize,
    state: Mutex<Recorded>,
}

#[derive(Debug, Default)]
struct Recorded {
    bytes: Vec<u8>,
    /// More than `max_bytes` came: nothing is sent.
    over: bool,
    /// The body was read to its end.
    complete: bool,
}

impl Recorder {
    fn record(&self, data: &impl Buf) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.over {
            return;
        }
        if state.bytes.len() + data.remaining() > self.max_bytes {
            state.over = true;
            state.bytes = Vec::new();
            return;
        }
        let mut slices = [std::io::IoSlice::new(&[]); 16];
        let n = data.chunks_vectored(&mut slices);
        let copied: usize = slices[..n].iter().map(|s| s.len()).sum();
        if copied < data.remaining() {
            // More pieces than one look takes: rather nothing than a body with holes.
            state.over = true;
            state.bytes = Vec::new();
            return;
        }
        for slice in &slices[..n] {
            state.bytes.extend_from_slice(slice);
        }
    }

    fn finish(&self) {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .complete = true;
    }

    /// The body as text, when it was read whole, within the limit, and is UTF-8.
    fn text(&self) -> Option<String> {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if !state.complete || state.over || state.bytes.is_empty() {
            return None;
        }
        String::from_utf8(state.bytes.clone()).ok()
    }
}

pin_project_lite::pin_project! {
    /// A request body that copies what is read of it (see [`RequestBodyLayer`]).
    #[derive(Debug)]
    pub struct RecordedBody<B> {
        #[pin]
        inner: B,
        recorder: Option<Arc<Recorder>>,
    }
}

impl<B> RecordedBody<B> {
    /// The body it wraps.
    pub fn into_inner(self) -> B {
        self.inner
    }
}

impl<B> Body for RecordedBody<B>
where
    B: Body,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        if let Some(recorder) = this.recorder.as_ref() {
            match &polled {
                Poll::Ready(Some(Ok(frame))) => {
                    if let Some(data) = frame.data_ref() {
                        recorder.record(data);
                    }
                }
                Poll::Ready(None) => recorder.finish(),
                _ => {}
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn recorder(max_bytes: usize) -> Recorder {
        Recorder {
            max_bytes,
            state: Mutex::new(Recorded::default()),
        }
    }

    #[test]
    fn whole_bodies_within_the_limit() {
        let r = recorder(10);
        r.record(&Bytes::from_static(b"hello "));
        assert_eq!(r.text(), None, "not read to the end yet");
        r.record(&Bytes::from_static(b"you"));
        r.finish();
        assert_eq!(r.text().as_deref(), Some("hello you"));
    }

    #[test]
    fn over_the_limit_or_binary_sends_nothing() {
        let r = recorder(4);
        r.record(&Bytes::from_static(b"abc"));
        r.record(&Bytes::from_static(b"de"));
        r.finish();
        assert_eq!(r.text(), None);
        let r = recorder(4);
        r.record(&Bytes::from_static(&[0xff, 0xfe]));
        r.finish();
        assert_eq!(r.text(), None);
    }
}
