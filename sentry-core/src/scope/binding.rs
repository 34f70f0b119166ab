//! Which clients are bound where, cached for the breadcrumb path: binding a client to the global
//! scope ([`bind_client`]) or to any other scope ([`Scope::set_client`]), and recording a
//! breadcrumb with the settings of the client it goes to.
//!
//! A breadcrumb is recorded on every `add_breadcrumb` (and every `log` record a bridge turns into
//! one), so the common case, one client bound to the global scope, must not look the client up
//! through the scopes. The global client's `max_breadcrumbs`, and whether it has a
//! `before_breadcrumb`, are kept in atomics refreshed whenever it is bound or unbound; a client
//! bound to any other scope switches every breadcrumb to the full lookup for good.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sentry_minimal::Breadcrumb;

use super::data::{Scope, Stamp, DEFAULT_MAX_BREADCRUMBS};
use super::scopes::{global_slot, with_isolation, with_scopes};
use crate::callback::{in_callback, run_callback};
use crate::client::Client;
use crate::hint::Hint;

/// Scopes other than the global one that ever had a client bound. While zero, client lookup
/// for breadcrumbs reads the global scope only.
static SCOPED_CLIENTS: AtomicUsize = AtomicUsize::new(0);

/// What breadcrumbs need from the client bound to the global scope, readable without a lock:
/// its `max_breadcrumbs` when it is enabled and has no `before_breadcrumb`, [`NO_CLIENT`] when
/// there is no enabled client, [`LOOK_UP`] when the full lookup is needed.
static GLOBAL_BREADCRUMBS: AtomicUsize = AtomicUsize::new(NO_CLIENT);
const NO_CLIENT: usize = 0;
const LOOK_UP: usize = usize::MAX;

/// The `max_breadcrumbs` of the client bound to the global scope (the default without one), for
/// breadcrumbs added to a scope that has no client of its own.
static GLOBAL_MAX_BREADCRUMBS: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_BREADCRUMBS);

pub(crate) fn global_max_breadcrumbs() -> usize {
    GLOBAL_MAX_BREADCRUMBS.load(Ordering::Acquire)
}

/// Counts a client bound to a scope other than the global one (see `Scope::set_client`): from
/// then on breadcrumbs look their client up through the scopes.
/// `false` while no client was ever bound to a scope other than the global one: then only the
/// global scope can hold a client.
pub(crate) fn scoped_clients_exist() -> bool {
    SCOPED_CLIENTS.load(Ordering::Acquire) != 0
}

pub(crate) fn note_scoped_client() {
    SCOPED_CLIENTS.fetch_add(1, Ordering::AcqRel);
}

/// Binds `client` to `scope`, which must be the global scope, and refreshes the breadcrumb
/// settings cached for it.
pub(crate) fn set_global_client(
    scope: &mut Scope,
    client: Option<Arc<Client>>,
) -> Option<Arc<Client>> {
    let cached = match &client {
        Some(c) if !c.is_enabled() => NO_CLIENT,
        Some(c) if c.options().before_breadcrumb.is_none() => {
            c.options().max_breadcrumbs.min(LOOK_UP - 1)
        }
        Some(_) => LOOK_UP,
        None => NO_CLIENT,
    };
    GLOBAL_BREADCRUMBS.store(cached, Ordering::Release);
    GLOBAL_MAX_BREADCRUMBS.store(
        client
            .as_ref()
            .map_or(DEFAULT_MAX_BREADCRUMBS, |c| c.options().max_breadcrumbs),
        Ordering::Release,
    );
    std::mem::replace(&mut scope.client, client)
}

/// Records the breadcrumb in `crumb` on the isolation scope. The breadcrumb is lent, not
/// moved, down to the ring (where it is moved once, into a recycled allocation); what is left
/// in `crumb` afterwards (an evicted breadcrumb, or the refused one) is the caller's to drop,
/// after the scope's lock is released.
pub(crate) fn record_breadcrumb(crumb: &mut Option<Breadcrumb>, hint: &Hint<'_>) {
    if in_callback() {
        return;
    }
    // Fast path: only the global scope has a client, and it needs nothing but the cap.
    if SCOPED_CLIENTS.load(Ordering::Acquire) == 0 {
        match GLOBAL_BREADCRUMBS.load(Ordering::Acquire) {
            NO_CLIENT => return,
            LOOK_UP => {}
            max => {
                // The isolation scope borrowed in place: pushing runs no application code.
                with_isolation(|isolation| {
                    isolation
                        .update(|scope| scope.push_breadcrumb_from(crumb, max, Stamp::Recorded))
                });
                return;
            }
        }
    }
    with_scopes(|scopes| {
        let client = if SCOPED_CLIENTS.load(Ordering::Acquire) == 0 {
            global_slot().snapshot().client.clone()
        } else {
            Some(scopes.client())
        };
        let (max, before) = match &client {
            Some(client) if client.is_enabled() => (
                client.options().max_breadcrumbs,
                client.options().before_breadcrumb.clone(),
            ),
            Some(_) => return,
            None => (DEFAULT_MAX_BREADCRUMBS, None),
        };
        if let Some(before) = before {
            let Some(taken) = crumb.take() else { return };
            // A panicking before_breadcrumb drops the breadcrumb, with no report (spec).
            *crumb = run_callback("before_breadcrumb", || before(taken, hint)).flatten();
            if crumb.is_none() {
                return;
            }
        }
        scopes
            .isolation
            .update(|scope| scope.push_breadcrumb_from(crumb, max, Stamp::Recorded));
    });
}

/// Binds a client to the global scope, so that every thread reports to it, or unbinds the
/// bound one with `None`.
///
/// [`init`](crate::init) does this for the client it creates; call it for a client made with
/// [`Client::new`], such as one with a transport of your own. Binding through
/// `configure_global_scope(|scope| scope.set_client(…))` works too, but takes every breadcrumb
/// from then on through the full client lookup.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{bind_client, Client, ClientOptions, Scopes};
///
/// let client = Arc::new(Client::new(ClientOptions::default()));
/// bind_client(Some(Arc::clone(&client)));
/// assert!(Arc::ptr_eq(&Scopes::current().client(), &client));
/// bind_client(None);
/// ```
pub fn bind_client(client: Option<Arc<Client>>) {
    global_slot().update(|scope| set_global_client(scope, client));
}
