//! `sentry-core` as the backend of the `sentry-minimal` facade: what [`CoreBackend`], which
//! the gate installs, does with each facade call.

use std::error::Error;

use sentry_minimal::backend::{Backend, ScopeBackend};
use sentry_minimal::{Breadcrumb, EventId, Level};

use crate::api::{capture_error_enabled, capture_event, last_event_id};
use crate::client::convert::{event_from_facade, event_from_message};
use crate::gate::CoreBackend;
use crate::hint::Hint;
use crate::scope::{record_breadcrumb, with_scope, with_scopes};

/// Forwards facade calls to this crate's scopes and clients.
impl Backend for CoreBackend {
    fn add_breadcrumb(&self, breadcrumb: Breadcrumb) {
        record_breadcrumb(breadcrumb, &Hint::new());
    }

    fn capture_event(&self, event: sentry_minimal::Event) -> EventId {
        capture_event(event_from_facade(event))
    }

    fn capture_message(&self, message: &str, level: Level) -> EventId {
        capture_event(event_from_message(message, level))
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
}
