//! What the offline cache promises, across processes: errors are on disk before `capture_*`
//! returns, the counts of what was dropped survive the process, two processes replaying one
//! directory send each envelope once, only the SDK's own files are touched, and the files are
//! private to the user.
//!
//! Children are this test binary run again with `SENTRY_DURABILITY_CHILD` set to a mode, so
//! that it executes only [`durability_child`]; the parent kills them with SIGKILL (no
//! destructor, no flush, no exit handler runs) or lets them exit.

use sentry_tests::places::{refused_dsn, temp_dir};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::{ClientOptions, Level};
use sentry_tests::server::{Behavior, TestServer};
use sentry_transport_http::HttpTransportFactory;

const MODE: &str = "SENTRY_DURABILITY_CHILD";
const DSN: &str = "SENTRY_DURABILITY_DSN";
const DIR: &str = "SENTRY_DURABILITY_DIR";
const COUNT: &str = "SENTRY_DURABILITY_COUNT";
const MAX: &str = "SENTRY_DURABILITY_MAX";

fn child_var(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set for children"))
}

/// The child's side. Modes:
/// - `burst`: capture `COUNT` errors and say READY at once (the parent kills it);
/// - `flushed`: capture `COUNT` errors, flush, say READY (the parent kills it);
/// - `exit`: capture `COUNT` errors and exit normally (the guard closes the client);
/// - `replay`: send what the cache holds, then exit;
/// - `hang-close`: three errors dropped by `before_send`, one sent to a hanging server, close
///   with a short timeout, say READY (the parent kills it).
#[test]
#[allow(clippy::print_stdout)] // The parent reads the child's stdout.
fn durability_child() {
    let Ok(mode) = std::env::var(MODE) else {
        return; // Not a child: nothing to do.
    };
    let count: usize = child_var(COUNT).parse().expect("count");
    let max: usize = child_var(MAX).parse().expect("max");
    let mut options = ClientOptions {
        cache_dir: Some(PathBuf::from(child_var(DIR))),
        cache_max_envelopes: max,
        ..Default::default()
    };
    if mode == "hang-close" {
        options.before_send = Some(Arc::new(|event: sentry::protocol::Event, _| {
            let dropped = event
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with("drop"));
            (!dropped).then_some(event)
        }));
    }
    let guard = sentry::init((child_var(DSN).as_str(), options));
    let capture = |what: &str| {
        for i in 0..count {
            sentry::capture_message(&format!("{what} {i}"), Level::Error);
        }
    };
    match mode.as_str() {
        "burst" => {
            capture("burst");
            println!("READY");
        }
        "flushed" => {
            capture("flushed");
            sentry::flush(Some(Duration::from_secs(10)));
            println!("READY");
        }
        "exit" => {
            capture("exit");
            drop(guard);
            println!("READY");
            return;
        }
        "replay" => {
            sentry::flush(Some(Duration::from_secs(20)));
            drop(guard);
            println!("READY");
            return;
        }
        "hang-close" => {
            for i in 0..3 {
                sentry::capture_message(&format!("drop {i}"), Level::Error);
            }
            sentry::capture_message("stuck", Level::Error);
            // Let the worker take the event (and the report riding on it) into its send.
            std::thread::sleep(Duration::from_millis(300));
            let client = sentry::Scopes::current().client();
            client.close(Some(Duration::from_millis(300)));
            println!("READY");
        }
        other => panic!("unknown mode {other}"),
    }
    std::mem::forget(guard);
    std::thread::sleep(Duration::from_secs(60));
}

struct ChildSpec<'a> {
    mode: &'a str,
    dsn: &'a str,
    dir: &'a Path,
    count: usize,
    max: usize,
}

fn spawn_child(spec: &ChildSpec<'_>) -> Child {
    let exe = std::env::current_exe().expect("test binary");
    Command::new(exe)
        .args([
            "durability_child",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(MODE, spec.mode)
        .env(DSN, spec.dsn)
        .env(DIR, spec.dir)
        .env(COUNT, spec.count.to_string())
        .env(MAX, spec.max.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child")
}

/// Waits for the child's READY line; the rest of its output is read (and ignored) on a thread,
/// so that a child that goes on to exit does not write into a closed pipe.
fn wait_ready(child: &mut Child) {
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    for line in lines.by_ref() {
        let line = line.expect("child output");
        // The test harness may print `test durability_child ... ` on the same line.
        if line.contains("READY") {
            std::thread::spawn(move || lines.for_each(drop));
            return;
        }
    }
    panic!("the child ended without saying READY");
}

/// Runs a child until READY and kills it with SIGKILL.
fn run_and_kill(spec: &ChildSpec<'_>) {
    let mut child = spawn_child(spec);
    wait_ready(&mut child);
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the child was killed");
}

/// Runs a child to its normal exit.
fn run_to_exit(spec: &ChildSpec<'_>) {
    let mut child = spawn_child(spec);
    wait_ready(&mut child);
    let status = child.wait().expect("wait");
    assert!(status.success(), "the child exited normally");
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

/// The envelope files waiting in `dir` (not the temp file a killed writer may leave, which
/// goes once it is a minute old).
fn envelope_files(dir: &Path) -> Vec<PathBuf> {
    files(dir)
        .into_iter()
        .filter(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| !name.starts_with(".tmp-") && name.contains(".envelope"))
        })
        .collect()
}

/// The next process: a client with the same cache directory sends what it finds.
fn replay(dir: &Path, server: &TestServer) {
    let client = sentry::Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        cache_dir: Some(dir.to_owned()),
        cache_max_envelopes: 1000,
        ..Default::default()
    });
    assert!(client.flush(Some(Duration::from_secs(20))));
    assert!(client.close(Some(Duration::from_secs(5))));
}

/// How many times each message arrived.
fn message_counts(server: &TestServer) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for event in server.events() {
        let message = event.message.clone().unwrap_or_default();
        *counts.entry(message).or_default() += 1;
    }
    counts
}

#[test]
fn errors_are_on_disk_before_capture_returns_and_survive_sigkill() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = temp_dir("durability-burst");
    let dsn = refused_dsn();
    run_and_kill(&ChildSpec {
        mode: "burst",
        dsn: &dsn,
        dir: &dir,
        count: 500,
        max: 1000,
    });
    let server = TestServer::start();
    replay(&dir, &server);
    let counts = message_counts(&server);
    let missing: Vec<usize> = (0..500)
        .filter(|i| !counts.contains_key(&format!("burst {i}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of 500 lost: {missing:?}",
        missing.len()
    );
    assert!(counts.values().all(|&n| n == 1), "each sent once");
    assert!(envelope_files(&dir).is_empty(), "sent and deleted");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cache_overflow_counts_survive_sigkill() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = temp_dir("durability-overflow-kill");
    let dsn = refused_dsn();
    run_and_kill(&ChildSpec {
        mode: "flushed",
        dsn: &dsn,
        dir: &dir,
        count: 300,
        max: 100,
    });
    let server = TestServer::start();
    replay(&dir, &server);
    assert_eq!(server.events().len(), 100, "the newest 100 were kept");
    assert_eq!(server.discarded("cache_overflow", "error"), 200);
    assert_eq!(server.discarded_total(), 200, "nothing else dropped");
    // Counted once: a second replay finds nothing to send.
    let again = TestServer::start();
    replay(&dir, &again);
    assert_eq!(again.discarded_total(), 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn cache_overflow_counts_survive_a_normal_exit_while_offline() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = temp_dir("durability-overflow-exit");
    let dsn = refused_dsn();
    run_to_exit(&ChildSpec {
        mode: "exit",
        dsn: &dsn,
        dir: &dir,
        count: 1000,
        max: 100,
    });
    let server = TestServer::start();
    replay(&dir, &server);
    assert_eq!(server.events().len(), 100);
    assert_eq!(server.discarded("cache_overflow", "error"), 900);
    assert_eq!(server.discarded_total(), 900);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn two_processes_replaying_one_directory_send_each_envelope_once() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = temp_dir("durability-race");
    let dsn = refused_dsn();
    run_and_kill(&ChildSpec {
        mode: "flushed",
        dsn: &dsn,
        dir: &dir,
        count: 100,
        max: 1000,
    });
    assert_eq!(envelope_files(&dir).len(), 100);
    let server = TestServer::start();
    // A little latency per request widens the window in which both would send one file.
    server.set_behavior(Behavior::slow(Duration::from_millis(5), Behavior::ok()));
    let spec = ChildSpec {
        mode: "replay",
        dsn: &server.dsn(),
        dir: &dir,
        count: 0,
        max: 1000,
    };
    let mut first = spawn_child(&spec);
    let mut second = spawn_child(&spec);
    wait_ready(&mut first);
    wait_ready(&mut second);
    assert!(first.wait().expect("wait").success());
    assert!(second.wait().expect("wait").success());
    let counts = message_counts(&server);
    let twice: Vec<&String> = counts
        .iter()
        .filter(|(_, &n)| n > 1)
        .map(|(m, _)| m)
        .collect();
    assert!(twice.is_empty(), "sent twice: {twice:?}");
    assert_eq!(counts.len(), 100, "every envelope sent");
    assert!(envelope_files(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

/// A name in the SDK's own pattern, newer than anything the SDK wrote so far.
fn own_name(nanos_offset: u128, counter: u32) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        + nanos_offset;
    format!(
        "{nanos:024}-{:010}-{counter:010}.envelope",
        4_000_000_000u64
    )
}

#[test]
fn only_the_sdks_own_files_are_touched_and_an_oversized_one_goes_alone() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = temp_dir("durability-naming");
    let dsn = refused_dsn();
    run_and_kill(&ChildSpec {
        mode: "flushed",
        dsn: &dsn,
        dir: &dir,
        count: 20,
        max: 1000,
    });
    assert_eq!(envelope_files(&dir).len(), 20);
    // Somebody else's files, in and out of the SDK's extension.
    let foreign = dir.join("zz-not-ours.envelope");
    std::fs::write(&foreign, b"{}\n{\"type\":\"event\",\"length\":2}\n{}\n").expect("write");
    let notes = dir.join("notes.txt");
    std::fs::write(&notes, b"unrelated").expect("write");
    // An own file that is damaged.
    let damaged = dir.join(own_name(0, 1));
    std::fs::write(&damaged, b"not an envelope at all").expect("write");
    // An own file, newest of all, larger than the whole cache (16 MiB): 100 MB, sparse.
    let huge = dir.join(own_name(1_000_000_000, 2));
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&huge).expect("create");
        file.write_all(b"{}\n{\"type\":\"event\",\"length\":104857600}\n")
            .expect("write");
        file.set_len(100 * 1024 * 1024 + 64).expect("grow");
    }
    let server = TestServer::start();
    let client = sentry::Client::new(ClientOptions {
        dsn: Some(server.dsn().parse().expect("DSN")),
        transport: Some(Arc::new(HttpTransportFactory)),
        cache_dir: Some(dir.clone()),
        ..Default::default()
    });
    assert!(client.flush(Some(Duration::from_secs(20))));
    assert!(client.close(Some(Duration::from_secs(5))));
    let counts = message_counts(&server);
    assert_eq!(counts.len(), 20, "the 20 valid envelopes are sent");
    assert!(foreign.exists(), "a foreign .envelope file is left alone");
    assert!(notes.exists(), "a foreign file is left alone");
    assert!(!damaged.exists(), "a damaged own file is dropped");
    assert!(!huge.exists(), "an oversized own file is dropped");
    assert_eq!(
        server.discarded("internal_sdk_error", "error"),
        1,
        "the damaged file is counted"
    );
    assert_eq!(
        server.discarded("cache_overflow", "error"),
        1,
        "the oversized file is counted, alone"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(unix)]
#[test]
fn the_cache_is_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;

    if std::env::var(MODE).is_ok() {
        return;
    }
    let parent = temp_dir("durability-modes");
    let dir = parent.join("cache");
    let dsn = refused_dsn();
    run_and_kill(&ChildSpec {
        mode: "burst",
        dsn: &dsn,
        dir: &dir,
        count: 3,
        max: 1000,
    });
    let mode = |path: &Path| {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&dir), 0o700, "the directory");
    let written = files(&dir);
    assert!(!written.is_empty());
    for file in written {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let _ = std::fs::remove_dir_all(&parent);
}

#[test]
fn close_against_a_hanging_server_persists_the_reports_for_the_next_process() {
    if std::env::var(MODE).is_ok() {
        return;
    }
    let dir = temp_dir("durability-hang-close");
    let hanging = TestServer::start();
    hanging.set_behavior(Behavior::Hang);
    let started = Instant::now();
    run_and_kill(&ChildSpec {
        mode: "hang-close",
        dsn: &hanging.dsn(),
        dir: &dir,
        count: 0,
        max: 1000,
    });
    assert!(started.elapsed() < Duration::from_secs(30));
    let server = TestServer::start();
    replay(&dir, &server);
    let counts = message_counts(&server);
    assert_eq!(counts.get("stuck"), Some(&1), "the stuck event is sent");
    assert_eq!(server.discarded("before_send", "error"), 3);
    assert_eq!(server.discarded_total(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}
