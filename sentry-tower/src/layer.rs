//! [`SentryLayer`]: the middleware and its options.

use tower_layer::Layer;

use crate::service::SentryService;

/// A [`tower` layer](tower_layer::Layer) that gives every HTTP request its own isolation
/// scope, a transaction continuing the caller's trace, the `request` interface on what it
/// sends, and (with [`SessionMode::Request`](sentry_core::SessionMode::Request)) a
/// request-mode session.
///
/// See the [crate documentation](crate) for where to put it and what each request gets.
///
/// # Examples
///
/// ```
/// use sentry_tower::SentryLayer;
///
/// let layer = SentryLayer::new().capture_server_errors(true);
/// assert!(layer.captures_server_errors());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SentryLayer {
    pub(crate) options: LayerOptions,
}

/// The layer's switches, copied into every service it makes.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LayerOptions {
    /// Capture an error event for every 5xx response.
    pub(crate) capture_server_errors: bool,
    /// Start transactions for `OPTIONS` requests too.
    pub(crate) trace_options_requests: bool,
}

impl SentryLayer {
    /// The layer with its defaults: no events for 5xx responses, no transactions for `OPTIONS`
    /// requests.
    pub fn new() -> SentryLayer {
        SentryLayer::default()
    }

    /// Whether a response with a 5xx status is also captured as an error event (level
    /// `error`, the message `"<status> <reason>"`, in the request's scope and transaction, so
    /// it carries the request and counts as an error of the request's session). Off by
    /// default: most handlers that answer 500 have captured their error already.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = sentry_tower::SentryLayer::new().capture_server_errors(true);
    /// # let _ = layer;
    /// ```
    pub fn capture_server_errors(mut self, capture: bool) -> SentryLayer {
        self.options.capture_server_errors = capture;
        self
    }

    /// `true` when 5xx responses are captured as error events.
    pub fn captures_server_errors(&self) -> bool {
        self.options.capture_server_errors
    }

    /// Whether `OPTIONS` requests (CORS preflights, mostly) get transactions. Off by default,
    /// as the specification's `traceOptionsRequests` says; they still get their scope, request
    /// data and session.
    ///
    /// # Examples
    ///
    /// ```
    /// let layer = sentry_tower::SentryLayer::new().trace_options_requests(true);
    /// assert!(layer.traces_options_requests());
    /// ```
    pub fn trace_options_requests(mut self, trace: bool) -> SentryLayer {
        self.options.trace_options_requests = trace;
        self
    }

    /// `true` when `OPTIONS` requests get transactions.
    pub fn traces_options_requests(&self) -> bool {
        self.options.trace_options_requests
    }
}

impl<S> Layer<S> for SentryLayer {
    type Service = SentryService<S>;

    fn layer(&self, inner: S) -> SentryService<S> {
        SentryService::new(inner, self.options)
    }
}
