//! The handle: bounded flush, shutdown and drop, what `send_envelope` does with what it is
//! given (queue overflow, after shutdown, from the worker thread, on disk first).

use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::envelope::ItemType;
use crate::protocol::DataCategory;
use crate::transport::test_support::*;
use crate::transport::SendOutcome;

/// Flush, shutdown and drop return in time however the sender hangs, the queue full or not.
#[test]
fn flush_shutdown_and_drop_are_bounded_while_the_sender_hangs() {
    struct Case {
        capacity: usize,
        envelopes: usize,
        outcome: SendOutcome,
        timeout: Duration,
        bound: Duration,
    }
    let cases = [
        // Some envelopes queued behind the hanging send.
        Case {
            capacity: 10,
            envelopes: 2,
            outcome: SendOutcome::NetworkError("released".into()),
            timeout: Duration::from_millis(200),
            bound: Duration::from_millis(400),
        },
        // The queue is full: the flush barrier still gets in.
        Case {
            capacity: 1,
            envelopes: 5,
            outcome: SendOutcome::status(200),
            timeout: Duration::from_millis(100),
            bound: Duration::from_millis(300),
        },
    ];
    for case in cases {
        let label = format!("capacity {}", case.capacity);
        let (hold, sender) = held(case.outcome);
        let worker = spawn(sender, &options(case.capacity));
        for _ in 0..case.envelopes {
            worker.send_envelope(event_envelope());
        }

        let start = Instant::now();
        assert!(!worker.flush(case.timeout), "{label}");
        let flush_time = start.elapsed();
        assert!(
            flush_time < case.bound,
            "{label}: flush took {flush_time:?}"
        );

        let start = Instant::now();
        assert!(!worker.shutdown(case.timeout), "{label}");
        let shutdown_time = start.elapsed();
        assert!(
            shutdown_time < case.bound,
            "{label}: shutdown took {shutdown_time:?}"
        );

        // Dropping a shut-down worker does not wait again.
        let start = Instant::now();
        drop(worker);
        assert!(start.elapsed() < Duration::from_millis(100), "{label}");
        hold.release();
    }
}

#[test]
fn drop_is_bounded() {
    let (hold, sender) = held(SendOutcome::status(200));
    let worker = spawn(sender, &options(10));
    worker.send_envelope(event_envelope());
    let start = Instant::now();
    drop(worker);
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_millis(2500),
        "drop took {elapsed:?}"
    );
    hold.release();
}

#[test]
fn dropping_the_worker_stops_it() {
    let mut options = options(10);
    options.client_report_interval = Duration::from_secs(60);
    let (_sent, worker) = spawn_scripted(vec![], &options);
    let signal = Arc::clone(worker.queue.signal());
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
fn envelopes_after_shutdown_are_counted() {
    let options = options(10);
    let (sent, worker) = spawn_scripted(vec![], &options);
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
    assert!(sent.is_empty());
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
    let worker = Arc::new(spawn(sender, &options(10)));
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
fn worker_thread_is_named() {
    let (name_tx, name_rx) = mpsc::sync_channel(1);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        let _ = name_tx.try_send(thread::current().name().map(str::to_owned));
        SendOutcome::status(200)
    };
    let worker = spawn(sender, &options(10));
    worker.send_envelope(event_envelope());
    assert!(worker.flush(LONG));
    assert_eq!(
        name_rx.try_recv().expect("sent once"),
        Some(WORKER_THREAD_NAME.to_owned())
    );
    assert!(worker.shutdown(LONG));
}

#[test]
fn queue_overflow_is_counted_exactly() {
    let sent = Sent::default();
    let (gate, sender) = gated(&sent);
    let options = options(5);
    let worker = spawn(sender, &options);
    for _ in 0..100 {
        worker.send_envelope(event_envelope());
    }
    // Open the gate for good.
    gate.pass(200);
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
fn overflow_evicts_low_priority_envelopes_first() {
    let sent = Sent::default();
    let (gate, sender) = gated(&sent);
    let worker = spawn(sender, &options(4));
    let session = || {
        let payload =
            br#"{"sid":"a8b0c2d4e6f8a0b2c4d6e8f0a2b4c6d8","started":0,"attrs":{"release":"r"}}"#;
        Envelope::from_iter([crate::envelope::RawItem::new(
            ItemType::Session,
            payload.to_vec(),
        )])
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
    gate.pass(20);
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
    let worker = spawn(sender, &options);
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
fn a_stuck_worker_leaves_its_queue_on_disk() {
    let dir = temp_dir("stuck");
    let (hold, sender) = held(SendOutcome::NetworkError("released".into()));
    let options = with_cache(10, &dir);
    let worker = spawn(sender, &options);
    for _ in 0..4 {
        worker.send_envelope(event_envelope());
    }
    let start = Instant::now();
    assert!(!worker.shutdown(Duration::from_millis(300)));
    assert!(start.elapsed() < Duration::from_millis(800));
    // One is in the stuck send (written before sending), three were saved by shutdown.
    assert_eq!(cached_files(&dir).len(), 4);
    assert!(options.client_reports.is_empty(), "nothing was lost");
    hold.release();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn durable_sends_are_on_disk_before_send_envelope_returns() {
    let dir = temp_dir("durable");
    let (hold, sender) = held(SendOutcome::status(200));
    let worker = spawn(sender, &with_cache(10, &dir));
    // Occupy the worker so that it cannot be the one writing.
    worker.send_envelope(transaction_envelope());
    thread::sleep(Duration::from_millis(50));
    let before = cached_files(&dir).len();
    durable(|| worker.send_envelope(event_envelope()));
    assert_eq!(cached_files(&dir).len(), before + 1);
    hold.release();
    assert!(worker.flush(LONG));
    assert!(cached_files(&dir).is_empty(), "deleted once answered");
    assert!(worker.shutdown(LONG));
    let _ = std::fs::remove_dir_all(&dir);
}
