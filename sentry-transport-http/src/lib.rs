//! The HTTP transport of the Sentry SDK: envelopes are POSTed with [`ureq`] over rustls.
//!
//! [`HttpTransport`] is a [`TransportWorker`] around a small ureq-based
//! [`Sender`]: the worker owns the queue, the one background thread, rate limits, client
//! reports, flush and bounded shutdown; this crate only says how to send the bytes.
//!
//! Every request is bounded: [`TransportOptions::connect_timeout`] for the connection and
//! [`TransportOptions::timeout`] for the whole request, so a hanging server can hold the worker
//! for at most that long. Connections are kept alive between envelopes.
//!
//! The `sentry` crate plugs in [`HttpTransportFactory`] by default. To use the transport with
//! custom options directly:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use sentry_core::client_reports::ClientReports;
//! use sentry_core::transport::{Transport, TransportOptions};
//! use sentry_transport_http::HttpTransport;
//!
//! let dsn = "https://public@example.invalid/42".parse().expect("valid DSN");
//! let mut options = TransportOptions::new(dsn, Arc::new(ClientReports::default()));
//! options.queue_capacity = 100;
//! options.connect_timeout = Duration::from_secs(2);
//! options.timeout = Duration::from_secs(10);
//!
//! let transport = HttpTransport::new(&options).expect("transport started");
//! // transport.send_envelope(envelope);
//! assert!(transport.shutdown(Duration::from_secs(2)));
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::error::Error;
use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use sentry_core::client_reports::{ClientReports, DiscardReason};
use sentry_core::envelope::Envelope;
use sentry_core::transport::{
    SendOutcome, Sender, Transport, TransportFactory, TransportOptions, TransportWorker,
};

/// How much of a response body is read (and thrown away) so that the connection can be reused.
/// Sentry's answers are tiny JSON objects; a connection with a longer answer is not reused.
const MAX_RESPONSE_BODY: u64 = 64 * 1024;

/// Content type of an envelope request.
const ENVELOPE_CONTENT_TYPE: &str = "application/x-sentry-envelope";

/// Why an [`HttpTransport`] could not be created.
#[derive(Debug)]
#[non_exhaustive]
pub enum HttpTransportError {
    /// The DSN does not give a usable envelope URL.
    InvalidUrl {
        /// The URL derived from the DSN.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The worker thread could not be spawned.
    Spawn(io::Error),
}

impl fmt::Display for HttpTransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpTransportError::InvalidUrl { url, reason } => {
                write!(f, "invalid envelope URL {url:?}: {reason}")
            }
            HttpTransportError::Spawn(_) => f.write_str("could not spawn the transport thread"),
        }
    }
}

impl Error for HttpTransportError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            HttpTransportError::InvalidUrl { .. } => None,
            HttpTransportError::Spawn(error) => Some(error),
        }
    }
}

/// Sends envelopes to Sentry over HTTP(S), on one background thread.
///
/// See the [crate documentation](crate) for what it does and an example.
#[derive(Debug)]
pub struct HttpTransport {
    worker: TransportWorker,
}

impl HttpTransport {
    /// Starts a transport that posts to the DSN of `options`, with its timeouts, queue capacity
    /// and user agent.
    ///
    /// # Errors
    ///
    /// [`HttpTransportError::InvalidUrl`] if the DSN's envelope URL is not a valid URL,
    /// [`HttpTransportError::Spawn`] if the worker thread cannot be started.
    pub fn new(options: &TransportOptions) -> Result<HttpTransport, HttpTransportError> {
        let sender = UreqSender::new(options)?;
        let worker = TransportWorker::spawn(sender, options).map_err(HttpTransportError::Spawn)?;
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
/// client's [`TransportOptions`].
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
            if category != sentry_core::envelope::DataCategory::Internal {
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

/// Posts envelopes with a keep-alive ureq agent.
struct UreqSender {
    agent: ureq::Agent,
    url: String,
    auth: String,
}

impl UreqSender {
    fn new(options: &TransportOptions) -> Result<UreqSender, HttpTransportError> {
        let url = options.dsn.envelope_url();
        if let Err(error) = url.parse::<ureq::http::Uri>() {
            return Err(HttpTransportError::InvalidUrl {
                url,
                reason: error.to_string(),
            });
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_global(Some(options.timeout))
            // Sentry does not redirect envelope posts; a redirect is answered as a failure.
            .max_redirects(0)
            .user_agent(options.user_agent.as_str())
            .build()
            .new_agent();
        Ok(UreqSender {
            agent,
            url,
            auth: options.dsn.auth_header(&options.user_agent),
        })
    }
}

impl Sender for UreqSender {
    fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
        let result = self
            .agent
            .post(&self.url)
            .header("X-Sentry-Auth", &self.auth)
            .header("Content-Type", ENVELOPE_CONTENT_TYPE)
            .send(&body[..]);
        let mut response = match result {
            Ok(response) => response,
            Err(error) => return SendOutcome::NetworkError(error.to_string()),
        };
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let outcome = SendOutcome::Response {
            status: response.status().as_u16(),
            rate_limits: header("x-sentry-rate-limits"),
            retry_after: header("retry-after"),
        };
        // Read the (small) body to the end so the connection goes back to the pool. A failure
        // here does not change the outcome: the server has answered.
        let mut reader = response.body_mut().as_reader().take(MAX_RESPONSE_BODY);
        let _ = io::copy(&mut reader, &mut io::sink());
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::thread;

    use super::*;

    fn options_for(dsn: &str) -> TransportOptions {
        let dsn = dsn.parse().expect("valid DSN");
        TransportOptions::new(dsn, Arc::new(ClientReports::new()))
    }

    /// The request head (lines) and body one-shot server received.
    type Received = thread::JoinHandle<(Vec<String>, Vec<u8>)>;

    /// Answers one request with `response`; returns a DSN pointing at it and what it received.
    fn answer_once(response: &'static str) -> (String, Received) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut head = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).expect("read");
                let line = line.trim_end().to_owned();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().expect("length");
                    }
                }
                head.push(line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let mut stream = stream;
            stream.write_all(response.as_bytes()).expect("write");
            (head, body)
        });
        (format!("http://public@127.0.0.1:{port}/1"), handle)
    }

    #[test]
    fn sender_posts_with_headers_and_reads_rate_limits() {
        let (dsn, server) = answer_once(
            "HTTP/1.1 429 Too Many Requests\r\nX-Sentry-Rate-Limits: 60:error:organization\r\n\
             Retry-After: 60\r\nContent-Length: 2\r\n\r\n{}",
        );
        let options = options_for(&dsn);
        let mut sender = UreqSender::new(&options).expect("sender");
        let envelope = Envelope::new();
        let outcome = sender.send(b"{}\n".to_vec(), &envelope);
        assert_eq!(
            outcome,
            SendOutcome::Response {
                status: 429,
                rate_limits: Some("60:error:organization".into()),
                retry_after: Some("60".into()),
            }
        );
        let (head, body) = server.join().expect("server thread");
        assert_eq!(head[0], "POST /api/1/envelope/ HTTP/1.1");
        let has = |expected: &str| {
            head.iter().any(|line| {
                line.split_once(':').is_some_and(|(name, value)| {
                    format!("{}: {}", name.to_ascii_lowercase(), value.trim()) == expected
                })
            })
        };
        assert!(
            has("content-type: application/x-sentry-envelope"),
            "{head:?}"
        );
        assert!(
            has(&format!("user-agent: {}", options.user_agent)),
            "{head:?}"
        );
        assert!(has(&format!(
            "x-sentry-auth: {}",
            options.dsn.auth_header(&options.user_agent)
        )));
        assert_eq!(body, b"{}\n");
    }

    #[test]
    fn refused_connection_is_a_network_error() {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let options = options_for(&format!("http://public@127.0.0.1:{port}/1"));
        let mut sender = UreqSender::new(&options).expect("sender");
        let outcome = sender.send(b"{}\n".to_vec(), &Envelope::new());
        assert!(
            matches!(outcome, SendOutcome::NetworkError(_)),
            "{outcome:?}"
        );
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

    #[test]
    fn error_says_what_went_wrong() {
        let error = HttpTransportError::Spawn(io::Error::other("no threads"));
        assert_eq!(error.to_string(), "could not spawn the transport thread");
        assert!(error.source().is_some());
    }
}
