//! A disabled SDK is free: no thread, no callbacks, nothing captured.
//!
//! Its own test binary, so no other test's client is alive in the process.

use std::sync::atomic::{AtomicBool, Ordering};

use sentry_core::{Breadcrumb, ClientOptions, Level};

/// The names of this process's threads. Other tests of this binary run in parallel and may
/// end their threads meanwhile, so callers compare totals as upper bounds and look for the
/// SDK's own threads by name (they are all called `sentry-…`).
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .filter_map(|t| t.ok())
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|name| name.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn disabled_sdk_spawns_no_thread_and_runs_no_closure() {
    let before = thread_names();
    let guard = sentry_core::init(ClientOptions::default());
    assert!(!guard.is_enabled());
    assert!(!sentry_minimal::is_enabled());

    let ran = AtomicBool::new(false);
    sentry_core::add_breadcrumb(|| {
        ran.store(true, Ordering::SeqCst);
        Breadcrumb::new("never built")
    });
    sentry_core::configure_scope(|_| ran.store(true, Ordering::SeqCst));
    sentry_minimal::add_breadcrumb(|| {
        ran.store(true, Ordering::SeqCst);
        Breadcrumb::new("never built")
    });
    let pushed = sentry_core::push_scope();
    sentry_core::configure_scope(|_| ran.store(true, Ordering::SeqCst));
    drop(pushed);
    let value = sentry_core::with_scope(|_| ran.store(true, Ordering::SeqCst), || 7);
    assert_eq!(value, 7);
    assert!(!ran.load(Ordering::SeqCst));
    assert!(sentry_core::capture_message("dropped", Level::Error).is_nil());
    assert_eq!(sentry_core::last_event_id(), None);
    if cfg!(target_os = "linux") {
        let now = thread_names();
        // Only the SDK's threads are compared: the test harness runs the other tests of this
        // file on threads of its own, which come and go meanwhile.
        assert!(
            !now.iter().any(|n| n.starts_with("sentry-")),
            "a disabled SDK starts no thread: before {before:?}, now {now:?}"
        );
    }
    drop(guard);
}

#[test]
fn invalid_dsn_gives_an_error_not_a_panic() {
    let err = sentry_core::try_init("https://@example.com/1").unwrap_err();
    assert!(err.to_string().contains("DSN"), "{err}");
    let guard = sentry_core::init("ftp://key@example.com/1");
    assert!(!guard.is_enabled());
    let err = sentry_core::try_init(ClientOptions {
        sample_rate: 2.0,
        ..Default::default()
    })
    .unwrap_err();
    assert!(err.to_string().contains("sample rate"), "{err}");
}
