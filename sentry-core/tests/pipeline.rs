//! The client pipeline: order of the steps, and the client report of each way to drop an event.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sentry_core::protocol::Event;
use sentry_core::protocol::{DataCategory, DiscardReason};
use sentry_core::test::{with_captured_events_options, TestTransport};
use sentry_core::{Client, ClientOptions, Hint, Integration, Level, Scope};

fn client_with(options: ClientOptions) -> (Client, Arc<TestTransport>) {
    let transport = TestTransport::new();
    let client = Client::new(ClientOptions {
        dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
        transport: Some(transport.factory()),
        ..options
    });
    (client, transport)
}

fn discarded(client: &Client) -> Vec<(DiscardReason, DataCategory, u64)> {
    client
        .client_reports()
        .take()
        .map(|r| {
            r.discarded_events
                .into_iter()
                .map(|d| (d.reason, d.category, d.quantity))
                .collect()
        })
        .unwrap_or_default()
}

struct Step(&'static str, Arc<Mutex<Vec<String>>>);

impl Integration for Step {
    fn name(&self) -> &'static str {
        self.0
    }
    fn process_event(&self, mut event: Event, _: &Hint<'_>, _: &ClientOptions) -> Option<Event> {
        self.1.lock().unwrap().push(format!(
            "integration saw scope tag={:?} processor tag={:?}",
            event.tags.get("scope").map(|v| v.to_string()),
            event.tags.get("processor").map(|v| v.to_string())
        ));
        event.tags.insert("integration".into(), "yes".into());
        Some(event)
    }
}

#[test]
fn steps_run_in_order() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let before_send_log = Arc::clone(&log);
    let (client, transport) = client_with(ClientOptions {
        integrations: vec![Arc::new(Step("order-step", Arc::clone(&log)))],
        before_send: Some(Arc::new(move |event: Event, _| {
            before_send_log.lock().unwrap().push(format!(
                "before_send saw integration tag={:?}",
                event.tags.get("integration").map(|v| v.to_string())
            ));
            Some(event)
        })),
        ..Default::default()
    });
    let mut scope = Scope::default();
    scope.set_tag("scope", "yes");
    let processor_log = Arc::clone(&log);
    scope.add_event_processor(move |mut event, _| {
        processor_log.lock().unwrap().push(format!(
            "processor saw scope tag={:?}",
            event.tags.get("scope").map(|v| v.to_string())
        ));
        event.tags.insert("processor".into(), "yes".into());
        Some(event)
    });
    let empty = Scope::default();
    let id = client.capture_event(Event::default(), Some([&empty, &empty, &scope]));
    assert!(!id.is_nil());
    assert_eq!(
        *log.lock().unwrap(),
        [
            "processor saw scope tag=Some(\"yes\")",
            "integration saw scope tag=Some(\"yes\") processor tag=Some(\"yes\")",
            "before_send saw integration tag=Some(\"yes\")",
        ]
    );
    assert_eq!(transport.envelopes().len(), 1);
}

#[test]
fn sample_rate_zero_drops_and_counts() {
    let (client, transport) = client_with(ClientOptions {
        sample_rate: 0.0,
        ..Default::default()
    });
    for _ in 0..5 {
        assert!(client.capture_event(Event::default(), None).is_nil());
    }
    assert!(transport.envelopes().is_empty());
    assert_eq!(
        discarded(&client),
        [(DiscardReason::SampleRate, DataCategory::Error, 5)]
    );
}

#[test]
fn sample_rate_keeps_about_the_right_share() {
    let (client, transport) = client_with(ClientOptions {
        sample_rate: 0.5,
        ..Default::default()
    });
    for _ in 0..2000 {
        client.capture_event(Event::default(), None);
    }
    let sent = transport.envelopes().len() as u64;
    let dropped: u64 = discarded(&client).iter().map(|d| d.2).sum();
    assert_eq!(sent + dropped, 2000);
    assert!(
        (800..1200).contains(&sent),
        "sent {sent} of 2000 at rate 0.5"
    );
}

#[test]
fn each_drop_reason_is_counted() {
    struct DropAll;
    impl Integration for DropAll {
        fn name(&self) -> &'static str {
            "drop-all"
        }
        fn process_event(&self, _: Event, _: &Hint<'_>, _: &ClientOptions) -> Option<Event> {
            None
        }
    }
    let (client, _) = client_with(ClientOptions {
        integrations: vec![Arc::new(DropAll)],
        ..Default::default()
    });
    client.capture_event(Event::default(), None);
    assert_eq!(
        discarded(&client),
        [(DiscardReason::EventProcessor, DataCategory::Error, 1)]
    );

    let (client, _) = client_with(ClientOptions {
        before_send: Some(Arc::new(|_, _| None)),
        ..Default::default()
    });
    client.capture_event(Event::default(), None);
    assert_eq!(
        discarded(&client),
        [(DiscardReason::BeforeSend, DataCategory::Error, 1)]
    );

    let (client, _) = client_with(ClientOptions::default());
    let mut scope = Scope::default();
    scope.add_event_processor(|_, _| None);
    let empty = Scope::default();
    client.capture_event(Event::default(), Some([&empty, &scope, &empty]));
    assert_eq!(
        discarded(&client),
        [(DiscardReason::EventProcessor, DataCategory::Error, 1)]
    );
}

#[test]
fn panicking_before_send_drops_the_event_and_the_app_goes_on() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let (client, transport) = client_with(ClientOptions {
        before_send: Some(Arc::new(move |event: Event, _| {
            if seen.fetch_add(1, Ordering::SeqCst) == 0 {
                panic!("bug in before_send");
            }
            Some(event)
        })),
        ..Default::default()
    });
    assert!(client.capture_event(Event::default(), None).is_nil());
    assert!(!client.capture_event(Event::default(), None).is_nil());
    assert_eq!(transport.envelopes().len(), 1);
    assert_eq!(
        discarded(&client),
        [(DiscardReason::BeforeSend, DataCategory::Error, 1)]
    );
}

#[test]
fn capture_inside_before_send_does_not_recurse() {
    let events = with_captured_events_options(
        ClientOptions {
            before_send: Some(Arc::new(|event: Event, _| {
                // A capture from inside the callback must not re-enter the pipeline.
                sentry_core::capture_message("inner", Level::Error);
                Some(event)
            })),
            ..Default::default()
        },
        || {
            sentry_core::capture_message("outer", Level::Error);
        },
    );
    let messages: Vec<_> = events.iter().filter_map(|e| e.message.clone()).collect();
    assert_eq!(messages, ["outer"]);
}

#[test]
fn options_fill_event_fields() {
    let events = with_captured_events_options(
        ClientOptions {
            release: Some("app@1.0".into()),
            dist: Some("42".into()),
            ..Default::default()
        },
        || {
            sentry_core::capture_message("hi", Level::Info);
        },
    );
    let event = &events[0];
    assert_eq!(event.release.as_deref(), Some("app@1.0"));
    assert_eq!(event.dist.as_deref(), Some("42"));
    assert_eq!(event.environment.as_deref(), Some("production"));
    assert_eq!(event.platform, "native");
    let sdk = event.sdk.as_ref().unwrap();
    assert_eq!(sdk.name, "sentry.rust");
    assert!(
        event.contexts.contains_key("trace"),
        "every event carries contexts.trace"
    );
}

#[test]
fn close_disables_the_client() {
    let (client, transport) = client_with(ClientOptions::default());
    assert!(client.is_enabled());
    assert!(client.close(None));
    assert!(!client.is_enabled());
    assert!(client.capture_event(Event::default(), None).is_nil());
    assert_eq!(transport.shutdown_count(), 1);
    assert!(transport.envelopes().is_empty());
}

/// An integration that implements only the in-place hook: it tags what it keeps and drops
/// what is named "drop me".
struct InPlaceOnly;

impl Integration for InPlaceOnly {
    fn name(&self) -> &'static str {
        "in-place-only"
    }
    fn process_event_in_place(&self, event: &mut Event, _: &Hint<'_>, _: &ClientOptions) -> bool {
        event.tags.insert("in_place".into(), "yes".into());
        event.transaction.as_deref() != Some("drop me")
            && event.message.as_deref() != Some("drop me")
    }
}

#[test]
fn an_integration_with_only_the_in_place_hook_sees_errors_and_transactions() {
    let options = || ClientOptions {
        integrations: vec![Arc::new(InPlaceOnly)],
        traces_sample_rate: Some(1.0),
        ..ClientOptions::default()
    };
    let events = with_captured_events_options(options(), || {
        sentry_core::capture_message("kept", Level::Error);
        sentry_core::capture_message("drop me", Level::Error);
    });
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].tags.get("in_place").map(|v| v.to_string()),
        Some("yes".to_owned())
    );

    let transactions = sentry_core::test::with_captured_transactions_options(options(), || {
        sentry_core::start_transaction(sentry_core::TransactionContext::new("kept", "task"))
            .finish();
        sentry_core::start_transaction(sentry_core::TransactionContext::new("drop me", "task"))
            .finish();
    });
    assert_eq!(transactions.len(), 1);
    assert_eq!(transactions[0].transaction.as_deref(), Some("kept"));
    assert_eq!(
        transactions[0].tags.get("in_place").map(|v| v.to_string()),
        Some("yes".to_owned())
    );
}

#[test]
fn a_transaction_dropped_by_the_in_place_hook_is_counted_with_its_spans() {
    let (client, transport) = client_with(ClientOptions {
        integrations: vec![Arc::new(InPlaceOnly)],
        traces_sample_rate: Some(1.0),
        ..ClientOptions::default()
    });
    let client = Arc::new(client);
    sentry_core::Scopes::current()
        .fork_isolation_with(|scope| scope.set_client(Some(Arc::clone(&client))))
        .bind(|| {
            let tx = sentry_core::start_transaction(sentry_core::TransactionContext::new(
                "drop me", "task",
            ));
            tx.start_child("db", "SELECT 1").finish();
            tx.finish();
        });
    client.flush(None);
    assert!(transport.fetch_and_clear_envelopes().is_empty());
    let counted = discarded(&client);
    assert!(counted.contains(&(DiscardReason::EventProcessor, DataCategory::Transaction, 1)));
    assert!(counted.contains(&(DiscardReason::EventProcessor, DataCategory::Span, 2)));
}
