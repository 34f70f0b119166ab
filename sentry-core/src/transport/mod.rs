//! Delivery of envelopes: the [`Transport`] trait, the [`TransportFactory`] that creates one per
//! client, and the reusable [`TransportWorker`].
//!
//! A transport has three jobs: accept envelopes without ever blocking the caller
//! ([`Transport::send_envelope`]), wait a bounded time for them to be delivered
//! ([`Transport::flush`]) and stop within a bounded time ([`Transport::shutdown`]).
//!
//! Most transports only need to say *how to send bytes*: implement [`Sender`] and wrap it in a
//! [`TransportWorker`], which owns the queue, the worker thread, rate limiting, client reports,
//! flush barriers and bounded shutdown. The HTTP transport (`sentry-transport-http`) is built
//! this way.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sentry_core::client_reports::ClientReports;
//! use sentry_core::envelope::Envelope;
//! use sentry_core::protocol::Event;
//! use sentry_core::transport::{SendOutcome, Transport, TransportOptions, TransportWorker};
//!
//! let dsn = "https://public@example.invalid/42".parse().expect("valid DSN");
//! let options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
//!
//! // "How to send bytes": here, pretend the server accepted everything.
//! let sender = |body: Vec<u8>, _envelope: &Envelope| {
//!     assert!(!body.is_empty());
//!     SendOutcome::status(200)
//! };
//! let transport = TransportWorker::spawn(sender, &options).expect("thread spawned");
//! transport.send_envelope(Envelope::from_event(Event::default()));
//! assert!(transport.flush(Duration::from_secs(2)));
//! assert!(transport.shutdown(Duration::from_secs(2)));
//! ```

use std::sync::Arc;
use std::time::Duration;

use crate::envelope::Envelope;

mod cache;
mod compression;
mod discard;
mod durability;
mod durable;
mod in_flight;
mod options;
mod queue;
mod response;
mod sender;
#[cfg(test)]
mod test_support;
mod worker;

pub use crate::batch::{BatchBuffer, Batched};
pub use crate::logs::LogBuffer;
pub use crate::metric_buffer::MetricBuffer;
pub use crate::session::SessionAggregator;
pub use compression::Compression;
pub use durable::durable;
pub use options::{
    CacheOptions, TransportOptions, DEFAULT_CACHE_MAX_BYTES, DEFAULT_CACHE_MAX_ENVELOPES,
    DEFAULT_CLIENT_REPORT_INTERVAL, DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_CONCURRENT_REQUESTS,
    DEFAULT_QUEUE_CAPACITY, DEFAULT_QUEUE_MAX_BYTES, DEFAULT_TIMEOUT, DEFAULT_USER_AGENT,
};
pub use sender::{SendOutcome, Sender};
pub(crate) use worker::span_buffer;
pub use worker::{SpanBuffer, TransportWorker, WORKER_THREAD_NAME};

/// Delivers envelopes to Sentry.
///
/// Implementations must be cheap to call from any thread and must never block the caller on
/// the network: [`send_envelope`](Transport::send_envelope) hands the envelope over and returns;
/// [`flush`](Transport::flush) and [`shutdown`](Transport::shutdown) return within their timeout
/// even when the server hangs. Whatever a transport drops it records in the client's
/// [`ClientReports`](crate::client_reports::ClientReports) with the reason.
///
/// [`TransportWorker`] implements this trait for any [`Sender`]; implement it directly only for
/// transports that do not fit the "one thread sends bytes" model.
pub trait Transport: Send + Sync + 'static {
    /// Hands an envelope over for delivery. Never blocks; when the envelope cannot be accepted
    /// (queue full, transport shut down) it is dropped and counted.
    fn send_envelope(&self, envelope: Envelope);

    /// Waits until every envelope handed over before this call has been handled (delivered or
    /// dropped and counted), and pending client reports have been sent, or until `timeout`
    /// passes.
    ///
    /// Returns `true` if everything was handled in time, `false` if the timeout passed first.
    fn flush(&self, timeout: Duration) -> bool;

    /// Flushes within `timeout`, then stops the transport. Never blocks for longer than
    /// `timeout`. Envelopes handed over afterwards are dropped and counted.
    ///
    /// Returns `true` if everything was handled and the transport stopped in time.
    fn shutdown(&self, timeout: Duration) -> bool;
}

/// Creates the transport of a client from the client's [`TransportOptions`].
///
/// Implemented for closures `Fn(&TransportOptions) -> Arc<dyn Transport>` and for
/// `Arc<dyn Transport>` itself (every client gets a clone of the same transport, handy in
/// tests).
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::client_reports::ClientReports;
/// use sentry_core::envelope::Envelope;
/// use sentry_core::transport::{
///     SendOutcome, Transport, TransportFactory, TransportOptions, TransportWorker,
/// };
///
/// fn create(options: &TransportOptions) -> Arc<dyn Transport> {
///     let sender = |_body: Vec<u8>, _envelope: &Envelope| SendOutcome::status(200);
///     Arc::new(TransportWorker::spawn(sender, options).expect("thread spawned"))
/// }
///
/// let dsn = "https://public@example.invalid/42".parse().expect("valid DSN");
/// let options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
/// let factory: Arc<dyn TransportFactory> = Arc::new(create);
/// let transport = factory.create_transport(&options);
/// assert!(transport.shutdown(std::time::Duration::from_secs(1)));
/// ```
pub trait TransportFactory: Send + Sync + 'static {
    /// Creates a transport for a client with these options.
    fn create_transport(&self, options: &TransportOptions) -> Arc<dyn Transport>;

    /// A [`Sender`] posting envelopes to the [Spotlight](https://spotlightjs.com) sidecar at
    /// `url` with `user_agent`, for a client that has Spotlight on and **no DSN** (local
    /// development without a Sentry project). The client runs it in a [`TransportWorker`] of
    /// its own, so Spotlight is then the only destination.
    ///
    /// # For implementors
    ///
    /// The default returns `None`: this factory cannot reach Spotlight, and a client without
    /// a DSN stays disabled. The HTTP transport's factory returns its Spotlight sender.
    fn spotlight_sender(&self, url: &str, user_agent: &str) -> Option<Box<dyn Sender>> {
        let _ = (url, user_agent);
        None
    }
}

impl<F> TransportFactory for F
where
    F: Fn(&TransportOptions) -> Arc<dyn Transport> + Send + Sync + 'static,
{
    fn create_transport(&self, options: &TransportOptions) -> Arc<dyn Transport> {
        self(options)
    }
}

impl TransportFactory for Arc<dyn Transport> {
    fn create_transport(&self, _options: &TransportOptions) -> Arc<dyn Transport> {
        Arc::clone(self)
    }
}

/// A shared factory is a factory, so the [`ClientOptions::transport`](crate::ClientOptions::transport)
/// setter takes the `Arc` a field holds.
impl TransportFactory for Arc<dyn TransportFactory> {
    fn create_transport(&self, options: &TransportOptions) -> Arc<dyn Transport> {
        self.as_ref().create_transport(options)
    }

    fn spotlight_sender(&self, url: &str, user_agent: &str) -> Option<Box<dyn Sender>> {
        self.as_ref().spotlight_sender(url, user_agent)
    }
}
