//! The `log` bridge: each mapping, the defaults, key-value types, the destination logger,
//! `enabled`/`flush`, and records logged from inside SDK callbacks.
//!
//! `log` takes one logger per process: this file installs one `SentryLogger` (forwarding to a
//! recording destination) whose filter a test can override; the tests take turns.

mod support;

use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use log::{Level, LevelFilter};
use sentry_core::protocol::{LogLevel, LogValue};
use sentry_core::test::TestTransport;
use sentry_core::{Client, ClientOptions, Scopes, Value};
use sentry_log::{default_filter, Mapping, SentryLogger};
use support::{capture, RecordingDest};

static OVERRIDE: Mutex<Option<Mapping>> = Mutex::new(None);
static SERIAL: Mutex<()> = Mutex::new(());

fn set_mapping(mapping: Option<Mapping>) {
    *OVERRIDE.lock().unwrap_or_else(PoisonError::into_inner) = mapping;
}

/// Installs the bridge once; returns its destination and this test's turn.
fn setup() -> (RecordingDest, MutexGuard<'static, ()>) {
    let turn = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
    set_mapping(None);
    (dest(), turn)
}

fn dest() -> RecordingDest {
    static DEST: OnceLock<RecordingDest> = OnceLock::new();
    DEST.get_or_init(|| {
        let dest = RecordingDest::default();
        SentryLogger::with_dest(dest.clone())
            .max_level(LevelFilter::Trace)
            .filter(|metadata| {
                OVERRIDE
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .unwrap_or_else(|| default_filter(metadata))
            })
            .install()
            .expect("the only logger of this test process");
        dest
    })
    .clone()
}

#[test]
fn defaults_per_level() {
    let (dest, _turn) = setup();
    let sent = capture(ClientOptions::default(), || {
        log::trace!("d-trace");
        log::debug!("d-debug");
        log::info!("d-info");
        log::warn!("d-warn");
        log::error!("d-error");
    });

    // error → event (+ log); the warn and info breadcrumbs came before it.
    assert!(sent.events_with_message("d-trace").is_empty());
    let events = sent.events_with_message("d-error");
    assert_eq!(events.len(), 1);
    let event = events[0];
    assert_eq!(event.level, sentry_core::Level::Error);
    assert_eq!(event.logger.as_deref(), Some("log_mappings"));
    let crumbs: Vec<_> = event
        .breadcrumbs
        .iter()
        .filter_map(|b| b.message.as_deref())
        .collect();
    assert_eq!(crumbs, ["d-info", "d-warn"]);
    let crumb = &event.breadcrumbs[1];
    assert_eq!(crumb.ty, "log");
    assert_eq!(crumb.category.as_deref(), Some("log_mappings"));
    assert_eq!(crumb.level, sentry_core::Level::Warning);
    assert_eq!(crumb.origin.as_deref(), Some("auto.log.log"));

    // error, warn, info → logs; debug and trace → nothing.
    let levels: Vec<_> = sent
        .logs
        .iter()
        .filter(|l| l.body.starts_with("d-"))
        .map(|l| (l.body.as_str(), l.level))
        .collect();
    assert_eq!(
        levels,
        [
            ("d-info", LogLevel::Info),
            ("d-warn", LogLevel::Warn),
            ("d-error", LogLevel::Error)
        ]
    );
    let log = sent.logs_with_body("d-warn")[0];
    let attr = |key: &str| log.attributes.get(key).cloned();
    assert_eq!(attr("sentry.origin"), Some(LogValue::from("auto.log.log")));
    assert_eq!(attr("logger.name"), Some(LogValue::from("log_mappings")));
    assert!(attr("code.file.path").is_some());
    assert!(attr("code.line.number").is_some());

    // The destination saw every record, the ignored ones too.
    for (level, message) in [
        (Level::Trace, "d-trace"),
        (Level::Debug, "d-debug"),
        (Level::Info, "d-info"),
        (Level::Warn, "d-warn"),
        (Level::Error, "d-error"),
    ] {
        assert!(
            dest.has(level, message),
            "{message} reached the destination"
        );
    }
}

#[test]
fn each_mapping_alone() {
    let (_, _turn) = setup();
    let probe = |mapping: Mapping, name: &str| {
        capture(ClientOptions::default(), || {
            set_mapping(Some(mapping));
            log::info!("{}", name);
            set_mapping(None);
            sentry_core::capture_message("probe", sentry_core::Level::Info);
        })
    };

    let sent = probe(Mapping::IGNORE, "m-ignore");
    assert!(sent.logs_with_body("m-ignore").is_empty());
    assert!(sent.events_with_message("m-ignore").is_empty());
    assert!(sent.events_with_message("probe")[0].breadcrumbs.is_empty());

    let sent = probe(Mapping::BREADCRUMB, "m-crumb");
    assert!(sent.logs_with_body("m-crumb").is_empty());
    assert!(sent.events_with_message("m-crumb").is_empty());
    let probe_event = sent.events_with_message("probe")[0];
    assert_eq!(
        probe_event.breadcrumbs[0].message.as_deref(),
        Some("m-crumb")
    );

    let sent = probe(Mapping::EVENT, "m-event");
    let event = sent.events_with_message("m-event")[0];
    assert!(
        event.exception.is_empty(),
        "no error value: a message event"
    );
    assert_eq!(event.level, sentry_core::Level::Info);
    assert!(sent.logs_with_body("m-event").is_empty());
    assert!(sent.events_with_message("probe")[0].breadcrumbs.is_empty());

    let sent = probe(Mapping::EXCEPTION, "m-exception");
    let event = sent.events_with_message("m-exception")[0];
    assert_eq!(event.exception.len(), 1, "a synthetic exception");
    assert_eq!(event.exception[0].ty, "log_mappings");
    assert_eq!(event.exception[0].value.as_deref(), Some("m-exception"));
    assert_eq!(
        event.exception[0].mechanism.as_ref().map(|m| m.ty.as_str()),
        Some("log")
    );

    let sent = probe(Mapping::LOG, "m-log");
    assert_eq!(sent.logs_with_body("m-log").len(), 1);
    assert!(sent.events_with_message("m-log").is_empty());
    assert!(sent.events_with_message("probe")[0].breadcrumbs.is_empty());

    let sent = probe(Mapping::BREADCRUMB | Mapping::EVENT | Mapping::LOG, "m-all");
    assert_eq!(sent.logs_with_body("m-all").len(), 1);
    assert_eq!(sent.events_with_message("m-all").len(), 1);
    assert_eq!(
        sent.events_with_message("probe")[0].breadcrumbs[0]
            .message
            .as_deref(),
        Some("m-all")
    );
}

#[derive(Debug)]
struct UploadError(std::io::Error);

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("upload failed")
    }
}

impl std::error::Error for UploadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[test]
fn the_error_key_value_becomes_the_exception() {
    let (_, _turn) = setup();
    let err = UploadError(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "peer reset",
    ));
    let sent = capture(ClientOptions::default(), || {
        // The default for errors: an event, with the error's chain as its exception.
        log::error!(error:err = err, attempt = 2; "e-default");
        set_mapping(Some(Mapping::EXCEPTION));
        log::warn!(error:err = err; "e-exception");
        // A key-value named `error` that is not an error value is only data.
        log::warn!(error = "just text"; "e-text");
        set_mapping(None);
    });
    for message in ["e-default", "e-exception"] {
        let event = sent.events_with_message(message)[0];
        let chain: Vec<_> = event
            .exception
            .iter()
            .map(|e| e.value.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(chain, ["peer reset", "upload failed"], "root cause first");
        assert_eq!(event.exception[1].ty, "UploadError");
        let mechanism = event.exception[1].mechanism.as_ref().unwrap();
        assert_eq!(
            (mechanism.ty.as_str(), mechanism.handled),
            ("log", Some(true))
        );
    }
    let default = sent.events_with_message("e-default")[0];
    assert_eq!(default.extra["error"], Value::from("upload failed"));
    assert_eq!(default.extra["attempt"], Value::I64(2));
    let text = sent.events_with_message("e-text")[0];
    assert_eq!(text.exception.len(), 1, "synthetic, not from the text");
    assert_eq!(text.exception[0].value.as_deref(), Some("e-text"));
    assert_eq!(
        sent.logs_with_body("e-default")[0].attributes.get("error"),
        Some(&LogValue::from("upload failed"))
    );
}

#[test]
fn key_value_types_are_preserved() {
    let (_, _turn) = setup();
    let sent = capture(ClientOptions::default(), || {
        set_mapping(Some(Mapping::BREADCRUMB | Mapping::EVENT | Mapping::LOG));
        log::info!(
            count = 3u64, neg = -2i32, ratio = 0.5, ok = true, name = "x", ch = 'c',
            pair:? = (1, 2);
            "typed"
        );
        set_mapping(None);
        sentry_core::capture_message("probe", sentry_core::Level::Info);
    });
    let expected = [
        ("count", Value::U64(3)),
        ("neg", Value::I64(-2)),
        ("ratio", Value::F64(0.5)),
        ("ok", Value::Bool(true)),
        ("name", Value::from("x")),
        ("ch", Value::from("c")),
        ("pair", Value::from("(1, 2)")),
    ];
    let crumb = &sent.events_with_message("probe")[0].breadcrumbs[0];
    let event = sent.events_with_message("typed")[0];
    for (key, value) in &expected {
        assert_eq!(crumb.data.get(*key), Some(value), "breadcrumb {key}");
        assert_eq!(event.extra.get(*key), Some(value), "event {key}");
    }
    let log = sent.logs_with_body("typed")[0];
    let attr = |key: &str| log.attributes.get(key).cloned();
    assert_eq!(attr("count"), Some(LogValue::from("3")), "u64 as string");
    assert_eq!(attr("neg"), Some(LogValue::I64(-2)));
    assert_eq!(attr("ratio"), Some(LogValue::F64(0.5)));
    assert_eq!(attr("ok"), Some(LogValue::Bool(true)));
    assert_eq!(attr("name"), Some(LogValue::from("x")));
}

#[test]
fn enabled_honours_the_maximum_level_and_the_filter() {
    use log::Log as _;

    let (_, _turn) = setup();
    let metadata = |level| log::Metadata::builder().level(level).target("t").build();
    let logger = SentryLogger::new(); // not installed: maximum level Info, no destination
    assert!(!logger.enabled(&metadata(Level::Debug)));
    capture(ClientOptions::default(), || {
        assert!(logger.enabled(&metadata(Level::Info)));
        assert!(
            !logger.enabled(&metadata(Level::Debug)),
            "above the maximum level"
        );
        let quiet = SentryLogger::new().filter(|_| Mapping::IGNORE);
        assert!(
            !quiet.enabled(&metadata(Level::Error)),
            "everything ignored"
        );
        // The installed logger forwards Trace to its destination.
        assert!(log::log_enabled!(Level::Trace));
    });
}

#[test]
fn flush_flushes_the_destination_and_the_client() {
    let (dest, _turn) = setup();
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        enable_logs: true,
        ..Default::default()
    }));
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(Some(Arc::clone(&client))));
    scopes.bind(|| {
        set_mapping(None);
        log::info!("f-before-flush");
        let flushes = *dest.flushes.lock().unwrap();
        log::logger().flush();
        assert_eq!(*dest.flushes.lock().unwrap(), flushes + 1);
    });
    assert_eq!(transport.flush_count(), 1);
    // The buffered log went out with the flush, before any close.
    let sent = support::Sent::from_envelopes(&transport.envelopes());
    assert_eq!(sent.logs_with_body("f-before-flush").len(), 1);
    client.close(None);
}

#[test]
fn records_from_sdk_callbacks_are_not_captured() {
    let (dest, _turn) = setup();
    let options = ClientOptions {
        before_send: Some(Arc::new(|event, _| {
            log::error!("c-from-before-send");
            Some(event)
        })),
        before_send_log: Some(Arc::new(|log| {
            log::error!("c-from-before-send-log");
            Some(log)
        })),
        ..Default::default()
    };
    let sent = capture(options, || log::error!("c-app-error"));
    assert_eq!(sent.events_with_message("c-app-error").len(), 1);
    assert!(sent.events_with_message("c-from-before-send").is_empty());
    assert!(sent
        .events_with_message("c-from-before-send-log")
        .is_empty());
    assert!(sent.logs_with_body("c-from-before-send").is_empty());
    assert!(sent.logs_with_body("c-from-before-send-log").is_empty());
    assert_eq!(sent.logs_with_body("c-app-error").len(), 1);
    // They still reached the destination.
    assert!(dest.has(Level::Error, "c-from-before-send"));
    assert!(dest.has(Level::Error, "c-from-before-send-log"));
}
