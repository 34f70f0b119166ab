//! Every item type the SDK sends reaches the real Spotlight sidecar (npm
//! `@spotlightjs/spotlight`) from an application that sets no DSN, only Spotlight, and the
//! sidecar's own formatters show every event, transaction and log (its type guard refused
//! message events whose text was only in `logentry`).
//!
//! The sidecar is installed with npm once (`cargo xtask ci` does it before the tests). Without
//! `node`/`npm` or the registry this test says why and skips, except under `CI`, where it fails.

use std::collections::BTreeSet;
use std::time::Duration;

use sentry::protocol::{Attachment, Feedback};
use sentry::{ClientOptions, Level, TransactionContext};
use sentry_tests::spotlight::{Sidecar, SidecarItem};

const WAIT: Duration = Duration::from_secs(20);

/// The item types an application sends in the test, and the sidecar must receive.
const EXPECTED: [&str; 9] = [
    "event",
    "transaction",
    "log",
    "trace_metric",
    "session",
    "check_in",
    "feedback",
    "attachment",
    "client_report",
];

fn start_sidecar() -> Option<Sidecar> {
    match Sidecar::start() {
        Ok(sidecar) => Some(sidecar),
        Err(reason) if std::env::var_os("CI").is_some() => {
            panic!("the Spotlight sidecar is required under CI: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED: the Spotlight sidecar is not available: {reason}");
            None
        }
    }
}

fn types(items: &[SidecarItem]) -> BTreeSet<&str> {
    items.iter().map(|item| item.ty.as_str()).collect()
}

#[test]
fn every_item_type_reaches_the_sidecar_without_a_dsn() {
    let Some(sidecar) = start_sidecar() else {
        return;
    };
    let guard = sentry::init(ClientOptions {
        spotlight: sidecar.stream_url().into(),
        release: Some("spotlight-test@1.0.0".into()),
        // A panic-free drop of an event gives a client report too.
        before_send: Some(std::sync::Arc::new(|event, _| {
            (event.message.as_deref() != Some("dropped by before_send")).then_some(event)
        })),
        ..ClientOptions::default()
    });
    assert!(guard.is_enabled(), "Spotlight alone enables the SDK");

    sentry::add_breadcrumb(sentry::Breadcrumb::new("started").category("app"));
    sentry::capture_message("hello Spotlight", Level::Info);
    sentry::capture_message("dropped by before_send", Level::Info);
    let error = "x1".parse::<u32>().unwrap_err();
    sentry::with_scope(
        |scope| scope.add_attachment(Attachment::from_bytes("notes.txt", b"a note".to_vec())),
        || sentry::capture_error(&error),
    );
    sentry::capture_feedback(Feedback::new("the page froze"));
    {
        // Tracing was not configured: Spotlight-only mode samples every transaction.
        let tx = sentry::start_transaction(TransactionContext::new("checkout", "task")).enter();
        sentry::with_span("db.query", "select 1", |_| {});
        sentry::logger::info!("order {} placed", 7; "region" => "eu");
        sentry::metrics::count("orders", 1);
        drop(tx);
    }
    let _ = sentry::try_capture_check_in(sentry::protocol::CheckIn::new(
        "nightly-job",
        sentry::protocol::CheckInStatus::Ok,
    ));
    // Closing sends the logs, the metrics, the session's end and the client report.
    drop(guard);

    let items = sidecar.wait_until(WAIT, |items| {
        EXPECTED.iter().all(|ty| types(items).contains(ty))
    });
    let received = types(&items);
    for ty in EXPECTED {
        assert!(
            received.contains(ty),
            "the sidecar never got a {ty} item: {received:?}"
        );
    }
    assert_eq!(sidecar.unparsed(), 0, "every envelope parsed");

    // Every item the sidecar can show, it shows: the type guards accept them.
    let refused: Vec<_> = items
        .iter()
        .filter(|item| item.has_formatter && !item.shown)
        .collect();
    assert!(refused.is_empty(), "the sidecar refused {refused:#?}");

    // The message event arrived with its text where the sidecar reads it.
    let message = items
        .iter()
        .find(|item| item.ty == "event" && item.payload["message"] == "hello Spotlight")
        .expect("the message event");
    assert_eq!(message.payload["logentry"]["formatted"], "hello Spotlight");
    assert_eq!(
        message.payload["breadcrumbs"]["values"][0]["message"],
        "started"
    );
    let shown: BTreeSet<&str> = items
        .iter()
        .filter(|item| item.shown)
        .map(|item| item.ty.as_str())
        .collect();
    assert_eq!(
        shown,
        BTreeSet::from(["event", "log", "transaction"]),
        "the three types the sidecar formats"
    );
}

/// Why events write `message` too: the sidecar refuses an event whose text is only in
/// `logentry` (its type guard wants `message` or `exception`), and shows the same event with
/// `message`.
#[test]
fn the_sidecar_shows_a_message_event_only_with_a_top_level_message() {
    use std::io::{Read, Write};

    let Some(sidecar) = start_sidecar() else {
        return;
    };
    let post = |payload: &str| {
        let body = format!("{{}}\n{{\"type\":\"event\"}}\n{payload}\n");
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", sidecar.port())).expect("connect");
        write!(
            stream,
            "POST /stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-sentry-envelope\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        // The sidecar keeps the connection open: read the status line only.
        let mut answer = [0u8; 12];
        stream.read_exact(&mut answer).expect("an answer");
        assert_eq!(
            &answer,
            b"HTTP/1.1 200",
            "{}",
            String::from_utf8_lossy(&answer)
        );
    };
    post(
        r#"{"event_id":"0123456789abcdef0123456789abcdef","logentry":{"formatted":"only logentry"}}"#,
    );
    post(
        r#"{"event_id":"0123456789abcdef0123456789abcdf0","logentry":{"formatted":"both"},"message":"both"}"#,
    );
    let items = sidecar.wait_until(WAIT, |items| items.len() >= 2);
    assert_eq!(items.len(), 2, "{items:#?}");
    assert!(
        !items[0].shown,
        "the sidecar now shows logentry-only events: {items:#?}"
    );
    assert!(items[1].shown, "{items:#?}");
}
