//! An event that a finalizer makes larger than Sentry accepts is trimmed again on the worker:
//! the capturing thread checked its size before the finalizers added to it.

use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType};
use sentry_core::finalize::{finalize_envelope, finalize_event, set_event_finalizer};
use sentry_core::limits::MAX_EVENT_BYTES;
use sentry_core::protocol::Event;
use sentry_core::protocol::{Attachment, DataCategory};

/// Adds 1.2 MB of extra data, as a deferred integration that misjudged its share would.
fn grow(event: &mut Event) {
    for i in 0..40 {
        event
            .extra
            .insert(format!("added{i:02}"), "x".repeat(30_000).into());
    }
}

/// Adds 40,000 tags to events marked `bloat` (tags are never cut: trimming cannot shrink it).
fn bloat(event: &mut Event) {
    if event.message.as_deref() == Some("bloat") {
        for i in 0..40_000 {
            event
                .tags
                .insert(format!("tag{i}").into(), "value-of-the-tag".into());
        }
    }
}

#[test]
fn an_event_grown_by_a_finalizer_is_trimmed_again() {
    set_event_finalizer("grow", grow);
    let mut event = Event {
        message: Some("grown on the worker".into()),
        ..Event::new()
    };
    assert!(finalize_event(&mut event), "it fits once trimmed");
    let size = serde_json::to_vec(&event).expect("serializable").len();
    assert!(size <= MAX_EVENT_BYTES, "{size} bytes");
    assert_eq!(event.message.as_deref(), Some("grown on the worker"));
    assert!(!event.extra.is_empty(), "only what does not fit is removed");
}

#[test]
fn an_event_a_finalizer_leaves_too_large_is_removed_with_its_attachments() {
    set_event_finalizer("bloat", bloat);
    let event = |message: &str| Event {
        message: Some(message.into()),
        ..Event::new()
    };
    let mut bloated = event("bloat");
    assert!(!finalize_event(&mut bloated), "Sentry would reject it");

    let mut envelope = Envelope::from_event(event("bloat"));
    envelope.add_item(Attachment::from_bytes("log.txt", b"0123456789".to_vec()));
    let removed = finalize_envelope(&mut envelope);
    assert!(envelope.is_empty(), "nothing is left to send");
    assert!(removed.contains(&(DataCategory::Error, 1)), "{removed:?}");
    assert!(
        removed.contains(&(DataCategory::Attachment, 10)),
        "{removed:?}"
    );
    assert!(
        removed.contains(&(DataCategory::AttachmentItem, 1)),
        "{removed:?}"
    );

    // An envelope whose event fits keeps everything.
    let mut envelope = Envelope::from_event(event("fits"));
    let removed = finalize_envelope(&mut envelope);
    assert!(removed.is_empty());
    let kept: Vec<ItemType> = envelope.items().map(EnvelopeItem::ty).collect();
    assert_eq!(kept, [ItemType::Event]);
}
