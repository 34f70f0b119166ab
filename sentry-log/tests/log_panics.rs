//! The `log` bridge runs the application's filter, mapper and destination logger protected: a
//! panic in any of them returns to the `log::error!` call site normally, drops only what that
//! callback was working on (counted in the client reports), and the callback is not called
//! again for the record.
//!
//! `log` takes one logger per process: this file installs one, whose callbacks panic for
//! records of chosen targets.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use log::{Level, LevelFilter, Metadata, Record};
use sentry_core::protocol::{ClientReport, Event};
use sentry_core::{ClientOptions, Scopes};
use sentry_log::{Mapping, RecordMapping, SentryLogger};
use support::{capture, RecordingDest, Sent};

static SERIAL: Mutex<()> = Mutex::new(());
static FILTER_CALLS: AtomicUsize = AtomicUsize::new(0);
static MAPPER_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Records what it is given, and panics on the targets `dest-boom` (in `log`) and
/// `dest-enabled-boom` (in `enabled`), and in `flush`.
#[derive(Debug, Default, Clone)]
struct Troubled(RecordingDest);

impl log::Log for Troubled {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        assert_ne!(metadata.target(), "dest-enabled-boom", "destination bug");
        true
    }

    fn log(&self, record: &Record<'_>) {
        assert_ne!(record.target(), "dest-boom", "destination bug");
        self.0.log(record);
    }

    fn flush(&self) {
        panic!("destination flush bug");
    }
}

fn dest() -> RecordingDest {
    static DEST: OnceLock<RecordingDest> = OnceLock::new();
    DEST.get_or_init(|| {
        let dest = Troubled::default();
        let recording = dest.0.clone();
        SentryLogger::with_dest(dest)
            .max_level(LevelFilter::Trace)
            .filter(|metadata| {
                FILTER_CALLS.fetch_add(1, Ordering::SeqCst);
                assert_ne!(metadata.target(), "filter-boom", "filter bug");
                Mapping::EVENT | Mapping::LOG
            })
            .mapper(|record, _mapping| {
                MAPPER_CALLS.fetch_add(1, Ordering::SeqCst);
                assert_ne!(record.target(), "mapper-boom", "mapper bug");
                vec![RecordMapping::Event(Box::new(Event {
                    message: Some(record.args().to_string()),
                    ..Event::default()
                }))]
            })
            .install()
            .expect("the only logger of this test process");
        recording
    })
    .clone()
}

/// Runs `f` with a recording client; returns what was sent and what the client counted as
/// dropped.
fn run(f: impl FnOnce()) -> (Sent, Option<ClientReport>) {
    let mut report = None;
    let sent = capture(ClientOptions::default(), || {
        f();
        report = Scopes::current().client().client_reports().take();
    });
    (sent, report)
}

fn dropped(report: Option<&ClientReport>, category: &str) -> u64 {
    report
        .map(|r| {
            r.discarded_events
                .iter()
                .filter(|d| d.reason.to_string() == "event_processor")
                .filter(|d| d.category.to_string() == category)
                .map(|d| d.quantity)
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn a_panicking_filter_drops_the_record_and_counts_it() {
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let dest = dest();
    let filter_calls = FILTER_CALLS.load(Ordering::SeqCst);
    let (sent, report) = run(|| {
        log::error!(target: "filter-boom", "filtered");
        log::error!(target: "fine", "kept");
    });
    // The call site returned; the destination got the record; only the panicking filter's
    // record is missing, counted as what an error record becomes by default.
    assert!(dest.has(Level::Error, "filtered"));
    assert!(sent.events_with_message("filtered").is_empty());
    assert_eq!(sent.events_with_message("kept").len(), 1);
    assert_eq!(FILTER_CALLS.load(Ordering::SeqCst) - filter_calls, 2);
    assert_eq!(dropped(report.as_ref(), "error"), 1);
    assert_eq!(dropped(report.as_ref(), "log_item"), 1);
}

#[test]
fn a_panicking_mapper_drops_the_record_and_counts_it() {
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = dest();
    let mapper_calls = MAPPER_CALLS.load(Ordering::SeqCst);
    let (sent, report) = run(|| {
        log::error!(target: "mapper-boom", "mapped");
    });
    assert!(sent.events.is_empty());
    assert_eq!(
        MAPPER_CALLS.load(Ordering::SeqCst) - mapper_calls,
        1,
        "called once"
    );
    assert_eq!(dropped(report.as_ref(), "error"), 1);
    assert_eq!(dropped(report.as_ref(), "log_item"), 1);
}

#[test]
fn a_panicking_destination_misses_the_record_which_sentry_still_gets() {
    let _turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    let dest = dest();
    let (sent, report) = run(|| {
        log::error!(target: "dest-boom", "to sentry only");
        assert!(log::log_enabled!(target: "dest-enabled-boom", Level::Error));
        log::logger().flush();
    });
    assert!(!dest.has(Level::Error, "to sentry only"));
    assert_eq!(sent.events_with_message("to sentry only").len(), 1);
    assert_eq!(dropped(report.as_ref(), "error"), 0);
}
