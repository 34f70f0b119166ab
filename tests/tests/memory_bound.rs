//! `queue_max_bytes` bounds memory: 200 events, each carrying a 5 MB scope extra, captured
//! while the server hangs, grow the process by no more than the queue's bound plus a fixed
//! overhead.
//!
//! Each measurement runs in a child process (this test binary again, with
//! `SENTRY_MEMORY_CHILD` set, running only [`memory_child`]), so that its peak resident set
//! size (`VmHWM` in `/proc/self/status`) is its own.

use std::process::Command;
use std::time::Duration;

use sentry::protocol::{Map, Value};
use sentry::{ClientOptions, Level};
use sentry_tests::server::{Behavior, TestServer};

const CHILD_ENV: &str = "SENTRY_MEMORY_CHILD";

/// The queue bound the child runs with: small, to make the test sharp.
const QUEUE_MAX_BYTES: usize = 8 * 1024 * 1024;

/// What may come on top of the queue, in bytes (see [`memory_is_bounded_by_queue_max_bytes`]).
const FIXED_OVERHEAD: u64 = 12 * 1024 * 1024;

/// A line of `/proc/self/status`, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/self/status"))
}

/// The 5 MB extra: one string (`string`), or fifty strings of 100 KB (`map`, each within
/// `max_value_length`, so that the event size limit is what cuts it).
fn blob(shape: &str) -> Value {
    match shape {
        "string" => Value::from("x".repeat(5_000_000)),
        _ => Value::Map(
            (0..50)
                .map(|i| (format!("part{i:02}"), Value::from("y".repeat(100_000))))
                .collect::<Map>(),
        ),
    }
}

/// The child's side: prints `GROWTH <KiB>`, how much its peak RSS grew over the captures.
#[test]
#[allow(clippy::print_stdout)] // The parent reads the child's stdout.
fn memory_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // Not the child: nothing to do.
    };
    let (shape, dsn) = spec.split_once('|').expect("shape|dsn");
    let guard = sentry::init((
        dsn,
        ClientOptions {
            queue_max_bytes: QUEUE_MAX_BYTES,
            shutdown_timeout: Duration::from_millis(200),
            ..Default::default()
        },
    ));
    sentry::configure_scope(|scope| scope.set_extra("blob", blob(shape)));
    // Warm up: the worker takes this one and hangs on it.
    sentry::capture_message("warm-up", Level::Error);
    std::thread::sleep(Duration::from_millis(200));
    let before = status_kib("VmHWM").max(status_kib("VmRSS"));
    for i in 0..200 {
        sentry::capture_message(&format!("event {i}"), Level::Error);
    }
    std::thread::sleep(Duration::from_millis(200));
    let after = status_kib("VmHWM");
    println!(
        "GROWTH {} BEFORE {before} AFTER {after}",
        after.saturating_sub(before)
    );
    drop(guard);
}

fn growth_kib(shape: &str, server: &TestServer) -> u64 {
    let exe = std::env::current_exe().expect("test binary");
    let output = Command::new(exe)
        .args(["memory_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{shape}|{}", server.dsn()))
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{shape}: the child failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|line| line.split_once("GROWTH ").map(|(_, rest)| rest.to_owned()))
        .expect("the child reported its growth");
    eprintln!("{shape}: peak RSS growth (KiB) {line}");
    line.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

/// 200 events × a 5 MB scope extra against a server that never answers: the peak RSS grows by
/// less than `queue_max_bytes` plus a fixed overhead. The overhead covers what is not queued:
/// the envelope the worker is stuck sending (the event, its serialized body and its gzip
/// copy: up to 3 MiB, as no event exceeds 1 MiB), the event being built on the calling thread
/// (scope data is copied into it: up to 1 MiB per value), and the allocator's slack.
/// Before the queue estimate counted event data, the queue held all 200 events (1 GB).
#[test]
fn memory_is_bounded_by_queue_max_bytes() {
    let server = TestServer::start();
    server.set_behavior(Behavior::Hang);
    for shape in ["string", "map"] {
        let growth = growth_kib(shape, &server) * 1024;
        assert!(
            growth < QUEUE_MAX_BYTES as u64 + FIXED_OVERHEAD,
            "{shape}: peak RSS grew {} MiB",
            growth / (1024 * 1024)
        );
    }
}
