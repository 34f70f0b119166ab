//! The loop: sending, rate limits, the response table end to end, client reports, panics in
//! the sender, and the offline cache's retries.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::envelope::{Envelope, EnvelopeItem, ItemType};
use crate::protocol::Event;
use crate::protocol::{DataCategory, DiscardReason};
use crate::transport::test_support::*;
use crate::transport::{SendOutcome, Transport};

#[test]
fn delivers_with_sent_at_stamped() {
    let (sent, worker) = spawn_scripted(vec![], &options(10));
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(count_items(&envelopes, &ItemType::Event), 1);
    assert!(envelopes[0].headers().sent_at.is_some());
    assert!(worker.shutdown(LONG));
}

/// A failed send, end to end: what is counted, and that the counts go out at the flush. (The
/// policy itself is tested row by row in `response.rs`.)
#[test]
fn failed_sends_are_counted_per_the_spec() {
    struct Case {
        outcome: SendOutcome,
        envelope: fn() -> Envelope,
        /// Sends: the failed envelope, then the report on its own at flush (if any).
        sends: usize,
        counted: &'static [(DiscardReason, DataCategory, u64)],
    }
    const SEND_ERROR: &[(DiscardReason, DataCategory, u64)] =
        &[(DiscardReason::SendError, DataCategory::Error, 1)];
    let cases = [
        Case {
            outcome: SendOutcome::status(500),
            envelope: event_envelope,
            sends: 2,
            counted: SEND_ERROR,
        },
        Case {
            outcome: SendOutcome::status(503),
            envelope: event_envelope,
            sends: 2,
            counted: SEND_ERROR,
        },
        Case {
            outcome: SendOutcome::status(400),
            envelope: event_envelope,
            sends: 2,
            counted: SEND_ERROR,
        },
        Case {
            outcome: SendOutcome::status(413),
            envelope: event_envelope,
            sends: 2,
            counted: SEND_ERROR,
        },
        // A transaction also counts its spans (none here, plus the root span).
        Case {
            outcome: SendOutcome::NetworkError("connection reset".into()),
            envelope: transaction_envelope,
            sends: 2,
            counted: &[
                (DiscardReason::NetworkError, DataCategory::Transaction, 1),
                (DiscardReason::NetworkError, DataCategory::Span, 1),
            ],
        },
        // Not counted (and the limit it set holds the report back: nothing else goes out).
        Case {
            outcome: SendOutcome::status(429),
            envelope: event_envelope,
            sends: 1,
            counted: &[],
        },
    ];
    for case in cases {
        let label = format!("{:?}", case.outcome);
        let options = options(10);
        let (sent, worker) = spawn_scripted(vec![case.outcome], &options);
        worker.send_envelope((case.envelope)());
        assert!(worker.flush(LONG), "{label}");
        let envelopes = sent.envelopes();
        assert_eq!(envelopes.len(), case.sends, "{label}");
        for &(reason, category, quantity) in case.counted {
            assert_eq!(
                discarded(&envelopes, reason, category),
                quantity,
                "{label}: {reason:?} {category:?}"
            );
        }
        assert!(options.client_reports.is_empty(), "{label}");
        assert!(worker.shutdown(LONG), "{label}");
    }
}

#[test]
fn rate_limit_filters_that_category_only() {
    let options = options(10);
    let (sent, worker) = spawn_scripted(vec![rate_limited("60:error:organization")], &options);
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
    let ok_with_limits = SendOutcome::Response {
        status: 200,
        rate_limits: Some("60:transaction:organization".into()),
        retry_after: None,
    };
    let (sent, worker) = spawn_scripted(vec![ok_with_limits], &options(10));
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
fn a_rate_limited_transaction_counts_itself_and_its_spans() {
    let options = options(10);
    let (sent, worker) =
        spawn_scripted(vec![rate_limited("60:transaction:organization")], &options);
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    worker.send_envelope(typed_transaction_envelope(4));
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Transaction), 0);
    assert_eq!(count_items(&envelopes, &ItemType::Event), 2);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Transaction
        ),
        1
    );
    // Four spans and the root span.
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Span
        ),
        5
    );
    assert!(worker.shutdown(LONG));
}

/// The worker gives a sent transaction's span vector back for the next large transaction
/// (see `span_pool`), on the real send path.
#[test]
fn a_sent_transaction_gives_its_span_vector_back() {
    // A capacity no transaction grows to, so that other tests' vectors are not mistaken.
    const CAPACITY: usize = 999;
    let (_sent, worker) = spawn_scripted(vec![], &options(10));
    let mut spans = Vec::with_capacity(CAPACITY);
    spans.push(crate::protocol::Span::default());
    let event = Event {
        transaction: Some("large".into()),
        spans,
        ..Event::default()
    };
    worker.send_envelope(Envelope::from_transaction(event));
    assert!(worker.flush(LONG));
    assert!(worker.shutdown(LONG));
    assert!(crate::span_pool::tests::was_given_back(CAPACITY));
}

#[test]
fn a_span_limit_leaves_transactions_alone() {
    let options = options(10);
    let (sent, worker) = spawn_scripted(vec![rate_limited("60:span:organization")], &options);
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    worker.send_envelope(typed_transaction_envelope(3));
    worker.send_envelope(raw_envelope(ItemType::Span));
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    let transactions: Vec<&Event> = envelopes.iter().filter_map(Envelope::transaction).collect();
    assert_eq!(transactions.len(), 1, "the transaction is sent");
    assert_eq!(transactions[0].spans.len(), 3, "with its spans");
    assert!(transactions[0].is_transaction());
    assert_eq!(count_items(&envelopes, &ItemType::Span), 0);
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Transaction
        ),
        0
    );
    assert_eq!(
        discarded(
            &envelopes,
            DiscardReason::RatelimitBackoff,
            DataCategory::Span
        ),
        1,
        "only the standalone span item"
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
    let worker = spawn(sender, &options(10));
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
fn client_reports_ride_along_with_the_next_envelope() {
    let options = options(10);
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 3);
    let (sent, worker) = spawn_scripted(vec![], &options);
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
    let options = options(10);
    let (sent, worker) = spawn_scripted(vec![], &options);
    assert!(worker.flush(LONG));
    assert!(sent.is_empty(), "nothing to send, nothing sent");

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
    let mut options = options(10);
    options.client_report_interval = Duration::from_millis(100);
    let (sent, worker) = spawn_scripted(vec![], &options);
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 1);
    let elapsed = wait_until(|| !sent.is_empty());
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
    let options = options(10);
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 4);
    let script = vec![
        SendOutcome::NetworkError("down".into()),
        SendOutcome::status(502),
    ];
    let (sent, worker) = spawn_scripted(script, &options);
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
    let options = options(10);
    let (sent, worker) = spawn_scripted(vec![rate_limited("60::organization")], &options);
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    worker.send_envelope(event_envelope());
    options
        .client_reports
        .record(DiscardReason::SampleRate, DataCategory::Error, 1);
    assert!(worker.flush(LONG));
    assert_eq!(
        sent.len(),
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
fn network_errors_keep_envelopes_on_disk_and_retry_them() {
    let dir = temp_dir("retry");
    let script = vec![SendOutcome::NetworkError("offline".into())];
    let options = with_cache(10, &dir);
    let (sent, worker) = spawn_scripted(script, &options);
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    // The first attempt failed: the envelope waits on disk, uncounted.
    assert_eq!(cached_files(&dir).len(), 1);
    assert!(options.client_reports.is_empty());
    // While backing off, a new envelope joins it on disk.
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    assert_eq!(sent.len(), 1);
    assert_eq!(cached_files(&dir).len(), 2);
    // After the backoff (1 s) both go, oldest first, and the files are deleted.
    wait_until(|| cached_files(&dir).is_empty());
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

/// A typed transaction is not durable (the worker writes it just before sending), survives a
/// network error on disk, and is replayed as written: a transaction with its spans.
#[test]
fn transactions_wait_on_disk_and_are_replayed_as_written() {
    let dir = temp_dir("retry-transaction");
    let script = vec![SendOutcome::NetworkError("offline".into())];
    let options = with_cache(10, &dir);
    let (sent, worker) = spawn_scripted(script, &options);
    let envelope = typed_transaction_envelope(2);
    assert!(!crate::transport::durability::is_durable(&envelope));
    let id = envelope.event_id();
    worker.send_envelope(envelope);
    assert!(worker.flush(LONG));
    assert_eq!(cached_files(&dir).len(), 1);
    wait_until(|| cached_files(&dir).is_empty());
    let envelopes = sent.envelopes();
    let transactions: Vec<&Event> = envelopes.iter().filter_map(Envelope::transaction).collect();
    assert_eq!(transactions.len(), 2, "the failed send and the replay");
    for transaction in transactions {
        assert_eq!(Some(transaction.event_id), id);
        assert_eq!(transaction.spans.len(), 2);
        assert!(transaction.is_transaction());
    }
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn envelopes_left_by_an_earlier_worker_are_sent_at_start() {
    let dir = temp_dir("replay");
    // A first worker that never reaches the server.
    let offline = |_: Vec<u8>, _: &Envelope| SendOutcome::NetworkError("offline".into());
    let worker = spawn(offline, &with_cache(10, &dir));
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
    let (sent, worker) = spawn_scripted(vec![], &with_cache(10, &dir));
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Event), 3);
    assert!(envelopes.iter().all(|e| e.headers().sent_at.is_some()));
    assert!(cached_files(&dir).is_empty());
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
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
    let dir = temp_dir("raw");
    let (hold, sender) = held(SendOutcome::NetworkError("offline".into()));
    let options = with_cache(10, &dir);
    let worker = spawn(sender, &options);
    // Occupy the worker (a transaction is not written on the calling thread).
    worker.send_envelope(transaction_envelope());
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(cached_files(&dir).len(), 1, "the transaction, being sent");
    worker.send_envelope(message_envelope("finish me"));
    assert_eq!(cached_files(&dir).len(), 2, "the error is on disk at once");
    let raw = cached_containing(&dir, "finish me");
    assert_eq!(raw.len(), 1);
    assert!(!raw[0].contains("finished"), "{}", raw[0]);
    // The send fails: while backing off, the worker writes the finished event over it.
    hold.release();
    assert!(worker.flush(LONG));
    let finished = cached_containing(&dir, "finish me");
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
    let dir = temp_dir("persist");
    let offline = vec![SendOutcome::NetworkError("offline".into()); 4];
    let options = with_cache(10, &dir);
    let (sent, worker) = spawn_scripted(offline, &options);
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
    wait_until(|| options.client_reports.is_empty());
    assert!(options.client_reports.is_empty(), "persisted while idle");
    assert_eq!(report_files(), 1);
    // Each flush tries once more; after the four failures of the script the server is
    // back: all counts go, once, and the file goes.
    for _ in 0..10 {
        if sent.len() >= 5 {
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

/// A sender that takes 20 ms a send, forks, records the most sends under way at once, and
/// panics on a body containing `boom`.
#[derive(Clone)]
struct Far {
    sent: Sent,
    under_way: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Far {
    fn new() -> Far {
        Far {
            sent: Sent::default(),
            under_way: Arc::new(AtomicUsize::new(0)),
            most: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl crate::transport::Sender for Far {
    fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
        let now = self.under_way.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(20));
        self.under_way.fetch_sub(1, Ordering::SeqCst);
        if body.windows(4).any(|window| window == b"boom") {
            panic!("a sender bug");
        }
        self.sent.push(body);
        SendOutcome::status(200)
    }

    fn fork(&mut self) -> Option<Box<dyn crate::transport::Sender>> {
        Some(Box::new(self.clone()))
    }
}

#[test]
fn a_backlog_is_sent_concurrently_with_the_report_riding_once() {
    let mut options = options(100);
    options.max_concurrent_requests = 4;
    let far = Far::new();
    let worker = spawn(far.clone(), &options);
    options
        .client_reports
        .record(DiscardReason::BeforeSend, DataCategory::Error, 3);
    for i in 0..20 {
        worker.send_envelope(message_envelope(&format!("error {i}")));
    }
    worker.send_envelope(message_envelope("boom"));
    assert!(worker.flush(LONG));
    let most = far.most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} sends at once");
    let envelopes = far.sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Event), 20);
    assert_eq!(
        discarded(&envelopes, DiscardReason::BeforeSend, DataCategory::Error),
        3,
        "the pending counts went out exactly once"
    );
    // The send that panicked on a helper was dropped and counted, and the worker went on.
    worker.send_envelope(message_envelope("after"));
    assert!(worker.flush(LONG));
    let envelopes = far.sent.envelopes();
    assert_eq!(count_items(&envelopes, &ItemType::Event), 21);
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
fn a_429_on_one_request_holds_back_what_starts_after_it() {
    let mut options = options(100);
    options.max_concurrent_requests = 4;
    let sent = Sent::default();
    let answered = Arc::new(AtomicUsize::new(0));
    #[derive(Clone)]
    struct Limited {
        sent: Sent,
        answered: Arc<AtomicUsize>,
    }
    impl crate::transport::Sender for Limited {
        fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
            std::thread::sleep(Duration::from_millis(30));
            self.sent.push(body);
            // The second request answered is rate limited for errors (the first, sent alone,
            // shows the worker that requests are slow).
            if self.answered.fetch_add(1, Ordering::SeqCst) == 1 {
                rate_limited("60:error:organization")
            } else {
                SendOutcome::status(200)
            }
        }

        fn fork(&mut self) -> Option<Box<dyn crate::transport::Sender>> {
            Some(Box::new(self.clone()))
        }
    }
    let worker = spawn(
        Limited {
            sent: sent.clone(),
            answered,
        },
        &options,
    );
    for i in 0..30 {
        worker.send_envelope(message_envelope(&format!("error {i}")));
    }
    assert!(worker.flush(LONG));
    let sent_events = count_items(&sent.envelopes(), &ItemType::Event);
    // The first, then at most the requests under way when the 429 came (four, and one more
    // that may have started as the 429 was being returned); the rest were held back.
    assert!(sent_events <= 6, "{sent_events} error requests");
    let report = options.client_reports.take();
    let held_back = report.as_ref().map_or(0, |report| {
        report
            .discarded_events
            .iter()
            .filter(|d| d.reason == DiscardReason::RatelimitBackoff)
            .map(|d| d.quantity)
            .sum::<u64>()
    }) + discarded(
        &sent.envelopes(),
        DiscardReason::RatelimitBackoff,
        DataCategory::Error,
    );
    assert_eq!(sent_events as u64 + held_back, 30);
    assert!(worker.shutdown(LONG));
}

#[test]
fn what_is_under_way_stays_within_a_quarter_of_the_byte_bound() {
    let mut options = options(100);
    options.max_concurrent_requests = 16;
    // A quarter: 100,000 bytes; an envelope of ~10 KB counts three times its body, so three fit
    // under way on helpers, and a fourth is sent on the worker thread itself.
    options.queue_max_bytes = 400_000;
    let far = Far::new();
    let worker = spawn(far.clone(), &options);
    // Ten at a time (300,000 counted bytes): the queue never overflows, however slowly the
    // worker thread gets to run.
    for batch in 0..3 {
        for i in 0..10 {
            let n = batch * 10 + i;
            worker.send_envelope(message_envelope(&format!("{n:>10000}")));
        }
        assert!(worker.flush(LONG));
    }
    assert_eq!(count_items(&far.sent.envelopes(), &ItemType::Event), 30);
    let most = far.most.load(Ordering::SeqCst);
    assert!((2..=4).contains(&most), "{most} sends at once");
    assert!(worker.shutdown(LONG));
}

fn bloat_me(event: &mut Event) {
    if event.message.as_deref() == Some("bloat me") {
        for i in 0..40_000 {
            event
                .tags
                .insert(format!("tag{i}").into(), "value-of-the-tag".into());
        }
    }
}

/// Sentry rejects an event over its size limit: one a finalizer leaves too large is not sent
/// (nor cached), and is counted as `invalid`.
#[test]
fn an_event_finalized_too_large_is_counted_not_sent() {
    crate::finalize::set_event_finalizer("worker-test-bloat-me", bloat_me);
    let options = options(10);
    let (sent, worker) = spawn_scripted(vec![], &options);
    worker.send_envelope(message_envelope("bloat me"));
    worker.send_envelope(message_envelope("fine"));
    assert!(worker.flush(LONG));
    let envelopes = sent.envelopes();
    assert_eq!(
        count_items(&envelopes, &ItemType::Event),
        1,
        "only the one that fits"
    );
    assert_eq!(
        discarded(&envelopes, DiscardReason::Invalid, DataCategory::Error),
        1
    );
    assert!(options.client_reports.is_empty());
    assert!(worker.shutdown(LONG));
}
