//! `sentry-core` as the backend of the `sentry-minimal` facade.

use std::error::Error;
use std::sync::Once;

use sentry_minimal::backend::{Backend, ScopeBackend};
use sentry_minimal::{Breadcrumb, EventId, Level};

use crate::client::convert::{event_from_facade, event_from_message};
use crate::hint::Hint;
use crate::scope::with_scopes;

/// Forwards facade calls to this crate's scopes and clients.
struct CoreBackend;

static CORE: CoreBackend = CoreBackend;

/// Installs this crate as the facade's backend, once per process.
pub(crate) fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        if sentry_minimal::backend::set_backend(&CORE).is_err() {
            crate::debug::debug_print(format_args!(
                "another Sentry backend is installed; sentry-minimal calls will not reach this SDK"
            ));
        }
    });
}

impl Backend for CoreBackend {
    fn add_breadcrumb(&self, breadcrumb: Breadcrumb) {
        crate::api::record_breadcrumb(breadcrumb, &Hint::new());
    }

    fn capture_event(&self, event: sentry_minimal::Event) -> EventId {
        crate::capture_event(event_from_facade(event))
    }

    fn capture_message(&self, message: &str, level: Level) -> EventId {
        crate::capture_event(event_from_message(message, level))
    }

    fn capture_error(
        &self,
        error: &(dyn Error + 'static),
        type_name: Option<&'static str>,
    ) -> EventId {
        // The hooks get the library's error in the hint, as with `sentry_core::capture_error`.
        crate::api::capture_error_enabled(error, type_name)
    }

    fn configure_scope(&self, f: &mut dyn FnMut(&mut dyn ScopeBackend)) {
        with_scopes(|scopes| scopes.current.configure(|scope| f(scope)));
    }

    fn with_scope(&self, configure: &mut dyn FnMut(&mut dyn ScopeBackend), body: &mut dyn FnMut()) {
        crate::with_scope(|scope| configure(scope), body);
    }

    fn last_event_id(&self) -> Option<EventId> {
        crate::last_event_id()
    }
}
