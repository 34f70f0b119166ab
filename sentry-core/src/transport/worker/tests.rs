use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::client_reports::{ClientReports, DiscardReason};
use crate::envelope::{DataCategory, Envelope, EnvelopeItem, ItemType, RawItem};
use crate::protocol::Event;
use crate::transport::{durable, SendOutcome, Sender, Transport, TransportOptions};

const LONG: Duration = Duration::from_secs(5);

fn options(capacity: usize) -> TransportOptions {
    let dsn = "https://public@example.invalid/1"
        .parse()
        .expect("valid DSN");
    let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::new()));
    options.queue_capacity = capacity;
    options
}

fn event_envelope() -> Envelope {
    Envelope::from_event(Event::default())
}

fn transaction_envelope() -> Envelope {
    let mut envelope = Envelope::new();
    envelope.add_item(RawItem::new(ItemType::Transaction, b"{}".to_vec()));
    envelope
}

/// Records the bodies a sender was given.
#[derive(Clone, Default)]
struct Sent(Arc<Mutex<Vec<Vec<u8>>>>);

impl Sent {
    fn push(&self, body: Vec<u8>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(body);
    }

    fn bodies(&self) -> Vec<Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn envelopes(&self) -> Vec<Envelope> {
        self.bodies()
            .iter()
            .map(|body| Envelope::from_bytes(body).expect("the worker writes valid envelopes"))
            .collect()
    }
}

/// A sender that records every body and answers from `script`, then `200`.
fn scripted(sent: &Sent, script: Vec<SendOutcome>) -> impl Sender {
    let sent = sent.clone();
    let mut script = VecDeque::from(script);
    move |body: Vec<u8>, _: &Envelope| {
        sent.push(body);
        script.pop_front().unwrap_or(SendOutcome::status(200))
    }
}

fn count_items(envelopes: &[Envelope], ty: &ItemType) -> usize {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter(|item| item.ty() == *ty)
        .count()
}

/// The quantity of `reason`/`category` over every client report in `envelopes`.
fn discarded(envelopes: &[Envelope], reason: DiscardReason, category: DataCategory) -> u64 {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::ClientReport(report) => Some(report),
            _ => None,
        })
        .flat_map(|report| report.discarded_events.iter())
        .filter(|entry| entry.reason == reason && entry.category == category)
        .map(|entry| entry.quantity)
        .sum()
}

fn rate_limited(limits: &str) -> SendOutcome {
    SendOutcome::Response {
        status: 429,
        rate_limits: Some(limits.to_owned()),
        retry_after: None,
    }
}

#[test]
fn delivers_with_sent_at_stamped() {
    let sent = Sent::default();
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options(10)).expect("spawn");
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(count_items(&envelopes, &ItemType::Event), 1);
    assert!(envelopes[0].headers().sent_at.is_some());
    assert!(worker.shutdown(LONG));
}

#[test]
fn blocked_sender_flush_and_shutdown_are_bounded() {
    let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        // Blocks until the test ends (the sending side is dropped).
        let _ = release_rx.recv();
        SendOutcome::NetworkError("released".into())
    };
    let worker = TransportWorker::spawn(sender, &options(10)).expect("spawn");
    worker.send_envelope(event_envelope());
    worker.send_envelope(event_envelope());

    let start = Instant::now();
    assert!(!worker.flush(Duration::from_millis(200)));
    let flush_time = start.elapsed();
    assert!(
        flush_time < Duration::from_millis(400),
        "flush took {flush_time:?}"
    );

    let start = Instant::now();
    assert!(!worker.shutdown(Duration::from_millis(200)));
    let shutdown_time = start.elapsed();
    assert!(
        shutdown_time < Duration::from_millis(400),
        "shutdown took {shutdown_time:?}"
    );

    // Dropping a shut-down worker does not wait again.
    let start = Instant::now();
    drop(worker);
    assert!(start.elapsed() < Duration::from_millis(100));
    drop(release_tx);
}

#[test]
fn flush_is_bounded_when_the_queue_is_full() {
    let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = release_rx.recv();
        SendOutcome::status(200)
    };
    let worker = TransportWorker::spawn(sender, &options(1)).expect("spawn");
    for _ in 0..5 {
        worker.send_envelope(event_envelope());
    }
    let start = Instant::now();
    assert!(!worker.flush(Duration::from_millis(100)));
    let elapsed = start.elapsed();
    assert!(
        elapsed < Duration::from_millis(300),
        "flush took {elapsed:?}"
    );
    assert!(!worker.shutdown(Duration::from_millis(100)));
    drop(release_tx);
}

#[test]
fn drop_is_bounded() {
    let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = release_rx.recv();
        SendOutcome::status(200)
    };
    let worker = TransportWorker::spawn(sender, &options(10)).expect("spawn");
    worker.send_envelope(event_envelope());
    let start = Instant::now();
    drop(worker);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_millis(2500),
        "drop took {elapsed:?}"
    );
    drop(release_tx);
}

#[test]
fn queue_overflow_is_counted_exactly() {
    let sent = Sent::default();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let recorder = sent.clone();
    let sender = move |body: Vec<u8>, _: &Envelope| {
        let _ = gate_rx.recv();
        recorder.push(body);
        SendOutcome::status(200)
    };
    let options = options(5);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    for _ in 0..100 {
        worker.send_envelope(event_envelope());
    }
    // Open the gate for good.
    for _ in 0..200 {
        let _ = gate_tx.send(());
    }
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    let delivered = count_items(&envelopes, &ItemType::Event) as u64;
    let overflow = discarded(
        &envelopes,
        DiscardReason::QueueOverflow,
        DataCategory::Error,
    );
    assert!((5..=6).contains(&delivered), "delivered {delivered}");
    assert_eq!(delivered + overflow, 100);
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
}

#[test]
fn rate_limit_filters_that_category_only() {
    let sent = Sent::default();
    let sender = scripted(&sent, vec![rate_limited("60:error:organization")]);
    let options = options(10);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    worker.send_envelope(event_envelope());
    worker.send_envelope(transaction_envelope());
    assert!(worker.flush(LONG));

    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 2, "the second error is not sent");
    assert_eq!(count_items(&envelopes, &ItemType::Event), 1);
    assert_eq!(count_items(&envelopes, &ItemType::Transaction), 1);
    // The 429 itself is not counted; the filtered error is, riding on the transaction.
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Error
        ),
        1
    );
    assert_eq!(
        discarded(&envelopes, DiscardReason::SendError, DataCategory::Error),
        0
    );
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
}

#[test]
fn rate_limits_apply_from_successful_responses_too() {
    let sent = Sent::default();
    let ok_with_limits = SendOutcome::Response {
        status: 200,
        rate_limits: Some("60:transaction:organization".into()),
        retry_after: None,
    };
    let worker =
        TransportWorker::spawn(scripted(&sent, vec![ok_with_limits]), &options(10)).expect("spawn");
    worker.send_envelope(event_envelope());
    worker.send_envelope(transaction_envelope());
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Event), 2);
    assert_eq!(count_items(&envelopes, &ItemType::Transaction), 0);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Transaction
        ),
        1
    );
    // A transaction also counts its spans (none here, plus the root span).
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Span
        ),
        1
    );
    assert!(worker.shutdown(LONG));
}

#[test]
fn server_error_counts_send_error() {
    for status in [500, 503, 400, 413] {
        let sent = Sent::default();
        let worker = TransportWorker::spawn(
            scripted(&sent, vec![SendOutcome::status(status)]),
            &options(10),
        )
        .expect("spawn");
        worker.send_envelope(event_envelope());
        assert!(worker.flush(LONG));
        let envelopes = sent.envelopes();
        // The failed envelope, then the report on its own at flush.
        assert_eq!(envelopes.len(), 2, "status {status}");
        assert_eq!(
            discarded(&envelopes, DiscardReason::SendError, DataCategory::Error),
            1,
            "status {status}"
        );
        assert!(worker.shutdown(LONG));
    }
}

#[test]
fn network_error_counts_network_error() {
    let sent = Sent::default();
    let failure = SendOutcome::NetworkError("connection reset".into());
    let options = options(10);
    let worker = TransportWorker::spawn(scripted(&sent, vec![failure]), &options).expect("spawn");
    worker.send_envelope(transaction_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::NetworkError,
            DataCategory::Transaction
        ),
        1
    );
    assert_eq!(
        discarded(&envelopes, DiscardReason::NetworkError, DataCategory::Span),
        1
    );
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
}

#[test]
fn client_reports_ride_along_with_the_next_envelope() {
    let sent = Sent::default();
    let options = options(10);
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 3);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 1, "no separate report envelope");
    let types: Vec<ItemType> = envelopes[0].items().map(EnvelopeItem::ty).collect();
    assert_eq!(types, [ItemType::Event, ItemType::ClientReport]);
    assert_eq!(
        discarded(&envelopes, DiscardReason::SampleRate, DataCategory::Error),
        3
    );
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
}

#[test]
fn client_report_goes_alone_at_flush_and_shutdown() {
    let sent = Sent::default();
    let options = options(10);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    assert!(worker.flush(LONG));
    assert!(sent.bodies().is_empty(), "nothing to send, nothing sent");

    options
        .client_reports
        .record(DiscardReason::BeforeSend, DataCategory::Error, 2);
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(count_items(&envelopes, &ItemType::ClientReport), 1);
    assert_eq!(envelopes[0].len(), 1);
    assert_eq!(
        discarded(&envelopes, DiscardReason::BeforeSend, DataCategory::Error),
        2
    );

    options
        .client_reports
        .record(DiscardReason::EventProcessor, DataCategory::Error, 1);
    assert!(worker.shutdown(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 2);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::EventProcessor,
            DataCategory::Error
        ),
        1
    );
}

#[test]
fn client_report_goes_alone_after_the_interval() {
    let sent = Sent::default();
    let mut options = options(10);
    options.client_report_interval = Duration::from_millis(100);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 1);
    let start = Instant::now();
    while sent.bodies().is_empty() && start.elapsed() < LONG {
        thread::sleep(Duration::from_millis(10));
    }
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(1), "report took {elapsed:?}");
    let envelopes = sent.envelopes();
    assert_eq!(
        discarded(&envelopes, DiscardReason::SampleRate, DataCategory::Error),
        1
    );
    assert!(worker.shutdown(LONG));
}

#[test]
fn undelivered_report_is_restored() {
    let sent = Sent::default();
    let options = options(10);
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 4);
    let script = vec![
        SendOutcome::NetworkError("down".into()),
        SendOutcome::status(502),
    ];
    let worker = TransportWorker::spawn(scripted(&sent, script), &options).expect("spawn");
    worker.send_envelope(event_envelope());
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    // Tried on the first (network error) and second (502) envelope, delivered at flush.
    assert_eq!(envelopes.len(), 3);
    assert_eq!(
        discarded(
            &envelopes[2..],
            DiscardReason::SampleRate,
            DataCategory::Error
        ),
        4
    );
    assert_eq!(
        discarded(
            &envelopes[2..],
            DiscardReason::NetworkError,
            DataCategory::Error
        ),
        1
    );
    assert_eq!(
        discarded(
            &envelopes[2..],
            DiscardReason::SendError,
            DataCategory::Error
        ),
        1
    );
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
}

#[test]
fn report_waits_while_everything_is_rate_limited() {
    let sent = Sent::default();
    let options = options(10);
    let worker = TransportWorker::spawn(
        scripted(&sent, vec![rate_limited("60::organization")]),
        &options,
    )
    .expect("spawn");
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    worker.send_envelope(event_envelope());
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 1);
    assert!(worker.flush(LONG));
    assert_eq!(
        sent.bodies().len(),
        1,
        "nothing goes out under an all-category limit"
    );
    let pending = options.client_reports.take().expect("the report was kept");
    let pending = [Envelope::from_iter([pending])];
    assert_eq!(
        discarded(
            &pending,
            DiscardReason::RatelimitBackoff,
            DataCategory::Error
        ),
        1
    );
    assert_eq!(
        discarded(&pending, DiscardReason::SampleRate, DataCategory::Error),
        1
    );
    assert!(worker.shutdown(LONG));
}

#[test]
fn panicking_sender_does_not_kill_the_worker() {
    let sent = Sent::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let recorder = sent.clone();
    let counter = Arc::clone(&calls);
    let sender = move |body: Vec<u8>, _: &Envelope| {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("sender bug (expected by this test)");
        }
        recorder.push(body);
        SendOutcome::status(200)
    };
    let options = options(10);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    worker.send_envelope(event_envelope());
    worker.send_envelope(transaction_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Transaction), 1);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::InternalSdkError,
            DataCategory::Error
        ),
        1
    );
    assert!(worker.shutdown(LONG));
}

#[test]
fn envelopes_after_shutdown_are_counted() {
    let sent = Sent::default();
    let options = options(10);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    assert!(worker.shutdown(LONG));
    worker.send_envelope(event_envelope());
    let report = options.client_reports.take().expect("counted");
    assert_eq!(report.total(), 1);
    assert_eq!(
        report.discarded_events[0].reason,
        DiscardReason::QueueOverflow
    );
    // A second shutdown and a flush after shutdown return at once.
    assert!(worker.shutdown(LONG));
    assert!(worker.flush(LONG));
    assert!(sent.bodies().is_empty());
}

#[test]
fn envelopes_from_the_worker_thread_are_refused() {
    let sent = Sent::default();
    let this: Arc<std::sync::OnceLock<std::sync::Weak<TransportWorker>>> = Arc::default();
    let recorder = sent.clone();
    let handle = Arc::clone(&this);
    let sender = move |body: Vec<u8>, _: &Envelope| {
        recorder.push(body);
        // As if the sender's own failure were captured and sent again.
        if let Some(worker) = handle.get().and_then(std::sync::Weak::upgrade) {
            worker.send_envelope(event_envelope());
        }
        SendOutcome::status(200)
    };
    let options = options(10);
    let worker = Arc::new(TransportWorker::spawn(sender, &options).expect("spawn"));
    let _ = this.set(Arc::downgrade(&worker));
    worker.send_envelope(transaction_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(
        envelopes.len(),
        2,
        "the transaction, then the report at flush"
    );
    assert_eq!(count_items(&envelopes, &ItemType::Event), 0);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::InternalSdkError,
            DataCategory::Error
        ),
        1
    );
    assert!(worker.shutdown(LONG));
}

#[test]
fn a_full_log_batch_wakes_the_idle_worker() {
    use crate::logs::{LogBuffer, MAX_BATCH_SIZE};
    use crate::protocol::{Log, LogLevel};

    let sent = Sent::default();
    let mut options = options(10);
    let logs = Arc::new(LogBuffer::new(Arc::clone(&options.client_reports)));
    options.logs = Some(Arc::clone(&logs));
    // Nothing else would wake the worker during the test.
    options.client_report_interval = Duration::from_secs(60);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    thread::sleep(Duration::from_millis(50)); // idle, waiting
    for i in 0..MAX_BATCH_SIZE {
        logs.push(Log::new(LogLevel::Info, format!("log {i}")));
    }
    let start = Instant::now();
    while sent.bodies().is_empty() && start.elapsed() < LONG {
        thread::sleep(Duration::from_millis(5));
    }
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(1), "batch took {elapsed:?}");
    assert_eq!(count_items(&sent.envelopes(), &ItemType::Log), 1);
    assert!(logs.is_empty());
    // Stopping still works while the worker waits for logs too.
    let start = Instant::now();
    assert!(worker.shutdown(LONG));
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn dropping_the_worker_stops_it() {
    let sent = Sent::default();
    let mut options = options(10);
    options.client_report_interval = Duration::from_secs(60);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    let signal = Arc::clone(worker.signal());
    thread::sleep(Duration::from_millis(20));
    let start = Instant::now();
    drop(worker);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "the idle worker woke up"
    );
    assert!(signal.is_closed());
}

#[test]
fn worker_thread_is_named() {
    let (name_tx, name_rx) = mpsc::sync_channel(1);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = name_tx.try_send(thread::current().name().map(str::to_owned));
        SendOutcome::status(200)
    };
    let worker = TransportWorker::spawn(sender, &options(10)).expect("spawn");
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    assert_eq!(
        name_rx.try_recv().expect("sent once"),
        Some(WORKER_THREAD_NAME.to_owned())
    );
    assert!(worker.shutdown(LONG));
}

fn cache_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sentry-worker-cache-{name}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The envelope files in `dir`, claimed ones (being sent) included.
fn cached_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| {
                    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    name.is_some_and(|n| !n.starts_with('.') && n.contains(".envelope"))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn with_cache(capacity: usize, dir: &std::path::Path) -> TransportOptions {
    let mut options = options(capacity);
    options.cache = Some(super::super::CacheOptions::new(dir));
    options
}

#[test]
fn network_errors_keep_envelopes_on_disk_and_retry_them() {
    let dir = cache_dir("retry");
    let sent = Sent::default();
    let script = vec![SendOutcome::NetworkError("offline".into())];
    let options = with_cache(10, &dir);
    let worker = TransportWorker::spawn(scripted(&sent, script), &options).expect("spawn");
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    // The first attempt failed: the envelope waits on disk, uncounted.
    assert_eq!(cached_files(&dir).len(), 1);
    assert!(options.client_reports.is_empty());
    // While backing off, a new envelope joins it on disk.
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    assert_eq!(sent.bodies().len(), 1);
    assert_eq!(cached_files(&dir).len(), 2);
    // After the backoff (1 s) both go, oldest first, and the files are deleted.
    let start = Instant::now();
    while !cached_files(&dir).is_empty() && start.elapsed() < LONG {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(cached_files(&dir).is_empty(), "retried and deleted");
    let envelopes = sent.envelopes();
    assert_eq!(
        count_items(&envelopes, &ItemType::Event),
        3,
        "1 failed + 2 delivered"
    );
    assert_eq!(
        discarded(&envelopes, DiscardReason::NetworkError, DataCategory::Error),
        0
    );
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn envelopes_left_by_an_earlier_worker_are_sent_at_start() {
    let dir = cache_dir("replay");
    // A first worker that never reaches the server.
    let options = with_cache(10, &dir);
    let offline = |_: Vec<u8>, _: &Envelope| SendOutcome::NetworkError("offline".into());
    let worker = TransportWorker::spawn(offline, &options).expect("spawn");
    for _ in 0..3 {
        worker.send_envelope(event_envelope());
    }
    assert!(worker.shutdown(LONG));
    assert_eq!(cached_files(&dir).len(), 3);
    for file in cached_files(&dir) {
        let body = std::fs::read(file).expect("read");
        assert!(!String::from_utf8_lossy(&body).contains("sent_at"));
    }
    // The next one sends them first thing.
    let sent = Sent::default();
    let options = with_cache(10, &dir);
    let worker = TransportWorker::spawn(scripted(&sent, vec![]), &options).expect("spawn");
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Event), 3);
    assert!(envelopes.iter().all(|e| e.headers().sent_at.is_some()));
    assert!(cached_files(&dir).is_empty());
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stuck_worker_leaves_its_queue_on_disk() {
    let dir = cache_dir("stuck");
    let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = release_rx.recv();
        SendOutcome::NetworkError("released".into())
    };
    let options = with_cache(10, &dir);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    for _ in 0..4 {
        worker.send_envelope(event_envelope());
    }
    let start = Instant::now();
    assert!(!worker.shutdown(Duration::from_millis(300)));
    assert!(start.elapsed() < Duration::from_millis(800));
    // One is in the stuck send (written before sending), three were saved by shutdown.
    assert_eq!(cached_files(&dir).len(), 4);
    assert!(options.client_reports.is_empty(), "nothing was lost");
    drop(release_tx);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn durable_sends_are_on_disk_before_send_envelope_returns() {
    let dir = cache_dir("durable");
    let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = release_rx.recv();
        SendOutcome::status(200)
    };
    let options = with_cache(10, &dir);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    // Occupy the worker so that it cannot be the one writing.
    worker.send_envelope(transaction_envelope());
    thread::sleep(Duration::from_millis(50));
    let before = cached_files(&dir).len();
    durable(|| worker.send_envelope(event_envelope()));
    assert_eq!(cached_files(&dir).len(), before + 1);
    drop(release_tx);
    assert!(worker.flush(LONG));
    assert!(cached_files(&dir).is_empty(), "deleted once answered");
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
}

fn message_envelope(message: &str) -> Envelope {
    Envelope::from_event(Event {
        message: Some(message.to_owned()),
        ..Event::default()
    })
}

/// Tags the events of [`errors_are_written_raw_on_the_calling_thread_then_finished`] only.
fn tag_finish_me(event: &mut Event) {
    if event.message.as_deref() == Some("finish me") {
        event.tags.insert("finished".into(), "yes".into());
    }
}

#[test]
fn errors_are_written_raw_on_the_calling_thread_then_finished() {
    crate::finalize::set_event_finalizer("worker-test-finish-me", tag_finish_me);
    let dir = cache_dir("raw");
    let (release_tx, release_rx) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = release_rx.recv();
        SendOutcome::NetworkError("offline".into())
    };
    let options = with_cache(10, &dir);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    // Occupy the worker (a transaction is not written on the calling thread).
    worker.send_envelope(transaction_envelope());
    thread::sleep(Duration::from_millis(50));
    assert_eq!(cached_files(&dir).len(), 1, "the transaction, being sent");
    worker.send_envelope(message_envelope("finish me"));
    let files = cached_files(&dir);
    assert_eq!(files.len(), 2, "the error is on disk at once");
    let raw: Vec<String> = files
        .iter()
        .map(|file| std::fs::read_to_string(file).expect("read"))
        .filter(|body| body.contains("finish me"))
        .collect();
    assert_eq!(raw.len(), 1);
    assert!(!raw[0].contains("finished"), "{}", raw[0]);
    // The send fails: while backing off, the worker writes the finished event over it.
    drop(release_tx);
    assert!(worker.flush(LONG));
    let finished: Vec<String> = cached_files(&dir)
        .iter()
        .map(|file| std::fs::read_to_string(file).expect("read"))
        .filter(|body| body.contains("finish me"))
        .collect();
    assert_eq!(finished.len(), 1);
    assert!(
        finished[0].contains("\"finished\":\"yes\""),
        "{}",
        finished[0]
    );
    assert!(options.client_reports.is_empty(), "nothing lost");
    assert!(worker.shutdown(LONG));
    assert_eq!(
        cached_files(&dir).len(),
        2,
        "both wait for the next process"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pending_counts_are_persisted_while_offline() {
    let dir = cache_dir("persist");
    let sent = Sent::default();
    let offline = vec![SendOutcome::NetworkError("offline".into()); 4];
    let options = with_cache(10, &dir);
    let worker = TransportWorker::spawn(scripted(&sent, offline), &options).expect("spawn");
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 5);
    // Flush tries to send them, fails, and leaves them on disk.
    assert!(worker.flush(LONG));
    assert!(options.client_reports.is_empty(), "moved to disk");
    let report_files = || {
        std::fs::read_dir(&dir)
            .expect("dir")
            .filter_map(Result::ok)
            .filter(|entry| {
                entry
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".client_report")
            })
            .count()
    };
    assert_eq!(report_files(), 1);
    // Counts recorded later wake the idle worker, which persists them too (one file).
    options
        .client_reports
        .record(DiscardReason::BeforeSend, DataCategory::Error, 2);
    let start = Instant::now();
    while !options.client_reports.is_empty() && start.elapsed() < LONG {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(options.client_reports.is_empty(), "persisted while idle");
    assert_eq!(report_files(), 1);
    // Each flush tries once more; after the four failures of the script the server is
    // back: all counts go, once, and the file goes.
    for _ in 0..10 {
        if sent.bodies().len() >= 5 {
            break;
        }
        assert!(worker.flush(LONG));
    }
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 5);
    let delivered = &envelopes[envelopes.len() - 1..];
    assert_eq!(
        discarded(delivered, DiscardReason::SampleRate, DataCategory::Error),
        5
    );
    assert_eq!(
        discarded(delivered, DiscardReason::BeforeSend, DataCategory::Error),
        2
    );
    assert_eq!(report_files(), 0);
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn shutdown_leaves_time_for_a_final_report() {
    let sent = Sent::default();
    let recorder = sent.clone();
    let sender = move |body: Vec<u8>, _: &Envelope| {
        thread::sleep(Duration::from_millis(50));
        recorder.push(body);
        SendOutcome::status(200)
    };
    let options = options(100);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    for _ in 0..40 {
        worker.send_envelope(event_envelope());
    }
    let start = Instant::now();
    assert!(!worker.shutdown(Duration::from_millis(800)), "not all sent");
    assert!(start.elapsed() < Duration::from_millis(1000));
    let envelopes = sent.envelopes();
    let delivered = count_items(&envelopes, &ItemType::Event) as u64;
    let dropped = discarded(
        &envelopes,
        DiscardReason::QueueOverflow,
        DataCategory::Error,
    );
    assert!(dropped > 0, "the final report went out");
    assert_eq!(delivered + dropped, 40);
    assert!(options.client_reports.is_empty());
}

#[test]
fn overflow_evicts_low_priority_envelopes_first() {
    let sent = Sent::default();
    let (gate_tx, gate_rx) = mpsc::channel::<()>();
    let recorder = sent.clone();
    let sender = move |body: Vec<u8>, _: &Envelope| {
        let _ = gate_rx.recv();
        recorder.push(body);
        SendOutcome::status(200)
    };
    let options = options(4);
    let worker = TransportWorker::spawn(sender, &options).expect("spawn");
    let session = || {
        let mut envelope = Envelope::new();
        envelope.add_item(RawItem::new(ItemType::Session, b"{}".to_vec()));
        envelope
    };
    // The worker takes the first one and blocks on the gate; then fill the queue.
    worker.send_envelope(session());
    thread::sleep(Duration::from_millis(50));
    for _ in 0..4 {
        worker.send_envelope(session());
    }
    for _ in 0..4 {
        worker.send_envelope(event_envelope());
    }
    for _ in 0..20 {
        let _ = gate_tx.send(());
    }
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Event), 4, "errors kept");
    assert_eq!(count_items(&envelopes, &ItemType::Session), 1);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::QueueOverflow,
            DataCategory::Session
        ),
        4
    );
    assert!(worker.shutdown(LONG));
}
