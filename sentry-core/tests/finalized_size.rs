//! An event that a finalizer makes larger than Sentry accepts is trimmed again on the worker:
//! the capturing thread checked its size before the finalizers added to it.

use sentry_core::finalize::{finalize_event, set_event_finalizer};
use sentry_core::limits::MAX_EVENT_BYTES;
use sentry_core::protocol::Event;

/// Adds 1.2 MB of extra data, as a deferred integration that misjudged its share would.
fn grow(event: &mut Event) {
    for i in 0..40 {
        event
            .extra
            .insert(format!("added{i:02}"), "x".repeat(30_000).into());
    }
}

#[test]
fn an_event_grown_by_a_finalizer_is_trimmed_again() {
    set_event_finalizer("grow", grow);
    let mut event = Event {
        message: Some("grown on the worker".into()),
        ..Event::new()
    };
    finalize_event(&mut event);
    let size = serde_json::to_vec(&event).expect("serializable").len();
    assert!(size <= MAX_EVENT_BYTES, "{size} bytes");
    assert_eq!(event.message.as_deref(), Some("grown on the worker"));
    assert!(!event.extra.is_empty(), "only what does not fit is removed");
}
