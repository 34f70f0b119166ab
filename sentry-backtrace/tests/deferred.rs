//! Deferred symbolication: the capturing thread keeps raw addresses, `finalize_event` (what the
//! transport worker calls before serializing) completes them later. The transport here stands
//! in for the worker and finalizes what it received.

use std::sync::{Arc, Mutex};

use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
use sentry_core::envelope::EnvelopeItem;
use sentry_core::protocol::Event;
use sentry_core::transport::Transport;
use sentry_core::ClientOptions;

mod support;
use support::Unfinished;

fn events(transport: &Unfinished) -> Vec<Event> {
    let envelopes = transport.take();
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .filter_map(|item| match item {
            EnvelopeItem::Event(event) => Some((**event).clone()),
            _ => None,
        })
        .collect()
}

#[inline(never)]
fn report() {
    let err = "x".parse::<u8>().unwrap_err();
    sentry_core::capture_error(&err); // CAPTURE
}

#[test]
fn the_calling_thread_keeps_addresses_and_finalize_completes_them() {
    sentry_backtrace::set_deferred_symbolication(true);
    sentry_backtrace::set_modules(sentry_backtrace::cargo_lock_modules!("../Cargo.lock"));
    let transport = Arc::new(Unfinished::default());
    let dyn_transport: Arc<dyn Transport> = Arc::clone(&transport) as Arc<dyn Transport>;
    let seen_in_before_send = Arc::new(Mutex::new(None));
    let guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(dyn_transport)),
        integrations: vec![
            Arc::new(StacktraceIntegration::new()),
            Arc::new(ContextIntegration::new()),
        ],
        before_send: Some(Arc::new({
            let seen = Arc::clone(&seen_in_before_send);
            move |event: Event, _: &sentry_core::Hint<'_>| {
                *seen.lock().unwrap() = Some(event.clone());
                Some(event)
            }
        })),
        ..ClientOptions::default()
    });
    report();
    let mut events = events(&transport);
    drop(guard);
    assert_eq!(events.len(), 1);

    // What the pipeline saw: addresses only, no modules yet.
    let seen = seen_in_before_send.lock().unwrap().clone().unwrap();
    let frames = &seen.exception[0].stacktrace.as_ref().unwrap().frames;
    assert!(frames
        .iter()
        .all(|f| f.function.is_none() && f.instruction_addr.is_some()));
    assert!(sentry_backtrace::needs_resolution(&seen));
    assert!(seen.modules.is_empty());
    assert!(
        seen.contexts.contains_key("os"),
        "contexts stay on the calling thread"
    );

    // What the worker sends.
    let event = &mut events[0];
    sentry_backtrace::finalize_event(event);
    let frames = &event.exception[0].stacktrace.as_ref().unwrap().frames;
    let top = frames.last().unwrap();
    assert_eq!(top.function.as_deref(), Some("deferred::report"));
    if sentry_backtrace::reads_debug_info() {
        assert!(top.context_line.as_deref().unwrap().contains("// CAPTURE"));
    }
    assert!(!sentry_backtrace::needs_resolution(event));
    assert!(event.modules.contains_key("backtrace"));
    if cfg!(target_os = "linux") {
        assert!(event.debug_meta.is_some());
    }
    sentry_backtrace::set_deferred_symbolication(false);
}
