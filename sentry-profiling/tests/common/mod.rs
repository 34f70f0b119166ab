//! What the profiler's end-to-end tests share: the SDK sending to a loopback server over HTTP,
//! and the profile chunks that arrived there.

#![allow(dead_code)]

use std::hint::black_box;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sentry::protocol::ProfileChunk;
use sentry::{ClientInitGuard, ClientOptions, ProfileLifecycle};
use sentry_tests::profile_chunk::check_profile_chunk;
use sentry_tests::TestServer;

/// The profiler is one per process: the tests of a file take turns.
static SERIAL: Mutex<()> = Mutex::new(());

pub(crate) fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// `sentry::init` (with the `profiling` feature: the profiling integration is a default one)
/// sending to `server`, every transaction sampled.
pub(crate) fn init(server: &TestServer, rate: f32, lifecycle: ProfileLifecycle) -> ClientInitGuard {
    let guard = sentry::init(ClientOptions {
        dsn: Some(server.dsn().parse().expect("the server's DSN")),
        release: Some("profiling-test@1.0.0".into()),
        traces_sample_rate: Some(1.0),
        profile_session_sample_rate: rate,
        profile_lifecycle: lifecycle,
        ..Default::default()
    });
    assert!(guard.is_enabled());
    guard
}

/// Every `profile_chunk` item that arrived, each checked with `check_profile_chunk` (a
/// failing check fails the test).
pub(crate) fn chunks(server: &TestServer) -> Vec<ProfileChunk> {
    let mut chunks = Vec::new();
    for request in server.requests() {
        for (header, payload) in request.raw_items() {
            if header["type"] != "profile_chunk" {
                continue;
            }
            if let Err(problems) = check_profile_chunk(&header, &payload) {
                panic!("a chunk Sentry would reject: {problems:#?}");
            }
            chunks.push(serde_json::from_slice(&payload).expect("a profile chunk"));
        }
    }
    chunks
}

/// Waits until `condition` holds, for at most [`WAIT`].
pub(crate) fn wait_until(what: &str, condition: impl Fn() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Spends `budget` of CPU in this function (named in the tests' symbolized stacks).
#[inline(never)]
pub(crate) fn profiled_busy_loop(budget: Duration) -> u64 {
    let start = Instant::now();
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    while start.elapsed() < budget {
        for byte in 0..10_000u64 {
            hash = (hash ^ black_box(byte)).wrapping_mul(0x100_0000_01b3);
        }
    }
    black_box(hash)
}

/// `true` if some stack of `chunk`, symbolized locally, runs through a function whose name
/// contains `name`.
pub(crate) fn has_function(chunk: &ProfileChunk, name: &str) -> bool {
    sentry_tests::display_profile::symbolized_stacks(chunk)
        .iter()
        .any(|stack| stack.iter().any(|f| f.contains(name)))
}
