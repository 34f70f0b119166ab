//! Integrations: pluggable pieces that hook into the SDK (panic hook, log bridge, contexts, …).

use std::sync::{Mutex, PoisonError};

use crate::protocol::{Event, SortedMap};
use crate::{ClientOptions, Hint};

/// A pluggable piece of the SDK.
///
/// The client calls [`setup_once`](Integration::setup_once) the first time an integration of
/// this name is used in the process (install a hook here), [`setup`](Integration::setup) for each
/// client it is part of, and [`process_event`](Integration::process_event) for each event, with
/// the [`Hint`] of what the event was made from, after the scopes' event processors and before
/// `before_send`.
///
/// # For implementors
///
/// Methods must not panic (a panic in `process_event` drops the event) and must not capture
/// events themselves.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{ClientOptions, Hint, Integration, protocol::Event};
///
/// struct AddServiceTag;
///
/// impl Integration for AddServiceTag {
///     fn name(&self) -> &'static str {
///         "add-service-tag"
///     }
///     fn process_event(&self, mut event: Event, _: &Hint<'_>, _: &ClientOptions) -> Option<Event> {
///         event.tags.insert("service".into(), "billing".into());
///         Some(event)
///     }
/// }
///
/// let options = ClientOptions { integrations: vec![Arc::new(AddServiceTag)], ..Default::default() };
/// # let _ = options;
/// ```
pub trait Integration: Send + Sync + 'static {
    /// A unique, stable name, such as `"panic"`. Sent in the SDK information of every event.
    fn name(&self) -> &'static str;

    /// Called once per process for each integration name, before the first `setup`.
    fn setup_once(&self) {}

    /// Called when a client using this integration is created.
    fn setup(&self, options: &ClientOptions) {
        let _ = options;
    }

    /// Changes or drops an event; `hint` is what the event was made from. The default keeps it
    /// unchanged.
    fn process_event(
        &self,
        event: Event,
        hint: &Hint<'_>,
        options: &ClientOptions,
    ) -> Option<Event> {
        let _ = (hint, options);
        Some(event)
    }
}

static SET_UP: Mutex<SortedMap<&'static str, ()>> = Mutex::new(SortedMap::new());

/// Runs `setup_once` for integrations whose name has not been set up in this process yet.
pub(crate) fn setup_once(integration: &dyn Integration) {
    let name = integration.name();
    let first = {
        let mut set = SET_UP.lock().unwrap_or_else(PoisonError::into_inner);
        set.insert(name, ()).is_none()
    };
    if first {
        integration.setup_once();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Counting(&'static AtomicUsize);
    impl Integration for Counting {
        fn name(&self) -> &'static str {
            "counting-test-integration"
        }
        fn setup_once(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn setup_once_runs_once_per_name() {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        setup_once(&Counting(&COUNT));
        setup_once(&Counting(&COUNT));
        assert_eq!(COUNT.load(Ordering::SeqCst), 1);
    }
}
