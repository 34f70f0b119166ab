//! The hint the bridges hand to `before_send` and `before_breadcrumb`: the record's level,
//! target, location and fields, and (for `log`) the error value of an `error` key-value.
//!
//! `log` takes one logger per process: this file installs one `SentryLogger`; the `log` tests
//! take turns. The `tracing` tests install their subscriber for their own thread.

mod support;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use log::LevelFilter;
use sentry_core::{Breadcrumb, ClientOptions, Hint, Level};
use sentry_log::tracing::LayerBuilder;
use sentry_log::{Mapping, RecordMapping, SentryLogger};
use support::capture;
use tracing_subscriber::prelude::*;

static SERIAL: Mutex<()> = Mutex::new(());

/// Installs the `log` bridge once (every level: breadcrumbs below error, events and
/// breadcrumbs at error); returns this test's turn.
fn log_turn() -> MutexGuard<'static, ()> {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    let turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    INSTALLED.get_or_init(|| {
        SentryLogger::new()
            .max_level(LevelFilter::Trace)
            .filter(|metadata| match metadata.level() {
                log::Level::Error => Mapping::EVENT | Mapping::BREADCRUMB,
                _ => Mapping::BREADCRUMB,
            })
            .install()
            .expect("the only logger of this test process");
    });
    turn
}

#[derive(Debug)]
struct UploadError {
    attempt: u32,
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "upload failed (attempt {})", self.attempt)
    }
}

impl std::error::Error for UploadError {}

type Seen = Arc<Mutex<Vec<String>>>;

fn push(seen: &Seen, line: String) {
    seen.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(line);
}

fn lines(seen: &Seen) -> Vec<String> {
    seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// Everything a hook can read from a record hint, on one line.
fn describe(item: &str, hint: &Hint<'_>) -> String {
    let Some(record) = hint.record() else {
        return format!("{item}: no record");
    };
    let fields: Vec<_> = record
        .fields()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let attempt = hint
        .error()
        .and_then(|err| err.downcast_ref::<UploadError>())
        .map(|err| err.attempt);
    format!(
        "{item}: {} {} {} message={:?} fields=[{}] error_attempt={attempt:?} module={:?} \
         file={:?} line={}",
        record.source(),
        record.level(),
        record.target(),
        record.message(),
        fields.join(", "),
        record.module_path(),
        record.file(),
        record.line().is_some(),
    )
}

/// Options whose hooks write down each hint they get.
fn recording(seen: &Seen) -> ClientOptions {
    let (in_send, in_crumb) = (Arc::clone(seen), Arc::clone(seen));
    ClientOptions {
        before_send: Some(Arc::new(move |event, hint| {
            push(&in_send, describe("event", hint));
            Some(event)
        })),
        before_breadcrumb: Some(Arc::new(move |crumb, hint| {
            push(&in_crumb, describe("breadcrumb", hint));
            Some(crumb)
        })),
        ..Default::default()
    }
}

#[test]
fn log_records_lend_the_record_and_the_error() {
    let _turn = log_turn();
    let seen = Seen::default();
    let err = UploadError { attempt: 3 };
    let sent = capture(recording(&seen), || {
        log::error!(target: "app::upload", error:err = err, retries = 2; "upload gave up");
        log::warn!(target: "app::upload", error:err = err; "upload retried");
        log::info!(target: "app::upload", bytes = 512; "uploading");
    });
    let file = Some("sentry-log/tests/hints.rs");
    let module = Some("hints");
    assert_eq!(
        lines(&seen),
        [
            format!(
                "event: log error app::upload message=Some(\"upload gave up\") \
                 fields=[error=\"upload failed (attempt 3)\", retries=2] error_attempt=Some(3) \
                 module={module:?} file={file:?} line=true"
            ),
            // Breadcrumbs hold the message and fields themselves: the hint does not repeat them.
            format!(
                "breadcrumb: log error app::upload message=None fields=[] error_attempt=Some(3) \
                 module={module:?} file={file:?} line=true"
            ),
            format!(
                "breadcrumb: log warn app::upload message=None fields=[] error_attempt=Some(3) \
                 module={module:?} file={file:?} line=true"
            ),
            format!(
                "breadcrumb: log info app::upload message=None fields=[] error_attempt=None \
                 module={module:?} file={file:?} line=true"
            ),
        ]
    );
    assert_eq!(sent.events.len(), 1);
}

#[test]
fn before_send_filters_log_events_by_target_and_error_type() {
    let _turn = log_turn();
    let options = ClientOptions {
        before_send: Some(Arc::new(|event, hint| {
            let noisy = hint.record().is_some_and(|r| r.target() == "noisy")
                || hint.error().is_some_and(|e| e.is::<UploadError>());
            (!noisy).then_some(event)
        })),
        ..Default::default()
    };
    let err = UploadError { attempt: 1 };
    let sent = capture(options, || {
        log::error!(target: "noisy", "f-noisy");
        log::error!(target: "app", error:err = err; "f-upload");
        log::error!(target: "app", "f-kept");
    });
    let messages: Vec<_> = sent
        .events
        .iter()
        .filter_map(|e| e.message.as_deref())
        .collect();
    assert_eq!(messages, ["f-kept"]);
}

#[test]
fn tracing_events_lend_the_record() {
    let seen = Seen::default();
    let err = UploadError { attempt: 4 };
    let subscriber = tracing_subscriber::registry().with(
        LayerBuilder::new()
            .filter(|metadata| match *metadata.level() {
                tracing::Level::ERROR => Mapping::EVENT,
                _ => Mapping::BREADCRUMB,
            })
            .build(),
    );
    let sent = capture(recording(&seen), || {
        tracing::subscriber::with_default(subscriber, || {
            tracing::error!(
                target: "app::upload",
                retries = 2,
                error = &err as &dyn std::error::Error,
                "upload gave up"
            );
            tracing::info!(target: "app::upload", bytes = 512_u64, "uploading");
        })
    });
    let file = Some("sentry-log/tests/hints.rs");
    let module = Some("hints");
    // `tracing` lends an error field only while it is visited: it is the event's exception,
    // not in the hint.
    assert_eq!(
        lines(&seen),
        [
            format!(
                "event: tracing error app::upload message=Some(\"upload gave up\") \
                 fields=[retries=2, error=\"upload failed (attempt 4)\"] error_attempt=None \
                 module={module:?} file={file:?} line=true"
            ),
            format!(
                "breadcrumb: tracing info app::upload message=None fields=[] error_attempt=None \
                 module={module:?} file={file:?} line=true"
            ),
        ]
    );
    assert_eq!(
        sent.events[0].exception[0].value.as_deref(),
        Some("upload failed (attempt 4)")
    );
}

#[test]
fn captures_of_a_mapper_get_the_record_metadata() {
    let seen = Seen::default();
    let subscriber = tracing_subscriber::registry().with(
        LayerBuilder::new()
            .mapper(|event, _| {
                let crumb = Breadcrumb::new(format!("mapped {}", event.metadata().name()));
                let mut custom = sentry_core::protocol::Event::new();
                custom.level = Level::Warning;
                vec![
                    RecordMapping::Breadcrumb(crumb),
                    RecordMapping::Event(Box::new(custom)),
                ]
            })
            .build(),
    );
    let sent = capture(recording(&seen), || {
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(target: "app::mapped", value = 1, "mapped warning");
        })
    });
    let expected_end = "fields=[] error_attempt=None module=Some(\"hints\") \
                        file=Some(\"sentry-log/tests/hints.rs\") line=true";
    let seen = lines(&seen);
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[0],
        format!("breadcrumb: tracing warn app::mapped message=None {expected_end}")
    );
    assert_eq!(
        seen[1],
        format!("event: tracing warn app::mapped message=None {expected_end}")
    );
    assert_eq!(sent.events.len(), 1);
}
