//! Spans: timing a piece of a library's work inside the application's transaction.

use std::fmt;

use crate::api::body_did_not_return;
use crate::backend::{active_backend, Backend, SpanBackend};
use crate::{SpanStatus, Value};

/// A span started through the facade: one timed operation (a query, a request, a parse) inside
/// whatever span is current in the application.
///
/// Get one from [`start_span`] (owned: it ends when [`finish`](Span::finish)ed or dropped) or, in
/// [`with_span`], by reference (it ends when the closure returns). When no SDK is installed or
/// enabled, or the SDK does not record this span (no current transaction, or not sampled), the
/// span is empty: every method returns at once, nothing is allocated and nothing is sent.
///
/// The lifetime is `'static` for spans from [`start_span`]; only the span [`with_span`] lends
/// to its closure borrows from the SDK. Store spans as `Span<'static>`.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{start_span, SpanStatus};
///
/// fn fetch_rows(table: &str) -> usize {
///     let span = start_span("db.query", &format!("SELECT * FROM {table}"));
///     let rows = 3; // the actual query
///     span.set_data("db.system", "sqlite");
///     span.set_data("db.rows", rows);
///     span.set_status(SpanStatus::Ok);
///     span.finish();
///     rows
/// }
/// # assert_eq!(fetch_rows("users"), 3);
/// ```
#[must_use = "a span ends when it is dropped: bind it to a variable that lives as long as the work"]
pub struct Span<'a> {
    inner: Inner<'a>,
}

enum Inner<'a> {
    /// Not recorded: the facade is off or the SDK declined.
    Empty,
    /// From `start_span`: the facade finishes it.
    Owned(Box<dyn SpanBackend>),
    /// Lent by the SDK to the body of `with_span`: the SDK finishes it.
    Lent(&'a dyn SpanBackend),
}

impl Span<'static> {
    /// A span that records nothing, the one the facade hands out when no SDK is enabled.
    ///
    /// Useful where an API needs a span and there is none to give.
    ///
    /// # Examples
    ///
    /// ```
    /// let span = sentry_minimal::Span::noop();
    /// assert!(!span.is_recording());
    /// span.set_data("ignored", true);
    /// ```
    #[inline(always)]
    pub const fn noop() -> Self {
        Span {
            inner: Inner::Empty,
        }
    }
}

impl Span<'_> {
    #[inline(always)]
    fn backend(&self) -> Option<&dyn SpanBackend> {
        match &self.inner {
            Inner::Empty => None,
            Inner::Owned(span) => Some(span.as_ref()),
            Inner::Lent(span) => Some(*span),
        }
    }

    /// Sets a data attribute of the span (a later value for the same key replaces it).
    ///
    /// Takes the value itself, not a closure: on an empty span the call returns at once, but the
    /// caller has already built the value. Guard values that are expensive to build with
    /// [`is_recording`](Span::is_recording).
    ///
    /// # Examples
    ///
    /// ```
    /// let span = sentry_minimal::start_span("http.client", "GET /users");
    /// span.set_data("http.response.status_code", 200);
    /// span.set_data("http.request.method", "GET");
    /// ```
    #[inline]
    pub fn set_data(&self, key: &str, value: impl Into<Value>) {
        if let Some(span) = self.backend() {
            span.set_data(key, value.into());
        }
    }

    /// Sets the span's status; a span finished without one is reported without a status.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_minimal::{start_span, SpanStatus};
    ///
    /// let span = start_span("http.client", "GET /users");
    /// let code = 404;
    /// if let Some(status) = SpanStatus::from_http_status(code) {
    ///     span.set_status(status);
    /// }
    /// ```
    #[inline]
    pub fn set_status(&self, status: SpanStatus) {
        if let Some(span) = self.backend() {
            span.set_status(status);
        }
    }

    /// `true` if the SDK records this span: an SDK is enabled, a transaction is current and
    /// this span is sampled. Use it to skip building data nobody will see.
    ///
    /// # Examples
    ///
    /// ```
    /// let span = sentry_minimal::start_span("template.render", "index.html");
    /// if span.is_recording() {
    ///     span.set_data("template.size", std::mem::size_of::<[u8; 64]>());
    /// }
    /// # assert!(!span.is_recording()); // no SDK in this example
    /// ```
    #[inline(always)]
    pub fn is_recording(&self) -> bool {
        !matches!(self.inner, Inner::Empty)
    }

    /// Ends the span now. Dropping it does the same; this spells it out.
    ///
    /// # Examples
    ///
    /// ```
    /// let span = sentry_minimal::start_span("cache.get", "user:42");
    /// span.finish();
    /// ```
    #[inline]
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Span<'_> {
    #[inline]
    fn drop(&mut self) {
        if let Inner::Owned(span) = &self.inner {
            span.finish();
        }
    }
}

impl fmt::Debug for Span<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Span")
            .field("recording", &self.is_recording())
            .finish()
    }
}

/// Starts a span as a child of whatever span is current; it does not become current itself.
///
/// `op` is the kind of operation (`"db.query"`, `"http.client"`, …, see Sentry's span
/// operation conventions) and `name` what this one did (the query, the URL). The span ends when
/// it is [finished](Span::finish) or dropped.
///
/// Spans started here do not parent spans started later (use [`with_span`] for that), so they
/// suit work that is not nested, or that ends on another thread: the span is `Send`.
///
/// With no SDK enabled this costs one atomic load and returns an empty span: no allocation, no
/// lock, no thread-local. An SDK that does not record the span (no current transaction, or not
/// sampled) also hands back an empty span.
///
/// # Examples
///
/// ```
/// use sentry_minimal::start_span;
///
/// pub fn resize(image: &[u8]) -> Vec<u8> {
///     let span = start_span("image.resize", "thumbnail");
///     span.set_data("image.bytes", image.len());
///     image.iter().step_by(2).copied().collect()
///     // `span` ends here, when it is dropped.
/// }
/// # assert_eq!(resize(&[1, 2, 3]), [1, 3]);
/// ```
#[inline(always)]
pub fn start_span(op: &str, name: &str) -> Span<'static> {
    match active_backend() {
        Some(backend) => start_span_slow(backend, op, name),
        None => Span::noop(),
    }
}

#[inline(never)]
fn start_span_slow(backend: &dyn Backend, op: &str, name: &str) -> Span<'static> {
    match backend.start_span(op, name) {
        Some(span) => Span {
            inner: Inner::Owned(span),
        },
        None => Span::noop(),
    }
}

/// Runs `f` inside a new span, a child of the current span, and ends the span when `f` returns.
///
/// While `f` runs the span is the current one on this thread: spans started inside (by this
/// library or any other) become its children, and events captured inside are linked to it.
/// `f` always runs, exactly once, whether or not an SDK is enabled; it gets the span to set
/// data and a status on.
///
/// With no SDK enabled this costs one atomic load before calling `f` with an empty span.
///
/// # Examples
///
/// ```
/// use sentry_minimal::{with_span, SpanStatus};
///
/// pub fn load(path: &str) -> std::io::Result<String> {
///     with_span("file.read", path, |span| {
///         let result = std::fs::read_to_string(path);
///         match &result {
///             Ok(text) => span.set_data("file.size", text.len()),
///             Err(_) => span.set_status(SpanStatus::NotFound),
///         }
///         result
///     })
/// }
/// # assert!(load("/nonexistent/file").is_err());
/// ```
#[inline(always)]
pub fn with_span<F, R>(op: &str, name: &str, f: F) -> R
where
    F: FnOnce(&Span<'_>) -> R,
{
    match active_backend() {
        Some(backend) => with_span_slow(backend, op, name, f),
        None => f(&Span::noop()),
    }
}

#[inline(never)]
fn with_span_slow<F, R>(backend: &dyn Backend, op: &str, name: &str, f: F) -> R
where
    F: FnOnce(&Span<'_>) -> R,
{
    let mut f = Some(f);
    let mut result = None;
    backend.with_span(op, name, &mut |span| {
        if let Some(f) = f.take() {
            let span = match span {
                Some(span) => Span {
                    inner: Inner::Lent(span),
                },
                None => Span::noop(),
            };
            result = Some(f(&span));
        }
    });
    match (result, f) {
        (Some(result), _) => result,
        // A backend that broke its contract and never ran the body: run it here, so the
        // caller's code is never skipped.
        (None, Some(f)) => f(&Span::noop()),
        (None, None) => body_did_not_return("with_span"),
    }
}
