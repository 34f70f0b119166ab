//! End to end, manual lifecycle: `sentry::init` with the HTTP transport to a loopback server,
//! `start_profiler`, CPU burnt in a named function inside a transaction, then `flush` and
//! `close` each send a chunk that passes Relay's checks, whose stacks (symbolized here from
//! the chunk's own images) run through that function, and whose profiler id the transaction
//! carries.

mod common;

use std::time::Duration;

use common::{chunks, has_function, init, profiled_busy_loop, serial, WAIT};
use std::sync::Arc;

use sentry::{Client, ClientOptions, ProfileLifecycle, Scopes, TransactionContext};
use sentry_tests::server::raw_transaction_payloads;
use sentry_tests::TestServer;

#[test]
fn a_manual_profile_reaches_sentry_linked_to_its_transaction() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = init(&server, 1.0, ProfileLifecycle::Manual);
    assert_eq!(sentry::start_profiler().ok(), Some(true));
    assert!(sentry::is_profiler_running());

    // Another client closing (one a service keeps for itself, bound to its own scopes on
    // its own thread) leaves the profiler alone.
    let other = Arc::new(Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("the server's DSN")),
        transport: Some(Arc::new(sentry::transport_http::HttpTransportFactory)),
        ..Default::default()
    }));
    assert!(other.is_enabled());
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(Some(Arc::clone(&other))));
    std::thread::spawn(move || scopes.bind(|| other.close(Some(WAIT))))
        .join()
        .expect("the other client closes");
    assert!(sentry::is_profiler_running());

    let tx = sentry::start_transaction(TransactionContext::new("busy", "task")).enter();
    profiled_busy_loop(Duration::from_millis(300));
    drop(tx);

    // A flush sends the chunk so far; the profiler goes on.
    assert!(sentry::flush(Some(WAIT)));
    let flushed = chunks(&server);
    assert_eq!(flushed.len(), 1, "one chunk at the flush");
    assert!(sentry::is_profiler_running());

    profiled_busy_loop(Duration::from_millis(100));
    drop(guard); // close: the profiler stops and its last chunk goes out first
    assert!(!sentry::is_profiler_running());

    let chunks = chunks(&server);
    assert_eq!(chunks.len(), 2, "the flushed chunk and the last one");
    let first = &chunks[0];
    assert_eq!(first.platform, "rust");
    assert_eq!(first.release.as_deref(), Some("profiling-test@1.0.0"));
    assert_eq!(chunks[1].profiler_id, first.profiler_id);
    assert_ne!(chunks[1].chunk_id, first.chunk_id);
    // About 30 samples of the test's thread at 101 Hz in 300 ms, more with other threads.
    assert!(
        first.profile.samples.len() >= 15,
        "{} samples",
        first.profile.samples.len()
    );
    assert!(
        has_function(first, "profiled_busy_loop"),
        "no stack runs through profiled_busy_loop: {:#?}",
        sentry_tests::display_profile::symbolized_stacks(first)
    );
    // The test's thread is in the chunk, named.
    let (tid, name) = sentry_core::profiling::current_thread();
    let meta = &first.profile.thread_metadata[&tid.to_string()];
    assert_eq!(meta.name, name.map(|n| n.chars().take(15).collect()));

    let transactions = raw_transaction_payloads(&server.requests());
    assert_eq!(transactions.len(), 1);
    assert_eq!(
        transactions[0]["contexts"]["profile"]["profiler_id"],
        first.profiler_id.to_string(),
        "the transaction names the profiler whose chunks cover it"
    );
}
