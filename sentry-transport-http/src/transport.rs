//! [`HttpTransport`] and its factory: the transport worker around the ureq sender.

use std::sync::Arc;
use std::time::Duration;

use sentry_core::client_reports::ClientReports;
use sentry_core::envelope::Envelope;
use sentry_core::protocol::DiscardReason;
use sentry_core::transport::{
    Sender, Transport, TransportFactory, TransportOptions, TransportWorker,
};

use crate::error::HttpTransportError;
use crate::sender::UreqSender;

/// Sends envelopes to Sentry over HTTP(S), on one background thread (and up to
/// [`max_concurrent_requests`](TransportOptions::max_concurrent_requests) while envelopes queue
/// up).
///
/// See the [crate documentation](crate) for what it sends and an example.
#[derive(Debug)]
pub struct HttpTransport {
    worker: TransportWorker,
}

impl HttpTransport {
    /// Starts a transport that posts to the DSN of `options`, with its timeouts, queue capacity,
    /// user agent, proxies and Spotlight URL. Proxy environment variables are read from the
    /// process environment (see the rules in the [crate documentation](crate)).
    ///
    /// An invalid proxy URL or Spotlight URL does not fail the transport: it is reported in the
    /// SDK diagnostics and the transport connects directly or without Spotlight.
    ///
    /// # Errors
    ///
    /// [`HttpTransportError::InvalidUrl`] if the DSN's envelope URL is not a valid URL,
    /// [`HttpTransportError::Spawn`] if the worker thread cannot be started.
    pub fn new(options: &TransportOptions) -> Result<HttpTransport, HttpTransportError> {
        HttpTransport::with_env(options, |name| std::env::var(name).ok())
    }

    /// Like [`new`](Self::new), with `env` instead of the process environment as the source of
    /// the proxy variables (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY` and their lowercase forms).
    /// Useful for tests and for programs that keep their configuration elsewhere.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use sentry_core::client_reports::ClientReports;
    /// use sentry_core::transport::{Transport, TransportOptions};
    /// use sentry_transport_http::HttpTransport;
    ///
    /// let dsn = "https://public@sentry.internal.example/42".parse().expect("valid DSN");
    /// let options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
    /// let env = |name: &str| match name {
    ///     "HTTPS_PROXY" => Some("http://proxy.internal.example:3128".to_owned()),
    ///     "NO_PROXY" => Some(".internal.example".to_owned()),
    ///     _ => None,
    /// };
    /// // The DSN's host is listed in NO_PROXY: this transport connects directly.
    /// let transport = HttpTransport::with_env(&options, env).expect("transport started");
    /// assert!(transport.shutdown(Duration::from_secs(2)));
    /// ```
    ///
    /// # Errors
    ///
    /// As for [`new`](Self::new).
    pub fn with_env(
        options: &TransportOptions,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<HttpTransport, HttpTransportError> {
        let sender = UreqSender::new(options, env)?;
        let mirror = options
            .spotlight
            .as_deref()
            .and_then(|url| crate::spotlight::boxed_sender(url, &options.user_agent));
        let worker = TransportWorker::spawn_with_mirror(sender, mirror, options)
            .map_err(HttpTransportError::Spawn)?;
        Ok(HttpTransport { worker })
    }
}

impl Transport for HttpTransport {
    fn send_envelope(&self, envelope: Envelope) {
        self.worker.send_envelope(envelope);
    }

    fn flush(&self, timeout: Duration) -> bool {
        self.worker.flush(timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        self.worker.shutdown(timeout)
    }
}

/// Creates an [`HttpTransport`] for each client: the default transport of the `sentry` crate.
///
/// If the transport cannot be created (invalid URL, no thread), the client gets a transport
/// that drops every envelope, counts it as `internal_sdk_error` and says why in the SDK
/// diagnostics: a broken transport never panics the host program.
///
/// The factory is stateless: everything a transport is configured with comes from the
/// client's [`TransportOptions`] (and the proxy variables of the process environment).
///
/// ```
/// use std::sync::Arc;
/// use sentry_core::transport::TransportFactory;
///
/// let factory: Arc<dyn TransportFactory> = Arc::new(sentry_transport_http::factory());
/// # let _ = factory;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HttpTransportFactory;

impl TransportFactory for HttpTransportFactory {
    fn spotlight_sender(&self, url: &str, user_agent: &str) -> Option<Box<dyn Sender>> {
        crate::spotlight::boxed_sender(url, user_agent)
    }

    fn create_transport(&self, options: &TransportOptions) -> Arc<dyn Transport> {
        match HttpTransport::new(options) {
            Ok(transport) => Arc::new(transport),
            Err(error) => {
                sentry_core::sentry_debug!("HTTP transport unavailable, dropping events: {error}");
                Arc::new(FailedTransport {
                    client_reports: Arc::clone(&options.client_reports),
                })
            }
        }
    }
}

/// The [`HttpTransportFactory`].
///
/// ```
/// use sentry_core::transport::TransportFactory;
///
/// fn takes_a_factory(_: impl TransportFactory) {}
/// takes_a_factory(sentry_transport_http::factory());
/// ```
pub fn factory() -> HttpTransportFactory {
    HttpTransportFactory
}

/// Stands in for a transport that could not be created: drops and counts.
struct FailedTransport {
    client_reports: Arc<ClientReports>,
}

impl Transport for FailedTransport {
    fn send_envelope(&self, envelope: Envelope) {
        for item in envelope.items() {
            // Client reports are never counted as lost themselves.
            let category = item.category();
            if category != sentry_core::protocol::DataCategory::Internal {
                self.client_reports
                    .record(DiscardReason::InternalSdkError, category, 1);
            }
        }
    }

    fn flush(&self, _timeout: Duration) -> bool {
        true
    }

    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{answer_once, no_env, options_for};

    #[test]
    fn an_invalid_spotlight_url_leaves_the_transport_working() {
        let (dsn, server) = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let mut options = options_for(&dsn);
        options.spotlight = Some("not a url".into());
        let transport = HttpTransport::with_env(&options, no_env).expect("transport");
        transport.send_envelope(Envelope::from_event(sentry_core::protocol::Event::default()));
        assert!(transport.flush(Duration::from_secs(5)));
        assert!(transport.shutdown(Duration::from_secs(5)));
        let (head, _) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
    }

    #[test]
    fn factory_creates_a_transport() {
        let (dsn, server) = answer_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
        let options = options_for(&dsn);
        let transport = factory().create_transport(&options);
        let mut envelope = Envelope::new();
        envelope.add_item(sentry_core::protocol::Event::default());
        transport.send_envelope(envelope);
        assert!(transport.flush(Duration::from_secs(5)));
        assert!(transport.shutdown(Duration::from_secs(5)));
        let (head, _) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
        assert!(options.client_reports.is_empty());
    }

    #[test]
    fn failed_transport_counts_what_it_drops() {
        let options = options_for("http://public@127.0.0.1:9/1");
        let transport = FailedTransport {
            client_reports: Arc::clone(&options.client_reports),
        };
        let mut envelope = Envelope::new();
        envelope.add_item(sentry_core::protocol::Event::default());
        transport.send_envelope(envelope);
        let report = options.client_reports.take().expect("counted");
        assert_eq!(report.total(), 1);
        assert_eq!(
            report.discarded_events[0].reason,
            DiscardReason::InternalSdkError
        );
        assert!(transport.flush(Duration::ZERO));
        assert!(transport.shutdown(Duration::ZERO));
    }
}
