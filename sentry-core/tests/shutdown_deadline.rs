//! Shutdown with a slow finalizer (the first DWARF parse of a large debug binary): finalizers
//! yield early enough that everything queued is still sent before the shutdown winds down for
//! its final client report.
//!
//! Its own test binary: the finalizer it registers is process-wide.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::Envelope;
use sentry_core::finalize::{past_deadline, set_event_finalizer};
use sentry_core::protocol::Event;
use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};

/// Works until the finalizers' deadline, as the symbolizer does on a cold debug binary; gives
/// up at once when the deadline has passed.
fn slow_until_the_deadline(event: &mut Event) {
    let started = Instant::now();
    while !past_deadline() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(5));
    }
    event.tags.insert("finalized".into(), "yes".into());
}

#[test]
fn everything_queued_is_sent_when_finalizers_are_slow() {
    set_event_finalizer("slow-until-the-deadline", slow_until_the_deadline);
    let sent = Arc::new(Mutex::new(0_usize));
    let sender = {
        let sent = Arc::clone(&sent);
        move |_body: Vec<u8>, _envelope: &Envelope| {
            *sent.lock().unwrap() += 1;
            SendOutcome::status(200)
        }
    };
    let reports = Arc::new(ClientReports::new());
    let options = TransportOptions::new(
        "https://public@sentry.invalid/1".parse().unwrap(),
        Arc::clone(&reports),
    );
    let worker = TransportWorker::spawn(sender, &options).unwrap();
    for i in 0..5 {
        let event = Event {
            message: Some(format!("event {i}")),
            ..Event::default()
        };
        worker.send_envelope(Envelope::from_event(event));
    }
    let started = Instant::now();
    let shut_down = worker.shutdown(Duration::from_secs(2));
    assert!(started.elapsed() < Duration::from_millis(2_500));
    // Five events and the final report at most; no event counted as lost.
    assert!(*sent.lock().unwrap() >= 5, "sent {}", *sent.lock().unwrap());
    assert!(reports.is_empty(), "{:?}", reports.take());
    assert!(shut_down, "everything was sent, so the shutdown completed");
}
