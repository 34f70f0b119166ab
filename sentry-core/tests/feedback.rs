//! User feedback through the real pipeline: linked to an error by `last_event_id`, scope data
//! and processors applied, never sampled, never `before_send`, its own hook and envelope.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType};
use sentry_core::protocol::{
    Context, DataCategory, DiscardReason, Event, Feedback, MAX_FEEDBACK_MESSAGE_CHARS,
};
use sentry_core::test::{with_isolated_client, Discarded};
use sentry_core::{ClientOptions, Scopes, User};

/// A client of its own, bound to new scopes; `f` runs inside them.
fn run(options: ClientOptions, f: impl FnOnce()) -> (Vec<Envelope>, Discarded) {
    with_isolated_client(options, f)
}

fn feedback_events(envelopes: &[Envelope]) -> Vec<Event> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(EnvelopeItem::as_feedback)
        .cloned()
        .collect()
}

#[test]
fn feedback_links_to_the_last_event_and_takes_scope_data() {
    let before_send_calls = Arc::new(AtomicUsize::new(0));
    let calls = Arc::clone(&before_send_calls);
    let options = ClientOptions {
        release: Some("shop@3".into()),
        // Feedback is never sampled, and never seen by before_send.
        sample_rate: 1.0,
        before_send: Some(Arc::new(move |event, _| {
            calls.fetch_add(1, Ordering::SeqCst);
            Some(event)
        })),
        ..Default::default()
    };
    let mut ids = (None, None);
    let (envelopes, reports) = run(options, || {
        Scopes::current().configure_isolation_scope(|scope| {
            scope.set_tag("route", "/checkout");
            scope.set_user(Some(User {
                id: Some("42".into()),
                ..User::default()
            }));
            scope.add_event_processor(|mut event, _| {
                event.extra.insert("processed".into(), true.into());
                Some(event)
            });
        });
        let err = "x".parse::<u8>().unwrap_err();
        sentry_core::capture_error(&err);
        let error_id = sentry_core::last_event_id();
        let id = sentry_core::capture_feedback(Feedback {
            contact_email: Some("jane@example.com".into()),
            name: Some("Jane".into()),
            url: Some("https://shop.example.com/checkout".into()),
            associated_event_id: error_id,
            ..Feedback::new("Paying fails every time")
        });
        assert!(!id.is_nil());
        // Feedback does not become the last event.
        assert_eq!(sentry_core::last_event_id(), error_id);
        ids = (error_id, Some(id));
    });
    assert!(reports.is_empty(), "{reports:?}");
    assert_eq!(
        before_send_calls.load(Ordering::SeqCst),
        1,
        "the error only"
    );
    assert_eq!(envelopes.len(), 2);
    let error = envelopes[0].event().unwrap();
    assert_eq!(ids.0, Some(error.event_id));

    let envelope = &envelopes[1];
    assert_eq!(envelope.len(), 1, "feedback travels alone");
    let item = envelope.items().next().unwrap();
    assert_eq!(item.ty(), ItemType::Feedback);
    assert_eq!(item.category(), DataCategory::Feedback);
    let event = item.as_feedback().unwrap();
    assert_eq!(envelope.headers().event_id, Some(event.event_id));
    assert_eq!(ids.1, Some(event.event_id));
    assert!(envelope.headers().sdk.is_some());
    let trace = envelope.headers().trace.as_ref().expect("trace header");

    let feedback = Feedback::from_event(event).unwrap();
    assert_eq!(feedback.message, "Paying fails every time");
    assert_eq!(feedback.associated_event_id, Some(error.event_id));
    assert_eq!(feedback.contact_email.as_deref(), Some("jane@example.com"));
    assert_eq!(feedback.name.as_deref(), Some("Jane"));
    assert_eq!(
        feedback.url.as_deref(),
        Some("https://shop.example.com/checkout")
    );
    match event.contexts.get("feedback") {
        Some(Context::Other(map)) => assert_eq!(map["source"], "api".into()),
        other => panic!("{other:?}"),
    }
    // Scope data, processors and defaults.
    assert_eq!(event.tags["route"], "/checkout");
    assert_eq!(event.user.as_ref().unwrap().id.as_deref(), Some("42"));
    assert_eq!(event.extra["processed"], true.into());
    assert_eq!(event.release.as_deref(), Some("shop@3"));
    assert_eq!(event.environment.as_deref(), Some("production"));
    // The same trace as the error, in the context and the header.
    let trace_of = |event: &Event| match event.contexts.get("trace") {
        Some(Context::Trace(trace)) => trace.trace_id,
        other => panic!("{other:?}"),
    };
    assert_eq!(trace_of(event), trace_of(error));
    assert_eq!(trace["trace_id"], trace_of(event).to_string().into());
}

#[test]
fn feedback_is_never_sampled_and_has_its_own_hook() {
    let options = ClientOptions {
        sample_rate: 0.0,
        before_send: Some(Arc::new(|_, _| None)),
        before_send_feedback: Some(Arc::new(|mut event, _| {
            let feedback = Feedback::from_event(&event)?;
            if feedback.message.contains("spam") {
                return None;
            }
            event.tags.insert("triaged".into(), "yes".into());
            Some(event)
        })),
        ..Default::default()
    };
    let (envelopes, reports) = run(options, || {
        assert!(!sentry_core::capture_feedback(Feedback::new("real words")).is_nil());
        assert!(sentry_core::capture_feedback(Feedback::new("buy spam")).is_nil());
    });
    let events = feedback_events(&envelopes);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].tags["triaged"], "yes");
    assert_eq!(
        reports,
        [(DiscardReason::BeforeSend, DataCategory::Feedback, 1)]
    );
}

#[test]
fn processor_drops_count_feedback_and_long_messages_are_cut() {
    let (envelopes, reports) = run(ClientOptions::default(), || {
        sentry_core::capture_feedback(Feedback::new("ä".repeat(MAX_FEEDBACK_MESSAGE_CHARS + 10)));
        Scopes::current().configure_scope(|scope| {
            scope.add_event_processor(|_, _| None);
        });
        assert!(sentry_core::capture_feedback(Feedback::new("dropped")).is_nil());
    });
    let events = feedback_events(&envelopes);
    assert_eq!(events.len(), 1);
    let message = Feedback::from_event(&events[0]).unwrap().message;
    assert_eq!(message.chars().count(), MAX_FEEDBACK_MESSAGE_CHARS);
    assert_eq!(
        reports,
        [(DiscardReason::EventProcessor, DataCategory::Feedback, 1)]
    );
}

#[test]
fn feedback_envelopes_round_trip_and_count_as_feedback() {
    let event = Feedback {
        associated_event_id: Some(sentry_core::protocol::new_event_id()),
        ..Feedback::new("round trip")
    }
    .into_event();
    let envelope = Envelope::from_feedback(event.clone());
    let bytes = envelope.to_vec(None);
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text
        .lines()
        .nth(1)
        .unwrap()
        .starts_with(r#"{"type":"feedback","length":"#));
    let parsed = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(parsed, envelope);
    let item = parsed.items().next().unwrap();
    assert_eq!(item.as_feedback(), Some(&event));
    assert!(item.as_event().is_none());
    assert_eq!(item.outcomes(), [(DataCategory::Feedback, 1)]);
}

#[test]
fn disabled_sdk_sends_nothing() {
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(None));
    scopes.bind(|| {
        assert!(sentry_core::capture_feedback(Feedback::new("nobody listens")).is_nil());
    });
}
