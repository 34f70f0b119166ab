//! Writing an outgoing request's trace headers into its `http` header map, for the `reqwest`
//! and `ureq` adapters.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use sentry_core::OutgoingRequest;

/// Sets the trace headers of `outgoing` on `headers`, merged with a `baggage` the request
/// already has (other vendors' entries kept).
pub(crate) fn set_trace_headers(outgoing: &OutgoingRequest, headers: &mut HeaderMap) {
    let existing = headers
        .get("baggage")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    for (name, value) in outgoing.headers_to_set(existing.as_deref()) {
        // The SDK writes these values itself: ASCII without control characters.
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    }
}
