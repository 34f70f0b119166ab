//! Scope attachments: what reaches the envelope of an event, what is left out and counted, and
//! that the bytes are shared rather than copied.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::{Envelope, EnvelopeItem, ItemType, RawItem};
use sentry_core::protocol::{
    Attachment, AttachmentData, AttachmentType, DataCategory, DiscardReason, Event, EventType,
};
use sentry_core::test::TestTransport;
use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
use sentry_core::{Client, ClientOptions, Scope, Value};

const DSN: &str = "https://public@sentry.invalid/1";

fn client(options: ClientOptions) -> (Client, Arc<TestTransport>) {
    let transport = TestTransport::new();
    let client = Client::new(ClientOptions {
        dsn: Some(DSN.parse().unwrap()),
        transport: Some(transport.factory()),
        ..options
    });
    (client, transport)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("sentry-attachments-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn message(text: &str) -> Event {
    Event {
        message: Some(text.into()),
        ..Event::default()
    }
}

fn attachments(envelope: &Envelope) -> Vec<&Attachment> {
    envelope
        .items()
        .filter_map(EnvelopeItem::as_attachment)
        .collect()
}

/// The `(reason, category, quantity)` triples counted so far.
fn counts(reports: &ClientReports) -> Vec<(DiscardReason, DataCategory, u64)> {
    reports
        .take()
        .map(|report| {
            report
                .discarded_events
                .into_iter()
                .map(|d| (d.reason, d.category, d.quantity))
                .collect()
        })
        .unwrap_or_default()
}

fn header<'a>(raw: &'a RawItem, key: &str) -> Option<&'a str> {
    raw.headers.get(key).and_then(Value::as_str)
}

#[test]
fn bytes_and_files_arrive_in_the_event_envelope_with_their_headers() {
    let dir = temp_dir("headers");
    let log = dir.join("app.log");
    std::fs::write(&log, "line 1\nline 2\n").unwrap();
    let (client, transport) = client(ClientOptions::default());

    let (mut global, mut isolation, mut current) =
        (Scope::default(), Scope::default(), Scope::default());
    global.add_attachment(Attachment::from_bytes(
        "state.json",
        br#"{"ok":false}"#.to_vec(),
    ));
    isolation.add_attachment(
        Attachment::from_bytes("crash.dmp", vec![0x4d, 0x44, 0x4d, 0x50, 0])
            .with_attachment_type(AttachmentType::Minidump),
    );
    current.add_attachment(Attachment::from_path(&log));
    current.add_attachment(
        Attachment::from_bytes("custom.bin", b"xyz".to_vec())
            .with_content_type("application/x-custom")
            .with_attachment_type(AttachmentType::Custom("acme.trace".into())),
    );
    let id = client.capture_event(message("boom"), Some([&global, &isolation, &current]));
    assert!(!id.is_nil());

    let envelopes = transport.envelopes();
    assert_eq!(envelopes.len(), 1);
    let envelope = &envelopes[0];
    assert_eq!(envelope.event_id(), Some(id));
    // The event first, then the attachments in scope order (global → isolation → current).
    let types: Vec<_> = envelope.items().map(EnvelopeItem::ty).collect();
    assert_eq!(
        types,
        [
            ItemType::Event,
            ItemType::Attachment,
            ItemType::Attachment,
            ItemType::Attachment,
            ItemType::Attachment
        ]
    );
    // The file was read at capture time.
    let read = attachments(envelope)[2];
    assert_eq!(read.bytes(), Some(&b"line 1\nline 2\n"[..]));

    // On the wire: every header, and the envelope reads back.
    let bytes = envelope.to_vec(None);
    let parsed = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(parsed.event_id(), Some(id));
    assert_eq!(
        parsed.event().and_then(|e| e.message.as_deref()),
        Some("boom")
    );
    let raws: Vec<&RawItem> = parsed
        .items()
        .filter_map(|item| match item {
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Attachment => Some(raw),
            _ => None,
        })
        .collect();
    let expected: [(&str, &str, &str, &[u8]); 4] = [
        (
            "state.json",
            "event.attachment",
            "application/json",
            br#"{"ok":false}"#,
        ),
        (
            "crash.dmp",
            "event.minidump",
            "application/octet-stream",
            b"MDMP\0",
        ),
        (
            "app.log",
            "event.attachment",
            "text/plain",
            b"line 1\nline 2\n",
        ),
        ("custom.bin", "acme.trace", "application/x-custom", b"xyz"),
    ];
    assert_eq!(raws.len(), expected.len());
    for (raw, (filename, ty, content_type, payload)) in raws.iter().zip(expected) {
        assert_eq!(header(raw, "filename"), Some(filename));
        assert_eq!(header(raw, "attachment_type"), Some(ty));
        assert_eq!(header(raw, "content_type"), Some(content_type));
        assert_eq!(raw.payload, payload);
    }
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains(
        r#"{"type":"attachment","length":14,"filename":"app.log","attachment_type":"event.attachment","content_type":"text/plain"}"#
    ), "{text}");
    assert!(counts(client.client_reports()).is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn a_failed_read_drops_only_that_attachment_and_is_counted() {
    let dir = temp_dir("failed-read");
    let (client, transport) = client(ClientOptions::default());
    let mut scope = Scope::default();
    scope.add_attachment(Attachment::from_bytes("before.txt", b"a".to_vec()));
    scope.add_attachment(Attachment::from_path(dir.join("missing.log")));
    // A directory opens but cannot be read: its size is known and counted.
    scope.add_attachment(Attachment::from_path(&dir).with_filename("dir.txt"));
    scope.add_attachment(Attachment::from_bytes("after.txt", b"b".to_vec()));
    let empty = Scope::default();

    let id = client.capture_event(message("x"), Some([&empty, &empty, &scope]));
    assert!(!id.is_nil(), "the event goes");
    let envelope = &transport.envelopes()[0];
    assert!(envelope.event().is_some());
    let names: Vec<_> = attachments(envelope)
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["before.txt", "after.txt"]);

    let counted = counts(client.client_reports());
    assert!(counted.contains(&(
        DiscardReason::InternalSdkError,
        DataCategory::AttachmentItem,
        2
    )));
    assert!(counted
        .iter()
        .all(|(reason, ..)| *reason == DiscardReason::InternalSdkError));
    assert!(!counted
        .iter()
        .any(|(_, category, _)| *category == DataCategory::Error));

    // The file appears later: the next capture reads it.
    std::fs::write(dir.join("missing.log"), "now here").unwrap();
    client.capture_event(message("y"), Some([&empty, &empty, &scope]));
    let envelope = &transport.envelopes()[1];
    assert_eq!(attachments(envelope).len(), 3);
    assert_eq!(attachments(envelope)[1].bytes(), Some(&b"now here"[..]));
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn oversized_attachments_are_dropped_and_counted_in_both_categories() {
    let dir = temp_dir("oversized");
    let big_file = dir.join("big.bin");
    std::fs::write(&big_file, vec![1u8; 2_000]).unwrap();
    let (client, transport) = client(ClientOptions {
        max_attachment_size: 1_000,
        ..ClientOptions::default()
    });
    let mut scope = Scope::default();
    scope.add_attachment(Attachment::from_bytes("big.txt", vec![b'x'; 1_001]));
    scope.add_attachment(Attachment::from_path(&big_file));
    scope.add_attachment(Attachment::from_bytes("fits.txt", vec![b'x'; 1_000]));
    let empty = Scope::default();
    assert!(!client
        .capture_event(message("x"), Some([&empty, &scope, &empty]))
        .is_nil());

    let envelope = &transport.envelopes()[0];
    let names: Vec<_> = attachments(envelope)
        .iter()
        .map(|a| a.filename.as_str())
        .collect();
    assert_eq!(names, ["fits.txt"]);
    assert_eq!(
        counts(client.client_reports()),
        [
            (DiscardReason::Invalid, DataCategory::Attachment, 3_001),
            (DiscardReason::Invalid, DataCategory::AttachmentItem, 2),
        ]
    );
    assert_eq!(
        ClientOptions::default().max_attachment_size,
        20 * 1024 * 1024
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn transactions_carry_only_attachments_that_ask_for_it() {
    let (client, transport) = client(ClientOptions::default());
    let mut scope = Scope::default();
    scope.add_attachment(Attachment::from_bytes("errors-only.txt", b"e".to_vec()));
    scope.add_attachment(
        Attachment::from_bytes("everywhere.txt", b"t".to_vec()).add_to_transactions(true),
    );
    let empty = Scope::default();
    let transaction = Event {
        ty: EventType::Transaction,
        transaction: Some("GET /".into()),
        start_timestamp: Some(std::time::SystemTime::now()),
        ..Event::default()
    };
    assert!(!client
        .capture_event(transaction, Some([&scope, &empty, &empty]))
        .is_nil());
    client.capture_event(message("error"), Some([&scope, &empty, &empty]));

    let envelopes = transport.envelopes();
    assert!(envelopes[0].transaction().is_some());
    let names = |envelope: &Envelope| -> Vec<String> {
        attachments(envelope)
            .iter()
            .map(|a| a.filename.clone())
            .collect()
    };
    assert_eq!(names(&envelopes[0]), ["everywhere.txt"]);
    assert_eq!(names(&envelopes[1]), ["errors-only.txt", "everywhere.txt"]);
}

#[test]
fn events_share_the_bytes_of_the_scope() {
    let (client, transport) = client(ClientOptions::default());
    let bytes: Arc<[u8]> = Arc::from(vec![7u8; 64 * 1024]);
    let mut scope = Scope::default();
    scope.add_attachment(Attachment::from_bytes("shared.bin", Arc::clone(&bytes)));
    let forked = scope.clone();
    let empty = Scope::default();
    client.capture_event(message("one"), Some([&empty, &empty, &scope]));
    client.capture_event(message("two"), Some([&empty, &forked, &empty]));

    let envelopes = transport.envelopes();
    assert_eq!(envelopes.len(), 2);
    for envelope in &envelopes {
        match &attachments(envelope)[0].data {
            AttachmentData::Bytes(sent) => assert!(Arc::ptr_eq(sent, &bytes)),
            other => panic!("not bytes: {other:?}"),
        }
    }
    // One buffer, held by: the scopes' list of attachments (shared by the fork), the two
    // recorded envelopes, the two copies of them this test got, and this test.
    assert_eq!(Arc::strong_count(&bytes), 6);
    drop(envelopes);
    transport.fetch_and_clear_envelopes();
    assert_eq!(Arc::strong_count(&bytes), 2);
}

#[test]
fn cleared_scopes_send_no_attachments() {
    let (client, transport) = client(ClientOptions::default());
    let mut scope = Scope::default();
    scope.add_attachment(Attachment::from_bytes("a.txt", b"a".to_vec()));
    assert_eq!(scope.attachments().len(), 1);
    let mut cleared = scope.clone();
    cleared.clear_attachments();
    let mut reset = scope.clone();
    reset.clear();
    let empty = Scope::default();
    for scope in [&cleared, &reset] {
        client.capture_event(message("x"), Some([&empty, &empty, scope]));
    }
    assert!(transport
        .envelopes()
        .iter()
        .all(|envelope| attachments(envelope).is_empty()));
    assert_eq!(scope.attachments().len(), 1, "the original keeps it");
}

/// A worker whose queue holds `queue_max_bytes`, with a sender that records bodies.
fn worker_client(
    options: ClientOptions,
    outcome: SendOutcome,
) -> (Client, Arc<Mutex<Vec<Vec<u8>>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let factory = {
        let bodies = Arc::clone(&bodies);
        move |transport_options: &TransportOptions| -> Arc<dyn Transport> {
            let bodies = Arc::clone(&bodies);
            let outcome = outcome.clone();
            let sender = move |body: Vec<u8>, _: &Envelope| {
                bodies.lock().unwrap().push(body);
                outcome.clone()
            };
            Arc::new(TransportWorker::spawn(sender, transport_options).unwrap())
        }
    };
    let client = Client::new(ClientOptions {
        dsn: Some(DSN.parse().unwrap()),
        transport: Some(Arc::new(factory)),
        ..options
    });
    (client, bodies)
}

#[test]
fn the_queue_bound_counts_attachment_bytes() {
    let (client, bodies) = worker_client(
        ClientOptions {
            queue_max_bytes: 100_000,
            ..ClientOptions::default()
        },
        SendOutcome::status(200),
    );
    let mut big = Scope::default();
    big.add_attachment(Attachment::from_bytes("big.bin", vec![0u8; 200_000]));
    let mut small = Scope::default();
    small.add_attachment(Attachment::from_bytes("small.bin", vec![0u8; 1_000]));
    let empty = Scope::default();

    // Its attachment makes the envelope larger than the whole queue: refused, all counted.
    client.capture_event(message("big"), Some([&empty, &empty, &big]));
    client.capture_event(message("small"), Some([&empty, &empty, &small]));
    assert!(client.flush(Some(Duration::from_secs(5))));
    let bodies = bodies.lock().unwrap();
    // The counts ride along with what was sent, or are still waiting.
    let mut counted = counts(client.client_reports());
    for body in bodies.iter() {
        for item in Envelope::from_bytes(body).unwrap().items() {
            if let EnvelopeItem::ClientReport(report) = item {
                counted.extend(
                    report
                        .discarded_events
                        .iter()
                        .map(|d| (d.reason, d.category, d.quantity)),
                );
            }
        }
    }
    counted.sort();
    assert_eq!(
        counted,
        [
            (DiscardReason::QueueOverflow, DataCategory::Error, 1),
            (
                DiscardReason::QueueOverflow,
                DataCategory::Attachment,
                200_000
            ),
            (
                DiscardReason::QueueOverflow,
                DataCategory::AttachmentItem,
                1
            ),
        ]
    );
    assert_eq!(bodies.len(), 1);
    let sent = Envelope::from_bytes(&bodies[0]).unwrap();
    assert_eq!(
        sent.event().and_then(|e| e.message.as_deref()),
        Some("small")
    );
    assert!(sent
        .items()
        .any(|item| item.ty() == ItemType::Attachment && item.quantity() == 1_000));
    client.close(Some(Duration::from_secs(2)));
}

#[test]
fn the_offline_cache_writes_events_with_their_attachments_before_capture_returns() {
    let cache = temp_dir("cache");
    let (client, _bodies) = worker_client(
        ClientOptions {
            cache_dir: Some(cache.clone()),
            ..ClientOptions::default()
        },
        SendOutcome::NetworkError("offline".into()),
    );
    let mut scope = Scope::default();
    scope.add_attachment(Attachment::from_bytes(
        "notes.txt",
        b"kept on disk".to_vec(),
    ));
    let empty = Scope::default();
    let id = client.capture_event(message("durable"), Some([&empty, &empty, &scope]));

    // On disk as soon as the capture returned.
    let files: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "envelope"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let written = Envelope::from_bytes(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(written.event_id(), Some(id));
    let attachment = written
        .items()
        .find_map(|item| match item {
            EnvelopeItem::Raw(raw) if raw.ty == ItemType::Attachment => Some(raw),
            _ => None,
        })
        .expect("the attachment is in the file");
    assert_eq!(header(attachment, "filename"), Some("notes.txt"));
    assert_eq!(header(attachment, "content_type"), Some("text/plain"));
    assert_eq!(attachment.payload, b"kept on disk");
    client.close(Some(Duration::from_millis(500)));
    let _ = std::fs::remove_dir_all(cache);
}

#[test]
fn hand_built_envelopes_have_their_files_read() {
    let dir = temp_dir("hand-built");
    let file = dir.join("report.json");
    std::fs::write(&file, "{}").unwrap();
    let (client, transport) = client(ClientOptions {
        max_attachment_size: 10,
        ..ClientOptions::default()
    });
    let mut envelope = Envelope::from_event(message("by hand"));
    envelope.add_item(Attachment::from_path(&file));
    envelope.add_item(Attachment::from_path(dir.join("missing")));
    envelope.add_item(Attachment::from_bytes("big", vec![0; 11]));
    client.send_envelope(envelope);

    let sent = &transport.envelopes()[0];
    let sent_attachments = attachments(sent);
    assert_eq!(sent_attachments.len(), 1);
    assert_eq!(sent_attachments[0].bytes(), Some(&b"{}"[..]));
    assert_eq!(sent_attachments[0].content_type(), "application/json");
    assert_eq!(
        counts(client.client_reports()),
        [
            (
                DiscardReason::InternalSdkError,
                DataCategory::AttachmentItem,
                1
            ),
            (DiscardReason::Invalid, DataCategory::Attachment, 11),
            (DiscardReason::Invalid, DataCategory::AttachmentItem, 1),
        ]
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_top_level_verb_adds_to_the_isolation_scope() {
    let envelopes = sentry_core::test::with_captured_envelopes(|| {
        sentry_core::with_isolation_scope(
            |_| {},
            || {
                sentry_core::add_attachment(Attachment::from_bytes("iso.txt", b"i".to_vec()));
                sentry_core::capture_message("inside", sentry_core::Level::Error);
            },
        );
        sentry_core::capture_message("outside", sentry_core::Level::Error);
    });
    assert_eq!(envelopes.len(), 2);
    assert_eq!(attachments(&envelopes[0]).len(), 1);
    assert_eq!(attachments(&envelopes[0])[0].filename, "iso.txt");
    assert!(attachments(&envelopes[1]).is_empty());
}
