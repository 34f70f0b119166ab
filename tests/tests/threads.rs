//! An enabled SDK runs exactly one background thread; a disabled one runs none.
//!
//! Its own test binary (own process), so no other test's threads are counted.

use sentry::Level;
use sentry_tests::server::TestServer;

fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| t.ok())
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                // The loopback server's own threads are not the SDK's.
                .filter(|name| !name.starts_with("test-server"))
                .collect()
        })
        .unwrap_or_default()
}

fn sdk_threads(names: &[String]) -> usize {
    names.iter().filter(|n| n.starts_with("sentry-")).count()
}

// The test harness may start or end a thread of its own meanwhile (unnamed threads inherit
// their creator's name), so totals are compared as upper bounds and the SDK's threads, which
// are all named `sentry-…`, are counted exactly.
#[test]
#[cfg(target_os = "linux")]
fn one_thread_when_enabled_none_when_disabled() {
    let server = TestServer::start();
    let before = thread_names();
    assert_eq!(sdk_threads(&before), 0);

    let disabled = sentry::init("");
    sentry::capture_message("nothing", Level::Info);
    let now = thread_names();
    assert_eq!(
        sdk_threads(&now),
        0,
        "a disabled SDK starts no thread: {now:?}"
    );
    assert!(now.len() <= before.len(), "before {before:?}, now {now:?}");
    drop(disabled);

    let guard = sentry::init(server.dsn().as_str());
    sentry::capture_message("one thread", Level::Info);
    assert!(guard.flush(None));
    let during = thread_names();
    assert_eq!(sdk_threads(&during), 1, "{during:?}");
    // Linux truncates thread names to 15 bytes.
    assert!(during.iter().any(|n| n == "sentry-transpor"), "{during:?}");
    assert!(
        during.len() <= before.len() + 1,
        "before {before:?}, during {during:?}"
    );

    drop(guard);
    // The worker has been joined (or is exiting) once the guard is dropped.
    for _ in 0..50 {
        if sdk_threads(&thread_names()) == 0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(sdk_threads(&thread_names()), 0);
}
