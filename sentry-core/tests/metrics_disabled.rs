//! With metrics off — no client at all, or an enabled client with `enable_metrics: false` —
//! the metrics functions convert nothing and allocate nothing.
//!
//! Its own test binary: a counting global allocator (`support/counting_alloc.rs`) sees every
//! allocation of the process.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sentry_core::logger::DisplayParam;
use sentry_core::metrics::{self, unit};
use sentry_core::test::TestTransport;
use sentry_core::{Client, ClientOptions};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::ALLOCATIONS;

fn record_everything() {
    let addr = std::net::Ipv4Addr::LOCALHOST;
    for i in 0..1000u64 {
        metrics::count("orders", 1);
        metrics::gauge("queue.depth", i);
        metrics::distribution("latency", 12.5);
        metrics::count_with(
            "orders",
            1,
            &[("region", &"eu"), ("peer", &DisplayParam(&addr))],
        );
        metrics::gauge_with("memory", 1024, unit::BYTE, &[("pool", &"main")]);
        metrics::distribution_with("db.query", 3.25, unit::MILLISECOND, &[("rows", &i)]);
    }
}

#[test]
fn metrics_off_cost_no_allocation() {
    // No client at all.
    assert!(!metrics::enabled());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    record_everything();
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);

    // An enabled client, bound globally, with metrics off.
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        enable_metrics: false,
        ..Default::default()
    }));
    sentry_core::bind_client(Some(Arc::clone(&client)));
    assert!(client.is_enabled());
    assert!(!metrics::enabled());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    record_everything();
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);

    // A client with metrics on (the default) opens the gate; closing it shuts the gate again.
    let on = Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        ..Default::default()
    });
    assert!(metrics::enabled());
    assert!(on.close(None));
    assert!(!metrics::enabled());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    record_everything();
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);

    assert!(client.close(None));
    assert!(transport.envelopes().is_empty());
}
