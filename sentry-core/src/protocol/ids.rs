//! Fresh random identifiers.

use sentry_minimal::{EventId, SpanId, TraceId};

/// A fresh random event id (a version 4 UUID, written without dashes).
///
/// # Examples
///
/// ```
/// let a = sentry_core::protocol::new_event_id();
/// assert_ne!(a, sentry_core::protocol::new_event_id());
/// assert!(!a.is_nil());
/// ```
pub fn new_event_id() -> EventId {
    EventId::from_bytes(*uuid::Uuid::new_v4().as_bytes())
}

/// A fresh random trace id (a version 4 UUID).
pub fn new_trace_id() -> TraceId {
    TraceId::from_bytes(*uuid::Uuid::new_v4().as_bytes())
}

/// A fresh random, non-zero span id.
pub fn new_span_id() -> SpanId {
    loop {
        let bytes = *uuid::Uuid::new_v4().as_bytes();
        let mut id = [0u8; 8];
        for (i, b) in id.iter_mut().enumerate() {
            // Folding both halves keeps every bit random despite the UUID's fixed version bits.
            *b = bytes[i] ^ bytes[i + 8];
        }
        let id = SpanId::from_bytes(id);
        if !id.is_nil() {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_random_and_not_nil() {
        assert_ne!(new_event_id(), new_event_id());
        assert_ne!(new_trace_id(), new_trace_id());
        let span = new_span_id();
        assert!(!span.is_nil());
        assert_ne!(span, new_span_id());
        assert_eq!(new_event_id().to_string().len(), 32);
    }
}
