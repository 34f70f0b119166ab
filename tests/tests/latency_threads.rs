//! Threads at internet latency: the extra senders exist only while the queue backs up. Alone in
//! its test binary, so that no other test's transport threads are counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::protocol::Event;
use sentry::{Client, ClientOptions};
use sentry_tests::server::{Behavior, TestServer};
use sentry_transport_http::HttpTransportFactory;

/// The threads of this process named `sentry-transport` (Linux: `/proc/self/task/*/comm`,
/// which holds the first 15 bytes of a thread's name).
fn transport_threads() -> usize {
    let name = sentry::transport::WORKER_THREAD_NAME;
    let comm = &name[..name.len().min(15)];
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|task| task.trim() == comm)
        .count()
}

/// Polls `f` until it is true or 5 s pass; returns whether it became true.
fn eventually(f: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn extra_senders_exist_only_while_there_is_backlog() {
    if !std::path::Path::new("/proc/self/task").exists() {
        return; // Thread names are read from Linux's /proc.
    }
    let server = TestServer::start();
    server.set_behavior(Behavior::slow(Duration::from_millis(50), Behavior::ok()));
    let client = Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("valid DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        max_concurrent_requests: 4,
        ..Default::default()
    });
    // Idle: the one worker thread (named by itself once it runs). A single event is sent on
    // it.
    assert!(eventually(|| transport_threads() == 1), "one worker thread");
    client.capture_event(Event::default(), None);
    assert!(client.flush(Some(Duration::from_secs(5))));
    assert_eq!(transport_threads(), 1, "no backlog, no extra sender");

    // A backlog: up to four senders besides the worker.
    for _ in 0..40 {
        client.capture_event(Event::default(), None);
    }
    let mut most = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.request_count() < 41 && Instant::now() < deadline {
        most = most.max(transport_threads());
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(client.flush(Some(Duration::from_secs(5))));
    assert!((3..=5).contains(&most), "{most} threads under backlog");
    // And they end once it is gone.
    assert!(
        eventually(|| transport_threads() == 1),
        "extra senders ended"
    );
    assert!(client.close(Some(Duration::from_secs(5))));
    assert!(eventually(|| transport_threads() == 0));
}
