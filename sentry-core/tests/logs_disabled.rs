//! With logs off — no client at all, or an enabled client without `enable_logs` — the logger
//! macros and functions evaluate no argument, format nothing and allocate nothing.
//!
//! Its own test binary: a counting global allocator (`support/counting_alloc.rs`) sees every
//! allocation of the process.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sentry_core::logger::{self, DisplayParam};
use sentry_core::protocol::{Log, LogLevel};
use sentry_core::test::TestTransport;
use sentry_core::{Client, ClientOptions};

#[path = "support/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::ALLOCATIONS;

fn log_everything(evaluated: &mut usize) {
    let addr = std::net::Ipv4Addr::LOCALHOST;
    for _ in 0..1000 {
        logger::info!("User {} logged in from {}", { *evaluated += 1; 42 }, addr; "plan" => "pro", "n" => 3);
        logger::error!("plain");
        logger::fatal!("attrs only"; "k" => { *evaluated += 1; String::from("allocates") });
        logger::info(
            "User {} from {}",
            &[&42, &DisplayParam(&addr)],
            &[("plan", &"pro")],
        );
        logger::log(LogLevel::Warn, "{}", &[&1.5], &[]);
    }
}

#[test]
fn logs_off_costs_no_allocation_and_evaluates_nothing() {
    // No client at all.
    let mut evaluated = 0;
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    log_everything(&mut evaluated);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);
    assert_eq!(evaluated, 0);

    // An enabled client, bound globally, with logs off.
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        ..Default::default()
    }));
    sentry_core::bind_client(Some(Arc::clone(&client)));
    assert!(client.is_enabled());
    assert!(!sentry_core::logger::enabled());
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    log_everything(&mut evaluated);
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 0);
    assert_eq!(evaluated, 0);

    // capture_log itself drops the record it is given (its construction allocated, not the
    // call) and the client sends nothing.
    sentry_core::capture_log(Log::new(LogLevel::Info, "dropped"));
    assert!(client.close(None));
    assert!(transport.envelopes().is_empty());
}
