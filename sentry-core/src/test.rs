//! Test utilities (feature `test`): a transport that records envelopes, and helpers that
//! capture what a piece of code sends (envelopes, error events, transactions, logs, check-ins,
//! feedback).
//!
//! # Isolation
//!
//! The `with_captured_*` helpers and [`with_isolated_client`] bind a recording client to a new
//! isolation scope of their own and run the code in it. They capture what runs in those
//! scopes: the calling thread, and the threads and futures that carry them
//! ([`Scopes::bind`], [`BindScopes::bind_scopes`](crate::BindScopes::bind_scopes)). A test
//! running beside them in `cargo test`'s thread pool, capturing with a client of its own or
//! with none, never shows up in their results, and theirs never in its:
//!
//! ```
//! use sentry_core::{test::with_captured_events, Level, Scopes};
//!
//! let events = with_captured_events(|| {
//!     sentry_core::capture_message("on the test's thread", Level::Info);
//!     let scopes = Scopes::current();
//!     std::thread::spawn(move || {
//!         scopes.bind(|| sentry_core::capture_message("on a thread it started", Level::Info))
//!     })
//!     .join()
//!     .unwrap();
//!     // A thread that does not carry the scopes reports elsewhere (here: nowhere).
//!     std::thread::spawn(|| sentry_core::capture_message("not captured", Level::Info))
//!         .join()
//!         .unwrap();
//! });
//! assert_eq!(events.len(), 2);
//! ```
//!
//! Code that starts threads it does not let you bind (a library's thread pool) is captured
//! with [`with_captured_envelopes_process_wide`], which is not isolated.
//!
//! # Panics
//!
//! A panic under the helpers arrives before the helper returns, stack complete: the recording
//! transport finishes events (stack symbolication, as the transport worker would) when the
//! test reads them, not while the panic hook waits, and the helpers' client gives the hook
//! [`PANIC_CAPTURE_TIMEOUT`] (its `shutdown_timeout` is raised to it), so the first
//! symbolication of a large debug build, which may take seconds, never cuts the event off.
//!
//! Fixtures and protocol validators for the SDK's own tests (a typical 10 KB event, the check
//! of log items) are in the workspace's test crate, not here: they are not for applications.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::client::Client;
use crate::envelope::{Envelope, EnvelopeItem};
use crate::options::ClientOptions;
use crate::protocol::{CheckIn, DataCategory, DiscardReason, Event, Log};
use crate::scope::{global_slot, set_global_client, Scopes};
use crate::transport::{Transport, TransportFactory};

/// A transport that keeps every envelope in memory and counts flushes and shutdowns.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::{test::TestTransport, Client, ClientOptions, Level};
///
/// let transport = TestTransport::new();
/// let client = Client::new(ClientOptions {
///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
///     transport: Some(transport.factory()),
///     ..Default::default()
/// });
/// client.capture_event(sentry_core::protocol::Event::default(), None);
/// assert!(client.close(None));
/// assert_eq!(transport.envelopes().len(), 1);
/// assert_eq!(transport.shutdown_count(), 1);
/// ```
///
/// Events are finished (the [event finalizers](crate::finalize), such as stack
/// symbolication) when they are read, on the reading thread, as the transport worker finishes
/// them before sending: `send_envelope` only records, so a capture on a thread that must not
/// wait (a panic hook's) returns at once.
#[derive(Debug, Default)]
pub struct TestTransport {
    recorded: Mutex<Recorded>,
    flushes: AtomicUsize,
    shutdowns: AtomicUsize,
}

/// The envelopes received, and how many of them (from the start) are finished.
#[derive(Debug, Default)]
struct Recorded {
    envelopes: Vec<Envelope>,
    finished: usize,
}

impl TestTransport {
    /// A new, empty transport.
    pub fn new() -> Arc<TestTransport> {
        Arc::default()
    }

    /// A factory that hands out this transport, for [`ClientOptions::transport`].
    pub fn factory(self: &Arc<Self>) -> Arc<dyn TransportFactory> {
        let transport: Arc<dyn Transport> = Arc::clone(self) as Arc<dyn Transport>;
        Arc::new(transport)
    }

    /// The envelopes received so far.
    pub fn envelopes(&self) -> Vec<Envelope> {
        self.finished().envelopes.clone()
    }

    /// The recorded envelopes, those not finished yet finished now.
    fn finished(&self) -> std::sync::MutexGuard<'_, Recorded> {
        let mut recorded = self.recorded.lock().unwrap_or_else(PoisonError::into_inner);
        let from = recorded.finished;
        for envelope in &mut recorded.envelopes[from..] {
            // Events left too large are removed, as the worker removes them.
            let _removed = crate::finalize::finalize_envelope(envelope);
        }
        recorded.finished = recorded.envelopes.len();
        recorded
    }

    /// The error and message events received so far, in order (transactions are not events
    /// here; see [`transactions`](Self::transactions)).
    pub fn events(&self) -> Vec<Event> {
        items_of(&self.envelopes(), EnvelopeItem::as_event)
    }

    /// The transactions received so far, in order.
    ///
    /// # Examples
    ///
    /// ```
    /// use sentry_core::envelope::Envelope;
    /// use sentry_core::protocol::{Event, EventType};
    /// use sentry_core::{test::TestTransport, Client, ClientOptions};
    ///
    /// let transport = TestTransport::new();
    /// let client = Client::new(ClientOptions {
    ///     dsn: Some("https://public@sentry.invalid/1".parse().unwrap()),
    ///     transport: Some(transport.factory()),
    ///     ..Default::default()
    /// });
    /// let transaction = Event { ty: EventType::Transaction, ..Event::default() };
    /// client.send_envelope(Envelope::from_transaction(transaction));
    /// client.capture_event(Event::default(), None);
    /// assert!(client.close(None));
    /// assert_eq!(transport.transactions().len(), 1);
    /// assert!(transport.transactions()[0].is_transaction());
    /// assert_eq!(transport.events().len(), 1);
    /// ```
    pub fn transactions(&self) -> Vec<Event> {
        items_of(&self.envelopes(), EnvelopeItem::as_transaction)
    }

    /// The cron check-ins received so far, in order.
    pub fn check_ins(&self) -> Vec<CheckIn> {
        self.envelopes()
            .iter()
            .flat_map(Envelope::items)
            .filter_map(EnvelopeItem::as_check_in)
            .cloned()
            .collect()
    }

    /// The user feedback events received so far, in order (read the user's words with
    /// [`Feedback::from_event`](crate::protocol::Feedback::from_event)).
    pub fn feedback(&self) -> Vec<Event> {
        items_of(&self.envelopes(), EnvelopeItem::as_feedback)
    }

    /// Takes the envelopes received so far.
    pub fn fetch_and_clear_envelopes(&self) -> Vec<Envelope> {
        let mut recorded = self.finished();
        recorded.finished = 0;
        std::mem::take(&mut recorded.envelopes)
    }

    /// How many times `flush` was called.
    pub fn flush_count(&self) -> usize {
        self.flushes.load(Ordering::SeqCst)
    }

    /// How many times `shutdown` was called.
    pub fn shutdown_count(&self) -> usize {
        self.shutdowns.load(Ordering::SeqCst)
    }
}

impl Transport for TestTransport {
    fn send_envelope(&self, envelope: Envelope) {
        // Finished when read (see the type's docs), as the worker finishes before sending.
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .envelopes
            .push(envelope);
    }

    fn flush(&self, _timeout: Duration) -> bool {
        self.flushes.fetch_add(1, Ordering::SeqCst);
        true
    }

    fn shutdown(&self, _timeout: Duration) -> bool {
        self.shutdowns.fetch_add(1, Ordering::SeqCst);
        true
    }
}

/// A transport that drops every envelope it is given: for measuring the calling thread's
/// work alone (benchmarks), where [`TestTransport`] would keep every envelope in memory.
///
/// ```
/// use sentry_core::{test::DiscardTransport, Client, ClientOptions, Level};
///
/// let client = Client::new(ClientOptions {
///     dsn: "https://public@sentry.invalid/1".parse().ok(),
///     transport: Some(DiscardTransport::factory()),
///     ..Default::default()
/// });
/// assert!(client.is_enabled());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DiscardTransport;

impl DiscardTransport {
    /// A factory that hands out a `DiscardTransport`, for [`ClientOptions::transport`].
    pub fn factory() -> Arc<dyn TransportFactory> {
        let transport: Arc<dyn Transport> = Arc::new(DiscardTransport);
        Arc::new(transport)
    }
}

impl Transport for DiscardTransport {
    fn send_envelope(&self, mut envelope: Envelope) {
        // As the transport worker does once it sent a transaction: its span vector is kept
        // for the next large transaction.
        crate::span_pool::give_back(&mut envelope);
        drop(envelope);
    }

    fn flush(&self, _timeout: Duration) -> bool {
        true
    }

    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
}

/// How long a panic hook may take to capture a panic under the helpers: the `shutdown_timeout`
/// their client has at least (the hook waits that long for the event to be queued; the first
/// symbolication of a large debug build can take seconds).
pub const PANIC_CAPTURE_TIMEOUT: Duration = Duration::from_secs(60);

/// A recording client of its own, bound to a new isolation scope forked from the calling
/// thread's: `f` runs there (see [Isolation](self#isolation)). Returns what `f` returned and
/// the client, still open.
fn run_isolated<R>(
    options: ClientOptions,
    default_dsn: &str,
    f: impl FnOnce() -> R,
) -> (R, Arc<TestTransport>, Arc<Client>) {
    let transport = TestTransport::new();
    let dsn = options.dsn.clone().or_else(|| default_dsn.parse().ok());
    let client = Arc::new(Client::new(ClientOptions {
        dsn,
        transport: Some(transport.factory()),
        shutdown_timeout: options.shutdown_timeout.max(PANIC_CAPTURE_TIMEOUT),
        ..options
    }));
    let scopes = Scopes::current().fork_isolation();
    scopes.configure_isolation_scope(|scope| scope.set_client(Some(Arc::clone(&client))));
    let result = scopes.bind(f);
    (result, transport, client)
}

/// Runs `f` with a recording client built from `options`, and returns the envelopes it sent.
/// The client is bound to an isolation scope of its own, so only what runs in `f`'s scopes is
/// captured (see [Isolation](self#isolation)). The DSN and transport of `options` are
/// replaced.
///
/// # Examples
///
/// ```
/// use sentry_core::{test::with_captured_envelopes_options, ClientOptions, Level, Scopes};
///
/// let envelopes = with_captured_envelopes_options(
///     ClientOptions { release: Some("app@1".into()), ..Default::default() },
///     || {
///         let scopes = Scopes::current();
///         std::thread::spawn(move || {
///             scopes.bind(|| sentry_core::capture_message("from a thread", Level::Info))
///         })
///         .join()
///         .unwrap();
///     },
/// );
/// assert_eq!(envelopes.len(), 1);
/// ```
pub fn with_captured_envelopes_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Envelope> {
    let options = ClientOptions {
        dsn: None,
        ..options
    };
    let ((), transport, client) = run_isolated(options, "https://public@sentry.invalid/1", f);
    client.close(None);
    transport.fetch_and_clear_envelopes()
}

static CAPTURE_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` with a recording client built from `options` bound to the **global** scope, and
/// returns the envelopes it sent: what every thread that has no scopes of its own captured
/// meanwhile, `f`'s or not.
///
/// This is for code that starts threads it does not let you bind to the test's scopes. It is
/// **not isolated**: a test running at the same time in the same process whose captures reach
/// the global scope (one without a client of its own) shows up in the result. Use it in a test
/// binary (a file under `tests/`) of its own, or with `--test-threads=1`; calls to it wait for
/// each other.
///
/// # Examples
///
/// ```
/// use sentry_core::{test::with_captured_envelopes_process_wide, ClientOptions, Level};
///
/// let envelopes = with_captured_envelopes_process_wide(ClientOptions::default(), || {
///     std::thread::spawn(|| sentry_core::capture_message("from a thread", Level::Info))
///         .join()
///         .unwrap();
/// });
/// assert_eq!(envelopes.len(), 1);
/// ```
pub fn with_captured_envelopes_process_wide(
    options: ClientOptions,
    f: impl FnOnce(),
) -> Vec<Envelope> {
    let _lock = CAPTURE_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let transport = TestTransport::new();
    let client = Arc::new(Client::new(ClientOptions {
        dsn: "https://public@sentry.invalid/1".parse().ok(),
        transport: Some(transport.factory()),
        shutdown_timeout: options.shutdown_timeout.max(PANIC_CAPTURE_TIMEOUT),
        ..options
    }));
    let previous = global_slot()
        .update(|scope| set_global_client(scope, Some(Arc::clone(&client))))
        .flatten();
    // Restore the previous client even if `f` panics.
    struct Restore(Option<Option<Arc<Client>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(previous) = self.0.take() {
                global_slot().update(|scope| set_global_client(scope, previous));
            }
        }
    }
    let restore = Restore(Some(previous));
    f();
    client.close(None);
    drop(restore);
    transport.fetch_and_clear_envelopes()
}

/// What a client dropped: `(reason, category, quantity)` triples, as its client report counts
/// them.
pub type Discarded = Vec<(DiscardReason, DataCategory, u64)>;

/// Runs `f` in a new isolation scope bound to a client of its own (sending to a
/// [`TestTransport`], with the DSN `https://public@o1.ingest.sentry.io/1` unless `options`
/// has one), closes the client, and returns what it sent and what it dropped.
///
/// Like the `with_captured_*` helpers it is isolated (see [Isolation](self#isolation)); it
/// also returns the counts of the client report.
///
/// ```
/// use sentry_core::protocol::{DataCategory, DiscardReason};
/// use sentry_core::{test::with_isolated_client, ClientOptions, Level};
///
/// let options = ClientOptions { sample_rate: 0.0, ..Default::default() };
/// let (envelopes, discarded) = with_isolated_client(options, || {
///     sentry_core::capture_message("sampled out", Level::Info);
/// });
/// assert!(envelopes.is_empty());
/// assert_eq!(discarded, [(DiscardReason::SampleRate, DataCategory::Error, 1)]);
/// ```
pub fn with_isolated_client(
    options: ClientOptions,
    f: impl FnOnce(),
) -> (Vec<Envelope>, Discarded) {
    let ((), transport, client) = run_isolated(options, "https://public@o1.ingest.sentry.io/1", f);
    let discarded = client
        .client_reports()
        .take()
        .map(|report| {
            report
                .discarded_events
                .into_iter()
                .map(|d| (d.reason, d.category, d.quantity))
                .collect()
        })
        .unwrap_or_default();
    client.close(None);
    (transport.envelopes(), discarded)
}

/// [`with_captured_envelopes_options`] with default options.
pub fn with_captured_envelopes(f: impl FnOnce()) -> Vec<Envelope> {
    with_captured_envelopes_options(ClientOptions::default(), f)
}

/// Runs `f` and returns the error and message events it captured (in its scopes, see
/// [Isolation](self#isolation)); transactions are left out (see [`with_captured_transactions`]).
pub fn with_captured_events(f: impl FnOnce()) -> Vec<Event> {
    with_captured_events_options(ClientOptions::default(), f)
}

/// Runs `f` with `options` and returns the error and message events it captured (in its
/// scopes); transactions are left out.
pub fn with_captured_events_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Event> {
    items_of(
        &with_captured_envelopes_options(options, f),
        EnvelopeItem::as_event,
    )
}

/// Runs `f` and returns the transactions it sent (in its scopes), in order; error and
/// message events are left out.
///
/// # Examples
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::protocol::{Event, EventType, Span};
/// use sentry_core::test::with_captured_transactions;
///
/// let transactions = with_captured_transactions(|| {
///     let transaction = Event {
///         ty: EventType::Transaction,
///         transaction: Some("GET /".into()),
///         spans: vec![Span::default()],
///         ..Event::default()
///     };
///     let client = sentry_core::Scopes::current().client();
///     client.send_envelope(Envelope::from_transaction(transaction));
///     sentry_core::capture_message("not a transaction", sentry_core::Level::Info);
/// });
/// assert_eq!(transactions.len(), 1);
/// assert_eq!(transactions[0].transaction.as_deref(), Some("GET /"));
/// assert_eq!(transactions[0].spans.len(), 1);
/// ```
pub fn with_captured_transactions(f: impl FnOnce()) -> Vec<Event> {
    with_captured_transactions_options(ClientOptions::default(), f)
}

/// Runs `f` with `options` and returns the transactions it sent (in its scopes), in order.
pub fn with_captured_transactions_options(options: ClientOptions, f: impl FnOnce()) -> Vec<Event> {
    items_of(
        &with_captured_envelopes_options(options, f),
        EnvelopeItem::as_transaction,
    )
}

/// The events `pick` finds in the items of `envelopes`, cloned, in order.
fn items_of(envelopes: &[Envelope], pick: fn(&EnvelopeItem) -> Option<&Event>) -> Vec<Event> {
    envelopes
        .iter()
        .flat_map(Envelope::items)
        .filter_map(pick)
        .cloned()
        .collect()
}

/// Runs `f` with `options` and [`enable_logs`](ClientOptions::enable_logs) on, and returns the
/// structured logs it captured (in its scopes), in order.
///
/// # Examples
///
/// ```
/// use sentry_core::{logger, test::with_captured_logs, ClientOptions};
///
/// let logs = with_captured_logs(ClientOptions::default(), || {
///     logger::info!("hello {}", "world");
/// });
/// assert_eq!(logs[0].body, "hello world");
/// ```
pub fn with_captured_logs(options: ClientOptions, f: impl FnOnce()) -> Vec<Log> {
    let options = ClientOptions {
        enable_logs: true,
        ..options
    };
    with_captured_envelopes_options(options, f)
        .iter()
        .flat_map(Envelope::items)
        .filter_map(|item| match item {
            EnvelopeItem::Logs(logs) => Some(logs.iter().cloned()),
            _ => None,
        })
        .flatten()
        .collect()
}

/// Runs `f` with `options` and returns the cron check-ins it sent (in its scopes), in order.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::{CheckIn, CheckInStatus};
/// use sentry_core::{test::with_captured_check_ins, ClientOptions};
///
/// let options = ClientOptions { release: Some("app@2".into()), ..Default::default() };
/// let check_ins = with_captured_check_ins(options, || {
///     sentry_core::capture_check_in(CheckIn::new("sync", CheckInStatus::Ok));
/// });
/// assert_eq!(check_ins[0].release.as_deref(), Some("app@2"));
/// ```
pub fn with_captured_check_ins(options: ClientOptions, f: impl FnOnce()) -> Vec<CheckIn> {
    with_captured_envelopes_options(options, f)
        .iter()
        .flat_map(Envelope::items)
        .filter_map(EnvelopeItem::as_check_in)
        .cloned()
        .collect()
}

/// Runs `f` with `options` and returns the user feedback events it sent (in its scopes), in
/// order.
///
/// # Examples
///
/// ```
/// use sentry_core::protocol::Feedback;
/// use sentry_core::{test::with_captured_feedback, ClientOptions};
///
/// let feedback = with_captured_feedback(ClientOptions::default(), || {
///     sentry_core::set_tag("page", "checkout");
///     sentry_core::capture_feedback(Feedback::new("the button does nothing"));
/// });
/// assert_eq!(feedback[0].tags["page"], "checkout");
/// assert_eq!(Feedback::from_event(&feedback[0]).unwrap().message, "the button does nothing");
/// ```
pub fn with_captured_feedback(options: ClientOptions, f: impl FnOnce()) -> Vec<Event> {
    items_of(
        &with_captured_envelopes_options(options, f),
        EnvelopeItem::as_feedback,
    )
}
