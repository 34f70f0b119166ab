//! Outgoing HTTP requests: the `http.client` span, the trace headers to send, and the `http`
//! breadcrumb, for any HTTP client (the `sentry` crate has ready adapters for `reqwest` and
//! `ureq`).

use std::fmt;
use std::sync::OnceLock;

use sentry_minimal::{Breadcrumb, Level, SpanStatus};

use super::trace::{start_span, trace_headers, TraceHeaders};
use crate::scope::Scopes;
use crate::span::Span;

/// The origin of requests traced by hand (adapters set their own, such as
/// `auto.http.reqwest`).
const MANUAL_ORIGIN: &str = "manual";

/// Starts tracing an outgoing HTTP request: an `http.client` span, a child of the current
/// span, and the trace headers the request must carry to continue the trace in the service it
/// calls.
///
/// The span is named `METHOD url` (the URL without its query and fragment, credentials
/// filtered) and has the data `http.request.method`, `url`, `http.query` and `http.fragment`;
/// [`OutgoingRequest::finish`] adds `http.response.status_code` and the status, finishes it
/// and records an `http` breadcrumb (`url`, `method`, `status_code`).
///
/// The span is made whether or not the URL is a trace propagation target; the headers
/// ([`OutgoingRequest::headers`]) are empty when it is not (see
/// [`trace_propagation_targets`](crate::ClientOptions::trace_propagation_targets)). They
/// continue the trace from this span, so the called service's spans are its children. Without
/// a current span (no transaction, or tracing off) no span is recorded, and the headers carry
/// the scope's trace; the breadcrumb is recorded all the same.
///
/// # Examples
///
/// ```
/// use sentry_core::test::with_captured_events;
///
/// let events = with_captured_events(|| {
///     let request = sentry_core::start_outgoing_request("get", "https://api.example/users?page=2");
///     let mut headers: Vec<(String, String)> = Vec::new();
///     for (name, value) in request.headers_to_set(None) {
///         headers.push((name.to_owned(), value)); // http_request.header(name, value)
///     }
///     assert!(headers.iter().any(|(name, _)| name == "sentry-trace"));
///     // ... send the request ...
///     request.finish(200);
///     sentry_core::capture_message("done", sentry_core::Level::Info);
/// });
/// let crumb = &events[0].breadcrumbs[0];
/// assert_eq!(crumb.ty, "http");
/// assert_eq!(crumb.data["url"], "https://api.example/users".into());
/// assert_eq!(crumb.data["method"], "GET".into());
/// assert_eq!(crumb.data["status_code"], 200.into());
/// ```
pub fn start_outgoing_request(method: &str, url: &str) -> OutgoingRequest {
    if !sentry_minimal::is_enabled() {
        // Off: one atomic load, nothing allocated.
        return OutgoingRequest { traced: None };
    }
    let method = method.to_ascii_uppercase();
    let parts = UrlParts::of(url);
    let span = start_span("http.client", &format!("{method} {}", parts.base));
    if span.is_active() {
        span.set_origin(MANUAL_ORIGIN);
        span.set_data("http.request.method", method.as_str());
        span.set_data("url", parts.base.as_str());
        if let Some(query) = &parts.query {
            span.set_data("http.query", query.as_str());
        }
        if let Some(fragment) = &parts.fragment {
            span.set_data("http.fragment", fragment.as_str());
        }
    }
    // The headers continue the trace from the request's own span (when it is recorded or
    // sampled out); from the scope's trace otherwise.
    let headers = if span.sentry_trace().is_some() {
        Scopes::current_with_span(Some(span.clone())).bind(|| trace_headers(url))
    } else {
        trace_headers(url)
    };
    OutgoingRequest {
        traced: Some(Box::new(Traced {
            span,
            headers,
            method,
            parts,
            origin: MANUAL_ORIGIN,
        })),
    }
}

/// An outgoing HTTP request being traced; see [`start_outgoing_request`].
///
/// End it with [`finish`](Self::finish) when the response's status is known, or
/// [`fail`](Self::fail) when there is no response. One dropped without either (a cancelled
/// future) ends with the status `cancelled`.
#[must_use = "the request is traced until `finish` or `fail`"]
pub struct OutgoingRequest {
    /// `None` while the SDK is off, and once the request has ended. Boxed, so that the off
    /// request is one word, the size of what the caller moves around and drops.
    traced: Option<Box<Traced>>,
}

/// What an [`OutgoingRequest`] records when it ends.
struct Traced {
    span: Span,
    headers: TraceHeaders,
    method: String,
    parts: UrlParts,
    origin: &'static str,
}

impl OutgoingRequest {
    /// Marks the span and the breadcrumb as made by an instrumentation (such as
    /// `"auto.http.reqwest"`) rather than by hand.
    pub fn with_origin(mut self, origin: &'static str) -> Self {
        if let Some(traced) = &mut self.traced {
            traced.span.set_origin(origin);
            traced.origin = origin;
        }
        self
    }

    /// The trace headers for the request (none when its URL is not a trace propagation
    /// target). To add them to a request that may already have a `baggage` header, use
    /// [`headers_to_set`](Self::headers_to_set).
    pub fn headers(&self) -> &TraceHeaders {
        static NONE: OnceLock<TraceHeaders> = OnceLock::new();
        match &self.traced {
            Some(traced) => &traced.headers,
            None => NONE.get_or_init(TraceHeaders::default),
        }
    }

    /// The `(name, value)` pairs to set on the request: `sentry-trace`, `baggage` (merged with
    /// the request's own `existing_baggage`, whose other vendors' entries are kept) and, with
    /// `propagate_traceparent`, `traceparent`. Nothing when the URL is not a propagation
    /// target: the request's own `baggage` is then left as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// let request = sentry_core::start_outgoing_request("POST", "https://api.example/orders");
    /// let to_set: Vec<_> = request.headers_to_set(Some("othervendor=1")).collect();
    /// assert!(to_set.is_empty()); // no SDK in this example: nothing to propagate
    /// request.finish(201);
    /// ```
    pub fn headers_to_set(
        &self,
        existing_baggage: Option<&str>,
    ) -> impl Iterator<Item = (&'static str, String)> {
        let mut out: [Option<(&'static str, String)>; 3] = [None, None, None];
        // Nothing to send (the SDK off, or not a target): three empty slots, nothing else.
        let headers = self.traced.as_ref().map(|traced| &traced.headers);
        if let Some(headers) = headers.filter(|headers| !headers.is_empty()) {
            let baggage = match existing_baggage {
                // Nothing to merge: the value built with the headers (the merge would build
                // the SDK's entries a second time).
                None => headers.baggage().map(str::to_owned),
                Some(_) => headers.baggage_merged_with(existing_baggage),
            };
            out = [
                headers
                    .sentry_trace()
                    .map(|value| ("sentry-trace", value.to_owned())),
                baggage.map(|value| ("baggage", value)),
                headers
                    .traceparent()
                    .map(|value| ("traceparent", value.to_owned())),
            ];
        }
        out.into_iter().flatten()
    }

    /// The request's span, for data of your own: `None` while the SDK is off; inactive when
    /// nothing is recorded.
    pub fn span(&self) -> Option<&Span> {
        self.traced.as_ref().map(|traced| &traced.span)
    }

    /// Ends the request with the response's status code: `http.response.status_code` and the
    /// status it maps to on the span, which is finished, and an `http` breadcrumb (level
    /// `warning` for 4xx, `error` for 5xx).
    pub fn finish(mut self, status_code: u16) {
        self.end(Some(status_code), None);
    }

    /// Ends a request that got no response (a connection error, a timeout): the span gets
    /// `status` and is finished, and the breadcrumb has no status code (level `error`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::protocol::SpanStatus;
    ///
    /// let request = sentry_core::start_outgoing_request("GET", "http://10.0.0.1/health");
    /// // ... the connection timed out ...
    /// request.fail(SpanStatus::DeadlineExceeded);
    /// ```
    pub fn fail(mut self, status: SpanStatus) {
        self.end(None, Some(status));
    }

    fn end(&mut self, status_code: Option<u16>, failed: Option<SpanStatus>) {
        let Some(traced) = self.traced.take() else {
            return;
        };
        if let Some(code) = status_code {
            traced
                .span
                .set_data("http.response.status_code", i64::from(code));
            if let Some(status) = SpanStatus::from_http_status(code) {
                traced.span.set_status(status);
            }
        } else if let Some(status) = failed {
            traced.span.set_status(status);
        }
        traced.span.finish();
        super::add_breadcrumb(|| traced.breadcrumb(status_code));
    }
}

impl Traced {
    fn breadcrumb(&self, status_code: Option<u16>) -> Breadcrumb {
        let level = match status_code {
            Some(500..=599) | None => Level::Error,
            Some(400..=499) => Level::Warning,
            Some(_) => Level::Info,
        };
        let mut crumb = Breadcrumb::default()
            .ty("http")
            .category("http")
            .level(level)
            .data("url", self.parts.base.as_str())
            .data("method", self.method.as_str())
            .origin(self.origin);
        if let Some(code) = status_code {
            crumb = crumb.data("status_code", i64::from(code));
        }
        if let Some(query) = &self.parts.query {
            crumb = crumb.data("http.query", query.as_str());
        }
        if let Some(fragment) = &self.parts.fragment {
            crumb = crumb.data("http.fragment", fragment.as_str());
        }
        crumb
    }
}

impl Drop for OutgoingRequest {
    fn drop(&mut self) {
        // Neither finished nor failed: the request was abandoned (a dropped future).
        self.end(None, Some(SpanStatus::Cancelled));
    }
}

impl fmt::Debug for OutgoingRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("OutgoingRequest");
        if let Some(traced) = &self.traced {
            debug
                .field("method", &traced.method)
                .field("url", &traced.parts.base);
        }
        debug
            .field("headers", self.headers())
            .finish_non_exhaustive()
    }
}

/// A URL split as Sentry's HTTP data wants it: without query and fragment (and with any
/// credentials filtered), the query, the fragment.
#[derive(Debug, PartialEq)]
struct UrlParts {
    base: String,
    query: Option<String>,
    fragment: Option<String>,
}

impl UrlParts {
    fn of(url: &str) -> UrlParts {
        let (rest, fragment) = match url.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (url, None),
        };
        let (base, query) = match rest.split_once('?') {
            Some((base, query)) => (base, Some(query)),
            None => (rest, None),
        };
        let nonempty = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_owned);
        UrlParts {
            base: without_credentials(base),
            query: nonempty(query),
            fragment: nonempty(fragment),
        }
    }
}

/// `https://user:secret@host/path` → `https://[Filtered]:[Filtered]@host/path`: a password in
/// a URL must not reach span data or breadcrumbs.
fn without_credentials(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |i| i + 3);
    let authority_end = url[authority_start..]
        .find('/')
        .map_or(url.len(), |i| authority_start + i);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &url[authority_start..authority_start + at];
            let filtered = if userinfo.contains(':') {
                "[Filtered]:[Filtered]"
            } else {
                "[Filtered]"
            };
            format!(
                "{}{filtered}{}",
                &url[..authority_start],
                &url[authority_start + at..]
            )
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(url: &str) -> (String, Option<String>, Option<String>) {
        let p = UrlParts::of(url);
        (p.base, p.query, p.fragment)
    }

    #[test]
    fn urls_are_split_into_base_query_and_fragment() {
        assert_eq!(
            parts("https://api.example/a/b?x=1&y=2#top"),
            (
                "https://api.example/a/b".into(),
                Some("x=1&y=2".into()),
                Some("top".into())
            )
        );
        assert_eq!(parts("http://h/p"), ("http://h/p".into(), None, None));
        assert_eq!(parts("http://h/p?#"), ("http://h/p".into(), None, None));
        // A `?` inside the fragment belongs to the fragment.
        assert_eq!(
            parts("http://h/#frag?not-a-query"),
            ("http://h/".into(), None, Some("frag?not-a-query".into()))
        );
    }

    /// A request dropped unfinished (a cancelled future) ends its span `cancelled`, and the
    /// span's name and data never hold the URL's credentials, query or fragment.
    #[test]
    fn a_dropped_request_is_cancelled() {
        use crate::{ClientOptions, TransactionContext};
        let options = ClientOptions {
            traces_sample_rate: Some(1.0),
            ..Default::default()
        };
        let (envelopes, _) = crate::test::with_isolated_client(options, || {
            let tx = crate::start_transaction(TransactionContext::new("job", "task")).enter();
            let request = start_outgoing_request("get", "http://user:pw@h/x?q=1#f");
            assert!(request.span().is_some_and(Span::is_active));
            drop(request);
            drop(tx);
        });
        let tx = envelopes
            .iter()
            .flat_map(|e| e.items())
            .find_map(|i| i.as_transaction())
            .expect("the transaction");
        let span = &tx.spans[0];
        assert_eq!(span.status, Some(SpanStatus::Cancelled));
        assert_eq!(
            span.description.as_deref(),
            Some("GET http://[Filtered]:[Filtered]@h/x")
        );
        assert_eq!(span.data["http.query"], "q=1".into());
        assert_eq!(span.data["http.fragment"], "f".into());
        assert_eq!(span.origin.as_deref(), Some("manual"));
    }

    #[test]
    fn credentials_are_filtered() {
        assert_eq!(
            without_credentials("https://user:pw@host:8080/path@x"),
            "https://[Filtered]:[Filtered]@host:8080/path@x"
        );
        assert_eq!(
            without_credentials("https://token@host"),
            "https://[Filtered]@host"
        );
        assert_eq!(without_credentials("https://host/a@b"), "https://host/a@b");
        assert_eq!(without_credentials("relative/path"), "relative/path");
    }
}
