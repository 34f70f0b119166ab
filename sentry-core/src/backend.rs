//! `sentry-core` as the backend of the `sentry-minimal` facade: what [`CoreBackend`], which
//! the gate installs, does with each facade call.

use std::error::Error;

use sentry_minimal::backend::{Backend, ScopeBackend, SpanBackend};
use sentry_minimal::{Breadcrumb, EventId, Level, SpanStatus, Value};

use crate::api::trace::start_span;
use crate::api::{capture_error_enabled, capture_event, capture_event_with_hint, last_event_id};
use crate::client::convert::{event_from_facade, event_from_message};
use crate::gate::CoreBackend;
use crate::hint::Hint;
use crate::scope::{record_breadcrumb, with_scope, with_scopes};
use crate::span::Span;

/// Forwards facade calls to this crate's scopes and clients.
impl Backend for CoreBackend {
    fn add_breadcrumb(&self, breadcrumb: Breadcrumb) {
        record_breadcrumb(&mut Some(breadcrumb), &Hint::new());
    }

    fn capture_event(&self, event: sentry_minimal::Event) -> EventId {
        capture_event(event_from_facade(event))
    }

    fn capture_message(&self, message: &str, level: Level) -> EventId {
        capture_event_with_hint(
            event_from_message(message, level),
            &Hint::new().for_message(),
        )
    }

    fn capture_error(
        &self,
        error: &(dyn Error + 'static),
        type_name: Option<&'static str>,
    ) -> EventId {
        // The hooks get the library's error in the hint, as with `sentry_core::capture_error`.
        capture_error_enabled(error, type_name)
    }

    fn configure_scope(&self, f: &mut dyn FnMut(&mut dyn ScopeBackend)) {
        with_scopes(|scopes| scopes.current.configure(|scope| f(scope)));
    }

    fn with_scope(&self, configure: &mut dyn FnMut(&mut dyn ScopeBackend), body: &mut dyn FnMut()) {
        with_scope(|scope| configure(scope), body);
    }

    fn last_event_id(&self) -> Option<EventId> {
        last_event_id()
    }

    fn start_span(&self, op: &str, name: &str) -> Option<Box<dyn SpanBackend>> {
        let span = start_span(op, name);
        // An unrecorded span has nothing to hold on to: dropping it here is all it needs (an
        // unsampled child counts for its transaction when started, not when finished).
        span.is_sampled()
            .then(|| Box::new(span) as Box<dyn SpanBackend>)
    }

    fn with_span(&self, op: &str, name: &str, body: &mut dyn FnMut(Option<&dyn SpanBackend>)) {
        // Entered even when not recorded, so that spans started inside are not attached to the
        // parent instead. The guard finishes the span when `body` returns or unwinds (with the
        // status `internal_error` then), and nothing before `body` can fail: it runs once.
        let guard = start_span(op, name).enter();
        let span: &Span = &guard;
        if span.is_sampled() {
            body(Some(span));
        } else {
            body(None);
        }
    }
}

/// A recorded span of this crate, lent to or owned by a facade `Span`.
impl SpanBackend for Span {
    fn set_data(&self, key: &str, value: Value) {
        Span::set_data(self, key, value);
    }

    fn set_status(&self, status: SpanStatus) {
        Span::set_status(self, status);
    }

    fn finish(&self) {
        Span::finish(self);
    }
}
