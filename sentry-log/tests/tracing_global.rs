//! The Sentry layer next to another layer, as the process's global subscriber: the other layer
//! still sees everything it asks for, and a transport sender that emits `tracing` events at
//! every level on the worker thread is never captured and does not deadlock.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use sentry_core::envelope::Envelope;
use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
use sentry_core::ClientOptions;
use support::Sent;
use tracing::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// An event's level, message and thread.
type Seen = (tracing::Level, String, Option<String>);

/// A layer that records the message of every event, and the thread it came from.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Seen>>>);

impl<S: Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0.lock().unwrap_or_else(PoisonError::into_inner).push((
            *event.metadata().level(),
            message.0,
            thread::current().name().map(str::to_owned),
        ));
    }
}

impl Recorder {
    fn has(&self, level: tracing::Level, message: &str) -> bool {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|(l, m, _)| *l == level && m == message)
    }
}

#[test]
fn other_layers_see_everything_and_the_worker_is_never_captured() {
    let (done_tx, done_rx) = mpsc::channel();
    let body = thread::spawn(move || {
        run();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => body.join().expect("the test body passed"),
        Err(_) if body.is_finished() => body.join().expect("the test body passed"),
        Err(_) => panic!("deadlock: the test did not finish within 60 s"),
    }
}

fn run() {
    let recorder = Recorder::default();
    tracing_subscriber::registry()
        .with(sentry_log::tracing::layer())
        .with(recorder.clone())
        .init();

    let sent: Arc<Mutex<Vec<Envelope>>> = Arc::default();
    let recorded = Arc::clone(&sent);
    let factory = move |options: &TransportOptions| -> Arc<dyn Transport> {
        let recorded = Arc::clone(&recorded);
        let sender = move |_body: Vec<u8>, envelope: &Envelope| {
            tracing::error!("sender-error");
            tracing::warn!("sender-warn");
            tracing::info!("sender-info");
            tracing::debug!("sender-debug");
            tracing::trace!("sender-trace");
            recorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(envelope.clone());
            SendOutcome::status(200)
        };
        Arc::new(TransportWorker::spawn(sender, options).expect("worker thread"))
    };
    let guard = sentry_core::init(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(Arc::new(factory)),
        enable_logs: true,
        ..Default::default()
    });

    for round in 0..3 {
        tracing::debug!("app-debug {round}");
        tracing::warn!("app-warn {round}");
        tracing::error!("app-error {round}");
        assert!(sentry_core::flush(Some(Duration::from_secs(10))));
    }
    drop(guard);

    let envelopes = sent.lock().unwrap_or_else(PoisonError::into_inner).clone();
    let sent = Sent::from_envelopes(&envelopes);
    let messages: Vec<_> = sent
        .events
        .iter()
        .filter_map(|e| e.message.clone())
        .collect();
    assert_eq!(messages, ["app-error 0", "app-error 1", "app-error 2"]);
    let bodies: Vec<_> = sent.logs.iter().map(|l| l.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "app-warn 0",
            "app-error 0",
            "app-warn 1",
            "app-error 1",
            "app-warn 2",
            "app-error 2"
        ]
    );
    // The other layer saw the debug events Sentry ignores, and the worker's events.
    assert!(recorder.has(tracing::Level::DEBUG, "app-debug 0"));
    for (level, message) in [
        (tracing::Level::ERROR, "sender-error"),
        (tracing::Level::TRACE, "sender-trace"),
    ] {
        assert!(recorder.has(level, message), "{message}");
    }
}
