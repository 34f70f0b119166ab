//! With an enabled client, forking the current scope, entering and leaving it allocate
//! nothing until the fork is written; `with_scope` with a `configure` that writes nothing
//! allocates nothing either, nor does a breadcrumb recorded inside one once the ring is full.
//!
//! Its own test binary: a counting global allocator sees every allocation of the process.
#![allow(unsafe_code)] // `GlobalAlloc` is an unsafe trait; this test only counts and forwards.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sentry_core::test::DiscardTransport;
use sentry_core::transport::Transport;
use sentry_core::{Breadcrumb, ClientOptions, Scopes};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call unchanged to the system allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
