//! The facade's gate follows the enabled clients, even when they come and go on many threads.
//!
//! Its own test binary, so no other test's client holds the gate open.

use std::sync::{Arc, Barrier};
use std::thread;

use sentry_core::test::TestTransport;
use sentry_core::{Client, ClientOptions};

fn enabled_client(transport: &Arc<TestTransport>, enable_logs: bool) -> Client {
    Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        enable_logs,
        ..Default::default()
    })
}

/// Whenever a thread holds an enabled client, the facade's gate (and, for a client with logs,
/// the logs gate) is open; once every client is gone, both are closed. The count-then-flag
/// sequence this replaced let a thread dropping the last client clear the flag after another
/// had just counted a new one.
#[test]
fn the_gate_is_open_while_any_client_is_enabled() {
    const THREADS: usize = 8;
    const ROUNDS: usize = 3_000;
    let transport = TestTransport::new();
    let barrier = Barrier::new(THREADS);
    let failures: usize = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|i| {
                let (transport, barrier) = (&transport, &barrier);
                s.spawn(move || {
                    barrier.wait();
                    let mut failures = 0;
                    for round in 0..ROUNDS {
                        let logs = (i + round) % 2 == 0;
                        let client = enabled_client(transport, logs);
                        assert!(client.is_enabled());
                        if !sentry_minimal::is_enabled() {
                            failures += 1;
                        }
                        if logs && !sentry_core::logger::enabled() {
                            failures += 1;
                        }
                        if round % 3 == 0 {
                            client.close(None);
                        }
                        drop(client);
                    }
                    failures
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    assert_eq!(failures, 0, "enabled clients found behind a closed gate");
    assert!(!sentry_minimal::is_enabled());
    assert!(!sentry_core::logger::enabled());
}
