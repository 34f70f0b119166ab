//! A disabled SDK is free: no thread, no callbacks, nothing captured.
//!
//! Its own test binary, so no other test's client is alive in the process.

use std::sync::atomic::{AtomicBool, Ordering};

use sentry_core::{Breadcrumb, ClientOptions, Level};

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn disabled_sdk_spawns_no_thread_and_runs_no_closure() {
    let before = thread_count();
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
    let value = sentry_core::with_scope(|_| ran.store(true, Ordering::SeqCst), || 7);
    assert_eq!(value, 7);
    assert!(!ran.load(Ordering::SeqCst));
    assert!(sentry_core::capture_message("dropped", Level::Error).is_nil());
    assert_eq!(sentry_core::last_event_id(), None);
    if cfg!(target_os = "linux") {
        assert_eq!(thread_count(), before, "a disabled SDK starts no thread");
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
