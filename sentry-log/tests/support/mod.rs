//! Shared helpers of the bridge tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex, PoisonError};

use sentry_core::envelope::{Envelope, EnvelopeItem};
use sentry_core::protocol::{Event, Log};
use sentry_core::test::with_captured_envelopes_options;
use sentry_core::{ClientOptions, Scopes};

/// What a piece of code sent: events and structured logs, in order.
#[derive(Debug, Default)]
pub struct Sent {
    pub events: Vec<Event>,
    pub logs: Vec<Log>,
}

impl Sent {
    pub fn from_envelopes(envelopes: &[Envelope]) -> Sent {
        let mut sent = Sent::default();
        for item in envelopes.iter().flat_map(Envelope::items) {
            match item {
                EnvelopeItem::Event(event) => sent.events.push((**event).clone()),
                EnvelopeItem::Logs(logs) => sent.logs.extend(logs.iter().cloned()),
                _ => {}
            }
        }
        sent
    }

    /// The logs whose body is `body`.
    pub fn logs_with_body(&self, body: &str) -> Vec<&Log> {
        self.logs.iter().filter(|l| l.body == body).collect()
    }

    /// The events whose message is `message`.
    pub fn events_with_message(&self, message: &str) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| e.message.as_deref() == Some(message))
            .collect()
    }
}

/// Runs `f` in a fresh isolation scope (so breadcrumbs of other tests stay out) with a recording
/// client built from `options` (logs on), and returns what it sent.
///
/// Calls wait for each other: the capture helpers are isolated per test, but `log`'s logger and
/// `tracing`'s callsite interest are process-wide, and a test counting its filter's calls sees
/// the registrations of another test's dispatcher.
pub fn capture(options: ClientOptions, f: impl FnOnce()) -> Sent {
    static SERIAL: Mutex<()> = Mutex::new(());
    let _serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let options = ClientOptions {
        enable_logs: true,
        ..options
    };
    let envelopes = with_captured_envelopes_options(options, || {
        Scopes::current().fork_isolation().bind(f);
    });
    Sent::from_envelopes(&envelopes)
}

/// One record a [`RecordingDest`] was given.
#[derive(Debug, Clone)]
pub struct Received {
    pub level: log::Level,
    pub target: String,
    pub message: String,
    pub thread: Option<String>,
}

/// A destination logger that records every record it is given, with the thread it came from.
#[derive(Debug, Default, Clone)]
pub struct RecordingDest {
    pub records: Arc<Mutex<Vec<Received>>>,
    pub flushes: Arc<Mutex<usize>>,
}

impl RecordingDest {
    pub fn received(&self) -> Vec<Received> {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn has(&self, level: log::Level, message: &str) -> bool {
        self.received()
            .iter()
            .any(|r| r.level == level && r.message == message)
    }
}

impl log::Log for RecordingDest {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }

    fn log(&self, record: &log::Record<'_>) {
        self.records
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Received {
                level: record.level(),
                target: record.target().to_owned(),
                message: record.args().to_string(),
                thread: std::thread::current().name().map(str::to_owned),
            });
    }

    fn flush(&self) {
        *self.flushes.lock().unwrap_or_else(PoisonError::into_inner) += 1;
    }
}
