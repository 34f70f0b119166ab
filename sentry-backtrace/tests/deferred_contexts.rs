//! The contexts integration leaves an event's contexts to the transport worker when nothing on
//! the capturing thread reads the event after it, and adds them inline otherwise. The transport
//! here keeps envelopes as the pipeline handed them over; `finalize_envelope` is what the
//! worker runs before serializing.

use std::sync::{Arc, Mutex, PoisonError};

use sentry_backtrace::{ContextIntegration, StacktraceIntegration};
use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::finalize::finalize_envelope;
use sentry_core::protocol::{Context, Event};
use sentry_core::transport::Transport;
use sentry_core::{ClientOptions, Hint, Integration, Level, TransactionContext};

const AUTOMATIC: [&str; 4] = ["os", "runtime", "device", "app"];

mod support;
use support::Unfinished;

/// Runs `f` with a client sending to a fresh [`Unfinished`], and returns what it received.
/// One test at a time: the client is the process's.
fn capture(mut options: ClientOptions, f: impl FnOnce()) -> Vec<Envelope> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = Arc::new(Unfinished::default());
    let dyn_transport: Arc<dyn Transport> = Arc::clone(&transport) as Arc<dyn Transport>;
    options.dsn = "https://public@sentry.invalid/1".parse().ok();
    options.transport = Some(Arc::new(dyn_transport));
    let guard = sentry_core::init(options);
    f();
    drop(guard);
    transport.take()
}

fn first_event(envelopes: &[Envelope]) -> Event {
    envelopes
        .iter()
        .flat_map(|e| e.items())
        .find_map(|item| match item {
            EnvelopeItem::Event(event) => Some((**event).clone()),
            _ => None,
        })
        .expect("an event")
}

fn has_all(event: &Event) -> bool {
    AUTOMATIC
        .iter()
        .all(|key| event.contexts.contains_key(*key))
}

fn stack_and_contexts() -> Vec<Arc<dyn Integration>> {
    vec![
        Arc::new(StacktraceIntegration::new()),
        Arc::new(ContextIntegration::new()),
    ]
}

#[test]
fn left_to_the_worker_when_nothing_reads_them_and_added_there() {
    let mut envelopes = capture(
        ClientOptions {
            integrations: stack_and_contexts(),
            send_default_pii: true,
            ..Default::default()
        },
        || {
            sentry_core::configure_scope(|scope| {
                scope.set_context("os", Context::Other(Default::default()));
            });
            sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
        },
    );
    let handed_over = first_event(&envelopes);
    assert!(
        !handed_over.contexts.contains_key("runtime"),
        "{:?}",
        handed_over.contexts
    );

    finalize_envelope(&mut envelopes[0]);
    let sent = first_event(&envelopes);
    assert!(has_all(&sent), "{:?}", sent.contexts);
    // The scope's own `os` context is kept, as it is inline.
    assert!(matches!(sent.contexts["os"], Context::Other(_)));
    if std::fs::read_to_string("/proc/sys/kernel/hostname").is_ok() {
        assert!(
            sent.server_name.is_some(),
            "send_default_pii: the host name"
        );
        let Context::Device(device) = &sent.contexts["device"] else {
            panic!("{:?}", sent.contexts["device"]);
        };
        assert_eq!(device.name.as_deref(), sent.server_name.as_deref());
    }

    // Finalizing again changes nothing.
    finalize_envelope(&mut envelopes[0]);
    assert_eq!(first_event(&envelopes).contexts, sent.contexts);
}

#[test]
fn before_send_sees_them() {
    let seen = Arc::new(Mutex::new(None));
    let envelopes = capture(
        ClientOptions {
            integrations: stack_and_contexts(),
            before_send: Some(Arc::new({
                let seen = Arc::clone(&seen);
                move |event: Event, _: &Hint<'_>| {
                    *seen.lock().unwrap() = Some(has_all(&event));
                    Some(event)
                }
            })),
            ..Default::default()
        },
        || {
            sentry_core::capture_message("hello", Level::Warning);
        },
    );
    assert_eq!(*seen.lock().unwrap(), Some(true));
    assert!(has_all(&first_event(&envelopes)));
}

/// An integration after the contexts integration, recording whether it saw the contexts.
struct Later(Arc<Mutex<Option<bool>>>);

impl Integration for Later {
    fn name(&self) -> &'static str {
        "later"
    }
    fn process_event(&self, event: Event, _: &Hint<'_>, _: &ClientOptions) -> Option<Event> {
        *self.0.lock().unwrap() = Some(has_all(&event));
        Some(event)
    }
}

#[test]
fn a_later_integration_sees_them() {
    let seen = Arc::new(Mutex::new(None));
    let mut integrations = stack_and_contexts();
    integrations.push(Arc::new(Later(Arc::clone(&seen))));
    let envelopes = capture(
        ClientOptions {
            integrations,
            ..Default::default()
        },
        || {
            sentry_core::capture_error(&"x".parse::<u8>().unwrap_err());
        },
    );
    assert_eq!(*seen.lock().unwrap(), Some(true));
    assert!(has_all(&first_event(&envelopes)));
}

#[test]
fn transactions_get_them_inline() {
    let envelopes = capture(
        ClientOptions {
            integrations: stack_and_contexts(),
            traces_sample_rate: Some(1.0),
            ..Default::default()
        },
        || {
            sentry_core::start_transaction(TransactionContext::new("root", "task")).finish();
        },
    );
    let transaction = envelopes
        .iter()
        .flat_map(|e| e.items())
        .find_map(|item| match item {
            EnvelopeItem::Transaction(event) => Some((**event).clone()),
            _ => None,
        })
        .expect("a transaction");
    assert!(has_all(&transaction), "{:?}", transaction.contexts);
}
