//! Fixtures shared by the transport's tests: options, envelopes, senders that record, follow a
//! script or hold their sends, temporary cache directories, and reading what was sent.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::{CacheOptions, SendOutcome, Sender, TransportOptions, TransportWorker};
use crate::client_reports::ClientReports;
use crate::envelope::{Envelope, EnvelopeItem, ItemType, RawItem};
use crate::protocol::Event;
use crate::protocol::{DataCategory, DiscardReason};

/// A timeout for waits that are expected to succeed.
pub(crate) const LONG: Duration = Duration::from_secs(5);

/// Transport options with a queue of `capacity` envelopes and fresh client reports.
pub(crate) fn options(capacity: usize) -> TransportOptions {
    let dsn = "https://public@example.invalid/1"
        .parse()
        .expect("valid DSN");
    let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::new()));
    options.queue_capacity = capacity;
    options
}

/// Like [`options`], with an offline cache in `dir`.
pub(crate) fn with_cache(capacity: usize, dir: &Path) -> TransportOptions {
    let mut options = options(capacity);
    options.cache = Some(CacheOptions::new(dir));
    options
}

/// Spawns a worker, which the tests expect to succeed.
pub(crate) fn spawn(sender: impl Sender, options: &TransportOptions) -> TransportWorker {
    TransportWorker::spawn(sender, options).expect("spawn")
}

/// Spawns a worker whose sender answers from `script`, then `200`, and records every body.
pub(crate) fn spawn_scripted(
    script: Vec<SendOutcome>,
    options: &TransportOptions,
) -> (Sent, TransportWorker) {
    let sent = Sent::default();
    let worker = spawn(scripted(&sent, script), options);
    (sent, worker)
}

/// An envelope with one default event (an error).
pub(crate) fn event_envelope() -> Envelope {
    Envelope::from_event(Event::default())
}

/// An envelope with one event carrying `message`.
pub(crate) fn message_envelope(message: &str) -> Envelope {
    Envelope::from_event(Event {
        message: Some(message.to_owned()),
        ..Event::default()
    })
}

/// An envelope with one raw item of type `ty`.
pub(crate) fn raw_envelope(ty: ItemType) -> Envelope {
    Envelope::from_iter([RawItem::new(ty, b"{}".to_vec())])
}

/// An envelope with one (empty) transaction.
pub(crate) fn transaction_envelope() -> Envelope {
    raw_envelope(ItemType::Transaction)
}

/// An envelope with one typed transaction of `spans` spans.
pub(crate) fn typed_transaction_envelope(spans: usize) -> Envelope {
    use crate::protocol::{EventType, Span};

    Envelope::from_transaction(Event {
        ty: EventType::Transaction,
        transaction: Some("GET /".into()),
        start_timestamp: Some(SystemTime::now()),
        spans: vec![Span::default(); spans],
        ..Event::default()
    })
}

/// A `429` with this `X-Sentry-Rate-Limits` header.
pub(crate) fn rate_limited(limits: &str) -> SendOutcome {
    SendOutcome::Response {
        status: 429,
        rate_limits: Some(limits.to_owned()),
        retry_after: None,
    }
}

/// Records the bodies a sender was given.
#[derive(Clone, Default)]
pub(crate) struct Sent(Arc<Mutex<Vec<Vec<u8>>>>);

impl Sent {
    pub(crate) fn push(&self, body: Vec<u8>) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(body);
    }

    pub(crate) fn bodies(&self) -> Vec<Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many bodies were sent.
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The sent bodies, parsed back.
    pub(crate) fn envelopes(&self) -> Vec<Envelope> {
        self.bodies()
            .iter()
            .map(|body| Envelope::from_bytes(body).expect("the worker writes valid envelopes"))
            .collect()
    }
}

/// A sender that records every body and answers from `script`, then `200`.
pub(crate) fn scripted(sent: &Sent, script: Vec<SendOutcome>) -> impl Sender {
    let sent = sent.clone();
    let mut script = VecDeque::from(script);
    move |body: Vec<u8>, _: &Envelope| {
        sent.push(body);
        script.pop_front().unwrap_or(SendOutcome::status(200))
    }
}

/// Holds every send of a [`held`] sender until it is released or dropped.
#[must_use = "dropping it releases the sender at once"]
pub(crate) struct Hold {
    _release: mpsc::SyncSender<()>,
}

impl Hold {
    /// Lets the held send, and every later one, return.
    pub(crate) fn release(self) {}
}

/// A sender whose every send waits until the [`Hold`] is released, then answers `outcome`:
/// a hanging server.
pub(crate) fn held(outcome: SendOutcome) -> (Hold, impl Sender) {
    let (hold, release) = mpsc::sync_channel::<()>(0);
    let sender = move |_: Vec<u8>, _: &Envelope| {
        // Nothing is ever sent on the channel: this returns once the `Hold` is gone.
        let _ = release.recv();
        outcome.clone()
    };
    (Hold { _release: hold }, sender)
}

/// Lets the sends of a [`gated`] sender through, one per pass.
pub(crate) struct Gate(mpsc::Sender<()>);

impl Gate {
    /// Lets `sends` more sends through.
    pub(crate) fn pass(&self, sends: usize) {
        for _ in 0..sends {
            let _ = self.0.send(());
        }
    }
}

/// A sender that waits for a pass of its [`Gate`] before each send, then records the body and
/// answers `200`.
pub(crate) fn gated(sent: &Sent) -> (Gate, impl Sender) {
    let (gate, passes) = mpsc::channel::<()>();
    let sent = sent.clone();
    let sender = move |body: Vec<u8>, _: &Envelope| {
        let _ = passes.recv();
        sent.push(body);
        SendOutcome::status(200)
    };
    (Gate(gate), sender)
}

/// Polls `done` until it holds or [`LONG`] has passed; returns how long that took.
pub(crate) fn wait_until(mut done: impl FnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !done() && start.elapsed() < LONG {
        thread::sleep(Duration::from_millis(5));
    }
    start.elapsed()
}

/// How many items of type `ty` `envelopes` hold.
pub(crate) fn count_items(envelopes: &[Envelope], ty: &ItemType) -> usize {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter(|item| item.ty() == *ty)
        .count()
}

/// The quantity of `reason`/`category` over every client report in `envelopes`.
pub(crate) fn discarded(
    envelopes: &[Envelope],
    reason: DiscardReason,
    category: DataCategory,
) -> u64 {
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

/// A fresh, not yet existing directory under the temp directory, unique to this call.
pub(crate) fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "sentry-transport-test-{name}-{}-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
        COUNTER.fetch_add(1, Ordering::Relaxed),
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The envelope files in `dir`, claimed ones (being sent) included, in name order.
pub(crate) fn cached_files(dir: &Path) -> Vec<PathBuf> {
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

/// The contents of the envelope files in `dir` that contain `needle`.
pub(crate) fn cached_containing(dir: &Path, needle: &str) -> Vec<String> {
    cached_files(dir)
        .iter()
        .map(|file| std::fs::read_to_string(file).expect("read"))
        .filter(|body| body.contains(needle))
        .collect()
}
