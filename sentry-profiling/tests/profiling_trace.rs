//! End to end, `trace` lifecycle: the profiler runs only while a sampled transaction runs,
//! start/stop cycles each send a chunk covering their transaction, and `start_profiler` is
//! ignored; with a session sample rate of 0 nothing runs and nothing is sent.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{chunks, has_function, init, profiled_busy_loop, serial, wait_until, WAIT};
use sentry::{ProfileLifecycle, TransactionContext};
use sentry_tests::TestServer;

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[test]
fn the_profiler_runs_while_sampled_transactions_run() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = init(&server, 1.0, ProfileLifecycle::Trace);
    // Transactions start and stop it; the manual API does nothing.
    assert_eq!(sentry::start_profiler().ok(), Some(false));
    assert!(!sentry::is_profiler_running());

    let mut windows = Vec::new();
    for round in 0..2 {
        let begin = now();
        let tx = sentry::start_transaction(TransactionContext::new("job", "task")).enter();
        wait_until("the profiler runs", sentry::is_profiler_running);
        profiled_busy_loop(Duration::from_millis(200));
        drop(tx);
        wait_until("the profiler stops", || !sentry::is_profiler_running());
        windows.push((begin, now()));
        // One chunk per cycle, sent when the last transaction ended.
        wait_until("the cycle's chunk arrives", || {
            chunks(&server).len() == round + 1
        });
    }
    // A transaction that is not sampled does not start it.
    let unsampled =
        sentry::start_transaction(TransactionContext::new("ignored", "task").with_sampled(false))
            .enter();
    std::thread::sleep(Duration::from_millis(50));
    assert!(!sentry::is_profiler_running());
    drop(unsampled);
    assert!(guard.flush(Some(WAIT)));

    let chunks = chunks(&server);
    assert_eq!(chunks.len(), 2);
    assert_ne!(
        chunks[0].profiler_id, chunks[1].profiler_id,
        "a profiler session per cycle"
    );
    for (chunk, (begin, end)) in chunks.iter().zip(&windows) {
        assert!(has_function(chunk, "profiled_busy_loop"));
        for sample in &chunk.profile.samples {
            assert!(
                (*begin..=*end).contains(&sample.timestamp),
                "sample at {} outside its transaction's {begin}..{end}",
                sample.timestamp
            );
        }
    }
    let transactions = sentry_tests::server::raw_transaction_payloads(&server.requests());
    let ids: Vec<_> = transactions
        .iter()
        .filter(|t| t["transaction"] == "job")
        .map(|t| t["contexts"]["profile"]["profiler_id"].clone())
        .collect();
    let expected: Vec<serde_json::Value> = chunks
        .iter()
        .map(|c| c.profiler_id.to_string().into())
        .collect();
    assert_eq!(ids, expected);
    drop(guard);
}

#[test]
fn a_session_rate_of_zero_profiles_nothing() {
    let _serial = serial();
    let server = TestServer::start();
    let guard = init(&server, 0.0, ProfileLifecycle::Trace);
    let tx = sentry::start_transaction(TransactionContext::new("job", "task")).enter();
    profiled_busy_loop(Duration::from_millis(50));
    assert!(!sentry::is_profiler_running());
    drop(tx);
    drop(guard);
    let server_chunks = chunks(&server);
    assert!(server_chunks.is_empty());
    // Manual lifecycle, same rate: start is a no-op.
    let server = TestServer::start();
    let guard = init(&server, 0.0, ProfileLifecycle::Manual);
    assert_eq!(sentry::start_profiler().ok(), Some(false));
    assert!(!sentry::is_profiler_running());
    drop(guard);
    assert!(chunks(&server).is_empty());
    assert_eq!(server.discarded_total(), 0);
}
