//! The capture helpers are isolated: two tests in this binary run at the same time, one
//! capturing with a helper, the other capturing without one on threads of its own; the helper
//! gets exactly its own events, every time.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sentry::test::{with_captured_events, with_isolated_client};
use sentry::{Level, Scopes};

/// Set while the capturing test runs its rounds; the other test captures until it clears.
static CAPTURING: AtomicBool = AtomicBool::new(false);
/// Rounds the capturing test has done; captures the other test made meanwhile.
static ROUNDS: AtomicUsize = AtomicUsize::new(0);
static OUTSIDE: AtomicUsize = AtomicUsize::new(0);

const ROUNDS_TO_RUN: usize = 200;

#[test]
fn a_helper_gets_exactly_its_own_events() {
    CAPTURING.store(true, Ordering::SeqCst);
    // Give the other test (started by the harness at the same time) a moment to begin.
    let start = Instant::now();
    while OUTSIDE.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(2) {
        std::thread::yield_now();
    }
    for round in 0..ROUNDS_TO_RUN {
        let events = with_captured_events(|| {
            sentry::capture_message("mine", Level::Info);
            // A thread of this test, carrying its scopes, is captured too.
            let scopes = Scopes::current();
            std::thread::spawn(move || {
                scopes.bind(|| sentry::capture_message("mine, on a thread", Level::Info))
            })
            .join()
            .unwrap();
        });
        let messages: Vec<_> = events.iter().filter_map(|e| e.message.as_deref()).collect();
        assert_eq!(messages, ["mine", "mine, on a thread"], "round {round}");
        ROUNDS.fetch_add(1, Ordering::SeqCst);
    }
    CAPTURING.store(false, Ordering::SeqCst);
}

#[test]
fn captures_beside_it_go_elsewhere() {
    // Captures without any client of its own, on this thread and on another, while the other
    // test runs (and a while after it, if the harness runs the tests one by one).
    let mut handles = Vec::new();
    for _ in 0..2 {
        handles.push(std::thread::spawn(|| {
            let start = Instant::now();
            while (CAPTURING.load(Ordering::SeqCst) || OUTSIDE.load(Ordering::SeqCst) < 100)
                && start.elapsed() < Duration::from_secs(30)
            {
                let id = sentry::capture_message("not yours", Level::Info);
                // No client here: nothing is captured anywhere.
                assert!(id.is_nil());
                OUTSIDE.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    // And with an isolated client of its own: it gets its events, the helper none of them.
    let start = Instant::now();
    while (CAPTURING.load(Ordering::SeqCst) || start.elapsed() < Duration::from_millis(200))
        && start.elapsed() < Duration::from_secs(30)
    {
        let (envelopes, _) = with_isolated_client(Default::default(), || {
            sentry::capture_message("also not yours", Level::Info);
        });
        assert_eq!(envelopes.len(), 1);
    }
    for handle in handles {
        handle.join().unwrap();
    }
}
