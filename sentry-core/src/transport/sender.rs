//! The seam between the transport worker and an HTTP library: a [`Sender`] sends the bytes of
//! one envelope and reports the [`SendOutcome`]; the
//! [`TransportWorker`](super::TransportWorker) does everything else.

use crate::envelope::Envelope;

/// How to send the bytes of one envelope: the only part of a transport that differs between
/// HTTP libraries.
///
/// A [`TransportWorker`](super::TransportWorker) calls [`send`](Sender::send) on its own
/// thread, one envelope at a time, and does everything else (queueing, rate limits, client
/// reports, the offline cache, flush, shutdown). A sender should bound the time one call can
/// take (connect and request timeouts): it is what limits how long a worker can stay stuck on
/// a hanging server.
///
/// A sender that can make more of itself ([`fork`](Sender::fork)) lets the worker send
/// several envelopes at once while its queue backs up, up to
/// [`max_concurrent_requests`](super::TransportOptions::max_concurrent_requests): each fork
/// sends one envelope at a time on a thread of its own, for as long as the backlog lasts.
/// Senders that do not implement it (closures, for one) send one envelope at a time.
///
/// Closures `FnMut(Vec<u8>, &Envelope) -> SendOutcome` are senders too:
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::transport::{SendOutcome, Sender};
///
/// fn assert_sender(_: impl Sender) {}
/// assert_sender(|body: Vec<u8>, _: &Envelope| {
///     println!("would send {} bytes", body.len());
///     SendOutcome::status(200)
/// });
/// ```
pub trait Sender: Send + 'static {
    /// Sends `body`, the serialized form of `envelope` (with `sent_at` stamped), and reports
    /// what happened. `envelope` is there for senders that need to look at its items (a test
    /// recorder); most only send `body`.
    fn send(&mut self, body: Vec<u8>, envelope: &Envelope) -> SendOutcome;

    /// Another sender to the same place, for a request running at the same time as this
    /// one's (on a connection of its own, or sharing a pool of connections with this one).
    ///
    /// The worker forks when its queue backs up and drops the fork once the backlog is gone;
    /// a fork is sent to from one thread at a time. The default, `None`, keeps the worker at
    /// one request at a time.
    ///
    /// ```
    /// use sentry_core::envelope::Envelope;
    /// use sentry_core::transport::{SendOutcome, Sender};
    ///
    /// /// Sends nowhere; any number of them may run at once.
    /// struct Nowhere;
    ///
    /// impl Sender for Nowhere {
    ///     fn send(&mut self, _body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
    ///         SendOutcome::status(200)
    ///     }
    ///
    ///     fn fork(&mut self) -> Option<Box<dyn Sender>> {
    ///         Some(Box::new(Nowhere))
    ///     }
    /// }
    ///
    /// let mut sender = Nowhere;
    /// let mut fork = sender.fork().expect("a second sender");
    /// assert_eq!(fork.send(b"{}\n".to_vec(), &Envelope::new()), SendOutcome::status(200));
    /// ```
    fn fork(&mut self) -> Option<Box<dyn Sender>> {
        None
    }
}

impl<F> Sender for F
where
    F: FnMut(Vec<u8>, &Envelope) -> SendOutcome + Send + 'static,
{
    fn send(&mut self, body: Vec<u8>, envelope: &Envelope) -> SendOutcome {
        self(body, envelope)
    }
}

/// What happened to one envelope a [`Sender`] tried to send.
///
/// The worker applies it exactly as the Sentry transport spec says: `2xx` is success; `429`
/// updates the rate limits and drops the envelope without counting it; `413` and any other
/// status drop it and count `send_error`; a network error keeps the envelope in the offline
/// cache for a retry with backoff when there is one, and otherwise drops it and counts
/// `network_error`. Rate-limit headers are applied on every response, `200` included.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// The server answered.
    Response {
        /// The HTTP status code.
        status: u16,
        /// The `X-Sentry-Rate-Limits` header, if the response had one.
        rate_limits: Option<String>,
        /// The `Retry-After` header, if the response had one.
        retry_after: Option<String>,
    },
    /// No answer: connection refused or reset, DNS failure, TLS failure, timeout. The string
    /// says what happened, for SDK diagnostics.
    NetworkError(String),
}

impl SendOutcome {
    /// A response with this status code and no rate-limit headers.
    ///
    /// ```
    /// use sentry_core::transport::SendOutcome;
    ///
    /// assert_eq!(
    ///     SendOutcome::status(200),
    ///     SendOutcome::Response { status: 200, rate_limits: None, retry_after: None },
    /// );
    /// ```
    pub fn status(status: u16) -> Self {
        SendOutcome::Response {
            status,
            rate_limits: None,
            retry_after: None,
        }
    }
}
