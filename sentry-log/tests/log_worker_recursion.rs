//! The recursion guard: a transport sender that logs at every level (through `log` with the
//! bridge installed, and through the SDK's own logger) on the worker thread neither loops nor
//! deadlocks, and none of its records is captured; they still reach the destination logger.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::Duration;

use log::{Level, LevelFilter};
use sentry_core::envelope::Envelope;
use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
use sentry_core::ClientOptions;
use sentry_log::SentryLogger;
use support::{RecordingDest, Sent};

#[test]
fn a_sender_that_logs_is_never_captured() {
    let (done_tx, done_rx) = mpsc::channel();
    let body = thread::spawn(move || {
        run();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(60)) {
        Ok(()) => body.join().expect("the test body passed"),
        Err(_) if body.is_finished() => {
            // The body panicked: report its panic.
            body.join().expect("the test body passed");
        }
        Err(_) => panic!("deadlock: the test did not finish within 60 s"),
    }
}

fn run() {
    let dest = RecordingDest::default();
    SentryLogger::with_dest(dest.clone())
        .max_level(LevelFilter::Trace)
        .install()
        .expect("the only logger of this test process");

    let sent: Arc<Mutex<Vec<Envelope>>> = Arc::default();
    let recorded = Arc::clone(&sent);
    let factory = move |options: &TransportOptions| -> Arc<dyn Transport> {
        let recorded = Arc::clone(&recorded);
        let sender = move |_body: Vec<u8>, envelope: &Envelope| {
            log::error!("sender-error");
            log::warn!("sender-warn");
            log::info!("sender-info");
            log::debug!("sender-debug");
            log::trace!("sender-trace");
            sentry_core::logger::error!("sender-sentry-logger");
            sentry_core::capture_message("sender-capture", sentry_core::Level::Error);
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
    assert!(guard.is_enabled());

    for round in 0..3 {
        log::warn!("app-warn {round}");
        log::error!("app-error {round}");
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
    // The sender's records reached the destination.
    for (level, message) in [
        (Level::Error, "sender-error"),
        (Level::Warn, "sender-warn"),
        (Level::Info, "sender-info"),
        (Level::Debug, "sender-debug"),
        (Level::Trace, "sender-trace"),
    ] {
        assert!(dest.has(level, message), "{message}");
    }
}
