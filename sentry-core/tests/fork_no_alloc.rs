//! With an enabled client, forking the current scope, entering and leaving it allocate
//! nothing until the fork is written (`Scopes::current().fork_current().enter()` and
//! `push_scope()` alike); `with_scope` with a `configure` that writes nothing
//! allocates nothing either, nor does a breadcrumb recorded inside one once the ring is full.
//!
//! Its own test binary: a counting global allocator (`support/counting_alloc.rs`) sees every
//! allocation of the process.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sentry_core::test::DiscardTransport;
use sentry_core::transport::Transport;
use sentry_core::{Breadcrumb, ClientOptions, Scopes};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::ALLOCATIONS;

#[test]
fn an_unwritten_fork_allocates_nothing() {
    let transport: Arc<dyn Transport> = Arc::new(DiscardTransport);
    let _guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(transport)),
        ..Default::default()
    });
    assert!(sentry_core::is_enabled());
    // The first enter of this thread and the default scopes' statics allocate once.
    drop(Scopes::current().fork_current().enter());
    sentry_core::with_scope(|_| {}, || ());

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..1000 {
        drop(Scopes::current().fork_current().enter());
        drop(sentry_core::push_scope());
        sentry_core::with_scope(|_| {}, || ());
        sentry_core::with_scope(
            |scope| {
                let _ = scope.tags().len();
            },
            || sentry_core::with_scope(|_| {}, || ()),
        );
    }
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);

    // Breadcrumbs go to the isolation scope: one recorded inside an unwritten fork leaves the
    // fork unwritten, and once the ring is full its allocations are recycled.
    for _ in 0..200 {
        sentry_core::add_breadcrumb(Breadcrumb::new("clicked"));
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for _ in 0..1000 {
        sentry_core::with_scope(
            |_| {},
            || sentry_core::add_breadcrumb(Breadcrumb::new("clicked").category("ui")),
        );
    }
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);

    // A write makes the fork's scope object (and the tag): allocations, as expected.
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    sentry_core::with_scope(|scope| scope.set_tag("k", "v"), || ());
    assert!(ALLOCATIONS.load(Ordering::SeqCst) > before);
}
