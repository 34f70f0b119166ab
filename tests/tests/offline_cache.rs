//! The offline cache across processes: a child process captures events while Sentry is
//! unreachable or hanging, is killed with SIGKILL, and the next process sends what the child
//! left on disk.
//!
//! The child is this test binary run again with `SENTRY_CACHE_CHILD` set, so that it executes
//! only [`cache_child`].

use sentry_tests::places::temp_dir;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::{ClientOptions, Level};
use sentry_tests::relay;
use sentry_tests::server::{raw_event_payloads, Behavior, TestServer};
use sentry_transport_http::HttpTransportFactory;

const CHILD_ENV: &str = "SENTRY_CACHE_CHILD";

/// The child's side: report `count` events to `dsn` with the cache in `dir`, say how it went on
/// stdout, then wait to be killed.
#[test]
#[allow(clippy::print_stdout)] // The parent reads the child's stdout.
fn cache_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return; // Not the child: nothing to do.
    };
    let mut parts = spec.splitn(4, '|');
    let (Some(mode), Some(count), Some(dir), Some(dsn)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        panic!("bad {CHILD_ENV}: {spec:?}");
    };
    let count: usize = count.parse().expect("count");
    let guard = sentry::init((
        dsn,
        ClientOptions {
            cache_dir: Some(PathBuf::from(dir)),
            ..Default::default()
        },
    ));
    for i in 0..count {
        sentry::capture_message(&format!("cached {mode} {i}"), Level::Error);
    }
    match mode {
        // Connection refused: every envelope is written, fails, and stays on disk.
        "refused" => {
            sentry::flush(Some(Duration::from_secs(5)));
        }
        // The server hangs: the first envelope is stuck in its send (on disk already); closing
        // with a short timeout writes the rest to disk.
        _ => {
            let client = sentry::Scopes::current().client();
            client.close(Some(Duration::from_millis(300)));
        }
    }
    println!("READY {}", envelope_files(Path::new(dir)).len());
    std::mem::forget(guard);
    std::thread::sleep(Duration::from_secs(60));
}

/// The envelope files in `dir`, including one claimed by a send in progress
/// (`<name>.envelope.<pid>.claimed`).
fn envelope_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    path.file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| !name.starts_with('.') && name.contains(".envelope"))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Runs the child until it says READY, kills it with SIGKILL, returns what it reported.
fn run_and_kill_child(mode: &str, count: usize, dir: &Path, dsn: &str) -> usize {
    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args(["cache_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, format!("{mode}|{count}|{}|{dsn}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("piped");
    let mut reported = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output");
        // The test harness may print `test cache_child ... ` on the same line.
        if let Some((_, n)) = line.split_once("READY ") {
            reported = Some(n.trim().parse().expect("a count"));
            break;
        }
    }
    // SIGKILL: no destructor, no flush, no exit handler runs.
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the child was killed");
    reported.expect("the child reached READY")
}

/// The next process: a client with the same cache directory sends the leftovers.
fn replay(dir: &Path) -> Vec<serde_json::Value> {
    let server = TestServer::start();
    let client = sentry::Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        cache_dir: Some(dir.to_owned()),
        ..Default::default()
    });
    assert!(client.flush(Some(Duration::from_secs(10))));
    let started = Instant::now();
    while !envelope_files(dir).is_empty() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        envelope_files(dir).is_empty(),
        "every file deleted once sent"
    );
    client.close(Some(Duration::from_secs(5)));
    for request in server.requests() {
        assert!(
            request.header("content-type").is_some(),
            "a real envelope request"
        );
    }
    raw_event_payloads(&server.requests())
}

fn messages(payloads: &[serde_json::Value]) -> Vec<String> {
    let mut messages: Vec<String> = payloads
        .iter()
        .filter_map(|payload| payload["logentry"]["formatted"].as_str().map(str::to_owned))
        .collect();
    messages.sort();
    messages
}

#[test]
fn events_cached_while_offline_survive_sigkill_and_are_replayed() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = temp_dir("offline-refused");
    // A port with nothing listening: connection refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let dsn = format!("http://public@127.0.0.1:{closed}/1");
    let on_disk = run_and_kill_child("refused", 5, &dir, &dsn);
    assert_eq!(on_disk, 5);
    for file in envelope_files(&dir) {
        let body = std::fs::read(&file).expect("read");
        assert!(
            !String::from_utf8_lossy(&body).contains("sent_at"),
            "sent_at is never persisted"
        );
    }
    let payloads = replay(&dir);
    assert_eq!(
        messages(&payloads),
        (0..5)
            .map(|i| format!("cached refused {i}"))
            .collect::<Vec<_>>()
    );
    relay::assert_conformant(&payloads);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn events_stuck_on_a_hanging_server_survive_sigkill_and_are_replayed() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let dir = temp_dir("offline-hang");
    let hanging = TestServer::start();
    hanging.set_behavior(Behavior::Hang);
    let on_disk = run_and_kill_child("hang", 3, &dir, &hanging.dsn());
    assert_eq!(on_disk, 3, "one in flight, two saved at close");
    let payloads = replay(&dir);
    assert_eq!(
        messages(&payloads),
        (0..3)
            .map(|i| format!("cached hang {i}"))
            .collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
