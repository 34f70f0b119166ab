//! A process killed 10 seconds into a long root span has already delivered the spans that
//! ended before the span buffer's last flush (every 5 seconds): streaming loses at most the
//! last few seconds, where a transaction would lose everything.
//!
//! The test runs itself as a child process (`span_stream_child`) that streams to the loopback
//! server over the real HTTP transport, then kills it with SIGKILL.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry_tests::server::TestServer;

const CHILD: &str = "SENTRY_TEST_SPAN_STREAM_CHILD";

/// The child: a root span that never ends, a child span ending every 200 ms, each end printed.
#[test]
#[allow(clippy::print_stdout)] // The parent reads the child's stdout.
fn span_stream_child() {
    let Ok(dsn) = std::env::var(CHILD) else {
        return; // run as a normal test: nothing to do
    };
    let guard = sentry::init(sentry::ClientOptions {
        dsn: Some(dsn.parse().expect("DSN")),
        traces_sample_rate: Some(1.0),
        trace_lifecycle: sentry::TraceLifecycle::Stream,
        ..Default::default()
    });
    let root = sentry::start_transaction(sentry::TransactionContext::new("long job", "task"));
    let _root = root.enter();
    println!("READY");
    for i in 0.. {
        let step = sentry::start_span("step", &format!("step {i}"));
        std::thread::sleep(Duration::from_millis(200));
        step.finish();
        let end = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after the epoch")
            .as_secs_f64();
        println!("ENDED {i} {end}");
    }
    drop(guard);
}

#[test]
fn a_killed_process_has_delivered_the_spans_ended_before_the_last_flush() {
    let server = TestServer::start();
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "span_stream_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, server.dsn())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("piped");
    let ended: Arc<Mutex<Vec<(String, f64)>>> = Arc::default();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let reader = {
        let ended = Arc::clone(&ended);
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("READY") {
                    let _ = ready_tx.send(());
                }
                if let Some(rest) = line.split("ENDED ").nth(1) {
                    let mut parts = rest.split_whitespace();
                    if let (Some(i), Some(end)) = (parts.next(), parts.next()) {
                        let end: f64 = end.parse().expect("end time");
                        ended.lock().expect("lock").push((format!("step {i}"), end));
                    }
                }
            }
        })
    };
    ready_rx
        .recv_timeout(Duration::from_secs(30))
        .expect("the child became ready");
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(10));
    child.kill().expect("kill");
    let killed_after = started.elapsed();
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the child was killed");
    reader.join().expect("reader");
    server.wait_idle(Duration::from_millis(300), Duration::from_secs(3));

    let mut delivered: Vec<(String, f64)> = Vec::new();
    let mut last_received = UNIX_EPOCH;
    for request in server.requests() {
        for (header, payload) in request.raw_items() {
            if header["type"] != "span" {
                continue;
            }
            last_received = last_received.max(request.received_at);
            let payload: serde_json::Value = serde_json::from_slice(&payload).expect("JSON");
            for span in payload["items"].as_array().expect("items") {
                delivered.push((
                    span["name"].as_str().expect("name").to_owned(),
                    span["end_timestamp"].as_f64().expect("end"),
                ));
            }
        }
    }
    assert!(
        !delivered.is_empty(),
        "nothing was delivered in {killed_after:?}"
    );
    // The root span never ended, so it was never sent.
    assert!(delivered.iter().all(|(name, _)| name.starts_with("step ")));
    let last_flush = last_received
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch")
        .as_secs_f64();
    let ended = ended.lock().expect("lock").clone();
    // Every span that ended comfortably before the last flush arrived (the flush takes what
    // waits when it runs; 100 ms covers the request on the loopback).
    let before_flush: Vec<&(String, f64)> = ended
        .iter()
        .filter(|(_, end)| *end < last_flush - 0.1)
        .collect();
    assert!(
        before_flush.len() >= 15,
        "about 5 s of spans at 5 per second ended before the last flush: {}",
        before_flush.len()
    );
    for (name, _) in &before_flush {
        assert!(
            delivered.iter().any(|(d, _)| d == name),
            "{name} ended before the last flush but was not delivered"
        );
    }
    // Nothing was delivered twice.
    let mut names: Vec<&str> = delivered.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), delivered.len());
}
