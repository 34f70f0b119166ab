//! The Spotlight mirror: every envelope also goes to a local development sidecar.

use std::fmt;
use std::io::{self, Read};
use std::time::{Duration, Instant};

use sentry_core::envelope::Envelope;
use sentry_core::transport::{SendOutcome, Sender};

use crate::agent::{agent_config, new_agent};
use crate::error::HttpTransportError;
use crate::sender::{check_url, ENVELOPE_CONTENT_TYPE, MAX_RESPONSE_BODY};

/// How long [`SpotlightSender`] waits for a connection to the sidecar: 500 ms.
pub const SPOTLIGHT_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);

/// How long one request to the sidecar may take in all: 2 s.
pub const SPOTLIGHT_TIMEOUT: Duration = Duration::from_secs(2);

/// After the sidecar could not be reached, envelopes are not offered to it for this long
/// (doubling after each further failure, up to [`SPOTLIGHT_MAX_BACKOFF`]), so that a missing
/// or hanging sidecar costs the transport's thread little.
pub const SPOTLIGHT_INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// The longest pause between attempts to reach a sidecar that is down: 60 s (the Spotlight
/// specification's cap: 1 s doubling to 60 s).
pub const SPOTLIGHT_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Posts envelopes to a [Spotlight](https://spotlightjs.com) sidecar, for local debugging.
///
/// It has two roles:
///
/// - With a DSN, it is the *mirror* of the [`HttpTransport`](crate::HttpTransport) when
///   [`TransportOptions::spotlight`](sentry_core::transport::TransportOptions::spotlight) is
///   set: the worker hands it every envelope before rate limits apply and ignores the outcome,
///   so Spotlight sees everything and can never hold back or break delivery to Sentry.
/// - Without a DSN (local development with only `SENTRY_SPOTLIGHT` set), the client asks the
///   [`HttpTransportFactory`](crate::HttpTransportFactory) for it
///   ([`TransportFactory::spotlight_sender`](sentry_core::transport::TransportFactory::spotlight_sender))
///   and runs it as the only sender of a worker of its own.
///
/// - The body is the envelope as is (never compressed), with
///   `Content-Type: application/x-sentry-envelope` and the SDK's `User-Agent`.
/// - Timeouts are short: [`SPOTLIGHT_CONNECT_TIMEOUT`] to connect, [`SPOTLIGHT_TIMEOUT`] per
///   request. Proxies are never used: the sidecar runs next to the application.
/// - When the sidecar cannot be reached, envelopes are skipped (reported as a network error)
///   for [`SPOTLIGHT_INITIAL_BACKOFF`], doubling up to [`SPOTLIGHT_MAX_BACKOFF`]; the first
///   success ends the pause. A sidecar started after the application is picked up when the
///   current pause ends, within 60 s.
/// - Error statuses from the sidecar are written to the SDK diagnostics only.
///
/// ```
/// use sentry_core::envelope::Envelope;
/// use sentry_core::transport::{SendOutcome, Sender};
/// use sentry_transport_http::SpotlightSender;
///
/// let spotlight = SpotlightSender::new("http://localhost:8969/stream", "my-app/1.0")
///     .expect("a valid URL");
/// assert_eq!(spotlight.url(), "http://localhost:8969/stream");
///
/// // The transport's worker calls `send`; here nobody listens on port 1, so it fails fast
/// // and the sender pauses before trying again.
/// let mut spotlight = SpotlightSender::new("http://127.0.0.1:1/stream", "my-app/1.0")
///     .expect("a valid URL");
/// let outcome = spotlight.send(b"{}\n".to_vec(), &Envelope::new());
/// assert!(matches!(outcome, SendOutcome::NetworkError(_)));
/// ```
pub struct SpotlightSender {
    agent: ureq::Agent,
    url: String,
    /// While set, envelopes are skipped until this instant.
    paused_until: Option<Instant>,
    /// The length of the next pause.
    backoff: Duration,
}

impl fmt::Debug for SpotlightSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpotlightSender")
            .field("url", &crate::proxy::redact_userinfo(&self.url))
            .field("paused_until", &self.paused_until)
            .finish_non_exhaustive()
    }
}

impl SpotlightSender {
    /// A sender posting to `url`, such as `http://localhost:8969/stream`, with `user_agent` as
    /// its `User-Agent`.
    ///
    /// # Errors
    ///
    /// [`HttpTransportError::InvalidUrl`] if `url` is not an absolute `http://` or `https://`
    /// URL.
    pub fn new(url: &str, user_agent: &str) -> Result<SpotlightSender, HttpTransportError> {
        check_url(url)?;
        let agent = new_agent(
            agent_config()
                .timeout_connect(Some(SPOTLIGHT_CONNECT_TIMEOUT))
                .timeout_global(Some(SPOTLIGHT_TIMEOUT))
                .user_agent(user_agent)
                .proxy(None)
                .build(),
        );
        Ok(SpotlightSender {
            agent,
            url: url.to_owned(),
            paused_until: None,
            backoff: SPOTLIGHT_INITIAL_BACKOFF,
        })
    }

    /// The URL envelopes are posted to.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn post(&mut self, body: &[u8]) -> SendOutcome {
        let result = self
            .agent
            .post(&self.url)
            .header("Content-Type", ENVELOPE_CONTENT_TYPE)
            .send(body);
        let mut response = match result {
            Ok(response) => response,
            Err(error) => return SendOutcome::NetworkError(format!("Spotlight: {error}")),
        };
        let status = response.status().as_u16();
        let mut reader = response.body_mut().as_reader().take(MAX_RESPONSE_BODY);
        let _ = io::copy(&mut reader, &mut io::sink());
        SendOutcome::status(status)
    }
}

/// A [`SpotlightSender`] for `url`, boxed for the transport worker; an invalid URL is written
/// to the SDK diagnostics and gives `None` (Spotlight off).
pub(crate) fn boxed_sender(url: &str, user_agent: &str) -> Option<Box<dyn Sender>> {
    match SpotlightSender::new(url, user_agent) {
        Ok(spotlight) => Some(Box::new(spotlight)),
        Err(error) => {
            sentry_core::sentry_debug!("Spotlight is off: {error}");
            None
        }
    }
}

impl Sender for SpotlightSender {
    fn send(&mut self, body: Vec<u8>, _envelope: &Envelope) -> SendOutcome {
        let now = Instant::now();
        if let Some(until) = self.paused_until {
            if now < until {
                return SendOutcome::NetworkError(
                    "Spotlight was unreachable; envelope skipped".into(),
                );
            }
        }
        let outcome = self.post(&body);
        match &outcome {
            SendOutcome::NetworkError(_) => {
                let pause = self.backoff;
                self.paused_until = Instant::now().checked_add(pause);
                self.backoff = (pause * 2).min(SPOTLIGHT_MAX_BACKOFF);
                sentry_core::sentry_debug!(
                    "Spotlight at {} is unreachable; trying again in {pause:?}",
                    crate::proxy::redact_userinfo(&self.url)
                );
            }
            answered => {
                if self.paused_until.take().is_some() {
                    sentry_core::sentry_debug!("Spotlight is reachable again");
                }
                self.backoff = SPOTLIGHT_INITIAL_BACKOFF;
                if let SendOutcome::Response { status, .. } = answered {
                    if !(200..300).contains(status) {
                        sentry_core::sentry_debug!("Spotlight answered {status}");
                    }
                }
            }
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn invalid_urls_are_refused() {
        for url in ["", "localhost:8969", "ftp://localhost/stream", "http://"] {
            assert!(
                SpotlightSender::new(url, "ua/1").is_err(),
                "{url:?} was accepted"
            );
        }
        let sender = SpotlightSender::new("http://localhost:8969/stream", "ua/1").expect("valid");
        assert_eq!(sender.url(), "http://localhost:8969/stream");
    }

    #[test]
    fn backs_off_after_a_failure_and_recovers() {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut sender =
            SpotlightSender::new(&format!("http://127.0.0.1:{port}/stream"), "ua/1").expect("ok");
        let envelope = Envelope::new();
        assert!(matches!(
            sender.send(b"{}\n".to_vec(), &envelope),
            SendOutcome::NetworkError(_)
        ));
        assert!(sender.paused_until.is_some());
        assert_eq!(sender.backoff, SPOTLIGHT_INITIAL_BACKOFF * 2);

        // While paused nothing is attempted, even once a server listens.
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("rebind the port");
        let started = Instant::now();
        let outcome = sender.send(b"{}\n".to_vec(), &envelope);
        assert!(matches!(outcome, SendOutcome::NetworkError(ref e) if e.contains("skipped")));
        assert!(started.elapsed() < Duration::from_millis(100));
        listener.set_nonblocking(true).expect("nonblocking");
        assert!(listener.accept().is_err(), "no connection was attempted");
        drop(listener);

        // After the pause, the next failure doubles it, up to the cap.
        for _ in 0..10 {
            sender.paused_until = Some(Instant::now());
            let _ = sender.send(b"{}\n".to_vec(), &envelope);
        }
        assert_eq!(sender.backoff, SPOTLIGHT_MAX_BACKOFF);
    }
}
