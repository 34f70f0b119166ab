//! End to end: Sentry's rate limits on `profile_chunk` and on `profile_duration` hold profile
//! chunks back, and the client report counts them.

mod common;

use std::time::Duration;

use common::{chunks, init, profiled_busy_loop, serial, WAIT};
use sentry::{Level, ProfileLifecycle};
use sentry_tests::{Behavior, TestServer};

fn limited_chunk_is_counted(limits: &str) {
    let server = TestServer::start();
    let guard = init(&server, 1.0, ProfileLifecycle::Manual);
    // The first answer carries the limit.
    server.set_behavior(Behavior::sequence([
        Behavior::rate_limited(limits),
        Behavior::ok(),
    ]));
    sentry::capture_message("sets the limit", Level::Info);
    assert!(sentry::flush(Some(WAIT)));

    assert_eq!(sentry::start_profiler().ok(), Some(true));
    // Long enough for the sampler's first rounds (it reads the loaded modules first).
    profiled_busy_loop(Duration::from_millis(400));
    sentry::stop_profiler();
    drop(guard);

    assert!(chunks(&server).is_empty(), "{limits}: a chunk went through");
    assert_eq!(
        server.discarded("ratelimit_backoff", "profile_chunk"),
        1,
        "{limits}: {:?}",
        server.client_reports()
    );
}

#[test]
fn a_profile_chunk_limit_holds_chunks_back() {
    let _serial = serial();
    limited_chunk_is_counted("60:profile_chunk:organization");
}

#[test]
fn a_profile_duration_limit_holds_chunks_back() {
    let _serial = serial();
    limited_chunk_is_counted("60:profile_duration:organization");
}
